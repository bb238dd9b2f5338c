"""Upgrade validation: do running workloads survive an in-place cluster upgrade?

Boot the older version, start long-running workloads from the tutorial's manifests (a
pod with a native sidecar, the webapp Deployment, a Job still in flight), run the suite,
upgrade the control plane then the kubelet in place, check the workloads came through
untouched (same containers, no restarts, sidecars running, Deployment available, the Job
completes), run the suite again and report what changed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import tenacity
from kubernetes.client.rest import ApiException

from podlife import instrument, manifests, paths, versions
from podlife.framework import Framework
from podlife.images import ImageMap
from podlife.instrument import run, serve
from podlife.local.cluster import LocalCluster, api_client
from podlife.pod_state import is_ready, is_running, statuses
from podlife.workloads import job_condition

NAMESPACE = "podlife-upgrade"


@dataclass
class Survival:
    """What the upgrade did to the long-running workloads."""

    before: dict[str, dict[str, str]] = field(default_factory=dict)
    after: dict[str, dict[str, str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def survived(self) -> bool:
        return not self.problems


def start_workloads(f: Framework) -> None:
    """The tutorial's native-sidecar pod, webapp Deployment and a Job that waits for a go."""
    sidecar_pod = instrument.instrument(manifests.load_one("native-sidecar"), {
        "log-shipper": serve("touch /var/log/app/app.log; tail -f /var/log/app/app.log &"),
        "app": serve("while true; do echo tick >> /var/log/app/app.log; sleep 5 & wait $!; "
                     "done &"),
    }, f.images)
    f.create(sidecar_pod)
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
    job_spec = instrument.instrument(manifests.load_one("native-sidecar"), {
        "log-shipper": serve(),
        "app": run("until [ -f /var/log/app/go ]; do sleep 1; done; ev finished"),
    }, f.images)
    job_spec["spec"]["restartPolicy"] = "Never"
    f.create({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "in-flight"},
              "spec": {"backoffLimit": 0, "template": {
                  "metadata": job_spec["metadata"], "spec": job_spec["spec"]}}})


def wait_workloads(f: Framework, timeout: float = 180) -> None:
    f.wait_ready("app-with-native-sidecar", timeout=timeout)
    f.wait_deployment_available("webapp", 3, timeout=timeout)
    job_pod = f.job_pod_name("in-flight", timeout=timeout)
    f.wait_pod(job_pod, lambda p: is_running(p, "app"), timeout=timeout,
               what="the in-flight Job's app to run")


def snapshot(f: Framework) -> dict[str, dict[str, str]]:
    """Every container of every pod: its container ID and restart count."""
    out = {}
    for pod in f.core.list_namespaced_pod(f.namespace).items:
        for cs in statuses(f.api.sanitize_for_serialization(pod)):
            out[f"{pod.metadata.name}/{cs['name']}"] = {
                "id": cs.get("containerID", ""), "restarts": str(cs.get("restartCount", 0)),
                "state": next(iter(cs.get("state") or {}), "?")}
    return out


def check_survival(f: Framework, before: dict[str, dict[str, str]]) -> Survival:
    result = Survival(before=before, after=snapshot(f))
    for key, old in before.items():
        new = result.after.get(key)
        if new is None:
            result.problems.append(f"{key} disappeared")
        elif new["id"] != old["id"] or new["restarts"] != old["restarts"]:
            result.problems.append(f"{key} was restarted ({old} -> {new})")
    sidecar = f.pod("app-with-native-sidecar")
    if not is_running(sidecar, "log-shipper"):
        result.problems.append("the native sidecar is no longer running")
    if not is_ready(sidecar):
        result.problems.append("app-with-native-sidecar is not Ready after the upgrade")
    available = f.apps.read_namespaced_deployment("webapp", f.namespace).status
    if (available.available_replicas or 0) < 3:
        result.problems.append(f"webapp has {available.available_replicas} available replicas")
    job_pod = f.job_pod_name("in-flight")
    # A restarted kubelet serves exec only once it has re-synced its pods: retry until then.
    for attempt in tenacity.Retrying(stop=tenacity.stop_after_delay(120),
                                     wait=tenacity.wait_fixed(1), reraise=True,
                                     retry=tenacity.retry_if_exception_type(ApiException)):
        with attempt:
            f.exec(job_pod, "app", ["touch", "/var/log/app/go"])

    def finished(job: dict) -> bool:
        return bool(job_condition(job, "Complete") or job_condition(job, "Failed"))

    try:
        job = f.wait_job("in-flight", finished, timeout=120, what="the Job to finish")
        if not job_condition(job, "Complete"):
            result.problems.append(f"the in-flight Job failed: {job['status']}")
    except AssertionError as exc:
        result.problems.append(str(exc))
    return result


@dataclass
class UpgradeReport:
    from_version: str
    to_version: str
    upgrade_seconds: float
    survival: Survival
    before_results: str
    after_results: str
    changes: dict

    def to_json(self) -> str:
        data = asdict(self)
        data["survived"] = self.survival.survived
        return json.dumps(data, indent=2)


def validate(from_v: versions.KubeVersion, to_v: versions.KubeVersion, *, name: str,
             workers: int, step, allow: frozenset[str] = frozenset()) -> UpgradeReport:
    """The whole flow; the cluster is torn down at the end whatever happens.

    Any check that passed before and not after is a regression (`changes`' "regression"),
    unless `allow` (podlife.report.compare.parse_allowed) names that move."""
    from podlife.report.compare import compare
    from podlife.results_file import load_run
    from podlife.runner import run_suite

    cluster = LocalCluster(name)
    cluster.down()
    step(f"booting {from_v}")
    cluster.up(from_v, step=step)
    try:
        api = api_client(cluster.state / "kubeconfig" / "admin.kubeconfig")
        from kubernetes import client as k8s

        core = k8s.CoreV1Api(api)
        core.create_namespace({"metadata": {"name": NAMESPACE, "labels": {
            "app.kubernetes.io/managed-by": "podlife"}}})
        f = Framework(api=api, namespace=NAMESPACE, images=ImageMap("local"),
                      may_change_nodes=True)
        step("starting long-running workloads")
        start_workloads(f)
        wait_workloads(f)
        before_state = snapshot(f)
        step(f"running the suite on {from_v}")
        before = run_suite(["--reuse-cluster", name], label=f"upgrade-before-{from_v.tag}",
                           workers=workers, quiet=True)
        seconds = cluster.upgrade(to_v, step=step)
        step("checking the workloads survived")
        api = api_client(cluster.state / "kubeconfig" / "admin.kubeconfig")
        f = Framework(api=api, namespace=NAMESPACE, images=ImageMap("local"))
        survival = check_survival(f, before_state)
        step(f"running the suite on {to_v}")
        after = run_suite(["--reuse-cluster", name], label=f"upgrade-after-{to_v.tag}",
                          workers=workers, quiet=True)
        changes = compare(load_run(before.results), load_run(after.results), allow=allow)
        report = UpgradeReport(from_v.tag, to_v.tag, round(seconds, 1), survival,
                               str(before.results), str(after.results), _as_dict(changes))
        out = paths.reports_dir() / "runs" / f"upgrade-{from_v.tag}-{to_v.tag}.json"
        out.write_text(report.to_json())
        step(f"upgrade report: {out}")
        return report
    finally:
        cluster.down()


def _as_dict(changes: object) -> dict:
    if hasattr(changes, "to_dict"):
        return changes.to_dict()  # type: ignore[no-any-return]
    try:
        return asdict(changes)  # type: ignore[call-overload]
    except TypeError:
        return {"text": str(changes)}


def report_path(from_v: str, to_v: str) -> Path:
    return paths.reports_dir() / "runs" / f"upgrade-{from_v}-{to_v}.json"
