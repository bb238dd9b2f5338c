"""Providers other than the booted local cluster: an existing cluster under podlife's minimal
RBAC identity, and kind (as far as it can be tested without a Docker engine)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client as k8s

from podlife.check.namespaces import delete_namespace, new_namespace
from podlife.cluster import registry
from podlife.cluster.local.cluster import ClusterInfo, api_client
from podlife.cluster.options import ProviderOptions
from podlife.core import paths
from podlife.core.errors import PodlifeError
from tests.helpers import (
    NOBODY,
    local_cluster,
    nobody_python,
    one_clear_line,
    service_account_kubeconfig,
)

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def existing() -> Iterator[ClusterInfo]:
    """A local cluster standing in for a user's existing cluster."""
    with local_cluster("ci-existing") as info:
        yield info




def test_suite_runs_under_the_minimal_rbac_identity(existing: ClusterInfo,
                                                    tmp_path: Path) -> None:
    """With only manifests/rbac.yaml's permissions, checks pass and the node check skips."""
    kubeconfig = service_account_kubeconfig(existing, tmp_path / "podlife.kubeconfig")
    results = tmp_path / "results.json"
    suites = paths.repo_root() / "suites"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", str(suites / "test_init_ordering.py"),
         str(suites / "test_native_sidecars.py"), str(suites / "test_resource_scheduling.py"),
         "-p", "no:cacheprovider", "-n", "2", "--provider", "kubeconfig",
         "--kubeconfig", str(kubeconfig), "--images", "local",
         f"--podlife-results={results}"],
        capture_output=True, text=True, timeout=900, cwd=paths.repo_root(),
        env={k: v for k, v in os.environ.items() if k != "PODLIFE_RUN_ID"})
    assert proc.returncode == 0, proc.stdout[-3000:]
    written = json.loads(results.read_text())
    assert written["host_deviations"] is None  # podlife did not boot it: not known, not none
    checks = written["checks"]
    verdicts = {c["check_id"]: (c["verdict"], c["reason"]) for c in checks}
    assert sum(v == "pass" for v, _ in verdicts.values()) >= 8, verdicts
    node_checks = [v for k, v in verdicts.items() if "schedul" in k or "widget" in k]
    assert node_checks and all(v == "skipped" and "--allow-node-changes" in r
                               for v, r in node_checks), node_checks


def test_only_labelled_namespaces_are_deleted(existing: ClusterInfo) -> None:
    """podlife deletes the namespaces it made, never one it did not label."""
    core = k8s.CoreV1Api(api_client(existing.kubeconfig))
    core.create_namespace({"metadata": {"name": "users-own"}})
    delete_namespace(core, "users-own")
    assert core.read_namespace("users-own").status.phase == "Active"
    ours = new_namespace(core, "probe", "run-x")
    labels = core.read_namespace(ours).metadata.labels
    assert labels["app.kubernetes.io/managed-by"] == "podlife"
    delete_namespace(core, ours)
    assert core.read_namespace(ours).status.phase == "Terminating"


def test_kubeconfig_provider_needs_a_kubeconfig(tmp_path: Path) -> None:
    opts = ProviderOptions(provider="kubeconfig",
                           kubeconfig=str(tmp_path / "missing"))
    with pytest.raises(PodlifeError, match="kubeconfig"):
        registry.get("kubeconfig").acquire(opts, "run-missing")


def test_the_kubeconfig_provider_runs_as_a_non_root_user(existing: ClusterInfo) -> None:
    """An existing cluster needs no root: as the user nobody, with the minimal RBAC
    identity's kubeconfig, a check runs and passes; the local provider says in one line
    that it needs root."""
    work = Path(tempfile.mkdtemp(prefix="pl-nonroot-"))
    work.chmod(0o755)
    try:
        python = nobody_python(work / "env")
        home = work / "home"
        home.mkdir()
        kubeconfig = service_account_kubeconfig(existing, home / "podlife.kubeconfig")
        os.chown(home, NOBODY, NOBODY)
        os.chown(kubeconfig, NOBODY, NOBODY)

        def as_nobody(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([*python[:-1], f"HOME={home}", python[-1], "-m",
                                   "podlife.cli", *args], capture_output=True, text=True,
                                  timeout=600, cwd=home)

        run = as_nobody("run", "--provider", "kubeconfig", "--kubeconfig", str(kubeconfig),
                        "--images", "local", "--workers", "1", "--no-render", "--",
                        "-k", "test_init_containers_run_in_order")
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
        results = json.loads(next((home / "reports" / "runs").glob("*/results.json"))
                             .read_text())
        assert [c["verdict"] for c in results["checks"]] == ["pass"], results["checks"]
        for args in (["cluster", "up", "--name", "nonroot"], ["run"],
                     ["kind", "up", "--name", "nonroot"]):
            one_clear_line(as_nobody(*args), "needs root")
    finally:
        shutil.rmtree(work, ignore_errors=True)
