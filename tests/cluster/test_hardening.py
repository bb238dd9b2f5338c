"""The local cluster's defences that need no booted cluster: input, paths, pids, locks, mounts.

Each test plays one attack or fault from a security review and asserts the outcome a
user sees: one clear line and a non-zero exit, and nothing else touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from podlife.cluster.local.cluster import LocalCluster
from podlife.cluster.local.node import setup_script
from podlife.core.errors import PodlifeError
from tests.helpers import fake_state, one_clear_line, podlife


@pytest.fixture
def tmp_path() -> Iterator[Path]:
    """A short temporary dir: a state dir's unix socket paths must fit in 108 bytes, and
    pytest's own tmp_path (deeper under xdist) leaves too little room."""
    path = Path(tempfile.mkdtemp(prefix="pl-t-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)






# ----- no shell built from strings -------------------------------------------------------

def test_state_path_with_a_command_is_refused_and_never_run(tmp_path: Path) -> None:
    """PODLIFE_STATE holding `$(touch ...)`: refused with one line; the command never runs."""
    marker = tmp_path / "pwned"
    state = f"{tmp_path}/x$(touch {marker})"
    for action in (["up"], ["down"]):
        result = podlife("cluster", *action, "--name", "r9-inject",
                         env={"PODLIFE_STATE": state})
        one_clear_line(result, "PODLIFE_STATE")
    assert not marker.exists()
    assert not Path(state).exists()


@pytest.mark.parametrize("odd", ["a b", "a,b", "a:b", "a!b", "a'b", 'a"b', "a;b", "a\nb"])
def test_state_paths_with_odd_characters_are_refused(odd: str, monkeypatch) -> None:
    monkeypatch.setenv("PODLIFE_STATE", f"/tmp/{odd}")
    with pytest.raises(PodlifeError, match="PODLIFE_STATE"):
        LocalCluster("r9-odd")


def test_state_path_too_long_for_a_socket_is_refused(monkeypatch) -> None:
    monkeypatch.setenv("PODLIFE_STATE", "/tmp/" + "d" * 90)
    with pytest.raises(PodlifeError, match="too long"):
        LocalCluster("r9-long")


def test_namespace_script_takes_the_state_dir_as_an_argument() -> None:
    """The setup script never contains the path: it reads "$1", always quoted."""
    cluster = LocalCluster("r9-script")
    script = setup_script(cluster.net)
    assert str(cluster.state) not in script
    assert "$state" in script
    unquoted = [ln for ln in script.splitlines()
                for at in [i for i in range(len(ln)) if ln.startswith("$state", i)]
                if ln[:at].count('"') % 2 == 0]
    assert unquoted == [], unquoted


def test_namespace_script_runs_a_hostile_path_as_data(tmp_path: Path) -> None:
    """Run the script's path-handling lines under sh with a hostile path: no command runs."""
    marker = tmp_path / "ran"
    hostile = tmp_path / "s$(touch ran)"  # relative: a path may not hold another '/'
    hostile.mkdir()
    lines = [ln for ln in setup_script(LocalCluster("r9-sh").net).splitlines()
             if ln.startswith(("set ", "state=", "mkdir", "echo ready"))]
    subprocess.run(["sh", "-c", "\n".join(lines), "sh", str(hostile)], check=True,
                   cwd=tmp_path)
    assert not marker.exists()
    assert (hostile / "namespace.ready").exists() and (hostile / "var-log").is_dir()


def test_cluster_names_with_odd_characters_are_refused() -> None:
    name = f"x{uuid.uuid4().hex[:4]}$(id)"
    one_clear_line(podlife("cluster", "down", "--name", name), "not a valid cluster name")


# ----- process identity and exact unmounts -----------------------------------------------



def test_down_never_kills_a_process_a_stale_pid_file_names(tmp_path: Path) -> None:
    """A pid file naming an unrelated process (a reused pid): down removes only the state."""
    bystander = subprocess.Popen(["sleep", "300"])
    try:
        state = fake_state(tmp_path, "r9-stale")
        for component in ("kubelet", "namespace", "kube-apiserver"):
            (state / "pids" / f"{component}.pid").write_text(str(bystander.pid))
        status = podlife("cluster", "status", env={"PODLIFE_STATE": str(tmp_path)})
        assert "healthy" not in status.stdout, status.stdout
        result = podlife("cluster", "down", "--name", "r9-stale",
                         env={"PODLIFE_STATE": str(tmp_path)})
        assert result.returncode == 0, result.stderr
        assert bystander.poll() is None, "down killed a process that is not the cluster's"
        assert not state.exists()
    finally:
        bystander.kill()
        bystander.wait()


def test_membership_is_by_whole_cgroup_name() -> None:
    """podlife-a does not claim a process of podlife-ab (nor of anything else)."""
    from podlife.cluster.local.node import CgroupTree

    assert not CgroupTree("a").holds(os.getpid())
    assert not CgroupTree("a").holds(2**22 + 1)  # no such process


def test_unmount_matches_whole_paths_only() -> None:
    from podlife.cluster.local.state import mounts_under

    mounts = ["/s/clusters/a", "/s/clusters/a/kubelet", "/s/clusters/ab", "/s/clusters/ab/x",
              "/s/clusters/a-b/y", "/"]
    assert mounts_under(Path("/s/clusters/a"), mounts) == ["/s/clusters/a/kubelet",
                                                            "/s/clusters/a"]


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting needs root")
def test_down_of_a_leaves_the_mounts_of_ab(tmp_path: Path) -> None:
    """A real mount in cluster 'ab' survives `down --name a`."""
    fake_state(tmp_path, "a")
    other = fake_state(tmp_path, "ab") / "kubelet"
    other.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "r9-test", str(other)], check=True)
    try:
        result = podlife("cluster", "down", "--name", "a", env={"PODLIFE_STATE": str(tmp_path)})
        assert result.returncode == 0, result.stderr
        assert str(other) in Path("/proc/mounts").read_text()
        assert not (tmp_path / "clusters" / "a").exists()
    finally:
        subprocess.run(["umount", str(other)], check=False)


# ----- one command per cluster name -------------------------------------------------------

def test_up_and_down_of_a_busy_cluster_fail_with_one_line_and_touch_nothing(
        tmp_path: Path, monkeypatch) -> None:
    """While one podlife holds a cluster (here: this test, as `up` would), a second `up` and
    a `down` of that name exit 2 with one line naming the holder; its state is untouched."""
    from podlife.cluster.local.lock import cluster_lock, holder

    monkeypatch.setenv("PODLIFE_STATE", str(tmp_path))
    state = fake_state(tmp_path, "r9-busy")
    with cluster_lock("r9-busy", "up"):
        assert holder("r9-busy") == f"pid {os.getpid()} running up"
        for action in ("up", "down"):
            result = podlife("cluster", action, "--name", "r9-busy")
            one_clear_line(result, "busy", f"pid {os.getpid()} running up")
        assert (state / "cluster.json").exists()
    assert holder("r9-busy") is None


# ----- signals and half-boots -------------------------------------------------------------

def test_status_calls_an_unfinished_boot_a_dead_half_boot(tmp_path: Path) -> None:
    """A state dir whose boot never finished, and no podlife working on it, is not healthy."""
    fake_state(tmp_path, "r9-half")
    (tmp_path / "clusters" / "r9-nojson").mkdir(parents=True)
    result = podlife("cluster", "status", env={"PODLIFE_STATE": str(tmp_path),
                                                 "COLUMNS": "400"})
    rows = [ln for ln in result.stdout.splitlines() if "r9-" in ln]
    assert len(rows) == 2 and all("dead half-boot" in row for row in rows), result.stdout


def test_termination_signals_raise_keyboard_interrupt_once() -> None:
    """SIGTERM becomes KeyboardInterrupt; a second signal during cleanup is ignored; the
    handler that was there before comes back (here pytest's own, set by
    podlife.plugin.termination)."""
    import signal

    from podlife.core.signals import interrupt_on_termination

    before = signal.getsignal(signal.SIGTERM)
    cleaned = False
    with pytest.raises(KeyboardInterrupt), interrupt_on_termination():
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            pytest.fail("SIGTERM did not interrupt")
        except KeyboardInterrupt:
            os.kill(os.getpid(), signal.SIGHUP)  # must not cut the cleanup short
            cleaned = True
            raise
    assert cleaned
    assert signal.getsignal(signal.SIGTERM) == before
