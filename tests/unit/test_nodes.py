"""One definition of a node a check's pods can land on."""

from __future__ import annotations

import pytest
from kubernetes import client as k8s

from podlife.check.nodes import takes_pods


def node(*, ready: str = "True", cordoned: bool = False, effect: str | None = None) -> k8s.V1Node:
    taints = [k8s.V1Taint(key="k", effect=effect)] if effect else None
    return k8s.V1Node(spec=k8s.V1NodeSpec(unschedulable=cordoned, taints=taints),
                      status=k8s.V1NodeStatus(conditions=[
                          k8s.V1NodeCondition(type="Ready", status=ready)]))


@pytest.mark.parametrize(("given", "usable"), [
    (node(), True),
    (node(effect="PreferNoSchedule"), True),  # a preference: pods still land there
    (node(ready="False"), False),
    (node(ready="Unknown"), False),
    (node(cordoned=True), False),
    (node(effect="NoSchedule"), False),
    (node(effect="NoExecute"), False),
])
def test_a_node_takes_pods_when_ready_uncordoned_and_untainted(given, usable: bool) -> None:
    assert takes_pods(given) is usable
