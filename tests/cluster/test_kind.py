"""The kind provider for real: node image built offline, a kind cluster on podlife's own
Docker engine, a slice of the suite on it, and the host left exactly as found."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from podlife.cluster import kubeclient
from podlife.cluster.kind import cluster, engine
from podlife.core import versions
from tests.snapshot import snapshot

pytestmark = pytest.mark.cluster

NAME = "ci-kind"
#: A slice of the suite: init containers in order, on the kind cluster.
SLICE = "init_ordering"


def kind_snapshot() -> dict[str, object]:
    """The local cluster's host snapshot, plus what Docker touches: links, its tunables,
    its processes. Other podlife clusters' mounts may come and go meanwhile: left out."""
    state = snapshot()
    state["mounts"] = [m for m in state["mounts"] if "/podlife/clusters/" not in m]  # type: ignore[union-attr]
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    state["links"] = sorted(line.split(":")[1].strip() for line in links.splitlines()
                            if "veth" in line or "br-" in line or "docker" in line)
    state["tunables"] = {n: engine._read(n) for n in engine.TUNABLES}
    state["engine"] = subprocess.run(["pgrep", "-f", str(engine.engine_dir())],
                                     capture_output=True, text=True).stdout
    return state


def test_kind_run_passes_a_slice_and_leaves_the_host_as_found(tmp_path: Path) -> None:
    """`podlife run --provider kind` builds (or reuses) the node image, creates the cluster,
    runs the slice, deletes the cluster and stops the engine: the host is as before."""
    cluster.delete(NAME)
    before = kind_snapshot()
    proc = subprocess.run([sys.executable, "-m", "podlife.cli", "run", "--provider", "kind",
                           "--kube-version", versions.DEFAULT_VERSION, "--no-render",
                           "--results", str(tmp_path / "results.json"), "--", "-k", SLICE],
                          capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "provider kind" in proc.stdout and " pass" in proc.stdout
    assert (tmp_path / "results.json").exists()
    assert not engine.running()
    after = kind_snapshot()
    for key in before:
        assert after[key] == before[key], f"{key} changed"


def test_kind_boot_is_timed_with_the_uplink_closed() -> None:
    """A kind cluster reports its boot times; while it runs nothing is forwarded off the
    machine and Docker has not turned IP forwarding on."""
    cluster.delete(NAME)
    forward = engine._read("net/ipv4/ip_forward")
    try:
        boot = cluster.up(NAME, versions.resolve(None))
        assert 0 < boot.ready_seconds <= boot.dns_seconds
        rules = subprocess.run(["iptables", "-S", "FORWARD"], capture_output=True,
                               text=True).stdout
        assert engine.RULE_COMMENT in rules
        assert engine._read("net/ipv4/ip_forward") == forward
    finally:
        cluster.delete(NAME)
    assert not engine.running()


def _reach(core, pod: str, url: str) -> str:
    from kubernetes.stream import stream

    return stream(core.connect_get_namespaced_pod_exec, pod, "default",
                  command=["sh", "-c", f"timeout 5 wget -q -O - {url}"], stderr=True,
                  stdout=True, stdin=False, tty=False).strip()


def test_kind_with_worker_nodes_wires_pods_across_nodes_and_runs_the_multi_node_checks(
        tmp_path: Path) -> None:
    """kind with two workers (no kindnetd offline: podlife gives each node its pod range and
    routes): a pod on one worker reaches a pod on the other and a Service by its DNS name,
    the multi-node checks pass there, and the host is as before once it is deleted."""
    from kubernetes import client

    from podlife.core.images import IMAGES

    cluster.delete(NAME)
    before = kind_snapshot()
    try:
        cluster.up(NAME, versions.resolve(None), workers=2)
        core = client.CoreV1Api(kubeclient.new_client(cluster.kubeconfig(NAME)))
        nodes = sorted(n.metadata.name for n in core.list_node().items)
        assert nodes == [f"{NAME}-control-plane", f"{NAME}-worker", f"{NAME}-worker2"]
        for name, node, script in (
                ("srv", f"{NAME}-worker", "mkdir -p /tmp/w && echo hello > /tmp/w/i && "
                 "exec httpd -f -p 8080 -h /tmp/w"),
                ("cli", f"{NAME}-worker2", "exec sleep 600")):
            core.create_namespaced_pod("default", {
                "metadata": {"name": name, "labels": {"app": name}},
                "spec": {"nodeName": node, "terminationGracePeriodSeconds": 0,
                         "containers": [{"name": "c", "image": IMAGES["busybox"].local,
                                         "imagePullPolicy": "Never",
                                         "command": ["sh", "-c", script]}]}})
        core.create_namespaced_service("default", {"metadata": {"name": "srv"}, "spec": {
            "selector": {"app": "srv"}, "ports": [{"port": 80, "targetPort": 8080}]}})
        deadline = time.monotonic() + 120
        while not all(core.read_namespaced_pod(n, "default").status.phase == "Running"
                      for n in ("srv", "cli")):
            assert time.monotonic() < deadline, "the two pods did not start"
            time.sleep(1)
        ip = core.read_namespaced_pod("srv", "default").status.pod_ip
        assert _reach(core, "cli", f"http://{ip}:8080/i") == "hello"
        assert _reach(core, "cli", "http://srv.default.svc.cluster.local/i") == "hello"
        proc = subprocess.run([sys.executable, "-m", "podlife.cli", "run", "--provider",
                               "kind", "--reuse-cluster", NAME, "--no-render", "--results",
                               str(tmp_path / "results.json"), "--", "-k", "multi_node"],
                              capture_output=True, text=True, timeout=1800)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
        verdicts = {c["verdict"] for c in json.loads(
            (tmp_path / "results.json").read_text())["checks"]}
        assert verdicts == {"pass"}, "the multi-node checks must run, not be unsupported"
    finally:
        cluster.delete(NAME)
    assert not engine.running()
    after = kind_snapshot()
    for key in before:
        assert after[key] == before[key], f"{key} changed"
