"""Container lifecycle from the tutorial: SIGTERM on deletion, SIGKILL after the grace
period, readiness gating Ready, and probes on sidecars."""

from __future__ import annotations

import pytest
from kubernetes.client.rest import ApiException

from podlife.check import manifests
from podlife.check.expect import expect_container
from podlife.check.framework import Framework
from podlife.check.instrument import Script, instrument, serve
from podlife.check.ordering import close_together
from podlife.check.outcomes import error
from podlife.check.pod_state import container_status, is_ready, is_running
from podlife.core.timeline import parse_timestamp

LOGGING_POD = "app-with-logging"
PROXY_POD = "app-with-proxy"
PROBES_POD = "sidecar-probes"
# Seconds past the grace period allowed from deletion request to SIGKILL: the kubelet's
# reaction to the deletion (up to ~2s seen on a loaded node) plus whole-second timestamps.
GRACE_TOLERANCE = 4.0


def logging_pod(f: Framework, app: Script, *, grace: int) -> dict:
    """The tutorial's basic log-shipper Pod (two plain containers), instrumented."""
    f.create_support("configmaps")
    pod = manifests.load_one("log-shipper")
    pod["spec"]["terminationGracePeriodSeconds"] = grace
    return instrument(pod, {"app": app, "log-shipper": serve()}, f.images)


def probes_pod(f: Framework, proxy_body: str, *, native: bool = False,
               liveness_delay: int | None = None) -> dict:
    """The tutorial's Probe Configuration pod; the proxy answers /ready on 15021 with httpd.

    The readiness period is shortened to 1s (the default is 10s). The liveness probe is
    the tutorial's unless liveness_delay is given: then it starts after that delay and
    checks every second. native=True makes the proxy a native sidecar.
    """
    pod = manifests.load_one("sidecar-probes")
    spec = pod["spec"]
    spec["terminationGracePeriodSeconds"] = 2
    proxy = spec["containers"][0]
    proxy["readinessProbe"]["periodSeconds"] = 1
    if liveness_delay is not None:
        proxy["livenessProbe"].update(initialDelaySeconds=liveness_delay, periodSeconds=1,
                                      failureThreshold=2)
    if native:
        spec["containers"].remove(proxy)
        proxy["restartPolicy"] = "Always"
        spec["initContainers"] = [proxy]
    httpd = "mkdir -p /www; httpd -f -p 15021 -h /www &\n"
    return instrument(pod, {"proxy": serve(httpd + proxy_body), "app": serve()}, f.images)


@pytest.mark.pattern("log-shipper")
def test_containers_get_sigterm_on_deletion(f: Framework) -> None:
    """Deleting a pod sends SIGTERM to all its (plain) containers at once; each exits 0."""
    f.create(logging_pod(f, serve(), grace=5))
    f.wait_ready(LOGGING_POD)
    timeline = f.delete_pod_observed(LOGGING_POD)
    # Plain containers are signalled together: their SIGTERMs land within two seconds.
    close_together(timeline, [("app", "sigterm"), ("log-shipper", "sigterm")], within_s=2.0)
    for span in timeline.containers:
        assert span.exit_code == 0, (
            f"{span.name} exited {span.exit_code}, not 0: it was killed, not stopped by SIGTERM")


@pytest.mark.pattern("log-shipper")
def test_container_ignoring_sigterm_is_killed_after_grace_period(f: Framework) -> None:
    """A container ignoring SIGTERM is SIGKILLed (137) after terminationGracePeriodSeconds.

    Timed from the deletion request (deletionTimestamp - grace) to the container's finishedAt.
    """
    grace = 3
    f.create(logging_pod(f, serve(on_term="ignore"), grace=grace))
    f.wait_ready(LOGGING_POD)
    timeline, pod = f.delete_pod_final(LOGGING_POD)
    assert timeline.of("app", "ignoring-sigterm"), "app never got (and ignored) SIGTERM"
    app = expect_container(pod, "app", state="terminated", exit_code=137,
                           why="expected SIGKILL (137)")["state"]["terminated"]
    meta = pod["metadata"]
    assert meta["deletionGracePeriodSeconds"] == grace
    # The API stores deletionTimestamp as request time + grace (whole seconds).
    requested = parse_timestamp(meta["deletionTimestamp"]) - grace
    took = parse_timestamp(app["finishedAt"]) - requested
    assert grace <= took <= grace + GRACE_TOLERANCE, (
        f"app killed {took:.0f}s after the deletion request; expected {grace}s "
        f"(+{GRACE_TOLERANCE:.0f}s tolerance)")
    expect_container(pod, "log-shipper", state="terminated", exit_code=0,
                     why="the shipper should have stopped on SIGTERM")


@pytest.mark.pattern("proxy-sidecar")
def test_readiness_probe_gates_ready(f: Framework) -> None:
    """A pod is not Ready until its app's readinessProbe passes (its ready file exists)."""
    f.create_support("configmaps")
    pod = manifests.load_one("proxy-sidecar")
    pod["spec"]["terminationGracePeriodSeconds"] = 2
    pod["spec"]["containers"][0]["readinessProbe"] = {
        "exec": {"command": ["test", "-f", "/tmp/ready"]}, "periodSeconds": 1}
    f.create(instrument(pod, {"app": serve(), "proxy": serve()}, f.images))
    readiness_gates_pod(f, PROXY_POD, gated="app", other="proxy", ready_file="/tmp/ready")


def readiness_gates_pod(f: Framework, pod: str, *, gated: str, other: str,
                        ready_file: str) -> dict:
    """While `gated`'s readiness probe fails the pod is not Ready (though `other` is);
    once the check creates its ready file, the pod becomes Ready."""
    f.wait_pod(pod, lambda p: is_running(p, gated) and is_running(p, other), timeout=90,
               what="both containers running")
    event = f.wait_event(pod, "Unhealthy", contains="Readiness probe failed")
    assert f"{{{gated}}}" in event["involvedObject"].get("fieldPath", ""), (
        event["involvedObject"])
    before = f.pod(pod)
    assert not is_ready(before), f"pod Ready although {gated}'s readiness probe fails"
    assert container_status(before, gated).get("ready") is False
    assert container_status(before, other).get("ready") is True
    f.exec(pod, gated, ["touch", ready_file])
    after = f.wait_ready(pod, timeout=30)
    assert container_status(after, gated).get("ready") is True
    return after


@pytest.mark.pattern("sidecar-probes")
def test_sidecar_readiness_gates_pod_ready(f: Framework) -> None:
    """A sidecar's failing readinessProbe keeps the pod not Ready though the app is ready.

    The proxy's /ready on 15021 answers only once the check creates the file.
    """
    f.create(probes_pod(f, ""))  # serves nothing yet: /ready is 404
    after = readiness_gates_pod(f, PROBES_POD, gated="proxy", other="app",
                                ready_file="/www/ready")
    expect_container(after, "proxy", restarts=0)


def previous_log(f: Framework, container: str) -> str:
    """The previous instance's log, or "" when the kubelet kept none."""
    try:
        return f.logs(PROBES_POD, container, previous=True)
    except ApiException:
        return ""


def liveness_restarts_only_the_sidecar(f: Framework, *, native: bool) -> None:
    """Fail the proxy's liveness probe (remove /ready) and check only the proxy restarts.

    The first proxy's log is followed live: the kubelet may keep no record of a replaced
    container (kubernetes/kubernetes#101044), so its SIGTERM is read from what podlife kept.
    """
    f.create(probes_pod(f, "touch /www/ready", native=native, liveness_delay=1))
    ready = f.wait_ready(PROBES_POD)
    app_before = container_status(ready, "app")
    proxy_before = container_status(ready, "proxy")
    first_proxy = f.follow_logs(PROBES_POD, "proxy")
    f.exec(PROBES_POD, "proxy", ["rm", "/www/ready"])
    pod = f.wait_pod(PROBES_POD, lambda p: container_status(p, "proxy").get(
        "restartCount", 0) >= 1 and is_running(p, "proxy"), timeout=60,
        what="the proxy restarted after failing liveness")
    event = f.wait_event(PROBES_POD, "Killing", contains="liveness probe")
    assert "{proxy}" in event["involvedObject"].get("fieldPath", ""), event["involvedObject"]
    proxy = container_status(pod, "proxy")
    assert proxy.get("containerID") != proxy_before.get("containerID"), (
        f"proxy restartCount {proxy.get('restartCount')} but the same container runs: {proxy}")
    app = expect_container(pod, "app", state="running", restarts=0, why="app disturbed")
    assert app.get("containerID") == app_before.get("containerID"), "app was replaced"
    first_proxy.join(timeout=10)  # its stream ended when the first proxy exited
    followed = first_proxy.text("proxy")
    if " proxy sigterm" not in followed:
        # Seen once in 20 soak runs on a loaded node: the stream printed nothing (it
        # connected too late). The previous instance's log is then the record, if kept.
        before = previous_log(f, "proxy")
        if " proxy starting" in before:
            followed = before
        elif not followed:
            error("no log of the first proxy could be read (followed or previous): "
                  "whether it got SIGTERM is unknown")
    assert " proxy sigterm" in followed, (
        "the failed proxy was not stopped with SIGTERM; its log as followed:\n"
        + followed[-2000:])
    f.wait_ready(PROBES_POD, timeout=30)  # the new proxy serves /ready again


@pytest.mark.pattern("sidecar-probes")
def test_failing_sidecar_liveness_restarts_only_the_sidecar(f: Framework) -> None:
    """A sidecar failing its livenessProbe is restarted while the app keeps running."""
    liveness_restarts_only_the_sidecar(f, native=False)


@pytest.mark.needs("native-sidecars")
@pytest.mark.pattern("sidecar-probes")
def test_failing_native_sidecar_liveness_restarts_only_the_sidecar(f: Framework) -> None:
    """A native sidecar failing its livenessProbe is restarted while the app keeps running."""
    liveness_restarts_only_the_sidecar(f, native=True)
