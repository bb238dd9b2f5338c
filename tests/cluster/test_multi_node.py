"""A local cluster with worker nodes: each node Ready with its own kubelet, pods on every
node reach pods on every other node and a Service by its DNS name, `cluster status` lists
the nodes, and bad worker counts get one line before anything starts."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from kubernetes import client as k8s
from kubernetes.stream import stream

from podlife.cluster.local.cluster import ClusterInfo, LocalCluster, api_client
from podlife.core.images import IMAGES
from tests.helpers import local_cluster, need_builds, one_clear_line, podlife

pytestmark = pytest.mark.cluster

NAME = "ci-nodes"
NS = "default"


@pytest.fixture(scope="module")
def booted() -> Iterator[ClusterInfo]:
    with local_cluster(NAME, workers=2) as info:
        yield info


@pytest.fixture(scope="module")
def core(booted: ClusterInfo) -> k8s.CoreV1Api:
    return k8s.CoreV1Api(api_client(booted.kubeconfig))


def _pod(core: k8s.CoreV1Api, name: str, node: str, script: str, labels: dict) -> None:
    core.create_namespaced_pod(NS, {"metadata": {"name": name, "labels": labels}, "spec": {
        "nodeName": node, "terminationGracePeriodSeconds": 0,
        "containers": [{"name": "c", "image": IMAGES["busybox"].local,
                        "imagePullPolicy": "IfNotPresent", "command": ["sh", "-c", script]}]}})


def _exec(core: k8s.CoreV1Api, pod: str, script: str) -> str:
    return stream(core.connect_get_namespaced_pod_exec, pod, NS, command=["sh", "-c", script],
                  stderr=True, stdout=True, stdin=False, tty=False)


def test_every_node_is_ready_with_its_own_address(booted: ClusterInfo,
                                                  core: k8s.CoreV1Api) -> None:
    nodes = {n.metadata.name: n for n in core.list_node().items}
    assert sorted(nodes) == sorted([booted.node_name, *booted.workers])
    assert booted.workers == [f"{NAME}-worker1", f"{NAME}-worker2"]
    addresses = set()
    for node in nodes.values():
        assert any(c.type == "Ready" and c.status == "True" for c in node.status.conditions)
        assert node.status.node_info.kubelet_version == booted.version
        addresses |= {a.address for a in node.status.addresses if a.type == "InternalIP"}
    assert addresses == {"10.200.0.2", "10.200.1.2", "10.200.2.2"}
    health = LocalCluster(NAME).health()
    for worker in booted.workers:
        assert health[f"{worker}/kubelet"] and health[f"{worker}/containerd"], health


def test_pods_reach_each_other_and_a_service_across_nodes(booted: ClusterInfo,
                                                         core: k8s.CoreV1Api) -> None:
    """From a pod on each node: the web pod on every node by its IP, and the Service (whose
    endpoints are on all three nodes) by its DNS name."""
    nodes = [booted.node_name, *booted.workers]
    for node in nodes:
        _pod(core, f"web-{node}", node, f"mkdir -p /w && echo hello-{node} > /w/index.html "
             "&& httpd -f -p 8080 -h /w", {"app": "web"})
        _pod(core, f"client-{node}", node, "sleep 3600", {})
    core.create_namespaced_service(NS, {"metadata": {"name": "web"}, "spec": {
        "selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}})
    deadline = time.monotonic() + 90
    while True:
        pods = core.list_namespaced_pod(NS).items
        if len(pods) == 2 * len(nodes) and all(p.status.phase == "Running" for p in pods):
            break
        assert time.monotonic() < deadline, [(p.metadata.name, p.status.phase) for p in pods]
        time.sleep(0.5)  # six pods to run: polled, a wait on a list
    ips = {p.metadata.name: p.status.pod_ip for p in pods}
    assert len({ip.rsplit(".", 1)[0] for ip in ips.values()}) == 3, ips  # a subnet per node
    for source in nodes:
        for target in nodes:
            got = _exec(core, f"client-{source}",
                        f"timeout 5 wget -qO- http://{ips[f'web-{target}']}:8080/ 2>&1")
            assert f"hello-{target}" in got, f"{source} -> pod on {target}: {got!r}"
        got = _exec(core, f"client-{source}",
                    f"timeout 5 wget -qO- http://web.{NS}.svc.cluster.local/ 2>&1")
        assert "hello-" in got, f"{source} -> Service by name: {got!r}"


def test_status_lists_every_node_with_its_role(booted: ClusterInfo) -> None:
    rows = json.loads(podlife("cluster", "status", "--output", "json").stdout)
    row = next(r for r in rows if r["name"] == NAME)
    assert f"{NAME}-node (control plane" in row["nodes"]
    assert f"{NAME}-worker2 (worker" in row["nodes"]
    assert row["health"] == "healthy"


@pytest.mark.parametrize(("args", "named"), [
    (["cluster", "up", "--name", "ci-bad", "--workers", "9"], "worker"),
    (["run", "--worker-nodes", "6"], "worker"),
    (["run", "--provider", "kind", "--worker-nodes", "7"], "worker"),
    (["kind", "up", "--name", "ci-bad", "--workers", "6"], "worker"),
    # kind's several control planes need its load-balancer image: not to be had offline.
    (["run", "--provider", "kind", "--control-planes", "3"], "--control-planes")])
def test_a_bad_worker_count_is_one_line(args: list[str], named: str) -> None:
    one_clear_line(podlife(*args), named)
    assert not LocalCluster("ci-bad").state.exists()


def test_workers_of_other_releases_within_skew() -> None:
    """--node-versions: each worker runs its own kubelet release (the releases the mixed
    skew test builds), and status and the nodes say which."""
    control_plane, old = need_builds("1.33", "1.30")
    with local_cluster("ci-mixed-nodes", version=control_plane,
                       workers=2, worker_versions=[old, control_plane]) as info:
        core = k8s.CoreV1Api(api_client(info.kubeconfig))
        running = {n.metadata.name: n.status.node_info.kubelet_version
                   for n in core.list_node().items}
        assert running == {"ci-mixed-nodes-node": control_plane.tag,
                           "ci-mixed-nodes-worker1": old.tag,
                           "ci-mixed-nodes-worker2": control_plane.tag}
        rows = json.loads(podlife("cluster", "status", "--output", "json").stdout)
        row = next(r for r in rows if r["name"] == "ci-mixed-nodes")
        assert f"ci-mixed-nodes-worker1 (worker, {old.tag})" in row["nodes"]
        # The oldest worker bounds the control plane: 1.34 would leave a 1.30 kubelet 4
        # minors behind; refused in one line before anything stops.
        refused = podlife("cluster", "upgrade", "--name", "ci-mixed-nodes", "--version",
                          "1.34", "--part", "control-plane", "--skip-minors")
        one_clear_line(refused, old.tag)
        # The node step upgrades every node in turn, the old worker included.
        upgraded = podlife("cluster", "upgrade", "--name", "ci-mixed-nodes", "--version",
                           control_plane.minor_key, "--part", "node", timeout=600)
        assert upgraded.returncode == 0, upgraded.stderr
        running = {n.metadata.name: n.status.node_info.kubelet_version
                   for n in core.list_node().items}
        assert set(running.values()) == {control_plane.tag}, running
        assert ClusterInfo.load("ci-mixed-nodes").worker_versions == [control_plane.tag] * 2


def test_three_control_planes_fail_over() -> None:
    """--control-planes 3: three etcd members and API servers (the `kubernetes` Service
    has the three as endpoints), leader-elected controllers; killing the first API server
    under a steady client loop costs at most the requests in flight on its connections,
    and the API keeps answering through the same address."""
    import os
    import signal

    with local_cluster("ci-ha", workers=1, control_planes=3) as info:
        assert info.control_planes == ["ci-ha-node", "ci-ha-cp2", "ci-ha-cp3"]
        api = api_client(info.kubeconfig)
        core = k8s.CoreV1Api(api)
        # Each API server renews its own lease (10 s, expiring after 15 s) and the
        # endpoints follow the leases: on a loaded node one may lapse for a moment (seen
        # in CI: the first instance missing right after boot), so wait for all three.
        found: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            endpoints = core.read_namespaced_endpoints("kubernetes", "default")
            found = sorted(a.ip for s in endpoints.subsets or [] for a in s.addresses or [])
            if found == ["10.200.0.2", "10.200.11.2", "10.200.12.2"]:
                break
            time.sleep(1)
        assert found == ["10.200.0.2", "10.200.11.2", "10.200.12.2"], found
        leases = {lease.metadata.name for lease in
                  k8s.CoordinationV1Api(api).list_namespaced_lease("kube-system").items}
        assert {"kube-controller-manager", "kube-scheduler"} <= leases
        first = int((LocalCluster("ci-ha").state / "pids" / "kube-apiserver.pid").read_text())
        failed, answered, killed_at = 0, 0, None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if killed_at is None and answered >= 10:
                os.kill(first, signal.SIGKILL)
                killed_at = answered
            try:
                core.list_namespace(_request_timeout=2)
                answered += 1
            except Exception:  # any failed request counts
                failed += 1
            time.sleep(0.05)  # a steady client loop, not a wait
        assert killed_at is not None and answered - killed_at >= 20, (answered, killed_at)
        assert failed <= 2, f"{failed} requests failed while the first API server died"
