"""Progress in a log: a line at a build's start, a heartbeat while it is silent, and its
duration at the end; the mode follows --progress, else whether stderr is a terminal."""

from __future__ import annotations

import os

import pytest

from podlife.cli import main
from podlife.cli.progress import LineProgress, mode


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def recording() -> tuple[list[str], Clock, LineProgress]:
    """A LineProgress writing into a list, on a clock the test moves (30 s heartbeats)."""
    lines: list[str] = []
    clock = Clock()
    return lines, clock, LineProgress(lines.append, heartbeat_s=30, clock=clock)


def test_a_build_says_when_it_starts_beats_and_ends() -> None:
    lines, clock, progress = recording()
    progress("kubernetes-v1.37.2", 0, 2600)
    clock.now = 10
    progress("kubernetes-v1.37.2", 100, 2600)   # within 30 s of the last line: quiet
    clock.now = 31
    progress.tick()                              # silent for 31 s: a heartbeat
    clock.now = 40
    progress.tick()                              # 9 s after the heartbeat: quiet
    clock.now = 62
    progress("kubernetes-v1.37.2", 1300, 2600)   # an update after 31 s: a heartbeat
    clock.now = 125
    progress.finish()
    assert lines == [
        "build kubernetes-v1.37.2: started, 2600 packages",
        "build kubernetes-v1.37.2: 31.0s elapsed, 100/2600 packages, ETA 12m55s",
        "build kubernetes-v1.37.2: 1m02s elapsed, 1300/2600 packages, ETA 1m02s",
        "build kubernetes-v1.37.2: done in 2m05s",
    ]


def test_a_build_that_reports_every_package_done_has_ended() -> None:
    """A patched build with a warm cache recompiles 3 of 1,799 packages, then says it is
    done; no heartbeat may follow (one used to, every 30 s, with a growing ETA)."""
    lines, clock, progress = recording()
    progress("kubernetes-v1.37.2+m", 3, 1799)
    clock.now = 20
    progress("kubernetes-v1.37.2+m", 1799, 1799)
    clock.now = 100
    progress.tick()
    progress.finish()
    assert lines == ["build kubernetes-v1.37.2+m: started, 1799 packages",
                     "build kubernetes-v1.37.2+m: done in 20.0s"]


def test_builds_one_after_another_each_end_when_the_next_starts() -> None:
    """A finished build stops beating: the next one starting ends it, at its last report."""
    lines, clock, progress = recording()
    progress("kubernetes-v1.37.2", 0, 2599)
    clock.now = 380
    progress("kubernetes-v1.37.2", 2598, 2599)
    clock.now = 383
    progress("containerd-v2.2.9", 0, 1057)
    clock.now = 420
    progress.tick()
    clock.now = 446
    progress.finish()
    assert lines == [
        "build kubernetes-v1.37.2: started, 2599 packages",
        "build kubernetes-v1.37.2: 6m20s elapsed, 2598/2599 packages, ETA 0.1s",
        "build kubernetes-v1.37.2: done in 6m20s",
        "build containerd-v2.2.9: started, 1057 packages",
        "build containerd-v2.2.9: 37.0s elapsed, 0/1057 packages",
        "build containerd-v2.2.9: done in 1m03s",
    ]


def test_a_heartbeat_without_a_total_says_the_time() -> None:
    lines, clock, progress = recording()
    progress("etcd", 0, 0)
    clock.now = 45
    progress.tick()
    assert lines == ["build etcd: started", "build etcd: 45.0s elapsed"]


@pytest.mark.parametrize(("env", "chosen"), [("plain", "plain"), ("rich", "rich"),
                                             ("none", "none"), ("auto", "plain")])
def test_the_mode_is_the_users_else_plain_off_a_terminal(monkeypatch: pytest.MonkeyPatch,
                                                         env: str, chosen: str) -> None:
    monkeypatch.setenv("PODLIFE_PROGRESS", env)
    assert mode() == chosen  # pytest's stderr is not a terminal


def test_every_command_takes_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PODLIFE_PROGRESS", raising=False)
    assert main(["versions", "--progress", "none"]) == 0
    assert os.environ["PODLIFE_PROGRESS"] == "none"
    monkeypatch.delenv("PODLIFE_PROGRESS")
