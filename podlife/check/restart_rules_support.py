"""Whether a cluster has container restart rules (a restartPolicy and restartPolicyRules on a
regular container, KEP-5307): the API server must keep the fields, and every kubelet must
have the ContainerRestartRules gate on (alpha in 1.34, beta and on by default from 1.35).

The API server is asked with a dry-run create, as for native sidecars. A kubelet is judged
by the gate it runs with, read from its own /configz where it serves it, else by its
release's default: a gate that is beta and may be turned off is a documented absence
(unsupported), never a failure.
"""

from __future__ import annotations

import threading

from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from podlife.check.framework import Framework
from podlife.check.kubelet_backoff import kubelet_config
from podlife.check.nodes import usable_nodes
from podlife.check.support import SUPPORTED, Support, minor_of
from podlife.model.restarts import CONTAINER_RULES_SINCE

GATE = "ContainerRestartRules"
_PROBE_POD = {
    "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "podlife-restart-rules-probe"},
    "spec": {"restartPolicy": "Always", "containers": [{
        "name": "app", "image": "busybox", "restartPolicy": "Never",
        "restartPolicyRules": [{"action": "Restart",
                                "exitCodes": {"operator": "In", "values": [3]}}]}]},
}
_LOCK = threading.Lock()
_KNOWN: dict[str, Support] = {}


def api_server_verdict(stored: dict | None, status: int = 0, body: str = "") -> Support:
    """What the API server did with the probe pod: kept the fields, dropped them (the gate
    is off there), or refused them as invalid (it does not know them)."""
    if stored is not None:
        app = stored["spec"]["containers"][0]
        if app.get("restartPolicy") == "Never" and app.get("restartPolicyRules"):
            return SUPPORTED
        return Support("unsupported", f"the API server drops restartPolicy from regular "
                                      f"containers: the {GATE} feature gate is off there "
                                      "(beta, on by default from 1.35)")
    if status == 422 and "restartPolicy" in body:
        return Support("unsupported", "the API server rejects restartPolicy on a regular "
                                      f"container ({status}): it has no {GATE}")
    return Support("error", f"the API server refused the restart-rules probe pod for "
                            f"another reason ({status}): {body[:200]}")


def kubelet_verdict(node: str, kubelet_version: str, gates: dict | None) -> Support:
    """One kubelet: its gate as configured, else its release's default."""
    if gates is not None and GATE in gates:
        return SUPPORTED if gates[GATE] else Support(
            "unsupported", f"the kubelet of node {node} runs with {GATE}=false")
    minor = minor_of(kubelet_version)
    if minor is not None and minor < CONTAINER_RULES_SINCE:
        return Support("unsupported", f"the kubelet of node {node} is {kubelet_version}: "
                                      f"{GATE} is off by default before 1.35")
    return SUPPORTED


def container_restart_rules_support(f: Framework) -> Support:
    """The whole answer (cached per API server for the process)."""
    key = str(getattr(getattr(f.api, "configuration", None), "host", id(f.api)))
    with _LOCK:
        if key in _KNOWN:
            return _KNOWN[key]
    found = _ask(f)
    with _LOCK:
        return _KNOWN.setdefault(key, found)


def _ask(f: Framework) -> Support:
    try:
        found = api_server_verdict(f.dry_run(_PROBE_POD))
    except ApiException as exc:
        body = exc.body.decode() if isinstance(exc.body, bytes) else str(exc.body or "")
        found = api_server_verdict(None, int(exc.status or 0), body)
    if found.verdict != "supported":
        return found
    try:
        nodes = usable_nodes(k8s.CoreV1Api(f.api))
    except ApiException:
        # No leave to list nodes (a shared cluster): the API server's release decides.
        version = str(k8s.VersionApi(f.api).get_code().git_version)
        return kubelet_verdict("(nodes not readable)", version, None)
    for node in nodes:
        config = kubelet_config(f.api, node.metadata.name)
        version = str(node.status.node_info.kubelet_version or "")
        verdict = kubelet_verdict(node.metadata.name, version,
                                  None if config is None else config.get("featureGates") or {})
        if verdict.verdict != "supported":
            return verdict
    return SUPPORTED


def require_container_restart_rules(f: Framework) -> None:
    """End the check unless the cluster has container restart rules (unsupported, with the
    reason, where it lacks them)."""
    container_restart_rules_support(f).enforce()
