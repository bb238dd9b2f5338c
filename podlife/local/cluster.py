"""Boot, inspect and tear down a local cluster: real components, in their own namespaces.

`up` is all-or-nothing: any failure or Ctrl-C while it runs tears down what was started,
so a failed boot leaves no process, mount, cgroup or network namespace behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from podlife import build, images, paths
from podlife.errors import PodlifeError
from podlife.local import components as comp
from podlife.local import pki
from podlife.local.node import CgroupTree, Network, NodeSandbox, cgroup_v1, kill_all
from podlife.local.preflight import preflight
from podlife.versions import KubeVersion

Step = Callable[[str], None]
"""Called with a short description as each boot step starts (for progress output)."""

NAME_OK = set("abcdefghijklmnopqrstuvwxyz0123456789-")


@dataclass
class ClusterInfo:
    """What `up` records in the state dir, so status/down/kubeconfig work from any shell."""

    name: str
    version: str
    api_port: int
    state_dir: str
    node_name: str
    feature_gates: dict[str, bool] = field(default_factory=dict)
    booted_at: float = 0.0
    boot_seconds: float = 0.0

    @property
    def kubeconfig(self) -> Path:
        return Path(self.state_dir) / "kubeconfig" / "admin.kubeconfig"

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.api_port}"

    @classmethod
    def load(cls, name: str) -> ClusterInfo:
        path = paths.cluster_dir(name) / "cluster.json"
        try:
            return cls(**json.loads(path.read_text()))
        except FileNotFoundError:
            raise PodlifeError(f"no local cluster named '{name}'",
                               "list clusters with 'podlife cluster status'") from None

    def save(self) -> None:
        (Path(self.state_dir) / "cluster.json").write_text(json.dumps(asdict(self), indent=2))


def validate_name(name: str) -> None:
    if not name or len(name) > 30 or not set(name) <= NAME_OK or name[0] == "-":
        raise PodlifeError(f"'{name}' is not a valid cluster name",
                           "use up to 30 lowercase letters, digits and dashes")


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


def free_port(preferred: int | None) -> int:
    """The host loopback port for the API server: the one asked for, or a free one."""
    if preferred:
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


def ensure_binaries(version: KubeVersion, kube_bin_dir: Path | None,
                    progress: build.Progress | None) -> dict[str, Path]:
    """Build (or reuse) every component; returns the directory holding each binary."""
    bins: dict[str, Path] = {}
    if kube_bin_dir:
        directory, _ = build.kube_binaries_from_dir(kube_bin_dir)
        bins.update(dict.fromkeys(build.KUBE_BINARIES, directory))
    else:
        kube = build.build(build.kubernetes_build(version), progress=progress)
        bins.update(dict.fromkeys(build.KUBE_BINARIES, kube))
    for spec in build.support_builds():
        entry = build.build(spec, progress=progress)
        bins.update(dict.fromkeys(spec.binaries, entry))
    return bins


def kube_module_dir(version: KubeVersion) -> Path:
    out = subprocess.run(["go", "mod", "download", "-json", f"k8s.io/kubernetes@{version.tag}"],
                         capture_output=True, text=True, env={**os.environ, "GOFLAGS": ""},
                         cwd=paths.cache_dir())
    if out.returncode != 0:
        raise PodlifeError(f"could not fetch k8s.io/kubernetes {version.tag} source",
                           "check the Go module proxy is reachable")
    return Path(json.loads(out.stdout)["Dir"])


class LocalCluster:
    """One local cluster: its state dir, sandbox and components."""

    def __init__(self, name: str) -> None:
        validate_name(name)
        self.name = name
        self.state = paths.cluster_dir(name)
        self.layout = comp.Layout(self.state)
        self.net = Network()
        self.cgroups = CgroupTree(name)
        self.sandbox = NodeSandbox(self.state, self.cgroups, self.net)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    # ----- boot -------------------------------------------------------------------------
    def up(self, version: KubeVersion, *, api_port: int | None = None,
           gates: dict[str, bool] | None = None, kube_bin_dir: Path | None = None,
           step: Step | None = None, progress: build.Progress | None = None,
           timeout: float = 180.0) -> ClusterInfo:
        step = step or (lambda _msg: None)
        gates = gates or {}
        preflight()
        if (self.state / "cluster.json").exists() or self.cgroups.exists():
            raise PodlifeError(f"a local cluster named '{self.name}' already exists",
                               f"use it, or remove it with 'podlife cluster down --name "
                               f"{self.name}'")
        step(f"building components for Kubernetes {version} (cached after the first time)")
        bins = ensure_binaries(version, kube_bin_dir, progress)
        archives = images.image_archives(lambda: kube_module_dir(version))
        port = free_port(api_port)
        started = time.monotonic()
        info = ClusterInfo(name=self.name, version=version.tag, api_port=port,
                           state_dir=str(self.state), node_name=f"{self.name}-node",
                           feature_gates=gates)
        try:
            self.state.mkdir(parents=True)
            info.save()
            step("writing certificates and configs")
            self._write_files(version, info, gates)
            self.cgroups.create()
            step("starting the node's namespaces")
            self.sandbox.start()
            step("starting etcd, containerd, kube-apiserver, controllers, kubelet, DNS")
            self._start_components(bins, info, gates)
            self._import_images(bins["ctr"], archives, timeout)
            # The kubelet exits if the runtime is not answering yet: start it only now.
            self.procs["kubelet"] = self.sandbox.spawn(
                "kubelet", comp.kubelet_args(bins["kubelet"], self.layout, self.net,
                                             info.node_name))
            step("waiting for the API server")
            client = self._wait_api(info, timeout)
            self._start_controllers(bins, gates)
            self._apply(client, comp.COREDNS_RBAC)
            step("waiting for the node to be Ready")
            self._wait_node_ready(client, info, timeout)
            step("checking that a pod runs and resolves a Service name")
            self._smoke_pod(client, timeout)
            info.booted_at = time.time()
            info.boot_seconds = round(time.monotonic() - started, 2)
            info.save()
            return info
        except BaseException as exc:
            if os.environ.get("PODLIFE_KEEP_FAILED") == "1":
                raise  # debugging a boot: leave everything as it is
            kept = self.down(keep_logs=True)
            if isinstance(exc, PodlifeError) and exc.log and kept:
                exc.log = str(kept / Path(exc.log).name)
            raise

    def _write_files(self, version: KubeVersion, info: ClusterInfo,
                     gates: dict[str, bool]) -> None:
        lay, net = self.layout, self.net
        for sub in ("pki", "logs", "pids", "kubeconfig", "cni", "containerd", "kubelet"):
            (self.state / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(self.state, 0o700)
        ca = pki.CertificateAuthority(lay.pki)
        pki.service_account_keys(lay.pki)
        ca.issue("apiserver", common_name="kube-apiserver", server=True, client=False,
                 dns=("kubernetes", "kubernetes.default", "kubernetes.default.svc",
                      "kubernetes.default.svc.cluster.local", "localhost"),
                 ips=("127.0.0.1", net.node_ip, net.kubernetes_service_ip))
        ca.issue("apiserver-kubelet-client", common_name="kube-apiserver-kubelet-client",
                 groups=("system:masters",))
        ca.issue("kubelet", common_name=info.node_name, server=True, client=False,
                 dns=(info.node_name,), ips=(net.node_ip,))
        inside = f"https://127.0.0.1:{comp.APISERVER_PORT}"
        identities = {
            "admin": ("podlife-admin", ("system:masters",), info.server),
            "controller-manager": ("system:kube-controller-manager", (), inside),
            "scheduler": ("system:kube-scheduler", (), inside),
            "kubelet": (f"system:node:{info.node_name}", ("system:nodes",), inside),
            "kube-proxy": ("system:kube-proxy", (), inside),
            "coredns": ("podlife:coredns", (), inside),
        }
        for who, (user, groups, server) in identities.items():
            cert, key = ca.issue(f"client-{who}", common_name=user, groups=groups)
            pki.write_kubeconfig(lay.kubeconfig(who), server=server, ca=ca.cert_path, cert=cert,
                                 key=key, cluster=self.name, user=user)
        (self.state / "containerd" / "config.toml").write_text(comp.containerd_config(lay))
        (self.state / "cni" / "10-podlife.conflist").write_text(comp.cni_config(net, lay))
        (self.state / "resolv.conf").write_text(f"nameserver {net.dns_ip}\n")
        (self.state / "kubelet-config.yaml").write_text(comp.kubelet_config(
            lay, net, version, self.cgroups.kubelet_root, cgroup_v1(), gates))
        (self.state / "kube-proxy-config.yaml").write_text(
            comp.kube_proxy_config(lay, net, info.node_name, gates))
        (self.state / "Corefile").write_text(comp.corefile(lay, net))

    def _start_components(self, bins: dict[str, Path], info: ClusterInfo,
                          gates: dict[str, bool]) -> None:
        lay, net, sb = self.layout, self.net, self.sandbox
        path_env = {"PATH": f"{bins['containerd']}:{os.environ.get('PATH', '')}"}
        self.procs["etcd"] = sb.spawn("etcd", comp.etcd_args(bins["etcd"], lay))
        self.procs["containerd"] = sb.spawn(
            "containerd", [str(bins["containerd"] / "containerd"), "--config",
                           str(self.state / "containerd" / "config.toml")], env=path_env)
        self.procs["kube-apiserver"] = sb.spawn(
            "kube-apiserver", comp.apiserver_args(bins["kube-apiserver"], lay, net, gates))
        self.procs["kube-proxy"] = sb.spawn("kube-proxy",
                                            comp.kube_proxy_args(bins["kube-proxy"], lay))
        self.procs["coredns"] = sb.spawn(
            "coredns", [str(bins["coredns"] / "coredns"), "-conf", str(self.state / "Corefile")])
        # The API server is reachable from the host only on loopback, through a unix socket
        # that crosses the namespace boundary: nothing else of the cluster is exposed.
        sock = lay.apiserver_socket
        self.procs["api-bridge"] = sb.spawn("api-bridge", [
            "socat", f"UNIX-LISTEN:{sock},fork,unlink-early,mode=600",
            f"TCP:127.0.0.1:{comp.APISERVER_PORT}"])
        self.procs["api-forward"] = sb.spawn("api-forward", [
            "socat", f"TCP-LISTEN:{info.api_port},bind=127.0.0.1,fork,reuseaddr",
            f"UNIX-CONNECT:{sock}"], inside=False)

    def _start_controllers(self, bins: dict[str, Path], gates: dict[str, bool]) -> None:
        """The controller manager and scheduler exit if RBAC is not bootstrapped yet, so they
        start once the API server is ready (the others retry on their own)."""
        lay, sb = self.layout, self.sandbox
        self.procs["kube-controller-manager"] = sb.spawn(
            "kube-controller-manager",
            comp.controller_manager_args(bins["kube-controller-manager"], lay, gates))
        self.procs["kube-scheduler"] = sb.spawn(
            "kube-scheduler", comp.scheduler_args(bins["kube-scheduler"], lay, gates))

    def _check_alive(self) -> None:
        """Fail fast, naming the component and its log, if one died while booting."""
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                log = self.layout.logs / f"{name}.log"
                tail = ""
                with contextlib.suppress(OSError):
                    lines = [ln for ln in log.read_text(errors="replace").splitlines() if ln]
                    tail = lines[-1][:300] if lines else ""
                hint = "read its log; fix the cause and run up again"
                if name == "api-forward":
                    hint = "the API port is taken: pick another with --api-port"
                raise PodlifeError(f"{name} exited during boot (code {proc.returncode}): {tail}",
                                   hint, log=str(log))

    def _wait(self, what: str, probe: Callable[[], bool], timeout: float,
              interval: float = 0.1) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self._check_alive()
            with contextlib.suppress(Exception):
                if probe():
                    return
            if time.monotonic() > deadline:
                raise PodlifeError(f"timed out after {timeout:.0f}s waiting for {what}",
                                   "read the component logs under "
                                   f"{self.layout.logs} ('podlife cluster logs')")
            time.sleep(interval)

    def _import_images(self, ctr_dir: Path, archives: dict[str, Path], timeout: float) -> None:
        sock = self.layout.containerd_socket
        self._wait("containerd", sock.exists, timeout)
        for name, archive in archives.items():
            result = self.sandbox.run([str(ctr_dir / "ctr"), "--address", str(sock), "-n",
                                       "k8s.io", "images", "import", "--no-unpack=false",
                                       str(archive)])
            if result.returncode != 0:
                raise PodlifeError(f"importing the {name} image failed: "
                                   f"{result.stderr.strip()[-300:]}",
                                   f"delete {archive} so it is rebuilt, then retry")

    def _wait_api(self, info: ClusterInfo, timeout: float):
        ctx = ssl.create_default_context(cafile=str(self.layout.pki / "ca.crt"))
        ctx.load_cert_chain(self.layout.pki / "client-admin.crt",
                            self.layout.pki / "client-admin.key")

        def ready() -> bool:
            with urllib.request.urlopen(f"{info.server}/readyz", context=ctx, timeout=2) as r:
                return r.status == 200

        self._wait("the API server to be ready", ready, timeout, interval=0.1)
        return api_client(info.kubeconfig)

    def _apply(self, client, objects: list[dict]) -> None:
        from kubernetes import utils

        for obj in objects:
            with contextlib.suppress(utils.FailToCreateError):
                utils.create_from_dict(client, obj)

    def _wait_node_ready(self, client, info: ClusterInfo, timeout: float) -> None:
        from kubernetes import client as k8s

        core = k8s.CoreV1Api(client)

        def ready() -> bool:
            node = core.read_node(info.node_name)
            return any(c.type == "Ready" and c.status == "True"
                       for c in node.status.conditions or [])

        self._wait(f"node {info.node_name} to be Ready", ready, timeout, interval=0.2)

    def _smoke_pod(self, client, timeout: float) -> None:
        """A pod that runs and resolves the kubernetes Service through cluster DNS."""
        from kubernetes import client as k8s

        core = k8s.CoreV1Api(client)
        pod = {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "podlife-boot-check", "namespace": "default"},
            "spec": {
                "restartPolicy": "Never",
                "automountServiceAccountToken": False,
                "terminationGracePeriodSeconds": 0,
                "containers": [{
                    "name": "dns", "image": images.IMAGES["busybox"].local,
                    "command": ["sh", "-c", "for i in $(seq 1 100); do nslookup "
                                "kubernetes.default.svc.cluster.local && exit 0; "
                                "sleep 0.2; done; exit 1"]}]}}
        self._wait("the default service account", lambda: bool(
            core.read_namespaced_service_account("default", "default")), timeout)
        core.create_namespaced_pod("default", pod)

        def done() -> bool:
            phase = core.read_namespaced_pod("podlife-boot-check", "default").status.phase
            if phase == "Failed":
                log = core.read_namespaced_pod_log("podlife-boot-check", "default")
                raise PodlifeError(f"the boot check pod could not resolve a Service name: "
                                   f"{log.strip()[-200:]}", "read the coredns log",
                                   log=str(self.layout.logs / "coredns.log"))
            return phase == "Succeeded"

        deadline = time.monotonic() + timeout
        while not done():
            self._check_alive()
            if time.monotonic() > deadline:
                raise PodlifeError("the boot check pod did not finish in time",
                                   "read the kubelet and containerd logs",
                                   log=str(self.layout.logs / "kubelet.log"))
            time.sleep(0.2)
        core.delete_namespaced_pod("podlife-boot-check", "default", grace_period_seconds=0)

    # ----- in-place upgrade -------------------------------------------------------------
    def upgrade(self, version: KubeVersion, *, step: Step | None = None,
                progress: build.Progress | None = None, timeout: float = 180.0) -> float:
        """Move a running cluster to another release, keeping etcd's data and the containers.

        The control plane goes first (API server, then controllers), then the node (kubelet,
        kube-proxy); containerd and every container keep running throughout, as in a
        real node upgrade. Returns the seconds taken.
        """
        step = step or (lambda _msg: None)
        info = ClusterInfo.load(self.name)
        step(f"building Kubernetes {version} (cached after the first time)")
        bins = ensure_binaries(version, None, progress)
        started = time.monotonic()
        gates = info.feature_gates
        step(f"upgrading the control plane {info.version} -> {version.tag}")
        for name in ("kube-scheduler", "kube-controller-manager", "kube-apiserver"):
            self._stop(name)
        self.procs["kube-apiserver"] = self.sandbox.spawn(
            "kube-apiserver",
            comp.apiserver_args(bins["kube-apiserver"], self.layout, self.net, gates))
        client = self._wait_api(info, timeout)
        self._wait(f"the API server to report {version.tag}", lambda: _server_version(
            client) == version.tag, timeout)
        self._start_controllers(bins, gates)
        step("upgrading the node: kubelet and kube-proxy (containers keep running)")
        for name in ("kube-proxy", "kubelet"):
            self._stop(name)
        (self.state / "kubelet-config.yaml").write_text(comp.kubelet_config(
            self.layout, self.net, version, self.cgroups.kubelet_root, cgroup_v1(), gates))
        self.procs["kubelet"] = self.sandbox.spawn(
            "kubelet", comp.kubelet_args(bins["kubelet"], self.layout, self.net,
                                         info.node_name))
        self.procs["kube-proxy"] = self.sandbox.spawn(
            "kube-proxy", comp.kube_proxy_args(bins["kube-proxy"], self.layout))
        self._wait_node_version(client, info, version, timeout)
        info.version = version.tag
        info.save()
        return time.monotonic() - started

    def _stop(self, name: str, grace: float = 15.0) -> None:
        """Stop one component (it may belong to another process: poll, don't wait())."""
        pid_file = self.state / "pids" / f"{name}.pid"
        try:
            pid = int(pid_file.read_text())
        except (OSError, ValueError):
            return
        kill_all({pid}, grace=grace)
        self.procs.pop(name, None)

    def _wait_node_version(self, client, info: ClusterInfo, version: KubeVersion,
                           timeout: float) -> None:
        from kubernetes import client as k8s

        core = k8s.CoreV1Api(client)

        def upgraded() -> bool:
            node = core.read_node(info.node_name)
            ready = any(c.type == "Ready" and c.status == "True"
                        for c in node.status.conditions or [])
            return ready and node.status.node_info.kubelet_version == version.tag

        self._wait(f"node {info.node_name} Ready on {version.tag}", upgraded, timeout, 0.2)

    # ----- teardown ---------------------------------------------------------------------
    def down(self, *, keep_logs: bool = False) -> Path | None:
        """Stop every process of the cluster and remove its state.

        keep_logs (after a failed boot) moves the component logs to
        <state root>/failed-boots/<name>/ first, so the error's log path still exists.
        """
        kept = None
        for _ in range(20):
            pids = self.cgroups.pids() | self._recorded_pids()
            pids.discard(os.getpid())
            if not pids:
                break
            kill_all(pids, grace=3.0)
        self.cgroups.remove()
        for proc in self.procs.values():
            with contextlib.suppress(Exception):
                proc.wait(timeout=1)
        if self.state.exists():
            _unmount_under(self.state)
            if keep_logs and self.layout.logs.exists():
                kept = paths.state_root() / "failed-boots" / self.name
                shutil.rmtree(kept, ignore_errors=True)
                kept.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(self.layout.logs, kept)
            shutil.rmtree(self.state, ignore_errors=True)
        return kept

    def _recorded_pids(self) -> set[int]:
        found = set()
        for pid_file in (self.state / "pids").glob("*.pid"):
            with contextlib.suppress(OSError, ValueError):
                pid = int(pid_file.read_text())
                if Path(f"/proc/{pid}").exists():
                    found.add(pid)
        return found

    def health(self) -> dict[str, bool]:
        """Which recorded components are still running."""
        result = {}
        for pid_file in sorted((self.state / "pids").glob("*.pid")):
            with contextlib.suppress(OSError, ValueError):
                result[pid_file.stem] = Path(f"/proc/{int(pid_file.read_text())}").exists()
        return result


def _server_version(client) -> str:
    from kubernetes import client as k8s

    return k8s.VersionApi(client).get_code().git_version


def _unmount_under(path: Path) -> None:
    """Unmount anything still mounted below path on the host (there should be nothing)."""
    prefix = str(path)
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    for mount in sorted((m for m in mounts if m.startswith(prefix)), key=len, reverse=True):
        subprocess.run(["umount", "-l", mount], check=False, capture_output=True)


def api_client(kubeconfig: Path):
    from kubernetes import config

    return config.new_client_from_config(str(kubeconfig))


def list_clusters() -> list[ClusterInfo]:
    root = paths.state_root() / "clusters"
    found = []
    for entry in sorted(root.glob("*/cluster.json")) if root.exists() else []:
        with contextlib.suppress(ValueError, TypeError, OSError):
            found.append(ClusterInfo(**json.loads(entry.read_text())))
    return found


def kubeconfig_yaml(info: ClusterInfo) -> dict:
    return yaml.safe_load(info.kubeconfig.read_text())
