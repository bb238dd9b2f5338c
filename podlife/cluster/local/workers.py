"""Worker nodes of a local cluster (`--workers N`): each one a network and mount namespace
of its own beside the control plane's, with its own containerd, kubelet and kube-proxy,
its own /run, /var/lib, /var/log and kubelet root dir, and a cgroup subtree of its own
inside the cluster's tree (so `down` stops and removes it with the rest).

Wiring: one veth pair per worker. Its control-plane end is addressed 169.254.1.1/32 (the
same on every such end: the worker's gateway); its worker end becomes eth0 with the
worker's node IP. The control plane's namespace routes each worker's node IP and pod
subnet over that worker's veth, so it is the router between nodes. No namespace has a
default route: nothing a node or pod sends can leave the machine.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from podlife.cluster.local import components as comp
from podlife.cluster.local.configure import STATE_SUBDIRS, write_node_files
from podlife.cluster.local.launch import Launcher
from podlife.cluster.local.node import NODE_SETUP, CgroupTree, Network, NodeSandbox
from podlife.cluster.local.pki import CertificateAuthority, write_kubeconfig
from podlife.cluster.local.supervise import Supervisor
from podlife.core.errors import PodlifeError
from podlife.core.versions import KubeVersion

#: At most this many workers (as `--workers` documents).
MAX_WORKERS = 5
#: Every worker's next hop: the control-plane end of its veth.
GATEWAY = "169.254.1.1"


def check_count(workers: int, flag: str = "--workers") -> None:
    if not 0 <= workers <= MAX_WORKERS:
        raise PodlifeError(f"{flag} {workers} is outside 0-{MAX_WORKERS}",
                           f"give 0 (one node, the default) to {MAX_WORKERS} worker nodes")


@dataclass(frozen=True)
class WorkerNode:
    """One node beside the control plane's own namespace: a worker (its node name, index
    from 1, and state dir), or with role "cp" one more control-plane instance
    (podlife.cluster.local.control_planes), addressed from 10.200.11.2 on."""

    cluster: str
    index: int
    state: Path
    role: str = "worker"

    @property
    def name(self) -> str:
        return f"{self.cluster}-{self.role}{self.index}"

    @property
    def address_index(self) -> int:
        return self.index + (9 if self.role == "cp" else 0)

    @property
    def net(self) -> Network:
        k = self.address_index
        return Network(node_ip=f"10.200.{k}.2", pod_gateway=f"10.244.{k}.1",
                       node_pod_subnet=f"10.244.{k}.0/24")

    @property
    def layout(self) -> comp.Layout:
        return comp.Layout(self.state)

    @property
    def link(self) -> str:
        """The control-plane end of its veth."""
        return f"podlife-w{self.address_index}"

    def cgroup_root(self, cgroups: CgroupTree) -> str:
        """The kubelet's cgroupRoot: a subtree of the cluster's, one per node."""
        return f"{cgroups.kubelet_root}/{self.name}"


def workers_of(cluster: str, state: Path, count: int) -> list[WorkerNode]:
    """The workers' state dirs are short (w1 ... w5): containerd's sockets live there, and
    a unix socket's path has at most 107 bytes."""
    return [WorkerNode(cluster, index, state / f"w{index}") for index in range(1, count + 1)]


def longest_socket(cluster: str, state: Path) -> Path:
    """The longest socket path any node of the cluster may use: a worker's containerd's
    ttrpc socket, beside its main one."""
    socket = workers_of(cluster, state, MAX_WORKERS)[-1].layout.containerd_socket
    return socket.with_name(socket.name + ".ttrpc")


class WorkerCgroups(CgroupTree):
    """The cluster's tree, as a worker's processes join it: into <worker>/components, beside
    the worker's pods (<worker>/kubepods), so the worker's subtree holds everything that
    node runs and its memory can be read per node."""

    def __init__(self, cluster: str, worker: str) -> None:
        super().__init__(cluster)
        self.worker = worker

    def join(self, pid: int | None = None) -> None:
        pid = pid or os.getpid()
        for path in self.dirs(f"{self.worker}/components"):
            (path / "cgroup.procs").write_text(str(pid))

    def create_worker(self) -> None:
        """<worker> (the kubelet's cgroupRoot) and <worker>/components."""
        self.create(self.worker)
        for path in self.dirs(f"{self.worker}/components"):
            path.mkdir(exist_ok=True)
            if "cpuset" in path.parts:
                for knob in ("cpuset.cpus", "cpuset.mems"):
                    (path / knob).write_text((path.parent / knob).read_text().strip())

    def peak_memory_bytes(self) -> int | None:
        """The highest memory use of this node (its components and pods), since boot."""
        path = Path("/sys/fs/cgroup/memory") / self.name / self.worker / "memory.max_usage_in_bytes"
        try:
            return int(path.read_text())
        except (OSError, ValueError):
            return None


def write_files(worker: WorkerNode, ca: CertificateAuthority, *, cluster: str,
                gates: dict[str, bool], restrict_oom_score_adj: bool,
                api_server: str | None = None) -> None:
    """The worker's own CA copy, kubelet serving certificate, the kubelet's and
    kube-proxy's identities (pointing at the control plane's node IP) and node configs."""
    lay, net = worker.layout, worker.net
    for sub in STATE_SUBDIRS:
        (lay.state / sub).mkdir(parents=True, exist_ok=True)
    shutil.copy(ca.cert_path, lay.pki / "ca.crt")
    ca.issue("kubelet", common_name=worker.name, server=True, client=False,
             dns=(worker.name,), ips=(net.node_ip,), directory=lay.pki)
    server = api_server or f"https://{Network().node_ip}:{comp.APISERVER_PORT}"
    identities = {"kubelet": (f"system:node:{worker.name}", ("system:nodes",)),
                  "kube-proxy": ("system:kube-proxy", ())}
    for who, (user, groups) in identities.items():
        cert, key = ca.issue(f"client-{who}", common_name=user, groups=groups,
                             directory=lay.pki)
        write_kubeconfig(lay.kubeconfig(who), server=server, ca=lay.pki / "ca.crt",
                         cert=cert, key=key, cluster=cluster, user=user)
    write_node_files(lay, net, node_name=worker.name, gates=gates,
                     restrict_oom_score_adj=restrict_oom_score_adj)


def setup_script(net: Network) -> str:
    """Shell run inside a worker's fresh namespaces: it waits for eth0, which the control
    plane's side moves in, then addresses, routes, sysctls and private mounts. The state
    dir arrives as "$1", as in podlife.cluster.local.node.setup_script."""
    control_plane = Network()
    return f"""set -eu
state=$1
ip link set lo up
echo created > "$state/namespace.created"
tries=0
until ip link show eth0 >/dev/null 2>&1; do
  tries=$((tries + 1)); [ "$tries" -lt 400 ] || {{ echo "eth0 never arrived"; exit 1; }}
  sleep 0.025
done
ip addr add {net.node_ip}/32 dev eth0
ip link set eth0 up
ip route add {GATEWAY} dev eth0 scope link
# Other nodes, their pods and Service IPs: all through the control plane's namespace.
ip route add 10.200.0.0/16 via {GATEWAY} dev eth0
ip route add {control_plane.pod_cidr} via {GATEWAY} dev eth0
ip route add {net.service_cidr} via {GATEWAY} dev eth0
{NODE_SETUP}"""


def wiring_script(worker: WorkerNode, holder_pid: int) -> str:
    """Run in the control plane's namespace: the veth pair, its far end moved into the
    worker's namespace as eth0, and the routes to the worker's node IP and pods."""
    net, link = worker.net, worker.link
    return f"""set -eu
ip link add {link} type veth peer name {link}p
ip link set {link}p netns {holder_pid} name eth0
ip addr add {GATEWAY}/32 dev {link}
ip link set {link} up
ip route add {net.node_ip}/32 dev {link} scope link
ip route add {net.node_pod_subnet} via {net.node_ip} dev {link}
"""


class WorkerSandbox(NodeSandbox):
    """A worker's namespace holder: its own script, and its veth wired in from the control
    plane's namespace once its namespaces exist (never before: the link would land in
    the host's)."""

    def __init__(self, worker: WorkerNode, cgroups: CgroupTree,
                 control_plane: NodeSandbox) -> None:
        super().__init__(worker.state, cgroups, worker.net)
        self.worker = worker
        self.control_plane = control_plane

    def setup(self) -> str:
        return setup_script(self.net)

    def start(self, timeout: float = 10.0) -> int:
        proc = self.spawn_holder()
        self.wait_for(proc, "namespace.created", timeout)
        if _netns(proc.pid) in ("", _netns(os.getpid())):
            raise PodlifeError(f"{self.worker.name}'s namespace holder is not in a network "
                               "namespace of its own", "read its log",
                               log=str(self.state / "logs" / "namespace.log"))
        wired = self.control_plane.run(["sh", "-c", wiring_script(self.worker, proc.pid)])
        if wired.returncode != 0:
            raise PodlifeError(f"wiring {self.worker.name} to the control plane failed: "
                               f"{wired.stderr.strip()[-300:]}",
                               "check that the kernel has veth (ip link add type veth)")
        self.wait_for(proc, "namespace.ready", timeout)
        return proc.pid


def _netns(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/ns/net")
    except OSError:
        return ""


@dataclass
class WorkerBoot:
    """What starting a worker needs from the cluster's boot."""

    cluster: str
    cgroups: CgroupTree
    control_plane: NodeSandbox
    bins: dict[str, Path]
    ca: CertificateAuthority
    kubelet_gates: dict[str, bool]
    proxy_gates: dict[str, bool]
    restrict_oom_score_adj: bool
    #: The API address its agents use: the balanced one of several control planes.
    api_server: str | None = None


def start(worker: WorkerNode, boot: WorkerBoot, version: KubeVersion,
          archives: dict[str, Path], timeout: float) -> Supervisor:
    """Files, namespaces and veth, containerd (with podlife's images), kubelet and
    kube-proxy of one worker; returns its supervisor (its node registers on its own)."""
    write_files(worker, boot.ca, cluster=boot.cluster, gates=boot.proxy_gates,
                restrict_oom_score_adj=boot.restrict_oom_score_adj, api_server=boot.api_server)
    cgroups = WorkerCgroups(boot.cluster, worker.name)
    cgroups.create_worker()
    sandbox = WorkerSandbox(worker, cgroups, boot.control_plane)
    supervisor = Supervisor(worker.layout, sandbox, cgroups)
    sandbox.start()
    launch = Launcher(supervisor, worker.net, boot.bins)
    launch.containerd()
    deadline = time.monotonic() + timeout
    while not worker.layout.containerd_socket.exists():
        supervisor.check_alive()
        if time.monotonic() > deadline:
            raise PodlifeError(f"{worker.name}'s containerd did not answer in {timeout:.0f}s",
                               "read its log", log=str(worker.layout.logs / "containerd.log"))
        time.sleep(0.05)  # a socket file to appear: nothing to watch
    launch.import_images(archives)
    launch.node(version, worker.name, worker.cgroup_root(boot.cgroups), boot.kubelet_gates)
    return supervisor
