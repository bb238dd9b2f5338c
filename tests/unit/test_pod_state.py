"""Pod status predicates, on pod dicts shaped like the API's (no cluster needed)."""

from __future__ import annotations

from podlife.check import pod_state as ps


def pod(phase: str = "Pending", inits: list[dict] | None = None, apps: list[dict] | None = None,
        conditions: dict[str, str] | None = None, sidecars: tuple[str, ...] = ()) -> dict:
    init_specs = [{"name": s["name"], **({"restartPolicy": "Always"}
                                         if s["name"] in sidecars else {})}
                  for s in inits or []]
    return {"metadata": {"name": "p"},
            "spec": {"initContainers": init_specs,
                     "containers": [{"name": s["name"]} for s in apps or []]},
            "status": {"phase": phase, "initContainerStatuses": inits or [],
                       "containerStatuses": apps or [],
                       "conditions": [{"type": k, "status": v}
                                      for k, v in (conditions or {}).items()]}}


def running(name: str, **extra: object) -> dict:
    return {"name": name, "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}, **extra}


def done(name: str, code: int = 0, reason: str = "Completed") -> dict:
    return {"name": name, "state": {"terminated": {"exitCode": code, "reason": reason}}}


def waiting(name: str, reason: str = "PodInitializing", restarts: int = 0) -> dict:
    return {"name": name, "state": {"waiting": {"reason": reason}}, "restartCount": restarts}


def test_container_status_joins_init_app_and_ephemeral() -> None:
    p = pod(inits=[done("init")], apps=[running("app")])
    p["status"]["ephemeralContainerStatuses"] = [running("debug")]
    assert ps.container_status(p, "init")["name"] == "init"
    assert ps.container_status(p, "debug")["name"] == "debug"
    assert ps.container_status(p, "nope") == {}
    assert [s["name"] for s in ps.statuses(p)] == ["init", "app", "debug"]


def test_state_exit_code_and_restarts() -> None:
    p = pod(inits=[done("a", 3, "Error")], apps=[waiting("app", restarts=2)])
    assert ps.state_of(p, "a") == "terminated" and ps.exit_code(p, "a") == 3
    assert ps.state_of(p, "app") == "waiting" and ps.exit_code(p, "app") is None
    assert ps.restarts(p, "app") == 2 and ps.restarts(p, "a") == 0
    assert ps.state_of(p, "missing") == "" and not ps.has_started(p, "app")
    assert ps.has_started(p, "a")


def test_conditions() -> None:
    p = pod("Running", conditions={"Ready": "True", "PodScheduled": "True",
                                   "Initialized": "False"})
    assert ps.is_ready(p) and ps.scheduled(p)
    assert not ps.condition_true(p, "Initialized")
    assert ps.condition(p, "Nope") == {}
    assert not ps.is_ready(pod())


def test_all_terminated_needs_statuses_and_no_running_container() -> None:
    assert not ps.all_terminated(pod())
    assert ps.all_terminated(pod(inits=[done("i")], apps=[done("a"), waiting("b")]))
    assert not ps.all_terminated(pod(inits=[done("i")], apps=[running("a")]))


def test_terminal_phases() -> None:
    assert ps.is_terminal(pod("Failed")) and ps.is_terminal(pod("Succeeded"))
    assert not ps.is_terminal(pod("Running"))


def test_display_status_like_kubectl() -> None:
    inits = [done("a"), running("b"), waiting("c")]
    assert ps.display_status(pod(inits=inits, apps=[waiting("app")])) == "Init:1/3"
    crashing = [done("a"), waiting("b", "CrashLoopBackOff", 3), waiting("c")]
    assert ps.display_status(pod(inits=crashing)) == "Init:CrashLoopBackOff"
    failed = [done("a"), done("b", 1, "Error"), waiting("c")]
    assert ps.display_status(pod("Failed", inits=failed)) == "Init:Error"
    sidecar_up = [running("shipper", started=True)]
    assert ps.display_status(pod("Running", inits=sidecar_up, apps=[running("app")],
                                 sidecars=("shipper",))) == "Running"
    assert ps.display_status(pod("Running", apps=[waiting("app", "CrashLoopBackOff")])) == (
        "CrashLoopBackOff")
    gone = pod("Running", apps=[running("app")])
    gone["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    assert ps.display_status(gone) == "Terminating"


def test_brief_names_every_container() -> None:
    text = ps.brief(pod("Pending", inits=[waiting("i", "CrashLoopBackOff", 4)]))
    assert text == "phase=Pending i=waiting/CrashLoopBackOff(restarts=4)"


def test_a_deleted_pod_never_scheduled_is_done_stopping() -> None:
    """Seen in exploring: a pod the scheduler never bound has no container statuses, so
    waiting for every container to terminate never ended (PodGC had marked it Failed)."""
    unbound = {"spec": {}, "status": {"phase": "Failed"}}
    bound = {"spec": {"nodeName": "n"}, "status": {"phase": "Pending"}}
    assert ps.stopped_or_unbound(unbound)
    assert not ps.stopped_or_unbound(bound)
