"""Checks made before a boot touches anything: root, the Debian packages it runs, and the
user's input (cluster name, feature gates, API port).

Kept free of third-party imports so it gives its one-line answer even where podlife's
dependencies are not importable (e.g. for a non-root user).
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

from podlife.cluster.host import require_root
from podlife.core.errors import PodlifeError

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
NAME_OK = set("abcdefghijklmnopqrstuvwxyz0123456789-")
#: Characters a state dir path may hold. Paths reach socat's address syntax (where ',', ':'
#: and '!' are separators) and component flags; anything outside this set is refused
#: rather than quoted, so no path can ever be read as an option or a command.
PATH_OK = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._+@-")
#: A unix socket path must fit in sockaddr_un.sun_path (108 bytes with its NUL).
SOCKET_PATH_MAX = 107


def preflight() -> None:
    """Everything a boot needs that is not podlife's to install, checked before touching state."""
    require_root("the local cluster (namespaces, cgroups, mounts)")
    missing = {pkg for tool, pkg in REQUIRED_TOOLS.items() if shutil.which(tool) is None}
    missing |= {pkg for path, pkg in REQUIRED_FILES.items() if not Path(path).exists()}
    if missing:
        names = " ".join(sorted(missing))
        raise PodlifeError(f"missing Debian packages: {names}", f"apt-get install -y {names}")


def validate_name(name: str) -> None:
    if not name or len(name) > 30 or not set(name) <= NAME_OK or name[0] == "-":
        raise PodlifeError(f"'{name}' is not a valid cluster name",
                           "use up to 30 lowercase letters, digits and dashes")


def validate_state_path(state: Path, longest_socket: Path) -> None:
    """Refuse a state dir whose path has characters that mean something to a shell or to
    socat, or that is too long for the API server's unix socket, before anything runs."""
    text = str(state)
    odd = sorted(set(text) - PATH_OK)
    if odd or not state.is_absolute():
        shown = "".join(odd) or "a relative path"
        raise PodlifeError(f"the state dir {text!r} has characters podlife refuses ({shown})",
                           "set PODLIFE_STATE to an absolute path of letters, digits and "
                           "/ . _ + @ - only")
    if len(str(longest_socket).encode()) > SOCKET_PATH_MAX:
        raise PodlifeError(f"the state dir {text!r} is too long for a unix socket path",
                           f"set PODLIFE_STATE to a path shorter by "
                           f"{len(str(longest_socket).encode()) - SOCKET_PATH_MAX} characters")


def refuse_symlinked_state(state: Path) -> None:
    """podlife makes its state dirs itself: a symlink there (or at clusters/) was put there
    by someone else, and following it would make podlife act on what it points to."""
    for path in (state.parent, state):
        if path.is_symlink():
            raise PodlifeError(f"{path} is a symlink (to {os.readlink(path)}), not a directory "
                               "podlife made", f"remove the link (rm {path}) or set "
                               "PODLIFE_STATE to another directory")


def parse_gates(text: str | None) -> dict[str, bool]:
    """'A=true,B=false' -> {'A': True, 'B': False}, with a clear error on anything else."""
    gates: dict[str, bool] = {}
    for item in filter(None, (text or "").split(",")):
        key, _, value = item.partition("=")
        if value.lower() not in ("true", "false") or not key.strip():
            raise PodlifeError(f"feature gate '{item}' is not NAME=true|false",
                               "write gates like SidecarContainers=false,OtherGate=true")
        gates[key.strip()] = value.lower() == "true"
    return gates


def validate_port(port: int | None) -> None:
    if port is not None and not 1 <= port <= 65535:
        raise PodlifeError(f"--api-port {port} is not a TCP port",
                           "pick a port from 1 to 65535, or leave it out to get a free one")


def free_port(preferred: int | None) -> int:
    """The host loopback port for the API server: the one asked for, or a free one."""
    validate_port(preferred)
    if preferred is not None:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", preferred))
            except OSError:
                raise PodlifeError(f"port {preferred} on 127.0.0.1 is already in use",
                                   "pick another with --api-port, or leave it out to get a free "
                                   "one") from None
        return preferred
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
