"""The kind provider for real: node image built offline, a kind cluster on podlife's own
Docker engine, a slice of the suite on it, and the host left exactly as found."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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
