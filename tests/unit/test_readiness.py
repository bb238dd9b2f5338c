"""When a boot may call the node usable: pure predicates over the node object."""

from __future__ import annotations


def test_a_node_is_schedulable_once_ready_and_the_not_ready_taint_is_gone() -> None:
    from podlife.cluster.local.readiness import NOT_READY_TAINT, node_is_schedulable

    ready = {"status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    tainted = {**ready, "spec": {"taints": [{"key": NOT_READY_TAINT, "effect": "NoSchedule"}]}}
    not_ready = {"status": {"conditions": [{"type": "Ready", "status": "False"}]}}
    assert node_is_schedulable(ready)
    assert not node_is_schedulable(tainted)
    assert not node_is_schedulable(not_ready)


def test_the_boot_check_is_answered_by_its_container_exit_not_the_pod_phase() -> None:
    from podlife.cluster.local.boot_check import check_exit_code

    def pod(state: dict, phase: str = "Running") -> dict:
        return {"status": {"phase": phase, "containerStatuses": [{"name": "dns",
                                                                  "state": state}]}}

    assert check_exit_code(pod({"running": {}})) is None
    assert check_exit_code({"status": {"phase": "Pending"}}) is None
    assert check_exit_code(pod({"terminated": {"exitCode": 0}})) == 0
    assert check_exit_code(pod({"terminated": {"exitCode": 1}})) == 1
    assert check_exit_code({"status": {"phase": "Failed"}}) == 1


def test_the_boot_check_marker_is_read_from_the_containers_log_file_on_the_node(
        tmp_path) -> None:
    from podlife.cluster.local.boot_check import BOOT_CHECK_POD, MARKER, marker_logged

    logs = tmp_path / "default_podlife-boot-check_uid-1" / "dns"
    assert BOOT_CHECK_POD == "podlife-boot-check"
    assert not marker_logged(tmp_path, "uid-1")  # no file yet: not answered
    logs.mkdir(parents=True)
    (logs / "0.log").write_text("2026-12-05T09:06:18.42Z stdout F Server: 10.200.0.2\n")
    assert not marker_logged(tmp_path, "uid-1")  # ran, but no answer yet
    with (logs / "0.log").open("a") as log:
        log.write(f"2026-12-05T09:06:18.43Z stdout F {MARKER}\n")
    assert marker_logged(tmp_path, "uid-1")
    assert not marker_logged(tmp_path, "uid-2")  # another pod's UID: not this check


def test_the_boot_check_prints_its_marker_only_after_the_lookup_answered() -> None:
    from podlife.cluster.local.boot_check import MARKER, boot_check_pod

    script = boot_check_pod()["spec"]["containers"][0]["command"][-1]
    lookup = script.index("nslookup kubernetes.default.svc.cluster.local && ")
    assert script.index(f"echo '{MARKER}'") > lookup
