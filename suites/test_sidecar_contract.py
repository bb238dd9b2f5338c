"""Native sidecars as KEP-753 and upstream's node e2e tests pin them down.

Interleaved init containers and sidecars start in spec order, each sidecar up before the
next init container; a sidecar that exits is restarted even under restartPolicy Never; a
failing init container before a sidecar fails the pod before the sidecar starts; startup
probes gate every later container; on deletion sidecars' preStop hooks run together and
the grace period ends in SIGKILL. A sidecar counts as started when the kubelet says so
(`started: true`), as upstream counts it, not when its script first prints.
"""

from __future__ import annotations

import copy

import pytest

from podlife.check import manifests
from podlife.check.framework import Framework
from podlife.check.instrument import Script, instrument, run, serve
from podlife.check.ordering import (
    close_together,
    exited_before_start,
    happened_before,
    restarted,
    runs_together,
)
from podlife.check.pod_state import (
    brief,
    container_status,
    exit_code,
    has_started,
    restarts,
    state_of,
)
from podlife.check.pods import ended
from podlife.core.timeline import parse_timestamp

pytestmark = pytest.mark.pattern("native-sidecar")

POD = "app-with-native-sidecar"
SIDECAR, SECOND, APP = "log-shipper", "metrics", "app"
LOGS = "/var/log/app"
#: Each plain init container of the interleaved pod runs this long, so a container started
#: too early (the kubelet syncs a pod about once a second after a change) is seen overlapping.
HOLD_S = 2


def pod_with(f: Framework, scripts: dict[str, Script], *, inits: list[str] | None = None,
             restart_policy: str = "Always", grace: int = 5) -> dict:
    """The tutorial's native-sidecar pod; `inits` lays out the init containers in order
    (SIDECAR and SECOND are native sidecars, any other name a plain init container)."""
    pod = manifests.load_one("native-sidecar")
    spec = pod["spec"]
    sidecar = spec["initContainers"][0]
    order = inits or [SIDECAR]
    layout = []
    for name in order:
        container = copy.deepcopy(sidecar)
        container["name"] = name
        if name not in (SIDECAR, SECOND):
            container.pop("restartPolicy")
            container["image"] = "busybox"
        layout.append(container)
    spec["initContainers"] = layout
    spec["restartPolicy"] = restart_policy
    spec["terminationGracePeriodSeconds"] = grace
    return instrument(pod, scripts, f.images)


def observe(f: Framework, until, *, timeout: float, what: str) -> list[dict]:
    """Every state of the pod the watch showed until `until` held, oldest first."""
    seen: list[dict] = []

    def record(pod: dict) -> bool:
        seen.append(pod)
        return until(pod)

    f.wait_pod(POD, record, timeout=timeout, what=what)
    return seen


def gated(seen: list[dict], first: str, later: str) -> None:
    """`later` was not seen started before the kubelet had reported `first` started
    (a sidecar stopped at the end reports `started: false` again: that is not a gap)."""
    reported = False
    for pod in seen:
        reported = reported or container_status(pod, first).get("started") is True
        assert reported or not has_started(pod, later), (
            f"{later} started before the kubelet reported {first} started: {brief(pod)}")


def finished(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


@pytest.mark.needs("native-sidecars")
def test_interleaved_init_containers_and_sidecars_start_in_order(f: Framework) -> None:
    """init1, sidecar1, init2, sidecar2, init3, app start in that order; each sidecar runs
    alongside what follows it, and under restartPolicy Never the pod completes."""
    inits = ["init1", SIDECAR, "init2", SECOND, "init3"]
    hold = run(f"sleep {HOLD_S}")
    f.create(pod_with(f, {"init1": hold, "init2": hold, "init3": hold, SIDECAR: serve(),
                          SECOND: serve(), APP: run("sleep 1")},
                      inits=inits, restart_policy="Never"))
    seen = observe(f, finished, timeout=120, what="the pod to complete")
    pod = seen[-1]
    assert pod["status"]["phase"] == "Succeeded", f"pod ended {brief(pod)}"
    gated(seen, SIDECAR, "init2")
    gated(seen, SECOND, "init3")
    timeline = f.timeline(POD)
    exited_before_start(timeline, "init1", SIDECAR)
    exited_before_start(timeline, "init2", SECOND)
    exited_before_start(timeline, "init3", APP)
    runs_together(timeline, SIDECAR, "init2")
    runs_together(timeline, SECOND, "init3")
    runs_together(timeline, SIDECAR, APP)
    runs_together(timeline, SECOND, APP)
    for name in ("init1", "init2", "init3", APP):
        assert exit_code(pod, name) == 0, f"{name}: {container_status(pod, name)}"
    # The sidecars did not hold the pod: the kubelet stopped them once the app was done.
    happened_before(timeline, (APP, "exiting"), (SIDECAR, "sigterm"))
    happened_before(timeline, (APP, "exiting"), (SECOND, "sigterm"))


@pytest.mark.needs("native-sidecars")
@pytest.mark.parametrize("code", [0, 1])
def test_exited_sidecar_is_restarted_under_never_and_pod_completes(f: Framework,
                                                                   code: int) -> None:
    """A sidecar that exits (code 0 or 1) is restarted under restartPolicy Never, and the
    pod still completes once the app is done."""
    marker = f"{LOGS}/.exited-once"
    sidecar = serve(f"if [ ! -f {marker} ]; then touch {marker}; ev exiting {code}; "
                    f"exit {code}; fi")
    # The app finishes when the check says so: after it has read both sidecar instances'
    # logs (the kubelet may remove the earlier instance once the pod has completed).
    app = run("until [ -f /tmp/go ]; do sleep 0.2; done")
    f.create(pod_with(f, {SIDECAR: sidecar, APP: app}, restart_policy="Never"))
    back = f.wait_pod(POD, lambda p: restarts(p, SIDECAR) >= 1
                      and container_status(p, SIDECAR).get("started") is True
                      and state_of(p, APP) == "running", never=ended, timeout=90,
                      what="the sidecar restarted and started, with the app running")
    status = container_status(back, SIDECAR)
    last = (status.get("lastState") or {}).get("terminated") or {}
    assert last, (f"the kubelet reports {status.get('restartCount')} restart(s) of {SIDECAR} "
                  f"but no last state: the earlier instance's record is gone: {status}")
    assert last.get("exitCode") == code, f"the sidecar's earlier instance: {status}"
    restarted(f.wait_reported(POD, SIDECAR), SIDECAR)
    f.exec(POD, APP, ["touch", "/tmp/go"])
    pod = observe(f, finished, timeout=90, what="the pod to complete")[-1]
    assert pod["status"]["phase"] == "Succeeded", f"pod ended {brief(pod)}"


@pytest.mark.needs("native-sidecars")
def test_failing_init_container_before_sidecar_fails_pod_under_never(f: Framework) -> None:
    """Under restartPolicy Never an init container that fails before a sidecar fails the
    pod, and neither the sidecar nor the app ever starts."""
    f.create(pod_with(f, {"setup": run("ev failing on purpose", exit_code=3), SIDECAR: serve(),
                          APP: serve()}, inits=["setup", SIDECAR], restart_policy="Never"))
    pod = observe(f, finished, timeout=90, what="the pod to end")[-1]
    assert pod["status"]["phase"] == "Failed", f"pod ended {brief(pod)}"
    assert exit_code(pod, "setup") == 3, container_status(pod, "setup")
    for name in (SIDECAR, APP):
        status = container_status(pod, name)
        assert status, f"the kubelet reported no status for {name}: {brief(pod)}"
        assert state_of(pod, name) == "waiting" and not status.get("restartCount"), (
            f"{name} started although the init container before it failed: {status}")


def probe_on(container: dict, path: str, *, failures: int) -> None:
    container["startupProbe"] = {"exec": {"command": ["test", "-f", path]},
                                 "periodSeconds": 1, "failureThreshold": failures}


def two_sidecar_pod(f: Framework, sidecar: Script, *, probe_path: str) -> dict:
    pod = pod_with(f, {SIDECAR: sidecar, SECOND: serve(), APP: serve()},
                   inits=[SIDECAR, SECOND])
    probe_on(pod["spec"]["initContainers"][0], probe_path, failures=60)
    return pod


@pytest.mark.needs("native-sidecars")
def test_sidecar_startup_probe_gates_next_sidecar_and_app(f: Framework) -> None:
    """With two sidecars, the first one's startupProbe holds back both the second sidecar
    and the app until it succeeds."""
    f.create(two_sidecar_pod(f, serve("sleep 2; touch /tmp/started; ev started"),
                             probe_path="/tmp/started"))
    seen = observe(f, lambda p: state_of(p, APP) == "running", timeout=90,
                   what="the app to run")
    gated(seen, SIDECAR, SECOND)
    gated(seen, SIDECAR, APP)
    assert any(state_of(p, SIDECAR) == "running" and not has_started(p, SECOND)
               for p in seen), "never saw the first sidecar running with the second held back"
    timeline = f.timeline(POD)
    happened_before(timeline, (SIDECAR, "started"), (SECOND, "starting"))
    happened_before(timeline, (SIDECAR, "started"), (APP, "starting"))


@pytest.mark.needs("native-sidecars")
def test_failing_sidecar_startup_probe_holds_every_later_container(f: Framework) -> None:
    """A sidecar whose startupProbe keeps failing keeps every later container from
    starting (observed over five failed probes)."""
    f.create(two_sidecar_pod(f, serve(), probe_path="/never"))
    # Five failed probes, counted by the kubelet's own event series.
    f.wait_event(POD, "Unhealthy", contains="Startup probe failed", timeout=60, count=5)
    pod = f.pod(POD)
    assert state_of(pod, SIDECAR) == "running", brief(pod)
    assert container_status(pod, SIDECAR).get("started") is not True, brief(pod)
    for name in (SECOND, APP):
        assert not has_started(pod, name), f"{name} started behind a failing probe: {brief(pod)}"


def prestop_hook(pod: dict, name: str) -> None:
    """A preStop hook that reports into the container's own log, then works for 2 s."""
    container = next(c for c in pod["spec"]["initContainers"] if c["name"] == name)
    report = f"echo podlife-event {name} prestop > /proc/1/fd/1; sleep 2"
    container["lifecycle"] = {"preStop": {"exec": {"command": ["sh", "-c", report]}}}


@pytest.mark.needs("native-sidecars")
def test_sidecar_prestop_hooks_run_together(f: Framework) -> None:
    """On deletion the preStop hooks of two sidecars start together (within a second),
    not one after the other."""
    pod = pod_with(f, {SIDECAR: serve(), SECOND: serve(), APP: serve()},
                   inits=[SIDECAR, SECOND], grace=15)
    for name in (SIDECAR, SECOND):
        prestop_hook(pod, name)
    f.create(pod)
    f.wait_ready(POD)
    timeline = f.delete_pod_observed(POD)
    # Hooks that ran in turn would be 2 s apart (each works 2 s).
    close_together(timeline, [(SIDECAR, "prestop"), (SECOND, "prestop")], within_s=1.0)


#: From the grace period's end to the kubelet's SIGKILL showing as finishedAt: measured
#: 0 s here (finishedAt equal to the deletionTimestamp, the request plus the grace period);
#: 2 s leaves room for a loaded node.
KILL_MARGIN_S = 2


@pytest.mark.needs("native-sidecars")
def test_sidecar_ignoring_sigterm_is_killed_when_grace_runs_out(f: Framework) -> None:
    """A sidecar that ignores SIGTERM is SIGKILLed (137) when the grace period runs out,
    not before and not long after, once the app stopped normally.

    Both ends are whole seconds (the pod's deletionTimestamp, the sidecar's finishedAt), so
    "when the grace runs out" is grace +-1 s, plus KILL_MARGIN_S for the kubelet to act.
    """
    grace = 3
    f.create(pod_with(f, {SIDECAR: serve(on_term="ignore"), APP: serve()}, grace=grace))
    f.wait_ready(POD)
    timeline, pod = f.delete_pod_final(POD)
    assert timeline.of(SIDECAR, "ignoring-sigterm"), "the sidecar never got SIGTERM"
    assert exit_code(pod, SIDECAR) == 137, f"sidecar: {container_status(pod, SIDECAR)}"
    # The API sets deletionTimestamp to the request time plus the grace period.
    meta = pod["metadata"]
    requested = parse_timestamp(meta["deletionTimestamp"]) - meta["deletionGracePeriodSeconds"]
    finished = container_status(pod, SIDECAR)["state"]["terminated"]["finishedAt"]
    killed = parse_timestamp(finished) - requested
    assert grace - 1 <= killed <= grace + 1 + KILL_MARGIN_S, (
        f"sidecar SIGKILLed {killed:.0f}s after the deletion; grace period {grace}s")
    assert exit_code(pod, APP) == 0, f"app: {container_status(pod, APP)}"
    happened_before(timeline, (APP, "exiting"), (SIDECAR, "sigterm"))
