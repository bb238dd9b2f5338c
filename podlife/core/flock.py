"""Exclusive flocks that name their holder: the one way podlife serialises its processes.

The kernel releases an flock when its holder exits, however it exits (SIGKILL included), so
a lock is never stale. The file holds a line saying who holds it, for the one who waits.
An flock is a property of the file, not of a network namespace: processes in different
namespaces (a cluster's, the host's) exclude each other as long as they see the same file.

A holder may remove the lock file when what it guards is gone (a cluster's lock after
`down`). A waiter that then wins the flock on the removed file notices that the path no
longer names its file and tries again, so two processes never both hold one lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path


class Held:
    """A lock being held: `remove()` deletes its file before it is released."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path, self.fd = path, fd
        self.removed = False

    def remove(self) -> None:
        if _same_file(self.path, self.fd):
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        self.removed = True


def _same_file(path: Path, fd: int) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def _acquire(path: Path, fd: int, on_busy: Callable[[str], None],
             timeout: float | None) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    except BlockingIOError:
        on_busy(path.read_text().strip() or "another podlife")
    if timeout is None:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{path} was held for {timeout:.0f}s") from None
            time.sleep(0.1)


@contextlib.contextmanager
def exclusive(path: Path, holder: str, on_busy: Callable[[str], None],
              timeout: float | None = None) -> Iterator[Held]:
    """Hold the lock at `path`, recording `holder` in it. If another process holds it,
    `on_busy(its holder line)` is called first: raise there to give up, return to wait
    (for ever, or `timeout` seconds, then TimeoutError)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            _acquire(path, fd, on_busy, timeout)
        except BaseException:
            os.close(fd)
            raise
        if _same_file(path, fd):
            break
        os.close(fd)  # its holder removed the file while this process waited: again
    held = Held(path, fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, holder.encode())
        yield held
    finally:
        os.close(fd)  # closing releases the lock
