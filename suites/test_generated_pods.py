"""Generated pods judged by podlife's model: shapes no hand-written check lists.

A fixed set of examples, drawn once from the model's grammar with a fixed seed (the same
on every machine), each created, left until it settles where the model predicts (phase,
which containers run, their first exit codes), then deleted and watched to the end; the
model's rules judge both moments. One in five is a Job's template: the Job must end as
the model predicts (Complete, or Failed and why, with how many pods). `podlife explore`
draws new ones until its budget ends (test_explore, deselected unless --explore).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import yaml

from podlife.check.features import native_sidecar_support
from podlife.check.fixed_set import fixed_examples
from podlife.check.framework import Framework
from podlife.check.generated import run_example
from podlife.check.generated_job import delete_job, job_manifest
from podlife.check.generated_manifest import manifest
from podlife.check.restart_rules_support import container_restart_rules_support
from podlife.model.generated import GenPod
from podlife.model.strategies import gen_pods
from podlife.results.recorder import EXPLORED_PROPERTY

#: How many generated pods join the normal suite.
FIXED_EXAMPLES = 40


def _param(index: int, pod: GenPod):
    marks = [pytest.mark.needs("native-sidecars")] if pod.of_kind("sidecar") else []
    if pod.capacity is not None:
        marks.append(pytest.mark.needs("node-changes"))
    if any(c.restart_policy is not None for c in pod.of_kind("app")):
        marks.append(pytest.mark.needs("container-restart-rules"))
    return pytest.param(pod, id=f"ex{index:02d}", marks=marks)


@pytest.mark.parametrize("pod", [_param(i, p)
                                 for i, p in enumerate(fixed_examples(FIXED_EXAMPLES))])
def test_generated_pod(f: Framework, pod: GenPod) -> None:
    """A generated pod settles as the model predicts, and breaks none of its rules."""
    run_example(f, pod)


@pytest.mark.explore
@pytest.mark.parametrize("shard", range(int(os.environ.get("PODLIFE_EXPLORE_SHARDS", "1"))))
def test_explore(f: Framework, shard: int, request: pytest.FixtureRequest) -> None:
    """New generated pods until the budget ends; a disagreement is shrunk to a minimal pod."""
    from hypothesis import HealthCheck, Phase, given, seed, settings

    options = request.config
    budget_end = time.monotonic() + options.getoption("podlife_explore_budget")
    base_seed = options.getoption("podlife_explore_seed")
    out = Path(os.environ.get("PODLIFE_EXPLORE_OUT", "reports/explore"))
    counter = {"run": 0}
    # The grammar follows the cluster: no native sidecars where it lacks them (a
    # documented absence), no widgets without leave to change a node.
    sidecars = native_sidecar_support(f).verdict == "supported"
    own_policies = container_restart_rules_support(f).verdict == "supported"
    grammar = gen_pods(sidecars=sidecars, widgets=f.may_change_nodes,
                       container_restarts=own_policies)

    @seed(base_seed + shard)
    @settings(max_examples=options.getoption("podlife_explore_examples"), deadline=None,
              database=None, suppress_health_check=list(HealthCheck),
              phases=[Phase.generate, Phase.shrink])
    @given(grammar)
    def explore(pod: GenPod) -> None:
        if time.monotonic() > budget_end:
            return  # out of budget: the remaining draws are not run
        counter["run"] += 1
        f.finished.clear()
        try:
            run_example(f, pod)
            _judge_now(f, request)
        except AssertionError:
            _save(out, base_seed + shard, pod, f)
            raise
        finally:
            _clean(f)

    try:
        explore()
    finally:
        request.node.user_properties.append((EXPLORED_PROPERTY, counter["run"]))


def _judge_now(f: Framework, request: pytest.FixtureRequest) -> None:
    """Each explored pod is judged as it ends (the plugin judges only the last one)."""
    from podlife.check.invariants import InvariantBroken, judge_namespace

    verdict = judge_namespace(f.api, f.namespace, f.finished, f.release_minor)
    message = verdict.failure()
    if message:
        raise InvariantBroken(message)


def _save(out: Path, used_seed: int, pod: GenPod, f: Framework) -> None:
    """The failing pod as a manifest you can `kubectl apply`, with the seed to replay it
    (overwritten while hypothesis shrinks: what is left is the minimal pod)."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"seed-{used_seed}.yaml"
    widgets = ("" if pod.capacity is None else "# its widgets need a node advertising them "
               "(and the overhead a RuntimeClass): left out here\n")
    text = (f"# podlife explore: seed {used_seed}; replay: podlife explore --seed {used_seed}\n"
            f"# {pod.describe()}\n{widgets}"
            + yaml.safe_dump(manifest(pod, f.images) if pod.job is None
                             else job_manifest(pod, f.images), sort_keys=False))
    path.write_text(text, encoding="utf-8")
    # The pods as the model judged them (deleted by now), for a failure hypothesis cannot
    # replay: what the API recorded of them is not on the cluster any more.
    if f.finished:
        (out / f"seed-{used_seed}.judged-pods.yaml").write_text(yaml.safe_dump_all(
            [judged for judged, _ in f.finished.values()], sort_keys=False), encoding="utf-8")


def _clean(f: Framework) -> None:
    from kubernetes import client as k8s
    from kubernetes.client.rest import ApiException

    delete_job(f)
    try:
        k8s.CoreV1Api(f.api).delete_namespaced_pod("generated", f.namespace,
                                                   grace_period_seconds=0)
    except ApiException as exc:
        if exc.status != 404:
            raise
    f.wait_gone("generated", timeout=60)
