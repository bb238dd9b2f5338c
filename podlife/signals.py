"""SIGTERM and SIGHUP end a command the way Ctrl-C does, so every cleanup path is the same.

A boot or build cleans up when KeyboardInterrupt unwinds through it; a `kill` or a closed
terminal would otherwise end Python at once and leave the cluster's processes running.
Once the first signal has arrived, later ones are ignored until the command has cleaned up:
a second Ctrl-C must not cut the teardown short and leave a half-removed cluster.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator

HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextlib.contextmanager
def interrupt_on_termination() -> Iterator[None]:
    """Within the block, SIGINT, SIGTERM and SIGHUP raise KeyboardInterrupt (once)."""
    fired = False

    def handler(signum: int, frame: object) -> None:
        nonlocal fired
        if fired:
            return  # already cleaning up
        fired = True
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, handler) for sig in HANDLED}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
