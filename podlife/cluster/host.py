"""What every provider that runs nodes on this host shares about the host itself: the
kernel tunables a kubelet (or Docker) changes, and the one line for a user who is not root.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from podlife.core.errors import PodlifeError

#: The sysctls the kubelet sets at start (its container manager's setup); they are
#: host-wide, not namespaced.
KERNEL_TUNABLES = ("vm/overcommit_memory", "vm/panic_on_oom", "kernel/panic",
                   "kernel/panic_on_oops", "kernel/keys/root_maxkeys",
                   "kernel/keys/root_maxbytes")


def read_tunables() -> dict[str, str]:
    values = {}
    for name in KERNEL_TUNABLES:
        with contextlib.suppress(OSError):
            values[name] = (Path("/proc/sys") / name).read_text().strip()
    return values


def write_tunables(values: dict[str, str]) -> None:
    for name, value in values.items():
        if name not in KERNEL_TUNABLES:
            continue  # a record only ever names these; anything else is not podlife's
        path = Path("/proc/sys") / name
        with contextlib.suppress(OSError):
            if path.read_text().strip() != value:
                path.write_text(value)


def require_root(what: str) -> None:
    if os.geteuid() != 0:
        raise PodlifeError(f"{what} needs root", "run podlife as root, e.g. with sudo; the "
                           "kubeconfig provider (--provider kubeconfig) needs no root")
