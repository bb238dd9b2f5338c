"""A kind cluster on podlife's engine: create (with the node image built offline), measure,
delete, and stop the engine when no podlife kind cluster is left."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from podlife.cluster.kind import binary, boot, config, engine, network, node_image
from podlife.core import paths
from podlife.core.errors import PodlifeError
from podlife.core.signals import shielded
from podlife.core.versions import KubeVersion


@dataclass
class KindBoot:
    """How long a kind cluster took: to a Ready node and to DNS answering from a pod."""

    create_seconds: float
    ready_seconds: float
    dns_seconds: float


def cluster_dir(name: str) -> Path:
    return paths.state_root() / "kind" / name


def kubeconfig(name: str) -> Path:
    return cluster_dir(name) / "kubeconfig"


def _kind_cluster(name: str):
    """pytest-kind's KindCluster, pointed at podlife's kind binary, engine and state dir."""
    from pytest_kind import KindCluster

    os.environ["DOCKER_HOST"] = engine.docker_env()["DOCKER_HOST"]
    cluster_dir(name).mkdir(parents=True, exist_ok=True)
    old = Path.cwd()
    os.chdir(cluster_dir(name))  # pytest-kind makes a .pytest-kind dir in the cwd
    try:
        return KindCluster(name, kubeconfig=kubeconfig(name), kind_path=binary.kind_binary())
    finally:
        os.chdir(old)


def up(name: str, version: KubeVersion, say: Callable[[str], None] = print,
       timeout: float = 600.0, workers: int = 0) -> KindBoot:
    """Create the cluster (with `workers` worker nodes, wired by podlife.cluster.kind.network)
    and wait for every node Ready, the default ServiceAccount and DNS."""
    with engine.locked():
        engine.start()
        image = node_image.ensure(version, say)
        cluster = _kind_cluster(name)
        cfg = cluster_dir(name) / "kind-config.yaml"
        cfg.write_text(config.kind_config(image, version, workers))
        say(f"kind create cluster {name} ({image})")
        started = time.monotonic()
        try:
            cluster.create(config_file=cfg)
        except subprocess.CalledProcessError as exc:
            _delete(name)
            raise PodlifeError(f"kind create cluster {name} failed (exit {exc.returncode})",
                               "read kind's output above; 'podlife kind-image --force' "
                               "rebuilds the node image") from None
    created = time.monotonic() - started
    if workers:
        try:
            network.wire(str(kubeconfig(name)), say)
        except BaseException:
            delete(name)
            raise
    ready, dns = boot.wait_ready_and_dns(str(kubeconfig(name)), started, timeout)
    say(f"node Ready after {ready:.1f}s, DNS answered from a pod after {dns:.1f}s")
    return KindBoot(round(created, 1), ready, dns)


def delete(name: str) -> None:
    """Delete the cluster; stop the engine when no podlife kind cluster is left. A signal
    that comes meanwhile waits until it is done (signals.shielded): cut short, the node
    containers or podlife's own dockerd would be left running."""
    with shielded(), engine.locked():
        _delete(name)


def _delete(name: str) -> None:
    if engine.running():
        with contextlib.suppress(subprocess.CalledProcessError):
            _kind_cluster(name).delete()
    engine.stop_if_unused()
    with contextlib.suppress(OSError):
        for child in sorted(cluster_dir(name).rglob("*"), reverse=True):
            child.rmdir() if child.is_dir() else child.unlink()
        cluster_dir(name).rmdir()
