"""One command at a time per cluster name: `up`, `upgrade` and `down` each hold its lock.

The lock is an flock on <state root>/locks/<name>.lock. The kernel releases it when the
holder exits, however it exits (SIGKILL included), so a lock is never stale, and a held lock
means a live podlife is working on that cluster right now. The components `up` starts do
not inherit it (Python opens files close-on-exec), so a running cluster holds no lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from podlife.core import flock, paths
from podlife.core.errors import PodlifeError


def lock_path(name: str) -> Path:
    return paths.state_root() / "locks" / f"{name}.lock"


def holder(name: str) -> str | None:
    """What holds the cluster's lock ("pid 123 running up"), or None if it is free."""
    path = lock_path(name)
    if not path.exists():
        return None
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return path.read_text().strip() or "another podlife"
        finally:
            os.close(fd)
    return None


@contextlib.contextmanager
def cluster_lock(name: str, action: str) -> Iterator[flock.Held]:
    """Hold the cluster's lock for `action`, or fail at once with one line naming the holder.
    `remove()` on what it yields deletes the lock file with the cluster."""
    def refuse(busy: str) -> None:
        raise PodlifeError(f"cluster '{name}' is busy: {busy}",
                           f"wait for it to finish (or interrupt it), then run {action} again")

    with flock.exclusive(lock_path(name), f"pid {os.getpid()} running {action}",
                         refuse) as held:
        yield held
