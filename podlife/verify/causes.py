"""Failures this host is known to cause: a failure message's marker -> the deviation's id.

The ids are those of the recorded host deviations (podlife/local/deviations.py). Only the
message is looked at, so the label says "explained by", never "passed".
"""

from __future__ import annotations

#: deviation id -> substrings of an upstream failure message it explains.
KNOWN: dict[str, tuple[str, ...]] = {
    # No CAP_SYS_RESOURCE here: containerd runs with restrict_oom_score_adj, so a resized
    # container keeps the oom_score_adj it was given instead of the -997 upstream expects.
    "no-cap-sys-resource": ("oom_score_adj",),
}


def deviation_for(message: str) -> str:
    """The id of the known host deviation a failure message points at, '' if none."""
    for deviation, markers in KNOWN.items():
        if any(marker in message for marker in markers):
            return deviation
    return ""
