"""Command lines and config files of each Kubernetes component (containerd and CNI: `runtime`).

Kept apart from the boot sequence so the flags a local cluster runs with can be read in
one place; they follow what Kubernetes' hack/local-up-cluster.sh sets up: TLS everywhere
the API server talks, client-certificate identities, RBAC and the Node authorizer, and a
kubelet with webhook authentication and authorization.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from podlife.cluster.local.node import Network
from podlife.core.versions import KubeVersion

APISERVER_PORT = 6443
#: Every log a cluster writes (logs/<name>.log): `podlife cluster logs` reads only these.
LOG_NAMES = ("namespace", "etcd", "containerd", "kube-apiserver", "coredns", "api-bridge",
             "api-forward", "api-balancer", "kube-controller-manager", "kube-scheduler",
             "kubelet", "kube-proxy")


@dataclass(frozen=True)
class Layout:
    """Paths of one cluster's state dir."""

    state: Path

    @property
    def pki(self) -> Path:
        return self.state / "pki"

    @property
    def etcd_pki(self) -> Path:
        """etcd's own CA and certificates, apart from the cluster's CA."""
        return self.state / "pki" / "etcd"

    @property
    def logs(self) -> Path:
        return self.state / "logs"

    @property
    def pod_logs(self) -> Path:
        """The node's /var/log/pods, where containerd writes every container's output."""
        return self.state / "var-log" / "pods"

    @property
    def containerd_socket(self) -> Path:
        return self.state / "containerd" / "containerd.sock"

    @property
    def apiserver_socket(self) -> Path:
        return self.state / "apiserver.sock"

    def kubeconfig(self, who: str) -> Path:
        return self.state / "kubeconfig" / f"{who}.kubeconfig"


def gates_flag(gates: dict[str, bool]) -> list[str]:
    if not gates:
        return []
    return ["--feature-gates=" + ",".join(f"{k}={str(v).lower()}" for k, v in gates.items())]


def etcd_args(bins: Path, lay: Layout) -> list[str]:
    """etcd answers TLS only, and only clients (and peers) with a certificate from its own
    CA, which signs nothing but the API server's etcd client: a process on the node's
    network (a hostNetwork pod) cannot read or write the cluster's data."""
    return [
        str(bins / "etcd"), "--name", "podlife", "--data-dir", str(lay.state / "etcd"),
        "--listen-client-urls", "https://127.0.0.1:2379",
        "--advertise-client-urls", "https://127.0.0.1:2379",
        "--listen-peer-urls", "https://127.0.0.1:2380",
        "--initial-advertise-peer-urls", "https://127.0.0.1:2380",
        "--initial-cluster", "podlife=https://127.0.0.1:2380",
        *_etcd_common(lay),
    ]


def _etcd_common(lay: Layout) -> list[str]:
    """TLS both ways with etcd's own CA, metrics on loopback, and no fsync."""
    etcd = lay.etcd_pki
    return [
        "--cert-file", str(etcd / "server.crt"), "--key-file", str(etcd / "server.key"),
        "--client-cert-auth", "--trusted-ca-file", str(etcd / "ca.crt"),
        "--peer-cert-file", str(etcd / "server.crt"), "--peer-key-file", str(etcd / "server.key"),
        "--peer-client-cert-auth", "--peer-trusted-ca-file", str(etcd / "ca.crt"),
        "--listen-metrics-urls", "http://127.0.0.1:2381",
        # A test cluster's data is disposable: skipping fsync keeps boot and writes fast.
        "--unsafe-no-fsync", "--log-level", "warn",
    ]


def etcd_member_args(bins: Path, lay: Layout, data_dir: Path, name: str, ip: str,
                     members: dict[str, str]) -> list[str]:
    """One member of a several-member etcd (several control planes): peers talk TLS on each
    member's node IP, clients (its own API server) on loopback; the same certificate and
    CA checks as etcd_args."""
    cluster = ",".join(f"{member}=https://{address}:2380" for member, address in members.items())
    return [
        str(bins / "etcd"), "--name", name, "--data-dir", str(data_dir),
        "--listen-client-urls", f"https://127.0.0.1:2379,https://{ip}:2379",
        "--advertise-client-urls", f"https://{ip}:2379",
        "--listen-peer-urls", f"https://{ip}:2380",
        "--initial-advertise-peer-urls", f"https://{ip}:2380",
        "--initial-cluster", cluster, "--initial-cluster-state", "new",
        *_etcd_common(lay),
    ]


def apiserver_args(bins: Path, lay: Layout, net: Network, gates: dict[str, bool]) -> list[str]:
    pki = lay.pki
    return [
        str(bins / "kube-apiserver"),
        "--etcd-servers=https://127.0.0.1:2379",
        f"--etcd-cafile={lay.etcd_pki / 'ca.crt'}",
        f"--etcd-certfile={lay.etcd_pki / 'apiserver-client.crt'}",
        f"--etcd-keyfile={lay.etcd_pki / 'apiserver-client.key'}",
        # Every request needs an identity: podlife's own probes use client certificates.
        "--anonymous-auth=false",
        f"--admission-control-config-file={lay.state / 'admission.yaml'}",
        f"--advertise-address={net.node_ip}",
        "--bind-address=0.0.0.0",
        f"--secure-port={APISERVER_PORT}",
        f"--service-cluster-ip-range={net.service_cidr}",
        f"--client-ca-file={pki / 'ca.crt'}",
        f"--tls-cert-file={pki / 'apiserver.crt'}",
        f"--tls-private-key-file={pki / 'apiserver.key'}",
        f"--kubelet-client-certificate={pki / 'apiserver-kubelet-client.crt'}",
        f"--kubelet-client-key={pki / 'apiserver-kubelet-client.key'}",
        f"--kubelet-certificate-authority={pki / 'ca.crt'}",
        "--kubelet-preferred-address-types=InternalIP",
        f"--service-account-key-file={pki / 'sa.pub'}",
        f"--service-account-signing-key-file={pki / 'sa.key'}",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        "--authorization-mode=Node,RBAC",
        "--enable-admission-plugins=NodeRestriction,PodSecurity",
        "--allow-privileged=true",
        "--endpoint-reconciler-type=lease",
        *gates_flag(gates),
    ]


def controller_manager_args(bins: Path, lay: Layout, gates: dict[str, bool], *,
                            leader_elect: bool = False) -> list[str]:
    pki = lay.pki
    return [
        str(bins / "kube-controller-manager"),
        f"--kubeconfig={lay.kubeconfig('controller-manager')}",
        f"--authentication-kubeconfig={lay.kubeconfig('controller-manager')}",
        f"--authorization-kubeconfig={lay.kubeconfig('controller-manager')}",
        f"--service-account-private-key-file={pki / 'sa.key'}",
        f"--root-ca-file={pki / 'ca.crt'}",
        "--use-service-account-credentials=true",
        # Each controller's credentials cost the manager about three requests at start;
        # at its default client limit (20/s, burst 30) the ~50 controllers start 5 s late.
        "--kube-api-qps=100",
        "--kube-api-burst=200",
        # One instance needs no election; several (--control-planes 3) take turns.
        f"--leader-elect={str(leader_elect).lower()}",
        "--bind-address=127.0.0.1",
        *serving_cert_flags(lay, "controller-manager"),
        *gates_flag(gates),
    ]


def serving_cert_flags(lay: Layout, component: str) -> list[str]:
    """The serving certificate `configure` issued for a component's metrics/health port."""
    return [f"--tls-cert-file={lay.pki / f'{component}-serving.crt'}",
            f"--tls-private-key-file={lay.pki / f'{component}-serving.key'}"]


def scheduler_args(bins: Path, lay: Layout, gates: dict[str, bool], *,
                   leader_elect: bool = False) -> list[str]:
    return [
        str(bins / "kube-scheduler"),
        f"--kubeconfig={lay.kubeconfig('scheduler')}",
        f"--authentication-kubeconfig={lay.kubeconfig('scheduler')}",
        f"--authorization-kubeconfig={lay.kubeconfig('scheduler')}",
        f"--leader-elect={str(leader_elect).lower()}",
        "--bind-address=127.0.0.1",
        *serving_cert_flags(lay, "scheduler"),
        *gates_flag(gates),
    ]


def kubelet_config(lay: Layout, net: Network, version: KubeVersion, cgroup_root: str,
                   cgroup_v1: bool, gates: dict[str, bool], *, swap_on: bool = False) -> str:
    """swap_on: the host has swap (podlife.cluster.local.deviations); a standard kubelet
    (failSwapOn: true, its default) refuses to start then."""
    pki = lay.pki
    config: dict[str, object] = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": net.node_ip,
        "port": 10250,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": 10248,
        "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": True},
                           "x509": {"clientCAFile": str(pki / "ca.crt")}},
        "authorization": {"mode": "Webhook"},
        "tlsCertFile": str(pki / "kubelet.crt"),
        "tlsPrivateKeyFile": str(pki / "kubelet.key"),
        "cgroupDriver": "cgroupfs",
        "cgroupRoot": cgroup_root,
        "cgroupsPerQOS": True,
        "clusterDNS": [net.dns_ip],
        "clusterDomain": "cluster.local",
        "containerRuntimeEndpoint": f"unix://{lay.containerd_socket}",
        "resolvConf": str(lay.state / "resolv.conf"),
        "serializeImagePulls": False,
        # Faster status reporting makes checks observe state changes sooner.
        "nodeStatusUpdateFrequency": "4s",
        "syncFrequency": "10s",
        "fileCheckFrequency": "10s",
        "evictionHard": {"memory.available": "100Mi", "nodefs.available": "1%",
                         "imagefs.available": "1%", "nodefs.inodesFree": "1%"},
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "maxPods": 110,
        "featureGates": gates,
    }
    if swap_on:
        config["failSwapOn"] = False
    if cgroup_v1 and version.minor >= 31:
        # 1.31 added the switch; from 1.35 a cgroup v1 host needs it set to boot at all.
        config["failCgroupV1"] = False
    return yaml.safe_dump(config, sort_keys=False)


def kubelet_args(bins: Path, lay: Layout, net: Network, node_name: str) -> list[str]:
    return [
        str(bins / "kubelet"),
        f"--config={lay.state / 'kubelet-config.yaml'}",
        f"--kubeconfig={lay.kubeconfig('kubelet')}",
        f"--root-dir={lay.state / 'kubelet'}",
        f"--node-ip={net.node_ip}",
        f"--hostname-override={node_name}",
        "--v=1",
    ]


def kube_proxy_config(lay: Layout, net: Network, node_name: str,
                      gates: dict[str, bool]) -> str:
    config = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "mode": "iptables",
        "clientConnection": {"kubeconfig": str(lay.kubeconfig("kube-proxy"))},
        "hostnameOverride": node_name,
        "bindAddress": net.node_ip,
        "clusterCIDR": net.pod_cidr,
        "healthzBindAddress": "127.0.0.1:10256",
        "metricsBindAddress": "127.0.0.1:10249",
        # Conntrack limits are host-wide sysctls: leave them alone.
        "conntrack": {"maxPerCore": 0, "min": 0, "tcpEstablishedTimeout": "0s",
                      "tcpCloseWaitTimeout": "0s"},
        "featureGates": gates,
    }
    return yaml.safe_dump(config, sort_keys=False)


def kube_proxy_args(bins: Path, lay: Layout) -> list[str]:
    return [str(bins / "kube-proxy"), f"--config={lay.state / 'kube-proxy-config.yaml'}"]


def corefile(lay: Layout, net: Network) -> str:
    """CoreDNS answers cluster names only: no forward plugin, so nothing leaves the cluster."""
    return f""".:53 {{
    bind {net.dns_ip}
    errors
    health 127.0.0.1:8082
    ready 127.0.0.1:8181
    kubernetes cluster.local in-addr.arpa ip6.arpa {{
        kubeconfig {lay.kubeconfig('coredns')}
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }}
    cache 5
}}
"""


COREDNS_RBAC = [
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
     "metadata": {"name": "podlife:coredns"},
     "rules": [
         {"apiGroups": [""], "resources": ["endpoints", "services", "pods", "namespaces"],
          "verbs": ["list", "watch"]},
         {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"],
          "verbs": ["list", "watch"]}]},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
     "metadata": {"name": "podlife:coredns"},
     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                 "name": "podlife:coredns"},
     "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                   "name": "podlife:coredns"}]},
]
"""CoreDNS runs as a process of the node with its own identity; this is all it may read."""
