"""A boot or a run that dies or fails halfway: the host's kernel tunables come back whatever
killed it, a run terminated as a whole leaves no cluster, and a failed boot's error names a
log that still exists."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from podlife.cluster.local import host
from podlife.cluster.local.deviations import KERNEL_TUNABLES_KEPT, KUBELET_TUNABLES
from podlife.cluster.local.node import CgroupTree
from podlife.cluster.local.provider import run_cluster_name
from podlife.core import paths
from tests.helpers import podlife

pytestmark = pytest.mark.cluster

NAME = "ci-killed"


@pytest.fixture
def host_values() -> Iterator[dict[str, str]]:
    """The host's tunables before the test; the test fails if the kubelet's would be the
    same (nothing to tell apart), and the host is put back whatever happened."""
    before = host.read_tunables()
    if all(before.get(name) == value for name, value in KUBELET_TUNABLES.items()):
        pytest.skip("this host's tunables are the kubelet's own: a change cannot be seen")
    yield before
    podlife("cluster", "down", "--name", NAME)
    host.write_tunables(before)


def killed_up(after: float, *shape: str) -> None:
    """`podlife cluster up [shape options]` in a session of its own, SIGKILLed `after`
    seconds in; what it started keeps running, as it would after `kill -9`."""
    proc = subprocess.Popen([sys.executable, "-m", "podlife.cli", "cluster", "up", "--name",
                             NAME, *shape], start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    time.sleep(after)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


@pytest.mark.parametrize(("after", "next_command"), [
    (1, ["cluster", "down", "--name", NAME]),
    (3, ["cluster", "status"]),
    (5, ["cluster", "down", "--name", NAME]),
])
def test_sigkill_during_up_leaves_the_hosts_tunables_as_found(
        host_values: dict[str, str], after: float, next_command: list[str]) -> None:
    """Killed 1, 3 or 5 s into `up`: the next command puts the host's values back; then a
    `down` and a new `up` record the host's values (not the kubelet's) as the host's."""
    killed_up(after)
    result = podlife(*next_command, timeout=300)
    assert result.returncode == 0, result
    assert host.read_tunables() == host_values, f"after {next_command} of a kill at {after}s"
    assert podlife("cluster", "down", "--name", NAME, timeout=300).returncode == 0
    up = podlife("cluster", "up", "--name", NAME, timeout=300)
    assert up.returncode == 0, up
    assert host.read_tunables() == host_values
    info = json.loads((paths.cluster_dir(NAME) / "cluster.json").read_text())
    kept = [d for d in info["host_deviations"] if d["id"] == KERNEL_TUNABLES_KEPT]
    assert kept, "the kubelet's values were taken for the host's own"
    overcommit = host_values["vm/overcommit_memory"]
    assert f"vm.overcommit_memory={overcommit} (kubelet: 1)" in kept[0]["what"]
    assert podlife("cluster", "down", "--name", NAME, timeout=300).returncode == 0
    assert host.read_tunables() == host_values
    assert not host.record_path().exists()
    assert not (paths.state_root() / "locks" / f"{NAME}.lock").exists()


def _run_in_checks(run_id: str) -> subprocess.Popen[str]:
    """`podlife run` in a session of its own, returned once its cluster is up and its
    checks have started."""
    record = paths.state_root() / "runs" / f"{run_id}.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "podlife.cli", "run", "-k", "test_generated_pod"],
        env=os.environ | {"PODLIFE_RUN_ID": run_id}, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not record.exists():  # written once the cluster is up and checks can start
        assert proc.poll() is None, f"the run ended before its cluster was up: {proc}"
        assert time.monotonic() < deadline, "the run's cluster never came up"
        time.sleep(0.2)  # polling a file podlife writes, not a cluster state
    time.sleep(2)  # into the checks' first pods
    return proc


def _left(run_id: str) -> list[str]:
    name = run_cluster_name(run_id)
    runs = paths.state_root() / "runs"
    return [str(p) for p in (paths.cluster_dir(name), runs / f"{run_id}.json",
                             runs / f"{run_id}.owner.json", *CgroupTree(name).dirs())
            if p.exists()]


def _clean_run(run_id: str, proc: subprocess.Popen[str]) -> None:
    """Whatever the run left, removed for the tests that follow."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    podlife("cluster", "down", "--name", run_cluster_name(run_id))
    for suffix in (".json", ".owner.json", ".lock"):
        (paths.state_root() / "runs" / f"{run_id}{suffix}").unlink(missing_ok=True)


def test_sigterm_to_a_runs_whole_group_removes_its_cluster() -> None:
    """`timeout` or a cancelled CI job signals every process of the run at once (podlife,
    pytest and its workers), not podlife alone: the run still ends as on Ctrl-C, 130, and
    the cluster it booted is gone."""
    run_id = uuid.uuid4().hex
    proc = _run_in_checks(run_id)
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        _, stderr = proc.communicate(timeout=300)
        left = _left(run_id)
    finally:
        _clean_run(run_id, proc)
    assert proc.returncode == 130, stderr
    assert not left, f"left after SIGTERM to the run's group: {left}"


def test_the_next_command_removes_the_cluster_of_a_run_killed_with_sigkill() -> None:
    """SIGKILL gives a run no chance to clean up: its cluster stays, and the next podlife
    command that deals with clusters (here `cluster status`) releases it, saying so."""
    run_id = uuid.uuid4().hex
    proc = _run_in_checks(run_id)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        killed = _left(run_id)
        status = podlife("cluster", "status", timeout=300)
        left = _left(run_id)
    finally:
        _clean_run(run_id, proc)
    assert paths.cluster_dir(run_cluster_name(run_id)) in map(Path, killed), killed
    assert status.returncode == 0, status
    assert f"removed cluster {run_cluster_name(run_id)}" in status.stderr, status.stderr
    assert not left, f"left after the next command: {left}"


@pytest.mark.parametrize("after", [4, 7])
def test_sigkill_during_a_multi_node_up_then_down_leaves_nothing(after: float) -> None:
    """Killed while the control planes' or the workers' namespaces, etcd members and
    kubelets start: `down` stops every process of every node (one cgroup tree), and no
    state dir, cgroup or network device of the cluster is left."""
    links_before = subprocess.run(["ip", "-o", "link"], capture_output=True,
                                  text=True).stdout.count("\n")
    killed_up(after, "--workers", "2", "--control-planes", "3")
    try:
        assert podlife("cluster", "down", "--name", NAME, timeout=300).returncode == 0
        assert not paths.cluster_dir(NAME).exists()
        assert not [d for d in CgroupTree(NAME).dirs() if d.exists()]
        links_after = subprocess.run(["ip", "-o", "link"], capture_output=True,
                                     text=True).stdout.count("\n")
        assert links_after == links_before
    finally:
        podlife("cluster", "down", "--name", NAME)


def test_a_failed_boots_error_names_a_log_that_exists() -> None:
    """A boot that times out is torn down; its logs move to failed-boots/, and the error's
    log path is that place, not the removed state dir."""
    result = podlife("cluster", "up", "--name", "ci-failboot", "--timeout", "1", timeout=300)
    try:
        assert result.returncode == 2, result
        logged = re.search(r"\(log: ([^)]+)\)", result.stderr)
        assert logged, result.stderr
        log = Path(logged.group(1))
        assert log.exists() and log.is_relative_to(paths.state_root() / "failed-boots"), log
        assert not paths.cluster_dir("ci-failboot").exists()
    finally:
        shutil.rmtree(paths.state_root() / "failed-boots" / "ci-failboot", ignore_errors=True)
