"""The second attack round, the parts that need no booted cluster: terminal output, input
files, numbers, image archives, locks and tunables, `down` on what podlife did not make.

Each test plays one attack from the review and asserts what a user sees (one clear line,
a non-zero exit) and that nothing else was touched. They run as root (cgroups, sysctls).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from podlife.cluster import binary_cache
from podlife.cluster import oci_images as images
from podlife.cluster.kube_source import kube_module_dir
from podlife.cluster.local import host
from podlife.cluster.local.cluster import LocalCluster, kept_log_path
from podlife.cluster.local.node import CgroupTree
from podlife.core import flock, versions
from podlife.core.errors import PodlifeError
from podlife.results.model import CheckResult, RunResult
from podlife.results.report.summary import run_summary
from podlife.results.results_file import write_run
from tests.helpers import fake_state, one_clear_line, podlife

#: A screen clear, an OSC 8 hyperlink to a local file, and the C1 form of CSI.
HOSTILE = ("\x1b[2J", "\x1b]8;;file:///etc/passwd\x1b\\click\x1b]8;;\x1b\\", "\x9b2J",
           "\u202eevil")


@pytest.fixture
def tmp_path() -> Iterator[Path]:
    """Short, so a state dir's socket paths fit."""
    path = Path(tempfile.mkdtemp(prefix="pl-r2-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def hostile_run(version: str, verdict: str) -> RunResult:
    name = "test_x" + "".join(HOSTILE)
    check = CheckResult(nodeid=f"suites/test_native_sidecars.py::{name}", check_id=name,
                        area="native_sidecars", title=name, verdict=verdict, duration_s=1.0,
                        reason="boom " + " ".join(HOSTILE) if verdict == "fail" else "")
    return RunResult(run_id=version, provider="local", cluster="c", kubernetes_version=version,
                     started_at="2025-03-01T10:00:00+00:00",
                     finished_at="2025-03-01T10:01:00+00:00", host="h", checks=[check])


def results_pair(tmp_path: Path) -> tuple[Path, Path]:
    before, after = tmp_path / "before.json", tmp_path / "after.json"
    write_run(hostile_run("v1.36.5", "pass"), before)
    write_run(hostile_run("v1.37.2", "fail"), after)
    return before, after


def assert_no_control(text: str) -> None:
    for raw in ("\x1b", "\x9b", "\u202e"):
        assert raw not in text, repr(text[:400])


# ----- terminal output --------------------------------------------------------------------

def test_compare_shows_control_characters_escaped(tmp_path: Path) -> None:
    before, after = results_pair(tmp_path)
    result = podlife("compare", str(before), str(after), env={"COLUMNS": "400"})
    assert result.returncode == 1, result  # the hostile check regressed
    assert_no_control(result.stdout + result.stderr)
    assert "\\x1b[2J" in result.stdout and "\\x9b2J" in result.stdout, result.stdout


def test_the_run_summary_and_junit_escape_control_characters(tmp_path: Path) -> None:
    run = hostile_run("v1.37.2", "fail")
    assert_no_control(run_summary(run))
    before, after = results_pair(tmp_path)
    out = tmp_path / "out"
    result = podlife("report", str(before), str(after), "--out", str(out))
    assert result.returncode == 0, result
    assert_no_control(result.stdout + result.stderr)
    for junit in out.glob("junit-*.xml"):
        assert_no_control(junit.read_text())


def test_a_report_path_holding_markup_is_printed_as_written(tmp_path: Path) -> None:
    before, _ = results_pair(tmp_path)
    out = tmp_path / "x" / "[" / "bad]"
    result = podlife("report", str(before), "--out", str(out), env={"COLUMNS": "400"})
    assert result.returncode == 0, result
    assert f"report written: {out / 'matrix.html'}" in result.stderr.replace("\n", ""), result
    assert (out / "matrix.html").is_file()


# ----- input files ------------------------------------------------------------------------

def test_compare_refuses_a_device_in_one_line(tmp_path: Path) -> None:
    before, _ = results_pair(tmp_path)
    one_clear_line(podlife("compare", str(before), "/dev/zero"), "/dev/zero",
                   "not a regular file")


def test_compare_refuses_a_fifo_without_waiting_for_a_writer(tmp_path: Path) -> None:
    before, _ = results_pair(tmp_path)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    one_clear_line(podlife("compare", str(before), str(fifo), timeout=30), str(fifo),
                   "not a regular file")


# ----- numbers ----------------------------------------------------------------------------

@pytest.mark.parametrize("command", [
    ["cluster", "up", "--name", "r2-num"],
    ["cluster", "upgrade", "--name", "r2-num", "--version", "1.37"],
    ["cluster", "verify", "--name", "r2-num"],
    ["upgrade", "--from", "1.36", "--to", "1.37"],
])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-3"])
def test_every_timeout_refuses_what_never_or_already_ends(command: list[str], value: str,
                                                          tmp_path: Path) -> None:
    result = podlife(*command, f"--timeout={value}", env={"PODLIFE_STATE": str(tmp_path)})
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    assert f"--timeout: '{value}' is not a finite number of seconds above 0" in result.stderr
    assert not (tmp_path / "clusters").exists()  # nothing half-started


def test_a_boot_refuses_a_nan_timeout_before_anything_starts(tmp_path: Path,
                                                             monkeypatch) -> None:
    monkeypatch.setenv("PODLIFE_STATE", str(tmp_path))
    with pytest.raises(PodlifeError, match="finite"):
        LocalCluster("r2-nan").up(versions.resolve(None), timeout=float("nan"))
    assert not (tmp_path / "clusters").exists()


# ----- image archives ---------------------------------------------------------------------

@pytest.fixture
def image_cache(tmp_path: Path, monkeypatch) -> Path:
    """A private cache holding freshly built local image archives."""
    monkeypatch.setenv("PODLIFE_CACHE", str(tmp_path / "cache"))
    binary_cache._VERIFIED.clear()
    images.image_archives(lambda: kube_module_dir(versions.resolve(None)))
    binary_cache._VERIFIED.clear()  # as a new process would find them
    return tmp_path / "cache"


def test_an_image_archive_others_can_write_is_refused(image_cache: Path) -> None:
    archive = images.image_archives(lambda: pytest.fail("rebuilt"))["busybox"]
    binary_cache._VERIFIED.clear()
    archive.chmod(0o666)
    with pytest.raises(PodlifeError, match="can be written by users other than its owner"):
        images.image_archives(lambda: pytest.fail("rebuilt"))


def test_a_changed_image_archive_is_rebuilt_to_its_manifest(image_cache: Path) -> None:
    archives = images.image_archives(lambda: pytest.fail("rebuilt"))
    original = archives["busybox"].read_bytes()
    binary_cache._VERIFIED.clear()
    with archives["busybox"].open("r+b") as handle:  # one flipped byte, same size
        handle.seek(len(original) // 2)
        byte = handle.read(1)
        handle.seek(len(original) // 2)
        handle.write(bytes([byte[0] ^ 0xFF]))
    tampered = archives["busybox"].read_bytes()
    again = images.image_archives(lambda: kube_module_dir(versions.resolve(None)))
    assert again["busybox"].read_bytes() != tampered
    binary_cache._VERIFIED.clear()  # the rebuilt entry matches its manifest: no rebuild
    assert images.image_archives(lambda: pytest.fail("rebuilt again")) == again


# ----- locks ------------------------------------------------------------------------------

def test_the_tunables_lock_excludes_other_network_namespaces(tmp_path: Path) -> None:
    """An abstract unix socket is per network namespace; the lock must not be."""
    env = {**os.environ, "PODLIFE_STATE": str(tmp_path)}
    probe = ("from podlife.cluster.local import host\n"
             "from podlife.core.errors import PodlifeError\n"
             "try:\n"
             "    host.host_tunables(timeout=1)\n"
             "except PodlifeError:\n"
             "    raise SystemExit(7)\n")
    os.environ["PODLIFE_STATE"] = str(tmp_path)
    try:
        with host._host_lock(timeout=5):
            inside = subprocess.run(["unshare", "--net", sys.executable, "-c", probe],
                                    env=env, capture_output=True, text=True, timeout=60)
    finally:
        del os.environ["PODLIFE_STATE"]
    assert inside.returncode == 7, inside.stderr


def test_a_removed_lock_file_never_gives_two_holders(tmp_path: Path) -> None:
    path = tmp_path / "locks" / "c.lock"
    waiting, order = threading.Event(), []

    def second() -> None:
        with flock.exclusive(path, "second", lambda _who: waiting.set()):
            order.append(("second", path.exists(), os.stat(path).st_ino))

    with flock.exclusive(path, "first", lambda _who: None) as held:
        thread = threading.Thread(target=second)
        thread.start()
        assert waiting.wait(10)
        held.remove()
        order.append(("first removed", path.exists(), 0))
    thread.join(10)
    assert [step[0] for step in order] == ["first removed", "second"]
    assert order[1][1], "the second holder holds a file the path still names"


def test_down_removes_the_clusters_lock(tmp_path: Path) -> None:
    fake_state(tmp_path, "r2-lock")
    result = podlife("cluster", "down", "--name", "r2-lock",
                     env={"PODLIFE_STATE": str(tmp_path)})
    assert result.returncode == 0, result
    assert not (tmp_path / "clusters" / "r2-lock").exists()
    assert not (tmp_path / "locks" / "r2-lock.lock").exists()


# ----- down on what podlife did not make --------------------------------------------------

@contextlib.contextmanager
def foreign_cgroup(name: str) -> Iterator[subprocess.Popen]:
    """A cgroup named like a podlife cluster's, with a process in it, made by someone else."""
    tree = CgroupTree(name)
    dirs = tree.dirs()
    bystander = subprocess.Popen(["sleep", "300"])
    try:
        for path in dirs:
            path.mkdir()
        (dirs[0] / "cgroup.procs").write_text(str(bystander.pid))
        yield bystander
    finally:
        bystander.kill()
        bystander.wait()
        tree.remove()


def test_down_leaves_a_cgroup_podlife_did_not_make(tmp_path: Path) -> None:
    with foreign_cgroup("r2-foreign") as bystander:
        result = podlife("cluster", "down", "--name", "r2-foreign",
                         env={"PODLIFE_STATE": str(tmp_path)})
        one_clear_line(result, "podlife-r2-foreign", "left alone")
        assert "removed" not in result.stderr + result.stdout
        assert bystander.poll() is None, "down killed a process podlife did not start"
        assert CgroupTree("r2-foreign").exists()


def test_a_symlinked_state_dir_is_refused_and_left_as_it_is(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / "keep").write_text("mine")
    (tmp_path / "clusters").mkdir()
    link = tmp_path / "clusters" / "r2-link"
    link.symlink_to(target)
    for action in ("down", "up"):
        result = podlife("cluster", action, "--name", "r2-link",
                         env={"PODLIFE_STATE": str(tmp_path)})
        one_clear_line(result, "symlink", str(link))
    assert link.is_symlink() and (target / "keep").read_text() == "mine"


def test_a_failed_boots_log_path_points_where_the_logs_went(tmp_path: Path) -> None:
    logs, kept = tmp_path / "state" / "logs", tmp_path / "failed-boots" / "c"
    assert kept_log_path(logs, logs, kept) == kept
    assert kept_log_path(logs / "kubelet.log", logs, kept) == kept / "kubelet.log"
    assert kept_log_path(Path("/elsewhere.log"), logs, kept) == Path("/elsewhere.log")


# ----- kernel tunables after a killed podlife ---------------------------------------------

@pytest.fixture
def host_values() -> Iterator[dict[str, str]]:
    """The host's tunables, written back whatever the test did."""
    before = host.read_tunables()
    yield before
    host.write_tunables(before)


def test_a_stale_record_is_put_back_by_the_next_command(tmp_path: Path,
                                                        host_values: dict[str, str]) -> None:
    """A podlife killed inside the window leaves the kubelet's values and its record; the
    next `cluster status` puts the host's back and drops the record (no process left)."""
    os.environ["PODLIFE_STATE"] = str(tmp_path)
    try:
        host._write_record(host_values, "r2-dead")
    finally:
        del os.environ["PODLIFE_STATE"]
    changed = {"vm/overcommit_memory": "1" if host_values["vm/overcommit_memory"] != "1"
               else "0"}
    host.write_tunables(changed)
    result = podlife("cluster", "status", env={"PODLIFE_STATE": str(tmp_path)})
    assert result.returncode == 0, result
    assert host.read_tunables() == host_values
    assert not (tmp_path / "host-tunables.json").exists()


def test_a_boot_never_takes_the_kubelets_values_for_the_hosts(
        tmp_path: Path, host_values: dict[str, str], monkeypatch) -> None:
    monkeypatch.setenv("PODLIFE_STATE", str(tmp_path))
    host._write_record(host_values, "r2-dead")
    kubelets = {"vm/overcommit_memory": "1", "kernel/panic": "10",
                "kernel/panic_on_oops": "1"}
    if all(host_values[k] == v for k, v in kubelets.items()):
        pytest.skip("this host's own values are the kubelet's: nothing to tell apart")
    host.write_tunables(kubelets)
    assert host.host_tunables() == host_values


def test_termination_of_a_killed_holder_releases_the_tunables_lock(tmp_path: Path) -> None:
    """The kernel drops the flock with its holder: SIGKILL leaves no stale lock."""
    env = {**os.environ, "PODLIFE_STATE": str(tmp_path)}
    holder = subprocess.Popen(
        [sys.executable, "-c", "from podlife.cluster.local import host\nimport time\n"
         "with host._host_lock(5):\n    print('held', flush=True); time.sleep(300)"],
        env=env, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    os.environ["PODLIFE_STATE"] = str(tmp_path)
    try:
        started = time.monotonic()
        with host._host_lock(timeout=5):
            assert time.monotonic() - started < 5
    finally:
        del os.environ["PODLIFE_STATE"]
