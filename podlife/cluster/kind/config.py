"""The kind cluster config podlife creates clusters with."""

from __future__ import annotations

from podlife.core.versions import KubeVersion

#: Kubelets from 1.35 refuse cgroup v1 hosts unless told; the field exists from 1.31.
FAIL_CGROUP_V1_FIELD_FROM = (1, 31)


def kind_config(image: str, version: KubeVersion, workers: int = 0) -> str:
    """One control-plane node and `workers` worker nodes, no kindnetd (the node image
    carries a ptp CNI config; with workers, podlife.cluster.kind.network gives each node its
    own range and routes), the API server on loopback only."""
    patches = ""
    if (version.major, version.minor) >= FAIL_CGROUP_V1_FIELD_FROM:
        patches = ("kubeadmConfigPatches:\n"
                   "- |\n"
                   "  kind: KubeletConfiguration\n"
                   "  failCgroupV1: false\n")
    return ("kind: Cluster\n"
            "apiVersion: kind.x-k8s.io/v1alpha4\n"
            "networking:\n"
            "  disableDefaultCNI: true\n"
            "  apiServerAddress: 127.0.0.1\n"
            "nodes:\n"
            "- role: control-plane\n"
            f"  image: {image}\n"
            + f"- role: worker\n  image: {image}\n" * workers + patches)
