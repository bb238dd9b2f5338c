"""SIGTERM and SIGHUP end a command the way Ctrl-C does, so every cleanup path is the same.

A boot or build cleans up when KeyboardInterrupt unwinds through it; a `kill` or a closed
terminal would otherwise end Python at once and leave the cluster's processes running.
Once the first signal has arrived, later ones are ignored until the command has cleaned up:
a second Ctrl-C must not cut the teardown short and leave a half-removed cluster.

A teardown under way when the first signal comes (a normal one, in a `finally`) runs in
`shielded()`: the interrupt waits until it has finished, and is raised then; cut short, it
would leave the cluster's state and cgroups behind with nothing left to remove them.

Python drops (prints "Exception ignored") an exception raised inside a fork hook, and
logging registers one that runs in the parent at every subprocess start. A signal landing
there would be lost, so the interrupt is then re-sent to the main thread and raised at its
next step instead, from a short timer (a handler cannot leave the hook by itself).
"""

from __future__ import annotations

import _thread
import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
#: How many shielded blocks the main thread is in, and the signal that waits for them.
_shield = {"depth": 0, "pending": 0}


@contextlib.contextmanager
def interrupt_on_termination() -> Iterator[None]:
    """Within the block, SIGINT, SIGTERM and SIGHUP raise KeyboardInterrupt (once)."""
    fired = False

    def handler(signum: int, frame: FrameType | None) -> None:
        nonlocal fired
        if fired:
            return  # already cleaning up
        if in_fork_hook(frame):
            # Comes back here shortly, once the hook has returned.
            threading.Timer(0.05, _thread.interrupt_main, args=(signum,)).start()
            return
        fired = True
        if _shield["depth"]:
            _shield["pending"] = signum  # raised once the shielded teardown has finished
            return
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, handler) for sig in HANDLED}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextlib.contextmanager
def shielded() -> Iterator[None]:
    """Within the block an interrupt waits; it is raised as the outermost block ends."""
    _shield["depth"] += 1
    try:
        yield
    finally:
        _shield["depth"] -= 1
        pending = _shield["pending"]
        if pending and not _shield["depth"]:
            _shield["pending"] = 0
            raise KeyboardInterrupt(signal.Signals(pending).name)


#: The functions logging runs around every fork (Python 3.11 and 3.12+ names).
_FORK_HOOKS = {"_acquireLock", "_releaseLock", "_prepareFork", "_afterFork"}


def in_fork_hook(frame: FrameType | None) -> bool:
    """True when the interrupted code runs inside one of logging's fork hooks, where a
    raised exception would be dropped rather than unwind the command."""
    while frame is not None:
        if (frame.f_globals.get("__name__") == "logging"
                and frame.f_code.co_name in _FORK_HOOKS):
            return True
        frame = frame.f_back
    return False
