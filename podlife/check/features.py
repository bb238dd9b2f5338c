"""Which pod-lifecycle features a cluster has, detected from how the cluster behaves.

A version number says what a cluster *should* support; feature gates, admission policy and
distribution patches decide what it *does*. So every check that needs a feature asks the
cluster itself, here. The verdict must tell the truth about what was seen:

| the cluster                                                     | verdict     |
|-----------------------------------------------------------------|-------------|
| API server rejects restartPolicy on init containers as invalid  | unsupported |
| API server drops the field, server older than 1.33 (not GA)     | unsupported |
| API server drops the field on 1.33 or later (GA, gate locked)   | fail        |
| any other API answer (403 from a policy, webhook denial, 5xx)   | error       |
| field kept, but a kubelet rejects the pod or runs the sidecar   | fail (fast) |
| as an ordinary init container (podlife.check.sidecar_probe)           |             |
| field kept, every kubelet starts the app next to the sidecar    | supported   |

The answer is cached per API server for the process (one probe per pytest worker).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from podlife.check import sidecar_probe
from podlife.check.framework import Framework
from podlife.check.outcomes import unsupported
from podlife.check.restart_rules_support import require_container_restart_rules
from podlife.check.support import GA_MINOR, GATE, SUPPORTED, Support, minor_of

_PROBE_POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "podlife-feature-probe"},
    "spec": {
        "initContainers": [{"name": "sidecar", "image": "busybox", "restartPolicy": "Always"}],
        "containers": [{"name": "app", "image": "busybox"}],
    },
}


def classify_rejection(status: int, reason: str, body: str) -> Support:
    """A dry-run create of the probe pod was refused: only a refusal of the field itself
    (422 Invalid, or strict decoding's unknown field) means the feature is missing."""
    text = body or ""
    about_field = "restartPolicy" in text
    if about_field and (status == 422 or (status == 400 and "unknown field" in text)):
        return Support("unsupported", (
            f"the API server rejects restartPolicy on an init container ({status} {reason}): "
            f"no native sidecars (feature gate {GATE}): {_message(text)}"))
    return Support("error", (
        f"the API server refused a pod with a native sidecar for another reason than the "
        f"feature ({status} {reason}: {_message(text)}): fix the cluster's admission "
        f"(policy, webhook) or its health, then re-run"))


def _message(body: str) -> str:
    try:
        return str(json.loads(body).get("message") or body)[:300]
    except (ValueError, AttributeError):
        return body[:300]


def classify_stored(policy: str | None, server_version: str) -> Support:
    """The API server accepted the probe pod; what it stored says whether it knows sidecars."""
    if policy == "Always":
        return SUPPORTED
    minor = minor_of(server_version)
    if minor is not None and minor < GA_MINOR:
        return Support("unsupported", (
            f"the API server ({server_version}) drops restartPolicy from init containers: "
            f"the {GATE} feature gate is off (native sidecars are not GA before 1.33)"))
    return Support("fail", (
        f"the API server ({server_version or 'unknown version'}) drops restartPolicy from "
        f"init containers although native sidecars are GA since 1.33: the cluster is not "
        f"conformant (look for a mutating webhook or a patched API server)"))


_LOCK = threading.Lock()
_API_SERVER: dict[str, Support] = {}
_WHOLE: dict[str, Support] = {}


def _server_key(f: Framework) -> str:
    return str(getattr(getattr(f.api, "configuration", None), "host", id(f.api)))


def server_version(api: Any) -> str:
    return str(k8s.VersionApi(api).get_code().git_version)


def api_server_support(f: Framework) -> Support:
    """What the API server does with restartPolicy: Always on an init container (cached)."""
    key = _server_key(f)
    with _LOCK:
        if key not in _API_SERVER:
            _API_SERVER[key] = _ask_api_server(f)
        return _API_SERVER[key]


def _ask_api_server(f: Framework) -> Support:
    try:
        stored = f.dry_run(_PROBE_POD)
        policy = stored["spec"]["initContainers"][0].get("restartPolicy")
        return classify_stored(policy, "" if policy == "Always" else server_version(f.api))
    except ApiException as exc:
        body = exc.body.decode() if isinstance(exc.body, bytes) else str(exc.body or "")
        return classify_rejection(int(exc.status or 0), str(exc.reason or ""), body)


def native_sidecar_support(f: Framework) -> Support:
    """The whole answer: the API server, then every kubelet that could run the pod."""
    key = _server_key(f)
    with _LOCK:
        if key in _WHOLE:
            return _WHOLE[key]
    found = api_server_support(f)
    if found.verdict == "supported":
        found = sidecar_probe.kubelet_support(f)
    with _LOCK:
        return _WHOLE.setdefault(key, found)


def native_sidecar_support_now(f: Framework) -> Support:
    """The same answer, asked afresh: for a cluster that changes under one process (an
    upgrade moving the API server, then the kubelets)."""
    found = _ask_api_server(f)
    return sidecar_probe.kubelet_support(f) if found.verdict == "supported" else found


def native_sidecar_gap(f: Framework) -> str | None:
    """For checks of what the API server stores: None when it keeps native sidecars, the
    reason when it lacks them in a documented way; a non-conformant or failing API server
    ends the check at once (fail or error). Kubelets are not asked."""
    found = api_server_support(f)
    if found.verdict == "unsupported":
        return found.reason
    found.enforce()
    return None


def require_native_sidecars(f: Framework) -> None:
    """End the check unless native sidecars work end to end: unsupported, fail or error,
    each with its reason (see the table above)."""
    native_sidecar_support(f).enforce()


def require_node_changes(f: Framework) -> None:
    """Checks that patch a node run on existing clusters only with --allow-node-changes."""
    if not f.may_change_nodes:
        pytest.skip("changes a node (extended resource): pass --allow-node-changes to run it")


def require_several_nodes(f: Framework) -> None:
    """Checks of where the scheduler places a pod need two nodes that take pods or more."""
    from podlife.check.nodes import usable_nodes

    found = [n.metadata.name for n in usable_nodes(f.core)]
    if len(found) < 2:
        unsupported(f"one node takes pods ({', '.join(found) or 'none'}): the check needs "
                    "two or more (a local cluster: --worker-nodes N)")


#: What a check declares it needs with @pytest.mark.needs(NAME), in the order they are
#: asked: each ends the check with its reason when the cluster lacks it. The pytest plugin
#: asks them (podlife.plugin.checks) before the check's body runs.
NEEDS: dict[str, Callable[[Framework], None]] = {
    "node-changes": require_node_changes,
    "several-nodes": require_several_nodes,
    "native-sidecars": require_native_sidecars,
    "container-restart-rules": require_container_restart_rules,
}
