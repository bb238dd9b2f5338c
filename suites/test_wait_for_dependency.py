"""An init container that waits for a dependency holds the app back until it answers.

The tutorial's `wait-for-db` loops on `nc -z postgres 5432`; these checks keep that very
command and change only what can be reached at the other end.
"""

from __future__ import annotations

import pytest
from kubernetes import client as k8s

from podlife.check import manifests
from podlife.check.expect import expect_container
from podlife.check.framework import Framework
from podlife.check.instrument import instrument, map_images, serve
from podlife.check.ordering import reported_after
from podlife.check.pod_state import container_status
from podlife.core.images import adapt_command

pytestmark = pytest.mark.pattern("wait-for-db")

WAITING = "waiting for db"
# The loop polls every 2 s; kube-proxy and the endpoint controller add a little more.
MAX_START_DELAY = 15.0


def wait_for_db_pod(f: Framework) -> dict:
    """The tutorial's Basic Init Container pod, with its own wait-for-db command kept.

    The image map adapts one thing on podlife's local image: `nc -z` is called as /bin/nc,
    since Debian's busybox shell would otherwise run its built-in nc, which lacks -z, and
    fail every attempt exactly like an unreachable database (see images.adapt_command).
    """
    tutorial = manifests.load_one("wait-for-db")
    pod = instrument(tutorial, {"app": serve()}, f.images, keep_command=("wait-for-db",))
    (init,) = pod["spec"]["initContainers"]
    expected = adapt_command(tutorial["spec"]["initContainers"][0]["command"],
                             f.images.provider)
    assert init["command"] == expected, f"tutorial command changed: {init['command']}"
    return pod


def assert_still_waiting(f: Framework, lines: int) -> dict:
    """Wait for `lines` 'waiting for db' lines, then check the app has not started."""
    log = f.wait_log("myapp", "wait-for-db", lambda text: text.count(WAITING) >= lines,
                     timeout=90, what=f"{lines} '{WAITING}' lines")
    # `nc -z` prints nothing: any other line (a usage message, an error) means the probe
    # itself is broken, and the app would wait forever whatever the database did.
    other = [line for line in log.splitlines() if line.split(" ", 1)[-1] != WAITING]
    assert other == [], f"wait-for-db printed more than '{WAITING}': {other[:5]}"
    pod = f.pod("myapp")
    status = pod["status"]
    app = container_status(pod, "app")
    assert status["phase"] == "Pending", f"pod is {status['phase']} while the db is unreachable"
    expect_container(pod, "wait-for-db", state="running", restarts=0,
                     why="wait-for-db loops, unrestarted, while the db is unreachable")
    assert not {"running", "terminated"} & set(app.get("state") or {}), (
        f"app started while the db is unreachable: {app}")
    assert f.timeline("myapp").of("app") == [], "app reported events before the db answered"
    return pod


def test_app_waits_for_missing_database_then_starts(f: Framework) -> None:
    """The app does not start while Service postgres is missing, and starts soon after the
    postgres stand-in becomes Ready."""
    f.create(wait_for_db_pod(f))
    assert_still_waiting(f, lines=2)

    f.create_support("postgres")
    service_created = f.core.read_namespaced_service(
        "postgres", f.namespace).metadata.creation_timestamp.timestamp()
    timeline = f.wait_reported("myapp", "app", timeout=120)
    reported_after(timeline, ("app", "starting"), service_created,
                   "the postgres Service was created")

    (db,) = f.core.list_namespaced_pod(
        f.namespace, label_selector="app.kubernetes.io/name=postgres").items
    ready = next(c for c in db.status.conditions if c.type == "Ready")
    assert ready.status == "True", f"postgres stand-in not Ready: {ready}"
    # lastTransitionTime has whole seconds, so it is at most 1 s before the real moment.
    delay = reported_after(timeline, ("app", "starting"), ready.last_transition_time.timestamp(),
                           "postgres became Ready")
    assert delay <= MAX_START_DELAY + 1, (
        f"app started {delay:.1f}s after postgres became Ready "
        f"(expected within {MAX_START_DELAY:.0f}s with a 2s loop)")
    pod = f.pod("myapp")
    expect_container(pod, "wait-for-db", state="terminated", exit_code=0, restarts=0)


def test_service_without_endpoints_keeps_app_waiting(f: Framework) -> None:
    """A postgres Service that exists but has no ready endpoint keeps the app waiting."""
    standin = {o["kind"]: o for o in manifests.support("postgres")}
    f.create(standin["Service"])  # the Service only: nothing behind it listens on 5432
    f.create(wait_for_db_pod(f))
    assert_still_waiting(f, lines=2)

    service = f.core.read_namespaced_service("postgres", f.namespace)
    assert service.spec.cluster_ip, "the postgres Service has no cluster IP to connect to"
    slices = k8s.DiscoveryV1Api(f.api).list_namespaced_endpoint_slice(
        f.namespace, label_selector="kubernetes.io/service-name=postgres").items
    ready = [e for s in slices for e in s.endpoints or [] if e.conditions and e.conditions.ready]
    assert ready == [], f"the postgres Service unexpectedly has ready endpoints: {ready}"
    assert_still_waiting(f, lines=3)

    # The same pod goes on once something listens behind the Service: the wait above was
    # for the endpoint, not a probe that can never succeed.
    f.create(map_images(standin["Deployment"], f.images))
    f.wait_ready("myapp", timeout=120, why="wait-for-db lets the app start once the db answers")
    expect_container(f.pod("myapp"), "wait-for-db", state="terminated", exit_code=0)
