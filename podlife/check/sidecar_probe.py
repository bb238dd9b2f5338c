"""Does every kubelet run a native sidecar as one? Asked with a tiny pod per kubelet.

The API server can keep `restartPolicy: Always` while a kubelet ignores it: a kubelet
older than 1.28, or one with the SidecarContainers gate off (a cluster in the middle of an
upgrade, or gated on the kubelet only). Such a kubelet either rejects the pod at
admission (1.28-1.32 with the gate off: InitContainerRestartPolicyForbidden) or, not
knowing the field, runs the sidecar as an ordinary init container, which never exits: the
pod stays in Init, the sidecar running and the app waiting (PodInitializing). Both show
within seconds, so the checks that need sidecars fail fast with the cause instead of one
by one after their timeouts.

Every kubelet is judged by what it does, not by the version it reports: a virtual kubelet
or a vendor build may report 1.33 or later (where the feature is locked on) and still run
native sidecars as ordinary init containers. So each usable node's kubelet is probed once
per process, whatever its version; only a kubelet that reports a release older than the
feature fails without a probe. On a healthy node a probe takes about a second.
"""

from __future__ import annotations

import contextlib
from typing import Any

from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from podlife.check import pod_state
from podlife.check.framework import Framework
from podlife.check.instrument import instrument, serve
from podlife.check.nodes import usable_nodes
from podlife.check.pods import ended
from podlife.check.support import ALPHA_MINOR, GATE, SUPPORTED, Support, minor_of
from podlife.check.waits import WaitFailed

#: How long the app may stay unstarted once the sidecar runs before the kubelet is judged
#: to treat the sidecar as an ordinary init container. Measured on v1.37.2 (2 shared cores):
#: the app is seen started 0.11-0.33 s after the sidecar is seen running on a quiet node,
#: 0.4-3.2 s with a Kubernetes build and 4 suite workers busy (n=8). 10 s is three times
#: the slowest; with the pod's own start (up to 12.5 s seen loaded) the verdict still comes
#: within 30 s.
HOLD_S = 10.0
#: The reason a kubelet of 1.28-1.32 with the gate off gives when it refuses such a pod
#: (seen on v1.31.0 with --kubelet-feature-gates SidecarContainers=false, in about 1 s).
KUBELET_REJECTS = "InitContainerRestartPolicyForbidden"
#: Creating the pod until its sidecar runs: a pod that cannot start is no verdict.
START_TIMEOUT_S = 60.0


def _probe_pod(index: int, node: str | None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "initContainers": [{"name": "sidecar", "image": "busybox", "restartPolicy": "Always"}],
        "containers": [{"name": "app", "image": "busybox"}],
        "terminationGracePeriodSeconds": 1,
    }
    if node:
        # Pinned to the kubelet under test, tolerating whatever taints keep checks away.
        spec |= {"nodeName": node, "tolerations": [{"operator": "Exists"}]}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"podlife-sidecar-probe-{index}"}, "spec": spec}


def kubelet_cause(node: str, kubelet: str,
                  does: str = "runs restartPolicy: Always init containers as ordinary init "
                              "containers") -> str:
    where = f"the kubelet on node {node} ({kubelet})" if node else f"the kubelet ({kubelet})"
    return (f"{where} {does}: the {GATE} feature is off on the kubelet (or the kubelet is "
            f"older than 1.29): upgrade kubelets before deploying native sidecars")


def classify_kubelet(node: str, kubelet: str) -> Support | None:
    """From the version alone: fail when it reports a release older than the feature;
    otherwise None, for only running a pod can tell (a kubelet reporting 1.33+, where the
    gate is locked on, may still not run sidecars: a vendor build, a virtual kubelet)."""
    minor = minor_of(kubelet)
    if minor is None:
        return None
    if minor < ALPHA_MINOR:
        return Support("fail", f"{kubelet_cause(node, kubelet)} (it predates native "
                               f"sidecars, added in 1.{ALPHA_MINOR})")
    return None


#: The first release whose kubelet runs native sidecars by default (beta, gate on).
DEFAULT_ON_MINOR = 29


def skew_note(kubelet: str, apiserver: str) -> str:
    """When the kubelet is older than the API server (an upgrade's skew window), say so:
    the API server accepts native sidecars that this kubelet is too old to run."""
    old, new = minor_of(kubelet), minor_of(apiserver)
    if old is None or new is None or old >= new:
        return ""
    why = (f"the kubelet is older than the feature (native sidecars are on by default from "
           f"kubelet 1.{DEFAULT_ON_MINOR})" if old < DEFAULT_ON_MINOR
           else "its SidecarContainers gate is off")
    return (f" [version skew: kubelet {kubelet} is older than the API server {apiserver}, "
            f"which accepts native sidecars; {why}]")


def _server_version(f: Framework) -> str:
    api = getattr(f, "api", None)
    if api is None:
        return ""
    try:
        return str(k8s.VersionApi(api).get_code().git_version)
    except ApiException:
        return ""


def kubelet_support(f: Framework) -> Support:
    """Supported unless some usable node's kubelet ignores native sidecars."""
    try:
        nodes = [(n.metadata.name, n.status.node_info.kubelet_version)
                 for n in usable_nodes(f.core)]  # a node no check's pod lands on is not asked
    except ApiException as exc:
        if exc.status not in (401, 403):
            return Support("error", f"listing nodes failed ({exc.status} {exc.reason})")
        nodes = [("", "version unknown: nodes are not readable")]
    for index, (node, kubelet) in enumerate(nodes):
        found = classify_kubelet(node, kubelet) or probe(f, index, node, kubelet)
        if found.verdict == "fail":
            return Support("fail", found.reason + skew_note(kubelet, _server_version(f)))
        if found.verdict != "supported":
            return found
    return SUPPORTED


def probe(f: Framework, index: int, node: str, kubelet: str) -> Support:
    """Run a sidecar that never exits next to an app on the node; watch the app start."""
    body = instrument(_probe_pod(index, node), {"sidecar": serve(), "app": serve()}, f.images)
    name = body["metadata"]["name"]
    try:
        f.create(body)
    except ApiException as exc:
        return Support("error", f"creating the native-sidecar probe pod failed "
                                f"({exc.status} {exc.reason})")
    try:
        return _watch(f, name, node, kubelet)
    finally:
        with contextlib.suppress(ApiException):
            f.core.delete_namespaced_pod(name, f.namespace, grace_period_seconds=0)


def _watch(f: Framework, name: str, node: str, kubelet: str) -> Support:
    try:
        f.wait_pod(name, lambda p: pod_state.is_running(p, "sidecar")
                   or pod_state.has_started(p, "app"),
                   timeout=START_TIMEOUT_S, what="the probe's sidecar to run", never=ended)
        f.wait_pod(name, lambda p: pod_state.has_started(p, "app"), timeout=HOLD_S,
                   what="the app to start next to the running sidecar", never=ended)
        return SUPPORTED
    except WaitFailed as exc:
        last = exc.last or {}
        status = last.get("status") or {}
        if status.get("reason") == KUBELET_REJECTS:
            does = "rejects pods with restartPolicy: Always init containers"
            return Support("fail", f"{kubelet_cause(node, kubelet, does)}; seen: "
                                   f"{KUBELET_REJECTS}: {status.get('message', '')}")
        if pod_state.is_running(last, "sidecar") and not pod_state.has_started(last, "app"):
            return Support("fail", f"{kubelet_cause(node, kubelet)}; seen: the sidecar ran "
                                   f"{HOLD_S:g} s and the app never started "
                                   f"({pod_state.display_status(last)}, "
                                   f"{pod_state.brief(last)})")
        return Support("error", f"the native-sidecar probe pod did not run: {exc}")
