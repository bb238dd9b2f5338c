"""Exclusive flocks that name their holder: the one way podlife serialises its processes.

The kernel releases an flock when its holder exits, however it exits (SIGKILL included), so
a lock is never stale. The file holds a line saying who holds it, for the one who waits.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path


@contextlib.contextmanager
def exclusive(path: Path, holder: str, on_busy: Callable[[str], None]) -> Iterator[None]:
    """Hold the lock at `path`, recording `holder` in it. If another process holds it,
    `on_busy(its holder line)` is called first: raise there to give up, return to wait."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            on_busy(path.read_text().strip() or "another podlife")
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.write(fd, holder.encode())
        yield
    finally:
        os.close(fd)  # closing releases the lock
