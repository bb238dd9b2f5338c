"""The host-wide kernel tunables the kubelet changes at start, put back as they were.

The kubelet sets vm.overcommit_memory, vm.panic_on_oom, kernel.panic, kernel.panic_on_oops
and the root key quotas when it starts (its container manager's setup), and has no setting
to leave them alone: protectKernelDefaults only turns the change into a start failure.
These sysctls are not namespaced, so a cluster's private namespaces cannot hold them.
podlife records them before a kubelet starts and writes them back once that kubelet has
registered its node (its setup is done by then, and it does not set them again).

A host-wide lock spans each record-and-restore, so two clusters booting at once never
record each other's changed values. It is an abstract unix socket: held while its owner
lives, gone when it exits, and never a file left on the host.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from podlife.errors import PodlifeError

KERNEL_TUNABLES = ("vm/overcommit_memory", "vm/panic_on_oom", "kernel/panic",
                   "kernel/panic_on_oops", "kernel/keys/root_maxkeys",
                   "kernel/keys/root_maxbytes")
LOCK_NAME = b"\0podlife-kernel-tunables"


def read_tunables() -> dict[str, str]:
    values = {}
    for name in KERNEL_TUNABLES:
        with contextlib.suppress(OSError):
            values[name] = (Path("/proc/sys") / name).read_text().strip()
    return values


def write_tunables(values: dict[str, str]) -> None:
    for name, value in values.items():
        path = Path("/proc/sys") / name
        with contextlib.suppress(OSError):
            if path.read_text().strip() != value:
                path.write_text(value)


@contextlib.contextmanager
def _host_lock(timeout: float) -> Iterator[None]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                sock.bind(LOCK_NAME)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise PodlifeError("another podlife kept the kernel-tunables lock for "
                                       f"{timeout:.0f}s", "wait for its boot to finish, then "
                                       "retry") from None
                time.sleep(0.2)
        yield
    finally:
        sock.close()


def host_tunables(timeout: float = 600.0) -> dict[str, str]:
    """The host's own values: read under the lock, so never another boot's kubelet's."""
    with _host_lock(timeout):
        return read_tunables()


@contextlib.contextmanager
def kernel_tunables_kept(timeout: float = 600.0) -> Iterator[None]:
    """Around a kubelet's start (until its node is registered): the host's tunables are
    the same after the block as before it, whether the block succeeds or fails."""
    with _host_lock(timeout):
        before = read_tunables()
        try:
            yield
        finally:
            write_tunables(before)
