"""The container runtime's side of a local cluster: containerd's config and the CNI network.

Apart from the Kubernetes components' flags (in `components`) because these files are read by
containerd and the CNI plugins from Debian, not by Kubernetes.
"""

from __future__ import annotations

import json

from podlife.cluster.local.components import Layout
from podlife.cluster.local.node import Network
from podlife.core.images import IMAGES

CNI_BIN_DIR = "/usr/lib/cni"
RUNC = "/usr/sbin/runc"


def containerd_config(lay: Layout, *, restrict_oom_score_adj: bool) -> str:
    """containerd 2.x config (version 3): CRI with runc from Debian and CNI ptp networking.

    restrict_oom_score_adj only where the host lacks CAP_SYS_RESOURCE (podlife.cluster.local.
    deviations): lowering a process's OOM score needs it, and without the restriction
    runc fails to start a Guaranteed or Burstable pod's containers there."""
    sandbox = IMAGES["pause"].local
    root = lay.state / "containerd"
    restrict = "true" if restrict_oom_score_adj else "false"
    return f"""version = 3
root = "{root / 'root'}"
state = "/run/containerd"

[grpc]
  address = "{lay.containerd_socket}"

[plugins.'io.containerd.cri.v1.images']
  snapshotter = "overlayfs"
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = "{sandbox}"

[plugins.'io.containerd.cri.v1.runtime']
  enable_selinux = false
  restrict_oom_score_adj = {restrict}
  [plugins.'io.containerd.cri.v1.runtime'.containerd]
    default_runtime_name = "runc"
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
        BinaryName = "{RUNC}"
        SystemdCgroup = false
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ["{CNI_BIN_DIR}"]
    conf_dir = "{lay.state / 'cni'}"
"""


def cni_config(net: Network, lay: Layout) -> str:
    """ptp networking: each pod gets a veth routed through the node namespace.

    Routed (not bridged) traffic passes the node's iptables both ways, so kube-proxy's
    Service rules work without bridge netfilter, and with no default route in the node
    namespace a pod's packet to any outside address is dropped there.
    """
    config = {
        "cniVersion": "1.0.0",
        "name": "podlife",
        "plugins": [
            {"type": "ptp", "ipMasq": False, "mtu": 1500,
             "ipam": {"type": "host-local", "ranges": [[{"subnet": net.node_pod_subnet,
                                                        "gateway": net.pod_gateway}]],
                      "dataDir": str(lay.state / "cni-ipam"),
                      "routes": [{"dst": "0.0.0.0/0"}]}},
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }
    return json.dumps(config, indent=2)
