"""Where podlife keeps things: its suites and manifests, the build cache, cluster state, reports.

podlife runs from a checkout or from an installed wheel. The repository keeps suites/ and
manifests/ beside the package; the wheel carries the same files inside it (podlife.suites,
podlife/_manifests/, see pyproject.toml). A checkout always uses its own files, so a copy
of the repository run with PYTHONPATH=<copy> sees the copy's manifests.
Reports never go next to the code: they go to ./reports of the current directory.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The podlife package (this module sits in podlife/core/).
PACKAGE = Path(__file__).resolve().parent.parent
#: Where the wheel puts each top-level directory of the repository, inside the package.
INSTALLED_AS = {"suites": "suites", "manifests": "_manifests"}
REPORTS_ENV = "PODLIFE_REPORTS"


def cache_dir() -> Path:
    """Built binaries and images, reused by every run (PODLIFE_CACHE overrides)."""
    return Path(os.environ.get("PODLIFE_CACHE", Path.home() / ".cache" / "podlife"))


def state_root() -> Path:
    """Running clusters' state dirs live under here (PODLIFE_STATE overrides)."""
    return Path(os.environ.get("PODLIFE_STATE", Path.home() / ".local" / "state" / "podlife"))


def cluster_dir(name: str) -> Path:
    return state_root() / "clusters" / name


def repo_root() -> Path:
    """The directory above the package: the checkout, when podlife runs from one."""
    return PACKAGE.parent


def in_checkout() -> bool:
    """True when podlife runs from a source tree (its pyproject.toml, suites/, manifests/)."""
    root = repo_root()
    return (root / "pyproject.toml").is_file() and all(
        (root / name).is_dir() for name in INSTALLED_AS)


def _shipped(name: str) -> Path:
    """A top-level directory of the repository: the checkout's own, else the installed copy."""
    if in_checkout():
        return repo_root() / name
    return PACKAGE / INSTALLED_AS[name]


def suites_dir() -> Path:
    """The conformance checks (suites/ in a checkout, the podlife.suites package if installed)."""
    return _shipped("suites")


def manifests_dir() -> Path:
    """The tutorial's manifests, their stand-ins (support/) and rbac.yaml."""
    return _shipped("manifests")


def reports_dir() -> Path:
    """Run results and reports: $PODLIFE_REPORTS (what --reports-dir sets), else ./reports."""
    return Path(os.environ.get(REPORTS_ENV) or Path.cwd() / "reports").absolute()
