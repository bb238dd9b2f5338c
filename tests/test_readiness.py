"""When a boot may call the node usable: pure predicates over the node object."""

from __future__ import annotations


def test_a_node_is_schedulable_once_ready_and_the_not_ready_taint_is_gone() -> None:
    from podlife.local.readiness import NOT_READY_TAINT, node_is_schedulable

    ready = {"status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    tainted = {**ready, "spec": {"taints": [{"key": NOT_READY_TAINT, "effect": "NoSchedule"}]}}
    not_ready = {"status": {"conditions": [{"type": "Ready", "status": "False"}]}}
    assert node_is_schedulable(ready)
    assert not node_is_schedulable(tainted)
    assert not node_is_schedulable(not_ready)
