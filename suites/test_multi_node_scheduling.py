"""Where the scheduler places a pod among several nodes: on the one node where its
effective request fits (the sidecars' sum, the largest init container with the sidecars
before it, the overhead), and on no other.

Each node that takes pods advertises this check's widgets: one node exactly the pod's
effective request, every other node one widget less. The pod also prefers (nodeAffinity,
weight 100) a node where it does not fit, so a scheduler that undercounts the request
places it there: the check is then deterministic, not a one-in-N chance. On a cluster with
one node it is unsupported (a local cluster gets more with --worker-nodes N).
"""

from __future__ import annotations

import contextlib

import pytest

from podlife.check.framework import Framework
from podlife.check.nodes import usable_nodes
from podlife.check.widgets import advertised, runtime_class
from podlife.model.requests import effective_request

from .test_resource_scheduling import CAPACITY, CASES, POD, Case, wait_scheduled, widget_pod

#: The cases where one term of the effective request decides (all fit exactly CAPACITY).
DECIDING = ("app-sum-fits", "two-sidecars-plus-app-fits", "init-after-sidecar-fits",
            "init-after-two-sidecars-fits", "overhead-fits")


def _prefer(pod: dict, node: str) -> dict:
    pod["spec"]["affinity"] = {"nodeAffinity": {
        "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "preference": {
            "matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In",
                                  "values": [node]}]}}]}}
    return pod


@pytest.mark.pattern("init-resources")
@pytest.mark.needs("node-changes", "several-nodes")
@pytest.mark.parametrize("case", [
    pytest.param(c, id=c.id, marks=[pytest.mark.needs("native-sidecars")] if c.sidecars else [])
    for c in CASES if c.id in DECIDING])
def test_scheduler_picks_the_one_node_where_the_effective_request_fits(
        f: Framework, case: Case) -> None:
    """Among several nodes, a pod lands on the one node with room for its effective request,
    though it prefers another."""
    nodes = sorted(n.metadata.name for n in usable_nodes(f.core))
    target, preferred = nodes[-1], nodes[0]
    with contextlib.ExitStack() as stack:
        resource = ""
        for node in nodes:
            room = CAPACITY if node == target else CAPACITY - 1
            _, resource = stack.enter_context(advertised(f, room, node))
        if case.overhead:
            stack.enter_context(runtime_class(f, resource, case.overhead))
        pod = _prefer(widget_pod(f, resource, case), preferred)
        assert effective_request(pod, resource) == CAPACITY
        f.create(pod)
        seen = wait_scheduled(f, f"PodScheduled=True with effective request {CAPACITY} "
                                 f"{resource}, room on {target} only")
        bound = seen["spec"].get("nodeName")
        assert bound == target, (
            f"scheduled on {bound}, which advertises {CAPACITY - 1} {resource} for an "
            f"effective request of {CAPACITY}; only {target} has room (nodes: "
            f"{', '.join(nodes)}; the pod prefers {preferred})")
        f.wait_ready(POD, timeout=90)
