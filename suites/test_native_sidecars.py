"""Native sidecars (init containers with restartPolicy Always): start first, run alongside,
restart on exit, and stop after the main containers."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest

from podlife.check import manifests
from podlife.check.expect import expect_container
from podlife.check.framework import Framework
from podlife.check.instrument import Script, instrument, run, serve
from podlife.check.ordering import expect_order, happened_before, never_reported, starts_before
from podlife.check.pod_state import container_status, state_of
from podlife.core.timeline import Timeline

pytestmark = pytest.mark.pattern("native-sidecar")

POD = "app-with-native-sidecar"
SIDECAR = "log-shipper"
APP = "app"
LOGS = "/var/log/app"


def native_pod(f: Framework, scripts: dict[str, Script] | None = None, *, grace: int = 5,
               edit: Callable[[dict], None] | None = None) -> dict:
    """The tutorial's native-sidecar Pod, instrumented; by default both containers stay up.

    `edit` changes the manifest's copy before instrumenting (added containers need scripts).
    """
    pod = manifests.load_one("native-sidecar")
    pod["spec"]["terminationGracePeriodSeconds"] = grace
    if edit:
        edit(pod)
    return instrument(pod, {SIDECAR: serve(), APP: serve(), **(scripts or {})}, f.images)


def span(timeline: Timeline, name: str) -> tuple[float | None, int | None]:
    """(finishedAt, exitCode) of a container from the kubelet's final status."""
    found = [c for c in timeline.containers if c.name == name]
    assert found, f"{timeline.pod}: no status for container {name}"
    return found[0].finished, found[0].exit_code


@pytest.mark.needs("native-sidecars")
def test_sidecar_starts_before_main_containers(f: Framework) -> None:
    """A native sidecar is started (and up) before the main container starts."""
    f.create(native_pod(f, {
        SIDECAR: serve(f"touch {LOGS}/shipper.up"),
        APP: serve(f"test -f {LOGS}/shipper.up && ev saw-shipper"),
    }))
    pod = f.wait_ready(POD)
    timeline = f.timeline(POD)
    expect_order(timeline, (SIDECAR, "starting"), (SIDECAR, "ready"), (APP, "starting"))
    assert timeline.of(APP, "saw-shipper"), "the app did not find the sidecar's file at start"
    sidecar, app = container_status(pod, SIDECAR), container_status(pod, APP)
    assert sidecar["state"]["running"]["startedAt"] <= app["state"]["running"]["startedAt"]


@pytest.mark.needs("native-sidecars")
def test_sidecar_starts_before_later_init_container(f: Framework) -> None:
    """A native sidecar starts before a later init container, which exits before the app.

    The later init container checks the sidecar is up (a file it made in the shared volume).
    """

    def add_setup(pod: dict) -> None:
        pod["spec"]["initContainers"].append({
            "name": "setup", "image": "busybox",
            "volumeMounts": [{"name": "logs", "mountPath": LOGS}]})

    f.create(native_pod(f, {
        SIDECAR: serve(f"touch {LOGS}/shipper.up"),
        "setup": run(f"test -f {LOGS}/shipper.up && ev saw-shipper"),
    }, edit=add_setup))
    pod = f.wait_ready(POD)
    timeline = f.timeline(POD)
    expect_order(timeline, (SIDECAR, "starting"), (SIDECAR, "ready"), ("setup", "starting"),
                 ("setup", "exiting"), (APP, "starting"))
    assert timeline.of("setup", "saw-shipper"), "setup ran without the sidecar being up"
    expect_container(pod, "setup", state="terminated", exit_code=0)
    expect_container(pod, SIDECAR, state="running", restarts=0,
                     why="the sidecar runs on, unrestarted, after the later init container")


@pytest.mark.needs("native-sidecars")
def test_later_container_waits_for_sidecar_startup_probe(f: Framework) -> None:
    """A native sidecar's startupProbe holds the app back until the sidecar is started.

    The app must start after the sidecar reported its warm-up done and after the pod
    status showed the sidecar `started: true`.
    """

    def add_probe(pod: dict) -> None:
        pod["spec"]["initContainers"][0]["startupProbe"] = {
            "exec": {"command": ["test", "-f", "/tmp/started"]},
            "periodSeconds": 1, "failureThreshold": 60}

    # The sidecar needs a moment to warm up: that delay is what the probe must wait out.
    f.create(native_pod(f, {
        SIDECAR: serve("ev warming-up; sleep 2; touch /tmp/started; ev started"),
    }, edit=add_probe))
    seen: list[tuple[str, bool | None, str]] = []

    def record(pod: dict) -> bool:
        sidecar = container_status(pod, SIDECAR)
        seen.append((state_of(pod, SIDECAR), sidecar.get("started"), state_of(pod, APP)))
        return seen[-1][2] == "running"

    f.wait_pod(POD, record, timeout=90, what="the app to run")
    early = [s for s in seen if s[2] == "running" and s[1] is not True]
    assert not early, f"app running while the sidecar was not started: {early} (all: {seen})"
    gated = [s for s in seen if s[0] == "running" and s[1] is not True and s[2] != "running"]
    assert gated, ("never saw the sidecar running but not yet started while the app waited; "
                   f"observed (sidecar state, started, app state): {seen}")
    timeline = f.timeline(POD)
    happened_before(timeline, (SIDECAR, "started"), (APP, "starting"))


@pytest.mark.needs("native-sidecars")
def test_sidecar_keeps_running_alongside_main_container(f: Framework) -> None:
    """A native sidecar keeps running, unrestarted, while the main container works."""

    def app_readiness(pod: dict) -> None:
        pod["spec"]["containers"][0]["readinessProbe"] = {
            "exec": {"command": ["test", "-f", "/tmp/worked"]}, "periodSeconds": 1}

    # The app works for a few seconds before it reports ready: the span under observation.
    f.create(native_pod(f, {APP: serve("sleep 3; touch /tmp/worked; ev worked")},
                        edit=app_readiness))
    running = f.wait_pod(POD, lambda p: state_of(p, APP) == "running",
                         timeout=90, what="the app to run")
    assert state_of(running, SIDECAR) == "running", f"sidecar not running: {running['status']}"
    first_start = container_status(running, SIDECAR)["state"]["running"]["startedAt"]
    pod = f.wait_ready(POD)
    sidecar = container_status(pod, SIDECAR)
    assert state_of(pod, SIDECAR) == "running" and state_of(pod, APP) == "running", (
        f"both should run once the app worked: {pod['status']}")
    assert sidecar["state"]["running"]["startedAt"] == first_start, "sidecar was replaced"
    expect_container(pod, SIDECAR, restarts=0)
    timeline = f.timeline(POD)
    worked = happened_before(timeline, (APP, "starting"), (APP, "worked")) / 1e9
    # The runtime stamps each line when it reads it, so the 3 s sleep measured 2.95-3.0 s
    # here; under 2.5 s the app did not work long enough to observe the sidecar through.
    assert worked >= 2.5, f"app worked only {worked:.3f}s"
    assert len(timeline.of(SIDECAR, "starting")) == 1
    never_reported(timeline, SIDECAR, "sigterm", "exiting")  # not stopped while the app works


@pytest.mark.needs("native-sidecars")
def test_sidecar_restarts_on_exit_with_restart_never(f: Framework) -> None:
    """A native sidecar that exits is restarted, even with restartPolicy Never.

    The sidecar exits 1 once (a marker in the emptyDir keeps its second instance up); the
    pod must not fail.
    """
    marker = f"{LOGS}/.shipper-crashed-once"
    crash_once = (f"if [ ! -f {marker} ]; then touch {marker}; ev crashing; ev exiting 1; "
                  "exit 1; fi")

    def never(pod: dict) -> None:
        pod["spec"]["restartPolicy"] = "Never"

    f.create(native_pod(f, {SIDECAR: serve(crash_once)}, edit=never))
    pod = f.wait_pod(POD, lambda p: container_status(p, SIDECAR).get("restartCount", 0) >= 1
                     and state_of(p, SIDECAR) == "running" and state_of(p, APP) == "running",
                     timeout=90, what="the sidecar restarted and running, with the app")
    assert pod["status"]["phase"] == "Running", f"pod phase {pod['status']['phase']}"
    sidecar = container_status(pod, SIDECAR)
    last = (sidecar.get("lastState") or {}).get("terminated") or {}
    assert last.get("exitCode") == 1, f"previous sidecar instance: {sidecar.get('lastState')}"
    previous = f.logs(POD, SIDECAR, previous=True)
    assert "crashing" in previous and "exiting 1" in previous, (
        f"previous sidecar log does not show the exit:\n{previous}")
    expect_container(pod, APP, restarts=0)
    timeline = f.timeline(POD)
    assert timeline.of(SIDECAR, "ready"), "restarted sidecar never came up"


@pytest.mark.needs("native-sidecars")
def test_main_containers_stop_before_sidecars(f: Framework) -> None:
    """On deletion the main container stops first; the sidecar gets SIGTERM only after."""
    # The app takes a second to shut down, so a simultaneous SIGTERM would show.
    f.create(native_pod(f, {APP: serve(on_term=1)}, grace=10))
    f.wait_ready(POD)
    timeline = f.delete_pod_observed(POD)
    happened_before(timeline, (APP, "exiting"), (SIDECAR, "sigterm"))
    app_finished, app_code = span(timeline, APP)
    sidecar_finished, sidecar_code = span(timeline, SIDECAR)
    assert app_finished is not None and sidecar_finished is not None
    assert app_finished <= sidecar_finished, "sidecar finished before the app"
    assert (app_code, sidecar_code) == (0, 0), "both should exit gracefully on SIGTERM"


@pytest.mark.needs("native-sidecars")
def test_sidecars_stop_in_reverse_start_order(f: Framework) -> None:
    """With two native sidecars, the one started last is stopped first, after the app."""

    def add_metrics(pod: dict) -> None:
        metrics = copy.deepcopy(pod["spec"]["initContainers"][0])
        metrics["name"] = "metrics"
        pod["spec"]["initContainers"].append(metrics)

    slow = serve(on_term=1)  # a second of shutdown work makes any overlap visible
    f.create(native_pod(f, {SIDECAR: slow, "metrics": slow, APP: slow}, grace=15,
                        edit=add_metrics))
    f.wait_ready(POD)
    timeline = f.delete_pod_observed(POD)
    starts_before(timeline, SIDECAR, "metrics")
    starts_before(timeline, "metrics", APP)
    expect_order(timeline, (APP, "exiting"), ("metrics", "sigterm"), ("metrics", "exiting"),
                 (SIDECAR, "sigterm"), (SIDECAR, "exiting"))
    finished = [span(timeline, c)[0] for c in (APP, "metrics", SIDECAR)]
    assert None not in finished and finished == sorted(finished), f"finishedAt {finished}"


@pytest.mark.needs("native-sidecars")
def test_log_shipper_ships_main_containers_last_lines(f: Framework) -> None:
    """A native log-shipping sidecar still ships the line the app writes on shutdown.

    It is stopped only after the app exited, so the app's last line is not lost.
    """
    log = f"{LOGS}/app.log"
    # The shipper follows the shared file; on SIGTERM it ships what is left, then exits.
    # (Its loop replaces serve's idle loop, so it reports 'ready' itself.)
    shipper = serve(
        f"touch {log}; exec 3< {log}\n"
        'ship() { while IFS= read -r line <&3; do ev shipped "$line"; done; }\n'
        "on_term() { ev sigterm; ship; ev exiting 0; exit 0; }\n"
        "ev ready\n"
        "while true; do ship; sleep 0.2 & wait $!; done")
    # The app takes a moment to write its final line once told to stop.
    app = serve(
        f'echo "app: started" >> {log}\n'
        "on_term() { ev sigterm; sleep 1; "
        f'echo "app: final line before exit" >> {log}; ev wrote-final-line; '
        "ev exiting 0; exit 0; }")
    f.create(native_pod(f, {SIDECAR: shipper, APP: app}, grace=10))
    f.wait_ready(POD)
    timeline = f.delete_pod_observed(POD)
    shipped = [e.detail for e in timeline.of(SIDECAR, "shipped")]
    assert "app: started" in shipped, f"shipper did not ship the app's log at all: {shipped}"
    assert timeline.of(APP, "wrote-final-line"), "app never wrote its final line"
    assert "app: final line before exit" in shipped, (
        f"the app's last line was lost; shipped: {shipped}")
    happened_before(timeline, (APP, "exiting"), (SIDECAR, "sigterm"))
