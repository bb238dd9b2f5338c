"""Native-sidecar workloads spread over several nodes: a Job whose pods run one per node
completes on every node, and draining a node through the Eviction API keeps each pod's
termination order (the app, then the sidecar) and honours a PodDisruptionBudget.

Both need two nodes that take pods or more; on one node they are unsupported (a local
cluster gets more with --worker-nodes N).
"""

from __future__ import annotations

import pytest

from podlife.check import manifests
from podlife.check.framework import Framework
from podlife.check.instrument import instrument, run, serve
from podlife.check.nodes import usable_nodes
from podlife.check.ordering import happened_before
from podlife.check.pod_state import condition
from podlife.check.workloads import job_condition

pytestmark = [pytest.mark.pattern("native-sidecar"),
              pytest.mark.needs("several-nodes", "native-sidecars")]

SIDECAR = "log-shipper"
APP = "app"


def _spread(spec: dict, label: str) -> None:
    """No two pods with this label on one node."""
    spec["affinity"] = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"spread": label}},
         "topologyKey": "kubernetes.io/hostname"}]}}


def _template(label: str, restart_policy: str, grace: int) -> dict:
    spec = manifests.load_one("native-sidecar")["spec"]
    spec["restartPolicy"] = restart_policy
    spec["terminationGracePeriodSeconds"] = grace
    _spread(spec, label)
    return {"metadata": {"labels": {"spread": label}}, "spec": spec}


def test_job_with_native_sidecars_spread_over_the_nodes_completes(f: Framework) -> None:
    """A Job with one pod per node, each with a native sidecar: it completes, every pod
    Succeeded on its own node, and on each the sidecar was stopped after the app exited."""
    nodes = sorted(n.metadata.name for n in usable_nodes(f.core))
    job = instrument({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "spread"},
                      "spec": {"parallelism": len(nodes), "completions": len(nodes),
                               "backoffLimit": 0,
                               "template": _template("spread-job", "Never", 5)}},
                     {SIDECAR: serve(), APP: run("sleep 1")}, f.images)
    f.create(job)
    ended = f.wait_job("spread", lambda j: bool(job_condition(j, "Complete")
                                                or job_condition(j, "Failed")),
                       timeout=120, what=f"the Job to finish its {len(nodes)} pods")
    assert job_condition(ended, "Complete"), f"the Job did not complete: {ended['status']}"
    assert ended["status"].get("succeeded") == len(nodes), ended["status"]
    pods = [f.api.sanitize_for_serialization(p) for p in f.core.list_namespaced_pod(
        f.namespace, label_selector="job-name=spread").items]
    placed = sorted(p["spec"]["nodeName"] for p in pods)
    assert placed == nodes, f"one pod per node expected on {nodes}, placed on {placed}"
    for pod in pods:
        name = pod["metadata"]["name"]
        assert pod["status"]["phase"] == "Succeeded", f"{name}: {pod['status']['phase']}"
        happened_before(f.timeline(name), (APP, "exiting"), (SIDECAR, "sigterm"))


def test_drain_keeps_the_sidecar_order_and_honours_the_budget(f: Framework) -> None:
    """Two replicas on two nodes under a PodDisruptionBudget of minAvailable 1, both
    evicted at the same moment (as a drain does): exactly one eviction is allowed, the
    other refused (429); the evicted pod's app stops before its sidecar gets SIGTERM, and
    it carries a DisruptionTarget condition."""
    deployment = instrument({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "drained"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"spread": "drained"}},
                 "template": _template("drained", "Always", 10)}},
        # The app works on for a second after SIGTERM: the sidecar must wait for it.
        {SIDECAR: serve(), APP: serve(on_term=1.0)}, f.images)
    f.create(deployment)
    f.create({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
              "metadata": {"name": "drained"},
              "spec": {"minAvailable": 1, "selector": {"matchLabels": {"spread": "drained"}}}})
    f.wait_deployment_available("drained", 2)
    pods = [p for p in f.core.list_namespaced_pod(
        f.namespace, label_selector="spread=drained").items if not p.metadata.deletion_timestamp]
    assert len({p.spec.node_name for p in pods}) == 2, [p.spec.node_name for p in pods]
    _wait_budget_allows(f, 1)
    answers, observed = f.evict_together([p.metadata.name for p in pods])
    allowed = sorted(observed)
    refused = {name: answer for name, answer in answers.items() if answer is not None}
    assert len(allowed) == 1 and len(refused) == 1, (
        f"two evictions at once under a budget that allows one: allowed {allowed}, refused "
        f"{sorted(refused)}: the PodDisruptionBudget (minAvailable 1) was not honoured")
    assert "disruption budget" in str(next(iter(refused.values())).body)
    timeline, last = observed[allowed[0]]
    happened_before(timeline, (APP, "exiting"), (SIDECAR, "sigterm"))
    target = condition(last, "DisruptionTarget")
    assert target.get("status") == "True", (
        f"the evicted pod has no DisruptionTarget condition: {last['status'].get('conditions')}")


def _wait_budget_allows(f: Framework, disruptions: int) -> None:
    """Until the disruption controller has counted the replicas (a fresh budget allows
    nothing until it has)."""
    from kubernetes import client as k8s

    from podlife.check.waits import watch_until

    watch_until(k8s.PolicyV1Api(f.api).list_namespaced_pod_disruption_budget, api=f.api,
                namespace=f.namespace, name="drained",
                until=lambda pdb: (pdb.get("status") or {}).get("disruptionsAllowed")
                == disruptions, timeout=60,
                what=f"the budget to allow {disruptions} disruption")
