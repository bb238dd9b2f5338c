"""Write a cluster's certificates, kubeconfigs and component configs into its state dir.

`components` says what each config contains; this module decides where each file goes and
which identity each component gets. Nothing here starts a process, so a boot's files can
be written (and read) before anything runs.
"""

from __future__ import annotations

import os

import yaml

from podlife.cluster.local import components as comp
from podlife.cluster.local import pki
from podlife.cluster.local.components import Layout
from podlife.cluster.local.deviations import host_swap_devices
from podlife.cluster.local.node import Network, cgroup_v1
from podlife.cluster.local.runtime import cni_config, containerd_config
from podlife.core.versions import KubeVersion

STATE_SUBDIRS = ("pki", "logs", "pids", "kubeconfig", "cni", "containerd", "kubelet")

APISERVER_NAMES = ("kubernetes", "kubernetes.default", "kubernetes.default.svc",
                   "kubernetes.default.svc.cluster.local", "localhost")


def admission_config(allow_privileged: bool) -> str:
    """PodSecurity enforced on every namespace by default: `baseline` refuses privileged
    containers, host namespaces (hostNetwork, hostPID, hostIPC), hostPath volumes and added
    capabilities, so a pod cannot reach the host. `--allow-privileged` makes the default
    `privileged` (nothing refused). The default applies to every namespace without its own
    pod-security.kubernetes.io labels; podlife's namespaces set none."""
    level = "privileged" if allow_privileged else "baseline"
    return yaml.safe_dump({
        "apiVersion": "apiserver.config.k8s.io/v1",
        "kind": "AdmissionConfiguration",
        "plugins": [{"name": "PodSecurity", "configuration": {
            "apiVersion": "pod-security.admission.config.k8s.io/v1",
            "kind": "PodSecurityConfiguration",
            "defaults": {"enforce": level, "enforce-version": "latest",
                         "audit": level, "audit-version": "latest",
                         "warn": level, "warn-version": "latest"},
            "exemptions": {"usernames": [], "runtimeClasses": [], "namespaces": []},
        }}],
    }, sort_keys=False)


def write_boot_files(lay: Layout, net: Network, *, cluster: str, node_name: str,
                     host_server: str, gates: dict[str, bool],
                     allow_privileged: bool = False,
                     restrict_oom_score_adj: bool,
                     control_plane_ips: tuple[str, ...] = (),
                     agent_server: str | None = None) -> pki.CertificateAuthority:
    """Everything the components read at boot, except the kubelet's version-specific config
    (written by `write_kubelet_config` whenever a kubelet starts). restrict_oom_score_adj
    comes from the host's detected deviations (podlife.cluster.local.deviations). Returns
    the cluster's CA, which issues the worker nodes' identities too. With several control
    planes, `control_plane_ips` are the other instances' addresses (in the API server's and
    etcd's certificates) and `agent_server` the balanced API address the node's agents use."""
    for sub in STATE_SUBDIRS:
        (lay.state / sub).mkdir(parents=True, exist_ok=True)
    os.chmod(lay.state, 0o700)
    ca = write_certificates(lay, net, cluster=cluster, node_name=node_name,
                            host_server=host_server, control_plane_ips=control_plane_ips,
                            agent_server=agent_server)
    write_node_files(lay, net, node_name=node_name, gates=gates,
                     restrict_oom_score_adj=restrict_oom_score_adj)
    (lay.state / "Corefile").write_text(comp.corefile(lay, net))
    (lay.state / "admission.yaml").write_text(admission_config(allow_privileged))
    return ca


def write_node_files(lay: Layout, net: Network, *, node_name: str, gates: dict[str, bool],
                     restrict_oom_score_adj: bool) -> None:
    """What a node's runtime and kube-proxy read (the control plane's node or a worker)."""
    (lay.state / "containerd" / "config.toml").write_text(
        containerd_config(lay, restrict_oom_score_adj=restrict_oom_score_adj))
    (lay.state / "cni" / "10-podlife.conflist").write_text(cni_config(net, lay))
    (lay.state / "resolv.conf").write_text(f"nameserver {net.dns_ip}\n")
    (lay.state / "kube-proxy-config.yaml").write_text(
        comp.kube_proxy_config(lay, net, node_name, gates))


def write_certificates(lay: Layout, net: Network, *, cluster: str, node_name: str,
                       host_server: str, control_plane_ips: tuple[str, ...] = (),
                       agent_server: str | None = None) -> pki.CertificateAuthority:
    """One CA; serving certificates for the API server, kubelet, controller manager and
    scheduler; one client identity and kubeconfig per component. Only the admin's
    kubeconfig points at the host's port."""
    ca = pki.CertificateAuthority(lay.pki)
    pki.service_account_keys(lay.pki)
    etcd_ca = pki.CertificateAuthority(lay.etcd_pki)
    etcd_ca.issue("server", common_name="etcd", server=True, client=True,
                  ips=("127.0.0.1", *((net.node_ip, *control_plane_ips)
                                      if control_plane_ips else ())),
                  dns=("localhost",))
    etcd_ca.issue("apiserver-client", common_name="kube-apiserver-etcd-client")
    ca.issue("apiserver", common_name="kube-apiserver", server=True, client=False,
             dns=APISERVER_NAMES, ips=("127.0.0.1", net.node_ip, net.kubernetes_service_ip,
                                       *control_plane_ips))
    ca.issue("apiserver-kubelet-client", common_name="kube-apiserver-kubelet-client",
             groups=("system:masters",))
    ca.issue("kubelet", common_name=node_name, server=True, client=False,
             dns=(node_name,), ips=(net.node_ip,))
    # Without one, each generates a self-signed RSA pair as it starts: 0.1-0.25 s of CPU
    # in the middle of the boot, before either can do anything.
    for serving in ("controller-manager-serving", "scheduler-serving"):
        ca.issue(serving, common_name=serving.removesuffix("-serving"), server=True,
                 client=False, dns=("localhost",), ips=("127.0.0.1",))
    inside = f"https://127.0.0.1:{comp.APISERVER_PORT}"
    agents = agent_server or inside
    identities = {
        "admin": ("podlife-admin", ("system:masters",), host_server),
        "controller-manager": ("system:kube-controller-manager", (), inside),
        "scheduler": ("system:kube-scheduler", (), inside),
        "kubelet": (f"system:node:{node_name}", ("system:nodes",), agents),
        "kube-proxy": ("system:kube-proxy", (), agents),
        "coredns": ("podlife:coredns", (), agents),
    }
    for who, (user, groups, server) in identities.items():
        cert, key = ca.issue(f"client-{who}", common_name=user, groups=groups)
        pki.write_kubeconfig(lay.kubeconfig(who), server=server, ca=ca.cert_path, cert=cert,
                             key=key, cluster=cluster, user=user)
    return ca


def write_kubelet_config(lay: Layout, net: Network, version: KubeVersion, cgroup_root: str,
                         gates: dict[str, bool]) -> None:
    """The kubelet's config depends on its version (e.g. failCgroupV1), so it is rewritten
    each time a kubelet of some version starts: at boot and at upgrade. Swap is read then
    too: failSwapOn is turned off only while the host has swap (deviation swap-on)."""
    (lay.state / "kubelet-config.yaml").write_text(comp.kubelet_config(
        lay, net, version, cgroup_root, cgroup_v1(), gates,
        swap_on=bool(host_swap_devices())))
