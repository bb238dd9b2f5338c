"""The long-running workloads of an upgrade, and whether they came through each step.

From the tutorial's manifests: the native-sidecar pod (under a one-replica Deployment, so
a drain can move it), the webapp Deployment, and one Job per hop still in flight while the
hop runs. After each step (control plane, then node) they must be untouched: same
containers, no restarts, the sidecar running, the Deployments available; after the node
step the hop's Job is released and must complete. When the node was drained first
(podlife.run.drain), its evicted pods are excused from "same containers": their replacements
must be running with no restart instead. A restart is a survival problem, never
"expected": its cause (the kubelet's own Killing event, e.g. "definition changed") is
recorded beside it. The hop by hop flow is podlife.run.upgrade_chain.
"""

from __future__ import annotations

import tenacity
from kubernetes.client.rest import ApiException

from podlife.check import instrument, manifests
from podlife.check.framework import Framework
from podlife.check.instrument import Script, run, serve
from podlife.check.pod_state import is_ready, is_running, statuses
from podlife.check.workloads import job_condition
from podlife.results.upgrade_records import Survival

NAMESPACE = "podlife-upgrade"
#: What the Job's app shell prints once the go file is in place.
GO_SET = "podlife-go-set"
SIDECAR_POD = "app-with-native-sidecar"


def start_sidecar_pod(f: Framework) -> None:
    """The tutorial's native-sidecar pod, a log shipper tailing what the app writes, as the
    template of a one-replica Deployment: a bare pod would be lost to a drain."""
    pod = instrument.instrument(manifests.load_one("native-sidecar"), {
        "log-shipper": serve("touch /var/log/app/app.log; tail -f /var/log/app/app.log &"),
        "app": serve("while true; do echo tick >> /var/log/app/app.log; sleep 5 & wait $!; "
                     "done &"),
    }, f.images)
    labels = {"app": SIDECAR_POD}
    pod["metadata"].pop("name", None)
    pod["metadata"].setdefault("labels", {}).update(labels)
    f.create({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": SIDECAR_POD},
              "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                       "template": {"metadata": pod["metadata"], "spec": pod["spec"]}}})


def sidecar_pod_of(f: Framework) -> dict:
    """The native-sidecar Deployment's live pod ({} when there is none)."""
    pods = [f.api.sanitize_for_serialization(p) for p in f.core.list_namespaced_pod(
        f.namespace, label_selector=f"app={SIDECAR_POD}").items]
    live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
    return live[0] if live else {}


def start_webapp(f: Framework) -> None:
    """The webapp Deployment (regular sidecars, init containers) with its stand-ins."""
    f.create_support("postgres", "secrets", "cdn", "configmaps")
    webapp = instrument.instrument(manifests.load_one("webapp-deployment"), {
        "migrate": run('test -n "$DATABASE_URL"'),
        "fetch-assets": run("wget -q -O /assets/bundle.js http://cdn/bundle.js"),
        "app": serve("test -s /app/public/assets/bundle.js"),
        "fluentbit": serve(),
        "metrics": serve(),
    }, f.images, keep_command=("wait-for-db",))
    for container in instrument.containers(webapp):
        container.pop("resources", None)  # three replicas on one small node
    f.create(webapp)


def start_job(f: Framework, name: str, *, native_sidecar: bool) -> None:
    """A Job whose app waits for a go (a file) before it finishes: in flight during a hop.
    With native_sidecar, its log shipper is a native sidecar; without (the cluster cannot
    run one yet), the pod has the app only."""
    spec = instrument.instrument(manifests.load_one("native-sidecar"), {
        "log-shipper": serve(),
        # Stopped before its go, the app has not done its work: it fails (143), and the
        # Job must run it again rather than count it done.
        "app": Script("until [ -f /var/log/app/go ]; do sleep 1; done; ev finished",
                      on_term="fail"),
    }, f.images)
    spec["spec"]["restartPolicy"] = "Never"
    if not native_sidecar:
        spec["spec"].pop("initContainers", None)
    # An evicted pod (a drain) does not count as a failure: the Job makes a new one.
    ignore_evictions = {"rules": [{"action": "Ignore", "onPodConditions": [
        {"type": "DisruptionTarget"}]}]}
    f.create({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
              "spec": {"backoffLimit": 0, "podFailurePolicy": ignore_evictions, "template": {
                  "metadata": spec["metadata"], "spec": spec["spec"]}}})


def wait_back(f: Framework, *, sidecar_pod: bool, job: str, timeout: float) -> list[str]:
    """After a drain and uncordon: every workload running again. Returns what did not
    come back in time, as problems."""
    waits = [("webapp back to 3 available replicas",
              lambda: f.wait_deployment_available("webapp", 3, timeout=timeout)),
             (f"Job {job} running again", lambda: wait_job_running(f, job, timeout))]
    if sidecar_pod:
        waits.append((f"{SIDECAR_POD} back", lambda: f.wait_deployment_available(
            SIDECAR_POD, 1, timeout=timeout)))
    problems = []
    for what, wait in waits:
        try:
            wait()
        except AssertionError as exc:
            problems.append(f"{what}: {str(exc).splitlines()[0][:300]}")
    return problems


def wait_job_running(f: Framework, name: str, timeout: float = 180) -> None:
    pod = f.job_pod_name(name, timeout=timeout)
    f.wait_pod(pod, lambda p: is_running(p, "app"), timeout=timeout,
               what=f"the app of Job {name} to run")


class _NotYet(Exception):
    """The exec ran but did not do its job yet (e.g. the kubelet is re-syncing)."""


def snapshot(f: Framework) -> dict[str, dict[str, str]]:
    """Every container of every pod: its container ID and restart count."""
    out = {}
    for pod in f.core.list_namespaced_pod(f.namespace).items:
        for cs in statuses(f.api.sanitize_for_serialization(pod)):
            out[f"{pod.metadata.name}/{cs['name']}"] = {
                "id": cs.get("containerID", ""), "restarts": str(cs.get("restartCount", 0)),
                "state": next(iter(cs.get("state") or {}), "?")}
    return out


def check_step(f: Framework, before: dict[str, dict[str, str]], *, sidecar_pod: bool,
               since: float, evicted: list[str] | tuple[str, ...] = ()) -> Survival:
    """After a step: the same containers (no restart), the sidecar running and Ready, the
    Deployment available. Pods in `evicted` (names, drained before the step) may be gone;
    every container that is new since `before` must be running with no restart. `since`
    (epoch seconds) bounds the events read as causes."""
    result = Survival(before=before, after=snapshot(f), evicted=list(evicted))
    gone = {key.split("/", 1)[1] for key in evicted}
    for key, old in before.items():
        new = result.after.get(key)
        if key.split("/", 1)[0] in gone:
            continue
        if new is None:
            result.problems.append(f"{key} disappeared")
        elif new["id"] != old["id"] or new["restarts"] != old["restarts"]:
            result.problems.append(f"{key} was restarted (restarts {old['restarts']} -> "
                                   f"{new['restarts']}, state {new['state']})")
    for key, new in result.after.items():
        if key not in before and new["state"] == "running" and new["restarts"] != "0":
            result.problems.append(f"{key} (new since the step) was restarted "
                                   f"{new['restarts']} times")
    if sidecar_pod:
        sidecar = sidecar_pod_of(f)
        if not is_running(sidecar, "log-shipper"):
            result.problems.append("the native sidecar is no longer running")
        if not is_ready(sidecar):
            result.problems.append(f"the pod of {SIDECAR_POD} is not Ready")
    available = f.apps.read_namespaced_deployment("webapp", f.namespace).status
    if (available.available_replicas or 0) < 3:
        result.problems.append(f"webapp has {available.available_replicas} available replicas")
    killed = killing_events(f, since)
    # A container still in its grace period has its old ID and count: the kubelet's event
    # that it is restarting it is the evidence then.
    for event in killed:
        key = f"{event.involved_object.name}/{_container_of(event)}"
        seen = any(p.startswith(f"{key} ") for p in result.problems)
        known = key in before or key in result.after
        if "will be restarted" in (event.message or "") and known and not seen:
            result.problems.append(f"{key} is being restarted by the kubelet")
    if result.problems:
        result.causes = _texts(killed)
    return result


def _container_of(event) -> str:
    """'spec.containers{app}' -> 'app' (the kubelet names the container it killed there)."""
    path = event.involved_object.field_path or ""
    return path[path.find("{") + 1:path.rfind("}")] if "{" in path else "?"


def recheck(f: Framework, result: Survival, *, sidecar_pod: bool, since: float) -> None:
    """Look again, once the window's suite has run, against the same `before`: a restarted
    kubelet reports Ready before it has re-synced its pods, so the look right after the step
    can come before the restarts it causes (it missed the 1.31 kubelet's). New problems are
    added, marked as seen late."""
    late = check_step(f, result.before, sidecar_pod=sidecar_pod, since=since,
                      evicted=result.evicted)
    result.after = late.after
    known = {p.split(" ", 1)[0] for p in result.problems}
    for problem in late.problems:
        if problem.split(" ", 1)[0] not in known:
            result.problems.append(f"{problem} (seen after the window's suite)")
    for cause in late.causes:
        if cause not in result.causes:
            result.causes.append(cause)


def killing_events(f: Framework, since: float) -> list:
    """The kubelet's own word on why it killed containers since `since`: its Killing
    events (e.g. "Container app definition changed, will be restarted")."""
    out = []
    for event in f.core.list_namespaced_event(f.namespace).items:
        when = event.last_timestamp or event.event_time or event.first_timestamp
        if event.reason == "Killing" and not (when and when.timestamp() < since - 1):
            out.append(event)
    return out


def _texts(events: list) -> list[str]:
    out: list[str] = []
    for event in events:
        text = f"{event.involved_object.name}: {event.message}"
        if text not in out:
            out.append(text)
    return out


def finish_job(f: Framework, name: str, result: Survival, timeout: float = 120) -> None:
    """Let the Job's app finish (it waits for a file), and record it if it does not
    complete."""
    job_pod = f.job_pod_name(name)
    # A restarted kubelet serves exec only once it has re-synced its pods, and until then
    # an exec may fail inside the stream without an exception: retry until the app's own
    # shell says the file is there.
    said = ""
    try:
        for attempt in tenacity.Retrying(stop=tenacity.stop_after_delay(120),
                                         wait=tenacity.wait_fixed(1), reraise=True,
                                         retry=tenacity.retry_if_exception_type(
                                             (ApiException, _NotYet))):
            with attempt:
                said = f.exec(job_pod, "app", ["sh", "-c", "touch /var/log/app/go && echo "
                                               f"{GO_SET}"])
                if GO_SET not in said:
                    raise _NotYet(said)
    except (ApiException, _NotYet) as exc:
        result.problems.append(f"Job {name}: could not release its app for 120 s "
                               f"({str(exc).strip()[:200] or said[:200]})")
        return

    def finished(job: dict) -> bool:
        return bool(job_condition(job, "Complete") or job_condition(job, "Failed"))

    try:
        job = f.wait_job(name, finished, timeout=timeout, what=f"Job {name} to finish")
        if not job_condition(job, "Complete"):
            result.problems.append(f"Job {name} failed: {job['status']}")
    except AssertionError as exc:
        result.problems.append(str(exc))
