"""Where podlife keeps things: a build cache shared by runs, and one state dir per cluster."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """Built binaries and images, reused by every run (PODLIFE_CACHE overrides)."""
    return Path(os.environ.get("PODLIFE_CACHE", Path.home() / ".cache" / "podlife"))


def state_root() -> Path:
    """Running clusters' state dirs live under here (PODLIFE_STATE overrides)."""
    return Path(os.environ.get("PODLIFE_STATE", Path.home() / ".local" / "state" / "podlife"))


def cluster_dir(name: str) -> Path:
    return state_root() / "clusters" / name


def repo_root() -> Path:
    """The checkout podlife runs from (manifests/ and reports/ are found here)."""
    return Path(__file__).resolve().parent.parent


def reports_dir() -> Path:
    return Path(os.environ.get("PODLIFE_REPORTS", repo_root() / "reports"))
