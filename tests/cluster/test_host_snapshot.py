"""A cluster's `up` then `down` leaves the host exactly as it found it.

The snapshot covers the kernel tunables the kubelet sets, the fixed host paths components
write to, cgroups, mounts, iptables, network namespaces and processes. Other podlife
clusters may be running on the same host while this runs, so what belongs to them (their
cgroups, their processes) is left out of the comparison; everything else must be equal.
"""

from __future__ import annotations

import pytest
from kubernetes import client as k8s

from podlife.cluster.local.cluster import LocalCluster, api_client
from podlife.cluster.local.host import KERNEL_TUNABLES, read_tunables, write_tunables
from podlife.core import versions
from tests.helpers import run_pod
from tests.snapshot import NAME, PRISTINE, snapshot

pytestmark = pytest.mark.cluster

@pytest.mark.parametrize(("control_planes", "workers"), [(1, 0), (1, 2), (3, 2)],
                         ids=["one-node", "two-workers", "three-control-planes-two-workers"])
def test_up_then_down_leaves_the_host_as_found(control_planes: int, workers: int) -> None:
    """One node; a control plane with two worker nodes (their namespaces, veths,
    containerds and cgroup subtrees, a pod on each); and the same with three control-plane
    instances (etcd members, API servers, the balancer)."""
    cluster = LocalCluster(NAME)
    cluster.down()
    write_tunables(PRISTINE)  # a host as no kubelet left it, so a change would show
    before = snapshot()
    assert set(KERNEL_TUNABLES) <= set(before["sysctls"])
    try:
        info = cluster.up(versions.resolve(None), workers=workers,
                          control_planes=control_planes)
        core = k8s.CoreV1Api(api_client(info.kubeconfig))
        run_pod(core, "writes", "echo hi")
        for worker in info.workers:
            run_pod(core, f"writes-{worker}", "echo hi", node=worker)
        # The fixed paths' writes land in the cluster's own overlay, not on the host.
        upper = cluster.state / "host" / "var" / "lib" / "upper"
        assert (upper / "kubelet" / "device-plugins" / "kubelet.sock").is_socket()
        assert (upper / "cni" / "results").is_dir()
        # Restored as soon as the kubelet has registered, not only at down.
        assert read_tunables() == {k: before["sysctls"][k] for k in KERNEL_TUNABLES}
    finally:
        cluster.down()
    after = snapshot()
    for key in before:
        assert after[key] == before[key], f"{key} changed"
