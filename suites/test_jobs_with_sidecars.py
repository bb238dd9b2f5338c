"""Jobs with a log-shipping sidecar: a native sidecar lets the Job complete, a plain
sidecar container keeps it running after its work is done (the old pain)."""

from __future__ import annotations

import pytest

from podlife.check import manifests
from podlife.check.expect import expect_container
from podlife.check.framework import Framework
from podlife.check.instrument import instrument, run, serve
from podlife.check.ordering import happened_before, never_reported
from podlife.check.pod_state import container_status
from podlife.check.workloads import job_condition

pytestmark = pytest.mark.pattern("native-sidecar")

JOB = "app-with-native-sidecar"
SIDECAR = "log-shipper"
APP = "app"
GO = "/tmp/go"


def sidecar_job(f: Framework, *, native: bool) -> dict:
    """A Job whose pod template is the tutorial's native-sidecar pod spec.

    The shipper never exits on its own; the app does a short job and exits 0. It starts
    that job when the check signals (a file), so both checks first see the Job counting a
    running, ready pod. With native=False the shipper is moved to a plain second container.
    """
    spec = manifests.load_one("native-sidecar")["spec"]
    spec["restartPolicy"] = "Never"
    spec["terminationGracePeriodSeconds"] = 5
    if not native:
        shipper = spec.pop("initContainers")[0]
        shipper.pop("restartPolicy")
        spec["containers"].append(shipper)
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": JOB},
           "spec": {"backoffLimit": 0, "template": {"metadata": {}, "spec": spec}}}
    log = "/var/log/app/app.log"
    return instrument(job, {
        SIDECAR: serve(),
        APP: run(f"until [ -f {GO} ]; do sleep 0.2; done\n"
                 f'ev working; echo "job: processed batch" >> {log}; ev done'),
    }, f.images)


def start_and_release(f: Framework) -> str:
    """Create the Job, wait until it counts its pod ready, then let the app do its work."""
    job = f.wait_job(JOB, lambda j: (j.get("status") or {}).get("ready") == 1, timeout=90,
                     what="the Job to count one ready pod")
    assert not job_condition(job, "Complete"), "Job complete before its app did any work"
    pod = f.job_pod_name(JOB)
    f.exec(pod, APP, ["touch", GO])
    return pod


@pytest.mark.needs("native-sidecars")
def test_job_with_native_sidecar_completes(f: Framework) -> None:
    """A Job with a native sidecar completes: the kubelet stops the sidecar after the app."""
    f.create(sidecar_job(f, native=True))
    pod_name = start_and_release(f)
    job = f.wait_job(JOB, lambda j: bool(job_condition(j, "Complete") or job_condition(
        j, "Failed")), timeout=90, what="the Job to finish")
    assert job_condition(job, "Complete"), f"Job did not complete: {job['status']}"
    assert not job_condition(job, "Failed")
    assert (job["status"].get("succeeded"), job["status"].get("failed") or 0) == (1, 0)
    pod = f.wait_phase(pod_name, ("Succeeded", "Failed"), timeout=60)
    assert pod["status"]["phase"] == "Succeeded"
    app = expect_container(pod, APP, state="terminated", exit_code=0)["state"]["terminated"]
    sidecar = expect_container(pod, SIDECAR, state="terminated", restarts=0,
                               why="the sidecar is stopped once the app finished, not restarted")
    assert sidecar["state"]["terminated"]["finishedAt"] >= app["finishedAt"]
    timeline = f.timeline(pod_name)
    # The kubelet stops the sidecar because the app finished: SIGTERM comes after the exit.
    happened_before(timeline, (APP, "exiting"), (SIDECAR, "sigterm"))


def test_job_with_plain_sidecar_container_does_not_complete(f: Framework) -> None:
    """A Job with a plain sidecar container does not complete after its app exited 0.

    The shipper keeps the pod Running, so the Job stays active: the pain native sidecars
    remove.
    """
    f.create(sidecar_job(f, native=False))
    pod_name = start_and_release(f)
    pod = f.wait_pod(pod_name, lambda p: "terminated" in (container_status(p, APP).get(
        "state") or {}), timeout=60, what="the app to exit")
    expect_container(pod, APP, state="terminated", exit_code=0)
    # The Job controller has seen the pod after the app exited once the pod no longer
    # counts as ready; it still holds the pod active and the Job incomplete.
    job = f.wait_job(JOB, lambda j: (j.get("status") or {}).get("ready") == 0, timeout=60,
                     what="the Job to see its pod no longer ready")
    pod = f.pod(pod_name)
    sidecar = container_status(pod, SIDECAR)
    assert "running" in (sidecar.get("state") or {}), f"shipper not running: {sidecar}"
    assert pod["status"]["phase"] == "Running", f"pod phase {pod['status']['phase']}"
    assert not job_condition(job, "Complete"), "Job completed with a plain sidecar running"
    assert not job_condition(job, "SuccessCriteriaMet")
    assert job["status"].get("active") == 1 and not job["status"].get("succeeded"), (
        f"Job status {job['status']}")
    timeline = f.timeline(pod_name)
    timeline.first(APP, "done")
    never_reported(timeline, SIDECAR, "sigterm")  # the app finished, nothing stops the shipper
