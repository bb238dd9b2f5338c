"""The waits of a boot or an upgrade, each failing at once if a component of the cluster dies.

Waits on Kubernetes objects (the node) watch them with `watch_until`; the boot check pod
has its own wait (`boot_check`). Waits on things that are not objects yet (the containerd
socket, the API server answering at all, the version it reports) are probe loops: until the
API server is ready there is nothing to watch. The Kubernetes client is imported only where
it is used, so importing the local cluster (e.g. for `podlife cluster status`) stays quick.
"""

from __future__ import annotations

import contextlib
import importlib
import ssl
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any

from podlife.errors import PodlifeError
from podlife.local.components import Layout
from podlife.local.state import ClusterInfo, api_client
from podlife.local.supervise import Supervisor

#: How long one watch runs before the processes are checked again: a component that dies
#: is named within this time rather than when the whole wait times out.
WATCH_SLICE = 2.0


#: The client's API classes a boot uses. The client exports them lazily, and building one
#: (its request validators) costs more than importing the package: CoreV1Api alone takes
#: 0.8 CPU-s here.
BOOT_APIS = ("CoreV1Api", "RbacAuthorizationV1Api")


def preload_client() -> None:
    """Import the Kubernetes client in the background while the components start.

    The import takes a third of a CPU-second here (more with a cold disk cache); done on
    demand it would sit between the API server becoming ready and the first request."""
    def load() -> None:
        for module in ("kubernetes.client", "kubernetes.watch"):
            importlib.import_module(module)
        client = importlib.import_module("kubernetes.client")
        for api in BOOT_APIS:
            getattr(client, api)

    threading.Thread(target=load, name="preload-kubernetes-client", daemon=True).start()


NOT_READY_TAINT = "node.kubernetes.io/not-ready"


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
                            f"read the component logs under {self.layout.logs} "
                            "('podlife cluster logs')")

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

    def watch(self, list_fn: Callable[..., Any], *, api: Any, what: str,
              until: Callable[[dict], bool], timeout: float, on_timeout: PodlifeError,
              **selectors: str) -> dict:
        """`watch_until` in short slices, checking the processes between slices; a failing
        request (the API server restarting) is retried like an expired watch."""
        import urllib3
        from kubernetes.client.rest import ApiException

        from podlife.waits import WaitFailed, watch_until

        deadline = time.monotonic() + timeout
        while True:
            self.supervisor.check_alive()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise on_timeout
            try:
                return watch_until(list_fn, api=api, what=what, until=until,
                                   timeout=min(WATCH_SLICE, remaining), **selectors)
            except WaitFailed:
                continue
            except (ApiException, urllib3.exceptions.HTTPError):
                time.sleep(0.2)

    def api_server(self, info: ClusterInfo, timeout: float):
        """Probe /readyz until the API server answers; returns a client for it."""
        ctx = ssl.create_default_context(cafile=str(self.layout.pki / "ca.crt"))
        ctx.load_cert_chain(self.layout.pki / "client-admin.crt",
                            self.layout.pki / "client-admin.key")

        def ready() -> bool:
            with urllib.request.urlopen(f"{info.server}/readyz", context=ctx, timeout=2) as r:
                return r.status == 200

        self.probe("the API server to be ready", ready, timeout, interval=0.1)
        return api_client(info.kubeconfig)

    def server_version(self, client, tag: str, timeout: float) -> None:
        """Probe /version until the API server reports `tag` (a version is not an object)."""
        from kubernetes import client as k8s

        self.probe(f"the API server to report {tag}",
                   lambda: k8s.VersionApi(client).get_code().git_version == tag, timeout)

    def node(self, client, node_name: str, timeout: float, *,
             kubelet_version: str | None = None, schedulable: bool = False) -> None:
        """Watch the node until it is Ready (on `kubelet_version`, after an upgrade; and
        without the not-ready taint if `schedulable`)."""
        from kubernetes import client as k8s

        what = (f"node {node_name} Ready on {kubelet_version}" if kubelet_version
                else f"node {node_name} to be Ready")
        until = (node_is_schedulable if schedulable
                 else lambda node: node_is_ready(node, kubelet_version))
        if schedulable:
            what += " and schedulable (the controller manager lifts the not-ready taint)"
        self.watch(k8s.CoreV1Api(client).list_node, api=client, what=what, name=node_name,
                   until=until, timeout=timeout, on_timeout=self._timed_out(what, timeout))
