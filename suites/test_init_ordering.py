"""Init containers run one after another, and a failing one holds the pod back."""

from __future__ import annotations

import pytest

from podlife import manifests
from podlife.framework import Framework
from podlife.instrument import Script, instrument, run, serve
from podlife.ordering import one_after_another
from podlife.pod_state import container_status, display_status

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
        assert container_status(pod, name)["state"]["terminated"]["exitCode"] == 0


def test_failing_init_container_is_retried_with_restart_always(f: Framework) -> None:
    """With restartPolicy Always a failing init container is retried, the app never starts,
    and the pod reports Init:CrashLoopBackOff."""
    f.create_support("secrets")
    f.create(multiple_init_pod(f, failing="run-migrations"))
    # One retry shows the policy; waiting for more would only wait out the growing back-off.
    pod = f.wait_pod("myapp", lambda p: container_status(p, "run-migrations").get(
        "restartCount", 0) >= 1, timeout=120, what="run-migrations to be retried")
    assert pod["status"]["phase"] == "Pending"
    assert "state" not in container_status(pod, "warm-cache") or container_status(
        pod, "warm-cache")["state"].get("waiting"), "warm-cache ran after a failed step"
    app = container_status(pod, "app")
    assert "running" not in (app.get("state") or {}), "app started despite a failed init"
    waiting = f.wait_pod("myapp", lambda p: (container_status(p, "run-migrations").get(
        "state") or {}).get("waiting", {}).get("reason") == "CrashLoopBackOff", timeout=60,
        what="run-migrations in CrashLoopBackOff")
    assert display_status(waiting) == "Init:CrashLoopBackOff"
    timeline = f.timeline("myapp")
    assert timeline.first("fetch-config", "exiting").detail == "0"
    assert timeline.of("warm-cache") == [], "warm-cache ran after a failed step"


def test_failing_init_container_fails_pod_with_restart_never(f: Framework) -> None:
    """With restartPolicy Never a failing init container fails the whole pod."""
    f.create_support("secrets")
    f.create(multiple_init_pod(f, failing="run-migrations", restart_policy="Never"))
    pod = f.wait_phase("myapp", ("Failed", "Succeeded"), timeout=90)
    assert pod["status"]["phase"] == "Failed"
    status = container_status(pod, "run-migrations")
    assert status["state"]["terminated"]["exitCode"] == 3
    assert status.get("restartCount", 0) == 0
    assert "running" not in (container_status(pod, "app").get("state") or {})
    assert f.timeline("myapp").of("warm-cache") == []


def test_pod_reports_init_progress(f: Framework) -> None:
    """While init container N of M runs, the pod shows Init:N/M (as kubectl prints it)."""
    f.create_support("secrets")
    # The second step waits for a file the check creates, so the pod stays at Init:1/3.
    hold = run("until [ -f /tmp/go ]; do sleep 0.2; done")
    f.create(multiple_init_pod(f, overrides={"run-migrations": hold}))
    seen = f.wait_pod("myapp", lambda p: display_status(p) == "Init:1/3" and "running" in (
        container_status(p, "run-migrations").get("state") or {}), timeout=60,
        what="status Init:1/3 with run-migrations running")
    assert container_status(seen, "fetch-config")["state"]["terminated"]["exitCode"] == 0
    f.exec("myapp", "run-migrations", ["touch", "/tmp/go"])
    f.wait_ready("myapp")

