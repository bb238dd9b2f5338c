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

def test_up_then_down_leaves_the_host_as_found() -> None:
    cluster = LocalCluster(NAME)
    cluster.down()
    write_tunables(PRISTINE)  # a host as no kubelet left it, so a change would show
    before = snapshot()
    assert set(KERNEL_TUNABLES) <= set(before["sysctls"])
    try:
        info = cluster.up(versions.resolve(None))
        run_pod(k8s.CoreV1Api(api_client(info.kubeconfig)), "writes", "echo hi")
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
