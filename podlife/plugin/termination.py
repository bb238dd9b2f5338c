"""SIGTERM and SIGHUP end a pytest run of the suites the way Ctrl-C does.

A terminal's Ctrl-C reaches every process of the run's group as SIGINT, and pytest unwinds
on it: the controller's unconfigure releases the run's cluster. But `timeout`, a CI job
cancelled, or `kill -- -PGID` send SIGTERM to the whole group, and pytest leaves SIGTERM to
its default action: the controller and its xdist workers died at once, and the cluster the
run had booted kept running. With this plugin they unwind as on Ctrl-C (once: a second
signal does not cut the cleanup short).
"""

from __future__ import annotations

import contextlib
import threading

import pytest

from podlife.core.signals import interrupt_on_termination

#: The handlers' context, held open from configure to unconfigure.
_HANDLERS = pytest.StashKey[contextlib.ExitStack]()


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    if threading.current_thread() is not threading.main_thread():
        return  # handlers can only be set there; the process's main thread has its own
    stack = contextlib.ExitStack()
    stack.enter_context(interrupt_on_termination())
    config.stash[_HANDLERS] = stack


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    stack = config.stash.get(_HANDLERS, None)
    if stack is not None:
        stack.close()
