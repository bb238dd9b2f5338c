"""The waits of a boot or an upgrade, each failing at once if a component of the cluster dies.

Each is a probe loop over what the cluster reports (the containerd socket, /readyz, the
version, the node object), through `boot_api` rather than the Kubernetes client (its
docstring says why); the boot check pod has its own wait (`boot_check`).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

from podlife.cluster.local.boot_api import BootApi, node_path
from podlife.cluster.local.components import Layout
from podlife.cluster.local.state import ClusterInfo
from podlife.cluster.local.supervise import Supervisor
from podlife.core.errors import PodlifeError

NOT_READY_TAINT = "node.kubernetes.io/not-ready"
#: The node is read this often while a boot waits on it (well under a second in all).
NODE_POLL_INTERVAL = 0.05


def node_is_ready(node: dict, kubelet_version: str | None = None) -> bool:
    """The node's Ready condition is True (and, if given, its kubelet runs that version)."""
    status = node.get("status") or {}
    ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                for c in status.get("conditions") or [])
    running = (status.get("nodeInfo") or {}).get("kubeletVersion")
    return ready and (kubelet_version is None or running == kubelet_version)


def node_is_schedulable(node: dict) -> bool:
    """Ready, and the controller manager has lifted the not-ready taint: the scheduler
    places ordinary pods, and the controllers (service accounts of new namespaces, and
    the rest) are running."""
    taints = (node.get("spec") or {}).get("taints") or []
    return node_is_ready(node) and not any(t.get("key") == NOT_READY_TAINT for t in taints)


class Readiness:
    """Waits that check, between tries, that every component started so far still runs."""

    def __init__(self, supervisor: Supervisor, layout: Layout) -> None:
        self.supervisor = supervisor
        self.layout = layout

    def _timed_out(self, what: str, timeout: float) -> PodlifeError:
        return PodlifeError(f"timed out after {timeout:.0f}s waiting for {what}",
                            "read the component logs",
                            log=str(self.layout.logs))

    def probe(self, what: str, probe: Callable[[], bool], timeout: float,
              interval: float = 0.1) -> None:
        """Poll `probe` (errors count as not yet) for things that cannot be watched."""
        deadline = time.monotonic() + timeout
        while True:
            self.supervisor.check_alive()
            with contextlib.suppress(Exception):
                if probe():
                    return
            if time.monotonic() > deadline:
                raise self._timed_out(what, timeout)
            time.sleep(interval)

    def api_server(self, info: ClusterInfo, timeout: float) -> BootApi:
        """Probe /readyz until the API server is ready; returns the API to talk to it."""
        api = BootApi(info.server, self.layout.pki)
        self.probe("the API server to be ready", api.ready, timeout, interval=0.1)
        return api

    def server_version(self, api: BootApi, tag: str, timeout: float) -> None:
        """Probe /version until the API server reports `tag`."""
        self.probe(f"the API server to report {tag}",
                   lambda: api.get("/version").get("gitVersion") == tag, timeout)

    def node(self, api: BootApi, node_name: str, timeout: float, *,
             kubelet_version: str | None = None, schedulable: bool = False) -> None:
        """Until the node is Ready (on `kubelet_version`, after an upgrade; and without the
        not-ready taint if `schedulable`). Polled: the boot waits a second at most here."""
        what = (f"node {node_name} Ready on {kubelet_version}" if kubelet_version
                else f"node {node_name} to be Ready")
        until = (node_is_schedulable if schedulable
                 else lambda node: node_is_ready(node, kubelet_version))
        if schedulable:
            what += " and schedulable (the controller manager lifts the not-ready taint)"
        self.probe(what, lambda: until(api.get(node_path(node_name))), timeout,
                   interval=NODE_POLL_INTERVAL)
