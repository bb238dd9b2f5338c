"""podlife as a user meets it: a wheel installed into a fresh virtualenv, run from /tmp.

The wheel is built from a copy of the repository (a build leaves build/ and *.egg-info
behind), installed with its dependencies from the package index into a virtualenv outside
the repository, and pointed at a local cluster through `--provider kubeconfig`, as at any
existing cluster. The run must pass, write its reports into ./reports of the directory it
was started from, and leave the installed package untouched.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from podlife.cluster.local.cluster import ClusterInfo, LocalCluster
from podlife.core import paths, versions

pytestmark = pytest.mark.cluster

CLUSTER = "ci-wheel"
SELECTION = "init_containers_run_in_order or sidecar_starts_before_main"
SOURCES = ("podlife", "suites", "manifests", "pyproject.toml", "README.md")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`pip wheel --no-deps` of a clean copy of the repository's sources."""
    top = tmp_path_factory.mktemp("wheel")
    src = top / "src"
    for name in SOURCES:
        origin = paths.repo_root() / name
        if origin.is_dir():
            shutil.copytree(origin, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(origin, src / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", "dist",
                    "./src"], cwd=top, check=True, timeout=600)
    (built,) = (top / "dist").glob("podlife-*.whl")
    return built


@pytest.fixture(scope="module")
def cluster() -> Iterator[ClusterInfo]:
    """A local cluster booted by the repository's podlife: the "existing" cluster."""
    local = LocalCluster(CLUSTER)
    local.down()
    info = local.up(versions.resolve(None))
    yield info
    local.down()


@dataclass
class Installed:
    home: Path
    #: time.monotonic() when `pip install` of the wheel began.
    install_started: float

    def bin(self, name: str) -> str:
        return str(self.home / "bin" / name)


@pytest.fixture(scope="module")
def venv(cluster: ClusterInfo, wheel: Path,
         tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """A fresh virtualenv outside the repository with the wheel installed (after the
    cluster is up, so the install-to-first-report time is measured against a cluster)."""
    home = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(home)], check=True, timeout=300)
    started = time.monotonic()
    subprocess.run([str(home / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
                    str(wheel)], check=True, timeout=900)
    return Installed(home, started)


def user_env() -> dict[str, str]:
    """The environment of a user's shell: nothing that points at this checkout or run."""
    drop = {"PYTHONPATH", paths.REPORTS_ENV, "PODLIFE_RUN_ID", "VIRTUAL_ENV"}
    return {k: v for k, v in os.environ.items() if k not in drop}


def site_packages(venv: Installed) -> Path:
    (found,) = venv.home.glob("lib/python3*/site-packages")
    return found


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in root.rglob("*") if p.is_file()}


def test_wheel_holds_everything_a_run_needs(wheel: Path) -> None:
    """Suites, manifests (support and RBAC too), report templates, selftest patches, the
    shipped go.mod/go.sum of each pinned build, verify's spec list, and both entry points."""
    names = set(zipfile.ZipFile(wheel).namelist())
    for suite in (paths.repo_root() / "suites").glob("*.py"):
        assert f"podlife/suites/{suite.name}" in names
    for manifest in (paths.repo_root() / "manifests").rglob("*.yaml"):
        rel = manifest.relative_to(paths.repo_root() / "manifests").as_posix()
        assert f"podlife/_manifests/{rel}" in names
    package = paths.repo_root() / "podlife"
    for folder, pattern in (("results/report/templates", "*"), ("run/selftest/mutants", "*.diff"),
                            ("cluster/gobuild", "*/go.*")):
        shipped = list((package / folder).glob(pattern))
        assert shipped, folder
        for path in shipped:
            assert f"podlife/{path.relative_to(package).as_posix()}" in names
    assert "podlife/run/verify/specs.yaml" in names  # `cluster verify`'s pinned upstream specs
    meta = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    entry_points = zipfile.ZipFile(wheel).read(meta).decode()
    assert "podlife.plugin.checks = podlife.plugin.checks" in entry_points
    assert "podlife.plugin.recording = podlife.plugin.recording" in entry_points


def test_pyproject_lists_every_package() -> None:
    """The explicit package list (needed for the suites/manifests mapping) misses none."""
    config = tomllib.loads((paths.repo_root() / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    root = paths.repo_root()
    found = {str(d.relative_to(root)).replace("/", ".") for d in (root / "podlife").rglob("*")
             if d.is_dir() and any(d.glob("*.py")) and "__pycache__" not in d.parts}
    found.add("podlife")
    assert found <= listed, f"add {sorted(found - listed)} to pyproject.toml"


def test_installed_podlife_runs_from_anywhere(venv: Installed, cluster: ClusterInfo,
                                              wheel: Path, tmp_path: Path) -> None:
    """`podlife run` from /tmp passes, reports land in ./reports, site-packages is untouched."""
    site = site_packages(venv)
    before = snapshot(site)
    work = tmp_path / "work"
    work.mkdir()
    proc = subprocess.run(
        [venv.bin("podlife"), "run", "--provider", "kubeconfig", "--kubeconfig",
         str(cluster.kubeconfig), "--images", "local", "--", "-k", SELECTION],
        cwd=work, env=user_env(), capture_output=True, text=True, timeout=900)
    seconds = time.monotonic() - venv.install_started
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    (results,) = work.glob("reports/runs/*/results.json")
    run = json.loads(results.read_text())
    assert sorted(c["verdict"] for c in run["checks"]) == ["pass", "pass"]
    assert run["podlife_version"] and run["duration_s"] > 0
    assert (work / "reports" / "matrix.html").is_file()
    assert "2 checks on Kubernetes" in proc.stdout and "2 pass" in proc.stdout
    assert snapshot(site) == before, "the run wrote into site-packages"
    assert not (site / "reports").exists()
    print(f"wheel: {wheel.stat().st_size / 1024:.0f} KiB; "
          f"pip install of it to the first report: {seconds:.1f}s")


def test_pytest_loads_the_plugin_by_entry_point(venv: Installed, cluster: ClusterInfo,
                                                tmp_path: Path) -> None:
    """`pytest --pyargs podlife.suites` works without any conftest.py."""
    env = user_env() | {"PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run(
        [venv.bin("pytest"), "--pyargs", "podlife.suites", "-p", "no:cacheprovider",
         "--provider", "kubeconfig", "--kubeconfig", str(cluster.kubeconfig),
         "--images", "local", "-k", "sidecar_starts_before_main"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "1 passed" in proc.stdout


def test_environment_errors_are_one_line(venv: Installed, cluster: ClusterInfo,
                                         tmp_path: Path) -> None:
    """A missing kubeconfig exits 2 with cause and fix; `podlife version` names the cluster."""
    podlife = venv.bin("podlife")
    missing = subprocess.run([podlife, "run", "--provider", "kubeconfig", "--kubeconfig",
                              str(tmp_path / "nope")], cwd=tmp_path, env=user_env(),
                             capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2
    assert missing.stderr.startswith("error: kubeconfig") and "Fix:" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "reports").exists()
    shown = subprocess.run([podlife, "version", "--kubeconfig", str(cluster.kubeconfig),
                            "--output", "json"], cwd=tmp_path, env=user_env(),
                           capture_output=True, text=True, timeout=120, check=True)
    found = json.loads(shown.stdout)
    assert found["cluster"] == f"v{versions.DEFAULT_VERSION}"
    assert "site-packages/podlife/_manifests" in found["manifests"]
