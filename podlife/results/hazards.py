"""Upgrade hazards: checks that fail only while kubelets are older than the API server.

In an upgrade's skew window the API server may accept what the old kubelets cannot run
(e.g. native sidecars: an API server of 1.29 keeps `restartPolicy: Always` on an init
container, a 1.28 kubelet with the feature off does not run it as a sidecar). Such a check
fails in the skew column and passes (or is unsupported) on both sides of it. Found here
for the matrix report and for `podlife upgrade`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from podlife.core.skew import split_column
from podlife.core.versions import normalize_version
from podlife.results.model import CheckResult

FAILING = ("fail", "error")
#: What to do about any of them: the fix is the order of the upgrade.
ADVICE = ("upgrade the kubelets (every node) before deploying workloads that use a feature "
          "the old kubelets lack, e.g. native sidecars (restartPolicy: Always on an init "
          "container); until then keep such workloads off the cluster or on upgraded nodes")


@dataclass(frozen=True)
class Hazard:
    """One check that fails in a skew column but not in the columns around it."""

    column: str
    check: str
    title: str
    verdict: str
    reason: str
    #: The columns it does not fail in, with the verdict there.
    elsewhere: tuple[tuple[str, str], ...]


def skew_only(column: str, failing: Mapping[str, CheckResult],
              neighbours: Mapping[str, Mapping[str, CheckResult]]) -> list[Hazard]:
    """Checks failing in `column` (a skew column) and in none of the neighbours' runs,
    where at least one neighbour ran them. Keys are `area/check_id`."""
    out = []
    for key, cell in failing.items():
        if cell.verdict not in FAILING:
            continue
        seen = [(name, cells[key].verdict) for name, cells in neighbours.items()
                if key in cells]
        if seen and all(verdict not in FAILING for _, verdict in seen):
            out.append(Hazard(column, key, cell.title or cell.check_id, cell.verdict,
                              cell.reason, tuple(seen)))
    return out


def neighbours_of(column: str, columns: Iterable[str]) -> list[str]:
    """The plain columns around a skew column: its API server's and its kubelet's."""
    api, kubelet = split_column(column)
    if kubelet is None:
        return []
    wanted = {normalize_version(api), normalize_version(kubelet)}
    return [c for c in columns if c in wanted]


def matrix_hazards(cells_by_column: Mapping[str, Mapping[str, CheckResult]]) -> list[Hazard]:
    """Every skew column's hazards, given each column's checks by key."""
    out: list[Hazard] = []
    for column, cells in cells_by_column.items():
        near = neighbours_of(column, cells_by_column)
        if near:
            out += skew_only(column, cells, {n: cells_by_column[n] for n in near})
    return out
