"""A SIGTERM that lands while logging's fork hook runs (at every subprocess start) must
still stop the command: Python drops exceptions raised inside fork hooks, so the interrupt
is raised just after the hook instead."""

from __future__ import annotations

import os
import signal
import time
import types

import pytest

from podlife.core import signals

HOOK_SOURCE = """
def _releaseLock():
    os.kill(os.getpid(), signal.SIGTERM)
    return "hook finished"
"""


def fake_logging_hook() -> types.FunctionType:
    """A function that looks, to the handler, like logging's after-fork hook."""
    namespace = {"__name__": "logging", "os": os, "signal": signal}
    exec(compile(HOOK_SOURCE, "logging/__init__.py", "exec"), namespace)
    return namespace["_releaseLock"]


def test_a_signal_inside_the_fork_hook_is_raised_after_it_returns() -> None:
    hook = fake_logging_hook()
    finished = None
    with signals.interrupt_on_termination(), pytest.raises(KeyboardInterrupt):
        finished = hook()  # a KeyboardInterrupt raised in here would be lost
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            time.sleep(0.01)  # the deferred interrupt arrives here
    assert finished == "hook finished"


def test_a_signal_elsewhere_is_raised_at_once() -> None:
    with signals.interrupt_on_termination(), pytest.raises(KeyboardInterrupt, match="SIGTERM"):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)


def test_a_signal_during_a_shielded_teardown_waits_until_it_has_finished() -> None:
    """SIGTERM while a teardown runs: the teardown finishes, then the interrupt comes."""
    done = []
    with signals.interrupt_on_termination(), pytest.raises(KeyboardInterrupt, match="SIGTERM"):
        with signals.shielded():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.2)  # a handler that raised would have cut this short
            done.append("teardown finished")
        done.append("never: the interrupt is raised as the block ends")
    assert done == ["teardown finished"]


def test_a_signal_during_a_kind_clusters_deletion_waits_until_it_has_finished(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """kind's delete (node containers, then podlife's dockerd) runs shielded like a local
    cluster's teardown: cut short, the engine would be left running."""
    import contextlib

    from podlife.cluster.kind import cluster, engine

    done = []

    def deleting(name: str) -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.2)
        done.append(f"{name} deleted, engine stopped")

    monkeypatch.setattr(cluster, "_delete", deleting)
    monkeypatch.setattr(engine, "locked", contextlib.nullcontext)
    with signals.interrupt_on_termination(), pytest.raises(KeyboardInterrupt, match="SIGTERM"):
        cluster.delete("k")
    assert done == ["k deleted, engine stopped"]
