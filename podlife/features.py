"""Which pod-lifecycle features a cluster has, detected from how its API server behaves.

A version number says what a cluster *should* support; feature gates, admission policy and
distribution patches decide what it *does*. So every check that needs a feature asks the
cluster itself, here, and reports "unsupported" with this module's reason when it lacks it.
"""

from __future__ import annotations

from kubernetes.client.rest import ApiException

from podlife.framework import Framework
from podlife.outcomes import unsupported

_PROBE_POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "podlife-feature-probe"},
    "spec": {
        "initContainers": [{"name": "sidecar", "image": "busybox", "restartPolicy": "Always"}],
        "containers": [{"name": "app", "image": "busybox"}],
    },
}


def native_sidecar_gap(f: Framework) -> str | None:
    """None when native sidecars work; otherwise why not, in one line.

    The API server either stores `restartPolicy: Always` on an init container (the feature is
    on), drops it silently (the SidecarContainers gate is off), or rejects it (too old).
    """
    try:
        stored = f.dry_run(_PROBE_POD)
    except ApiException as exc:
        return (f"the API server rejects restartPolicy on an init container "
                f"({exc.status} {exc.reason}): no native sidecars (SidecarContainers)")
    policy = stored["spec"]["initContainers"][0].get("restartPolicy")
    if policy != "Always":
        return ("the API server drops restartPolicy from init containers: native sidecars "
                "(the SidecarContainers feature) are off on this cluster")
    return None


def require_native_sidecars(f: Framework) -> None:
    """End the check as unsupported unless the cluster has native sidecars."""
    gap = native_sidecar_gap(f)
    if gap:
        unsupported(gap)


def require_node_changes(f: Framework) -> None:
    """Checks that patch a node run on existing clusters only with --allow-node-changes."""
    if not f.may_change_nodes:
        import pytest

        pytest.skip("changes a node (extended resource): pass --allow-node-changes to run it")
