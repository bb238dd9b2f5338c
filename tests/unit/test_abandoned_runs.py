"""Runs whose owner died: found by pid and start time, their records cleared, their
clusters released (the cluster side is tested in tests/cluster/test_killed_boots.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from podlife.cluster import providers

RECORD = {"name": "tdeadbeef", "provider": "kubeconfig", "kubeconfig": "/nowhere",
          "created_by_run": False}


@pytest.fixture
def runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PODLIFE_STATE", str(tmp_path))
    (tmp_path / "runs").mkdir()
    return tmp_path / "runs"


def _ended_process() -> str:
    """The pid:start of a process that has exited and been reaped."""
    proc = subprocess.Popen([sys.executable, "-c",
                             "from podlife.cluster import providers;"
                             "print(providers.this_process())"], stdout=subprocess.PIPE,
                            text=True)
    out, _ = proc.communicate()
    return out.strip()


def _write_run(runs: Path, run_id: str, owner: str) -> None:
    (runs / f"{run_id}.json").write_text(json.dumps(RECORD))
    (runs / f"{run_id}.owner.json").write_text(json.dumps({"owner": owner, "keep": False}))


def test_this_process_is_alive_and_an_ended_one_is_not() -> None:
    assert providers._alive(providers.this_process())
    ended = _ended_process()
    assert ended and not providers._alive(ended)
    pid = providers.this_process().split(":")[0]
    assert not providers._alive(f"{pid}:1")  # the same pid, another start: reused
    assert not providers._alive("garbage")


def test_only_the_runs_of_ended_owners_are_reaped(runs: Path) -> None:
    _write_run(runs, "alive", providers.this_process())
    _write_run(runs, "dead", _ended_process())
    # Not created by the run (an existing cluster): only the records go, nothing is
    # torn down, and nothing is said.
    assert providers.reap_abandoned() == []
    assert sorted(p.name for p in runs.iterdir()) == ["alive.json", "alive.owner.json"]


def test_a_run_holding_its_lock_is_left_alone(runs: Path) -> None:
    import fcntl

    _write_run(runs, "booting", _ended_process())
    with (runs / "booting.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        assert providers.reap_abandoned() == []
        assert (runs / "booting.owner.json").exists()
