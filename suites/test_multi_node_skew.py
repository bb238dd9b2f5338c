"""The same native-sidecar pod on every node of a cluster whose nodes run different kubelet
releases (an upgrade's skew window, node by node): each node must either run it as a
sidecar (the app starts only once the sidecar runs, and the pod serves) or refuse it the
documented way (a kubelet of 1.28-1.32 with the gate off: InitContainerRestartPolicyForbidden;
an older one runs it as an ordinary init container, the app never starting). A node that
refuses makes the check fail naming that node and its kubelet, which an upgrade's report
lists as a hazard of the skew window; a node that does neither is an error or a failure of
its own. Needs two nodes or more, and an API server that keeps native sidecars.
"""

from __future__ import annotations

import pytest

from podlife.check.features import native_sidecar_gap
from podlife.check.framework import Framework
from podlife.check.nodes import usable_nodes
from podlife.check.outcomes import error, unsupported
from podlife.check.sidecar_probe import probe

pytestmark = [pytest.mark.pattern("native-sidecar"), pytest.mark.needs("several-nodes")]


def test_each_node_runs_native_sidecars_or_refuses_them_by_name(f: Framework) -> None:
    """On every node, a native sidecar runs as one, or the node's kubelet refuses it the
    documented way: the check names each node that refuses."""
    gap = native_sidecar_gap(f)
    if gap:
        unsupported(gap)
    nodes = sorted((n.metadata.name, n.status.node_info.kubelet_version)
                    for n in usable_nodes(f.core))
    verdicts = {node: probe(f, 100 + index, node, kubelet)
                for index, (node, kubelet) in enumerate(nodes)}
    broken = {node: v.reason for node, v in verdicts.items() if v.verdict == "error"}
    if broken:
        error("; ".join(f"{node}: {reason}" for node, reason in broken.items()))
    refusing = {node: v.reason for node, v in verdicts.items() if v.verdict != "supported"}
    runs = sorted(node for node, v in verdicts.items() if v.verdict == "supported")
    assert not refusing, (
        f"{len(refusing)} of {len(nodes)} nodes do not run native sidecars (they run on "
        f"{', '.join(runs) or 'none'}): " + "; ".join(refusing.values()))
