"""Checks made before a boot touches anything: root, and the Debian packages it runs.

Kept free of third-party imports so it gives its one-line answer even where podlife's
dependencies are not importable (e.g. for a non-root user).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from podlife.errors import PodlifeError

REQUIRED_TOOLS = {
    "runc": "runc", "socat": "socat", "iptables": "iptables", "conntrack": "conntrack",
    "ip": "iproute2", "unshare": "util-linux", "nsenter": "util-linux", "gcc": "gcc",
}
REQUIRED_FILES = {
    "/usr/lib/cni/ptp": "containernetworking-plugins",
    "/usr/lib/cni/portmap": "containernetworking-plugins",
    "/usr/lib/cni/host-local": "containernetworking-plugins",
    "/bin/busybox": "busybox-static",
}
def preflight() -> None:
    """Everything a boot needs that is not podlife's to install, checked before touching state."""
    if os.geteuid() != 0:
        raise PodlifeError("the local cluster needs root (namespaces, cgroups, mounts)",
                           "run podlife as root, e.g. with sudo")
    missing = {pkg for tool, pkg in REQUIRED_TOOLS.items() if shutil.which(tool) is None}
    missing |= {pkg for path, pkg in REQUIRED_FILES.items() if not Path(path).exists()}
    if missing:
        names = " ".join(sorted(missing))
        raise PodlifeError(f"missing Debian packages: {names}", f"apt-get install -y {names}")


