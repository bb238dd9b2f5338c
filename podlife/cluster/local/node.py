"""The sandbox a local cluster runs in: its own network and mount namespaces and cgroup tree.

Why namespaces: every component listens on the cluster's own network namespace, which
has no route off the machine, so nothing the cluster or its pods send can leave it, and
two clusters can use the same ports. The private mount namespace gives each cluster
its own /run and /var/log, so containerd's and the kubelet's fixed paths never collide,
and every mount the cluster makes vanishes with it. The cgroup tree holds every process
of the cluster (components, shims, containers), so teardown can find and stop them all.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from podlife.core.errors import PodlifeError

CGROUP_ROOT = Path("/sys/fs/cgroup")
V1_CONTROLLERS = ("cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids",
                  "systemd")


@dataclass(frozen=True)
class Network:
    """The addresses inside a cluster's namespace (never routed anywhere else)."""

    node_ip: str = "10.200.0.2"
    service_cidr: str = "10.96.0.0/16"
    kubernetes_service_ip: str = "10.96.0.1"
    pod_cidr: str = "10.244.0.0/16"
    pod_gateway: str = "10.244.0.1"
    dns_ip: str = "10.200.0.2"
    #: This node's share of pod_cidr (each worker node has its own).
    node_pod_subnet: str = "10.244.0.0/24"


def cgroup_v1() -> bool:
    """True on a host whose resource controllers are cgroup v1 (hybrid counts)."""
    return (CGROUP_ROOT / "memory" / "memory.limit_in_bytes").exists()


class CgroupTree:
    """podlife-<name> under every cgroup controller: the cluster's processes and pods."""

    def __init__(self, name: str) -> None:
        self.name = f"podlife-{name}"

    def dirs(self, sub: str = "") -> list[Path]:
        if cgroup_v1():
            return [CGROUP_ROOT / c / self.name / sub for c in V1_CONTROLLERS
                    if (CGROUP_ROOT / c).is_dir()]
        return [CGROUP_ROOT / self.name / sub]

    def teardown_dirs(self) -> list[Path]:
        """The tree in every hierarchy mounted under /sys/fs/cgroup, not only dirs(): the
        kubelet also makes it in others (e.g. the unified one of a hybrid host)."""
        if not cgroup_v1():
            return self.dirs()
        hierarchies = sorted(p for p in CGROUP_ROOT.iterdir() if p.is_dir())
        return [h / self.name for h in hierarchies]

    @property
    def kubelet_root(self) -> str:
        """The kubelet's cgroupRoot: pods are created under it."""
        return f"/{self.name}"

    def create(self, sub: str = "components") -> None:
        """The tree with `sub` (one level) in it: the components' cgroup, or a worker
        node's kubelet root."""
        for path in self.dirs(sub):
            path.mkdir(parents=True, exist_ok=True)
            if path.parts[-3] == "cpuset":
                # A new cpuset cgroup starts with no CPUs or memory nodes; give it the parent's.
                for parent in (path.parent, path):
                    for knob in ("cpuset.cpus", "cpuset.mems"):
                        value = (parent.parent / knob).read_text().strip()
                        (parent / knob).write_text(value)

    def join(self, pid: int | None = None) -> None:
        """Move a process (default: the caller) into the components cgroup."""
        pid = pid or os.getpid()
        for path in self.dirs("components"):
            (path / "cgroup.procs").write_text(str(pid))

    def pids(self) -> set[int]:
        """Every process in the tree, in any controller (they should agree)."""
        found: set[int] = set()
        for top in self.teardown_dirs():
            if not top.exists():
                continue
            for procs in top.rglob("cgroup.procs"):
                with contextlib.suppress(OSError):
                    found.update(int(p) for p in procs.read_text().split())
        return found

    def exists(self) -> bool:
        return any(path.exists() for path in self.dirs())

    def holds(self, pid: int) -> bool:
        """Whether a process is in this tree (in any hierarchy): the test of a process's
        identity before podlife signals it, since a pid file may name a reused pid."""
        try:
            lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
        except OSError:
            return False
        top = f"/{self.name}"
        for line in lines:
            path = line.split(":", 2)[-1]
            if path == top or path.startswith(top + "/"):
                return True
        return False

    def peak_memory_bytes(self) -> int | None:
        """The highest memory use of all the cluster's processes together, since boot."""
        path = CGROUP_ROOT / "memory" / self.name / "memory.max_usage_in_bytes"
        with contextlib.suppress(OSError, ValueError):
            return int(path.read_text())
        return None

    def remove(self, timeout: float = 10.0) -> None:
        """Remove the tree, deepest cgroups first; waits for exited tasks to be reaped."""
        deadline = time.monotonic() + timeout
        while self._remove_once() and time.monotonic() < deadline:
            time.sleep(0.1)

    def _remove_once(self) -> bool:
        """One pass of removal; True while something is still left."""
        tops = self.teardown_dirs()
        for top in tops:
            if not top.exists():
                continue
            for path in sorted((p for p in top.rglob("*") if p.is_dir()),
                               key=lambda p: len(p.parts), reverse=True):
                with contextlib.suppress(OSError):
                    path.rmdir()
            with contextlib.suppress(OSError):
                top.rmdir()
        return any(top.exists() for top in tops)


def kill_all(pids: set[int], *, member: Callable[[int], bool], grace: float = 5.0) -> None:
    """SIGTERM, wait up to `grace`, then SIGKILL whatever is left: only processes for which
    `member` holds once a pidfd pins them, so a pid reused by another process after it was
    read is never signalled."""
    handles: dict[int, int] = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            fd = os.pidfd_open(pid)
            if member(pid):
                handles[pid] = fd
            else:
                os.close(fd)
    try:
        for fd in handles.values():
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(fd, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(_alive(p) for p in handles):
            time.sleep(0.1)
        for fd in handles.values():
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(fd, signal.SIGKILL)
    finally:
        for fd in handles.values():
            os.close(fd)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes.
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    return False


#: The second half of every node's setup, after its addresses and routes: forwarding,
#: then private mounts. Fixed host paths the components write to (the kubelet's
#: device-plugin and pod-resources sockets under /var/lib/kubelet, CNI's results cache under
#: /var/lib/cni, containerd's /opt/containerd, the kubelet's /usr/libexec/kubernetes plugin
#: dir) are seen through an overlay whose writes land in the node's own state dir.
NODE_SETUP = """sysctl -qw net.ipv4.ip_forward=1
sysctl -qw net.bridge.bridge-nf-call-iptables=1 2>/dev/null || true
mount --make-rprivate /
mount -t tmpfs -o mode=755 podlife-run /run
for dir in /var/lib /opt /usr/libexec; do
  mkdir -p "$state/host$dir/upper" "$state/host$dir/work"
  mount -t overlay podlife-host \
    -o "lowerdir=$dir,upperdir=$state/host$dir/upper,workdir=$state/host$dir/work" "$dir"
done
mkdir -p "$state/var-log"
mount --bind "$state/var-log" /var/log
mkdir -p "$state/kubelet"
mount --bind "$state/kubelet" "$state/kubelet"
mount --make-rshared "$state/kubelet"
echo ready > "$state/namespace.ready"
exec sleep infinity
"""


def setup_script(net: Network) -> str:
    """Shell run inside the fresh namespaces: addresses, routes, sysctls and private mounts.

    The state dir arrives as the script's first argument ("$1"), never pasted into the
    text, so no path can become a command; the rest is podlife's own constants.
    """
    return f"""set -eu
state=$1
ip link set lo up
# A veth pair kept inside the namespace carries the node's address (kernels without the
# dummy driver have veth, which pod networking needs anyway).
ip link add podlife0 type veth peer name podlife1
ip addr add {net.node_ip}/32 dev podlife0
ip link set podlife1 up
ip link set podlife0 up
# Service IPs are answered here (kube-proxy rewrites them); nothing else has a route.
ip route add {net.service_cidr} dev podlife0
{NODE_SETUP}"""


class NodeSandbox:
    """Start the namespace holder and run commands inside its namespaces."""

    def __init__(self, state: Path, cgroups: CgroupTree, net: Network) -> None:
        self.state = state
        self.cgroups = cgroups
        self.net = net

    @property
    def pid_file(self) -> Path:
        return self.state / "pids" / "namespace.pid"

    def holder_pid(self) -> int | None:
        """The namespace holder's pid, if the pid file names a live process of this cluster."""
        with contextlib.suppress(OSError, ValueError):
            pid = int(self.pid_file.read_text())
            return pid if _alive(pid) and self.cgroups.holds(pid) else None
        return None

    def setup(self) -> str:
        """The script the namespace holder runs (a worker node's differs)."""
        return setup_script(self.net)

    def start(self, timeout: float = 10.0) -> int:
        proc = self.spawn_holder()
        self.wait_for(proc, "namespace.ready", timeout)
        return proc.pid

    def spawn_holder(self) -> subprocess.Popen[bytes]:
        """The process that makes the namespaces and keeps them while it lives."""
        script = self.state / "namespace-setup.sh"
        script.write_text(self.setup())
        log = (self.state / "logs" / "namespace.log").open("w")
        proc = subprocess.Popen(
            ["unshare", "--net", "--mount", "--propagation", "private", "sh", str(script),
             str(self.state)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=self.cgroups.join)
        self.pid_file.write_text(str(proc.pid))
        return proc

    def wait_for(self, proc: subprocess.Popen[bytes], marker: str, timeout: float) -> None:
        """Until the holder's script has written `marker` into the state dir."""
        ready = self.state / marker
        deadline = time.monotonic() + timeout
        while not ready.exists():
            if proc.poll() is not None:
                raise PodlifeError(
                    f"setting up the cluster's network namespace failed (exit {proc.returncode})",
                    "check that iproute2 is installed and you are root",
                    log=str(self.state / "logs" / "namespace.log"))
            if time.monotonic() > deadline:
                raise PodlifeError("the cluster's namespace did not come up in time",
                                   "read its log", log=str(self.state / "logs/namespace.log"))
            time.sleep(0.02)

    def command(self, argv: list[str]) -> list[str]:
        """argv, wrapped to run inside the cluster's network and mount namespaces."""
        pid = self.holder_pid()
        if pid is None:
            raise PodlifeError("the cluster's namespace holder is not running",
                               "run 'podlife cluster down' then 'podlife cluster up' again")
        return ["nsenter", "--target", str(pid), "--net", "--mount", "--", *argv]

    def spawn(self, name: str, argv: list[str], *, env: dict[str, str] | None = None,
              inside: bool = True) -> subprocess.Popen[bytes]:
        """Start a long-running component, detached from the caller, logging to logs/<name>.log."""
        log = (self.state / "logs" / f"{name}.log").open("ab")
        cmd = self.command(argv) if inside else argv
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env={**os.environ, **(env or {})}, start_new_session=True,
                                preexec_fn=self.cgroups.join)
        (self.state / "pids" / f"{name}.pid").write_text(str(proc.pid))
        return proc

    def run(self, argv: list[str], *, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run a short command inside the namespaces and wait for it."""
        return subprocess.run(self.command(argv), capture_output=True, text=True, timeout=timeout,
                              preexec_fn=self.cgroups.join)


def processes_in(state: Path) -> Iterator[tuple[int, str]]:
    """Processes whose command line mentions a state dir: a check that nothing is left."""
    marker = str(state).encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            cmdline = (entry / "cmdline").read_bytes()
            if marker in cmdline:
                yield int(entry.name), cmdline.replace(b"\0", b" ").decode(errors="replace")
