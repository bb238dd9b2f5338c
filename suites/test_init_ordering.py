"""Init containers run one after another, and a failing one holds the pod back."""

from __future__ import annotations

import time

import pytest
import tenacity

from podlife.check import manifests
from podlife.check.expect import expect_container
from podlife.check.framework import Framework
from podlife.check.instrument import Script, instrument, run, serve
from podlife.check.ordering import one_after_another
from podlife.check.pod_state import (
    brief,
    condition,
    condition_true,
    container_status,
    display_status,
    exit_code,
    restarts,
    state_detail,
    state_of,
)
from podlife.core.timeline import parse_timestamp

pytestmark = pytest.mark.pattern("multiple-init-containers")

ORDER = ["fetch-config", "run-migrations", "warm-cache"]


def multiple_init_pod(f: Framework, *, failing: str | None = None,
                      restart_policy: str | None = None,
                      overrides: dict[str, Script] | None = None) -> dict:
    """The tutorial's multiple-init-containers Pod, instrumented; one init step may fail."""
    scripts: dict[str, Script] = {
        "fetch-config": run("echo 'listen: 8080' > /config/app.conf"),
        "run-migrations": run('test -n "$DATABASE_URL" && ev migrated'),
        "warm-cache": run(),
        "app": serve("cat /config/app.conf"),
    }
    if failing:
        scripts[failing] = run("ev failing on purpose", exit_code=3)
    scripts.update(overrides or {})
    pod = instrument(manifests.load_one("multiple-init-containers"), scripts, f.images)
    if restart_policy:
        pod["spec"]["restartPolicy"] = restart_policy
    return pod


#: How long each of the first two init steps keeps running in the ordering check. A kubelet
#: that started the next init container early would do so at its next pod sync, which
#: follows a container's start within about a second (PLEG relist period: 1 s), so a step
#: of 2.5 s leaves that early start in plain view.
HOLD_S = 2.5


def test_init_containers_run_in_order(f: Framework) -> None:
    """Init container N+1 starts only after N exited 0; the app starts after all of them."""
    f.create_support("secrets")
    f.create(multiple_init_pod(f, overrides={
        "fetch-config": run(f"echo 'listen: 8080' > /config/app.conf; sleep {HOLD_S}"),
        "run-migrations": run(f'test -n "$DATABASE_URL" && ev migrated; sleep {HOLD_S}'),
    }))
    f.wait_ready("myapp")
    timeline = f.wait_reported("myapp", "app", "ready")
    one_after_another(timeline, *ORDER, "app")
    pod = f.pod("myapp")
    for name in ORDER:
        assert exit_code(pod, name) == 0, container_status(pod, name)
    assert condition_true(pod, "Initialized") and pod["status"]["phase"] == "Running", (
        brief(pod))


def test_init_containers_then_app_succeed_with_restart_never(f: Framework) -> None:
    """With restartPolicy Never, init containers and then an app that finishes take the pod
    to Succeeded: Initialized=True, every init container exited 0."""
    f.create_support("secrets")
    f.create(multiple_init_pod(f, restart_policy="Never", overrides={"app": run()}))
    pod = f.wait_phase("myapp", ("Succeeded",), timeout=90)
    assert condition_true(pod, "Initialized"), brief(pod)
    for name in [*ORDER, "app"]:
        assert exit_code(pod, name) == 0, container_status(pod, name)
    one_after_another(f.timeline("myapp"), *ORDER, "app")


def never_started(pod: dict, name: str) -> None:
    """The kubelet reports the container, and it never ran: missing evidence is not absence."""
    status = container_status(pod, name)
    assert status, f"no status reported for {name}: {brief(pod)}"
    assert state_of(pod, name) == "waiting" and not restarts(pod, name), (
        f"{name} ran: {status}")


def start_times(seen: list[dict], name: str) -> list[float]:
    """Every distinct start of a container the watch showed (current and last state), one per
    container ID: two starts within the same whole second are still two starts."""
    starts: dict[str, float] = {}
    for pod in seen:
        status = container_status(pod, name)
        current = (status.get("state") or {}).get("running") or {}
        if current.get("startedAt") and status.get("containerID"):
            starts[status["containerID"]] = parse_timestamp(current["startedAt"])
        for state in (status.get("state") or {}, status.get("lastState") or {}):
            ended = state.get("terminated") or {}
            if ended.get("startedAt") and ended.get("containerID"):
                starts[ended["containerID"]] = parse_timestamp(ended["startedAt"])
    return sorted(starts.values())


def test_failing_init_container_is_retried_with_restart_always(f: Framework) -> None:
    """With restartPolicy Always a failing init container is retried with a growing back-off,
    the app waits (PodInitializing) and never starts, and the pod stays Pending, not
    Initialized, showing Init:CrashLoopBackOff.

    The kubelet's back-off doubles after each failure: measured on 1.37.2, the second start
    came about 1 s after the first and the third about 14 s after the second (start times
    are whole seconds), so the check waits for two restarts and compares the gaps.
    """
    f.create_support("secrets")
    f.create(multiple_init_pod(f, failing="run-migrations"))
    seen: list[dict] = []
    pod = f.wait_pod("myapp", lambda p: seen.append(p) or restarts(p, "run-migrations") >= 2,
                     timeout=150, what="run-migrations to be retried twice")
    starts = start_times(seen, "run-migrations")
    assert len(starts) >= 3, f"saw starts at {starts}"
    first_gap, second_gap = starts[1] - starts[0], starts[2] - starts[1]
    assert second_gap > first_gap, (
        f"back-off did not grow: retries {first_gap:.0f}s then {second_gap:.0f}s apart")
    assert pod["status"]["phase"] == "Pending", brief(pod)
    initialized = condition(pod, "Initialized")
    assert (initialized.get("status"), initialized.get("reason")) == (
        "False", "ContainersNotInitialized"), initialized
    never_started(pod, "warm-cache")
    never_started(pod, "app")
    assert state_detail(pod, "app").get("reason") == "PodInitializing", brief(pod)
    waiting = f.wait_pod("myapp", lambda p: state_of(p, "run-migrations") == "waiting"
                         and state_detail(p, "run-migrations").get("reason")
                         == "CrashLoopBackOff", timeout=60,
                         what="run-migrations in CrashLoopBackOff")
    assert display_status(waiting) == "Init:CrashLoopBackOff"
    # The tutorial's debugging steps: `describe` shows the back-off, `logs -c` shows the
    # completed step, `logs -c --previous` the failed attempt.
    f.wait_event("myapp", "BackOff", contains="run-migrations")
    assert "podlife-event fetch-config exiting 0" in f.logs("myapp", "fetch-config")
    # The status can name a previous instance the runtime no longer keeps: the API then
    # answers "unable to retrieve container logs" (kubernetes/kubernetes#101044; seen on
    # kind, for 30 s and more). The failed attempt's output must then be readable as the
    # current log, which the kubelet serves from the last instance while it waits.
    for attempt in tenacity.Retrying(stop=tenacity.stop_after_delay(30), reraise=True,
                                     wait=tenacity.wait_fixed(1)):
        with attempt:
            previous = f.logs("myapp", "run-migrations", previous=True)
            current = f.logs("myapp", "run-migrations")
            assert "failing on purpose" in previous + current, (previous, current)


def test_failing_init_container_fails_pod_with_restart_never(f: Framework) -> None:
    """With restartPolicy Never a failing init container fails the whole pod."""
    f.create_support("secrets")
    f.create(multiple_init_pod(f, failing="run-migrations", restart_policy="Never"))
    pod = f.wait_phase("myapp", ("Failed", "Succeeded"), timeout=90)
    assert pod["status"]["phase"] == "Failed"
    assert exit_code(pod, "run-migrations") == 3, container_status(pod, "run-migrations")
    assert restarts(pod, "run-migrations") == 0
    never_started(pod, "warm-cache")
    never_started(pod, "app")


#: Measured from the deletion request to the pod gone from the API, past its grace period:
#: 1-2 s on an idle node (the kubelet's SIGKILL, its status update, the API's final
#: delete), 6.4 s on a node busy with a parallel suite. 10 s leaves room for that and stays
#: far below the 30 s default a kubelet ignoring the pod's own grace period would take.
GONE_MARGIN_S = 10.0


def test_pod_deleted_while_initializing_is_gone_within_its_grace_period(
        f: Framework) -> None:
    """A pod deleted while an init container runs (one that ignores SIGTERM) is gone from
    the API once its grace period is over, plus a small margin, not before."""
    grace = 3
    f.create_support("secrets")
    hold = Script(body="until [ -f /tmp/go ]; do sleep 0.2; done", on_term="ignore")
    pod = multiple_init_pod(f, overrides={"run-migrations": hold})
    pod["spec"]["terminationGracePeriodSeconds"] = grace
    f.create(pod)
    f.wait_reported("myapp", "run-migrations", "starting")
    requested = time.monotonic()
    f.core.delete_namespaced_pod("myapp", f.namespace)
    f.wait_gone("myapp", timeout=grace + 60)
    took = time.monotonic() - requested
    assert grace - 0.5 <= took <= grace + GONE_MARGIN_S, (
        f"pod gone {took:.1f}s after its deletion; grace period {grace}s "
        f"(+{GONE_MARGIN_S:.0f}s margin)")


def test_pod_reports_init_progress(f: Framework) -> None:
    """While init container N of M runs, the pod shows Init:N/M (as kubectl prints it)."""
    f.create_support("secrets")
    # The second step waits for a file the check creates, so the pod stays at Init:1/3.
    hold = run("until [ -f /tmp/go ]; do sleep 0.2; done")
    f.create(multiple_init_pod(f, overrides={"run-migrations": hold}))
    seen = f.wait_pod("myapp", lambda p: display_status(p) == "Init:1/3" and "running" in (
        container_status(p, "run-migrations").get("state") or {}), timeout=60,
        what="status Init:1/3 with run-migrations running")
    expect_container(seen, "fetch-config", state="terminated", exit_code=0)
    f.exec("myapp", "run-migrations", ["touch", "/tmp/go"])
    f.wait_ready("myapp")

