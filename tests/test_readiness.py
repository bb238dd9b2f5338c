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


def test_the_boot_check_is_answered_by_its_container_exit_not_the_pod_phase() -> None:
    from podlife.local.readiness import check_exit_code

    def pod(state: dict, phase: str = "Running") -> dict:
        return {"status": {"phase": phase, "containerStatuses": [{"name": "dns",
                                                                  "state": state}]}}

    assert check_exit_code(pod({"running": {}})) is None
    assert check_exit_code({"status": {"phase": "Pending"}}) is None
    assert check_exit_code(pod({"terminated": {"exitCode": 0}})) == 0
    assert check_exit_code(pod({"terminated": {"exitCode": 1}})) == 1
    assert check_exit_code({"status": {"phase": "Failed"}}) == 1
