"""The nodes a check's pods can land on: one definition of a usable node for every check.

A node takes pods when it is Ready, not cordoned, and has no NoSchedule or NoExecute taint:
the scheduler would place none of a check's pods elsewhere (they tolerate nothing), so
only such nodes are probed for features or given an extended resource.
"""

from __future__ import annotations

from typing import Any

#: Taint effects that keep a check's pods (which tolerate nothing) off a node.
BLOCKING_EFFECTS = ("NoSchedule", "NoExecute")


def is_ready(node: Any) -> bool:
    return any(c.type == "Ready" and c.status == "True"
               for c in (node.status.conditions or []))


def takes_pods(node: Any) -> bool:
    """Ready, not cordoned, and untainted for pods that tolerate nothing."""
    spec = node.spec
    if spec and spec.unschedulable:
        return False
    if any(t.effect in BLOCKING_EFFECTS for t in (spec.taints if spec else None) or []):
        return False
    return is_ready(node)


def usable_nodes(core: Any) -> list[Any]:
    """Every node that takes pods, in the API server's order."""
    return [n for n in core.list_node().items if takes_pods(n)]
