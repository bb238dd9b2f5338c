"""What a drain leaves alone and what it refuses (podlife.run.drain), on pod dicts."""

from __future__ import annotations

from podlife.run.drain import MIRROR, orphans, stays


def pod(name: str, namespace: str = "ns", owner: str | None = None, *, phase: str = "Running",
        deleting: bool = False, annotations: dict | None = None) -> dict:
    meta: dict = {"name": name, "namespace": namespace, "annotations": annotations or {}}
    if owner:
        meta["ownerReferences"] = [{"kind": owner, "name": "x"}]
    if deleting:
        meta["deletionTimestamp"] = "2026-12-02T00:00:00Z"
    return {"metadata": meta, "status": {"phase": phase}}


def test_daemonset_and_mirror_pods_stay_and_controlled_ones_go() -> None:
    assert stays(pod("proxy", owner="DaemonSet"))
    assert stays(pod("etcd", annotations={MIRROR: "abc"}))
    assert not stays(pod("web", owner="ReplicaSet"))
    assert not stays(pod("bare"))


def test_a_bare_running_pod_is_an_orphan_unless_something_deletes_it() -> None:
    pods = [pod("bare"), pod("web", owner="ReplicaSet"), pod("job", owner="Job"),
            pod("leaving", deleting=True), pod("done", phase="Succeeded"),
            pod("in-dying-ns", namespace="suite-1")]
    assert orphans(pods, {"suite-1"}) == ["ns/bare"]
