"""SIGTERM to a whole pytest run (controller and xdist workers, as `timeout` or a cancelled
CI job sends it) unwinds it like Ctrl-C: the session's cleanup runs, as the run's cluster
release does in podlife.plugin.checks; without the plugin it does not (pytest's default)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CONFTEST = """
import os, pathlib

def pytest_unconfigure(config):
    if not hasattr(config, "workerinput"):
        pathlib.Path(os.environ["MARKER"]).write_text("released")
"""

SUITE = """
import os, pathlib, time

def test_waits_for_the_signal():
    pathlib.Path(os.environ["MARKER"] + ".started").write_text("started")
    time.sleep(60)
"""


def _run_and_terminate(pytester: pytest.Pytester, *plugin: str) -> tuple[int, Path]:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_wait=SUITE)
    marker = pytester.path / "marker"
    env = os.environ | {"MARKER": str(marker), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "xdist", "-n", "1", "-p", "no:cacheprovider",
         *plugin, "test_wait.py"], cwd=pytester.path, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started = marker.with_name("marker.started")
    deadline = time.monotonic() + 60
    while not started.exists():
        assert time.monotonic() < deadline, "the test never started"
        assert proc.poll() is None, f"pytest ended early with {proc.returncode}"
        time.sleep(0.1)  # polling a file the child writes, not a cluster state
    os.killpg(proc.pid, signal.SIGTERM)
    return proc.wait(timeout=60), marker


def test_sigterm_to_the_group_runs_the_sessions_cleanup(pytester: pytest.Pytester) -> None:
    code, marker = _run_and_terminate(pytester, "-p", "podlife.plugin.termination")
    assert code == pytest.ExitCode.INTERRUPTED
    assert marker.read_text() == "released"


def test_without_the_plugin_sigterm_skips_the_cleanup(pytester: pytest.Pytester) -> None:
    """What the plugin is for: pytest's default ends at once, and nothing is released."""
    code, marker = _run_and_terminate(pytester)
    assert code == -signal.SIGTERM
    assert not marker.exists()
