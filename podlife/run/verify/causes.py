"""Failures this host is known to cause: a failure message's marker -> the deviation's id.

The ids are those of the host deviations podlife detects at boot and records in the
cluster's cluster.json (podlife/cluster/local/deviations.py). A failure is labelled only when its
cluster has that deviation, and only its message is looked at, so the label says
"explained by", never "passed".
"""

from __future__ import annotations

from typing import Any

from podlife.cluster.local.deviations import NO_CAP_SYS_RESOURCE, detect, read_host

#: deviation id -> substrings of an upstream failure message it explains.
KNOWN: dict[str, tuple[str, ...]] = {
    # No CAP_SYS_RESOURCE here: containerd runs with restrict_oom_score_adj, so a Guaranteed
    # container keeps oom_score_adj 0 instead of the -997 upstream expects after a resize.
    NO_CAP_SYS_RESOURCE: ("oom_score_adj",),
}


def deviation_for(message: str, present: set[str]) -> str:
    """The id of a deviation of this cluster that a failure message points at, '' if none."""
    for deviation, markers in KNOWN.items():
        if deviation in present and any(marker in message for marker in markers):
            return deviation
    return ""


def cluster_deviations(recorded: list[dict[str, Any]] | None) -> set[str]:
    """The ids the cluster recorded at boot; detected from the host now for a cluster booted
    by a podlife that did not record them."""
    if recorded is None:
        return {d.id for d in detect(read_host())}
    return {str(d.get("id", "")) for d in recorded}
