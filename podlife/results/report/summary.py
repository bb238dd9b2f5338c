"""What a reader wants first: verdict counts per version, pattern and area, problems on top.

The HTML report's summary and the text printed at the end of `podlife run` both come
from here, so the page and the terminal (or CI log) never disagree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from podlife.core.safe_text import printable
from podlife.results.matrix import Matrix, Row, verdict_counts
from podlife.results.model import VERDICTS, CheckResult, RunResult

#: How many failing (or unsupported) checks the text summary lists before "and N more".
TEXT_LIMIT = 12
NO_PATTERN = "(no pattern)"
_ORDER_CLAIM = re.compile(
    r"(?:order (?P<order>\S.*?) not observed: )?(?P<pod>[\w.-]+): expected (?P<claim>.+?), "
    r"but (?P<problem>.+)")


@dataclass
class Claim:
    """What an ordering assertion expected, and what it saw instead (podlife.check.ordering)."""

    pod: str
    claim: str
    problem: str
    #: The full expected order, as (container, event) points, when the check named one.
    order: list[tuple[str, str]] = field(default_factory=list)


def parse_claim(reason: str) -> Claim | None:
    """The claim of a failed ordering assertion, from the first line of a check's reason."""
    first = reason.strip().splitlines()[0] if reason.strip() else ""
    match = _ORDER_CLAIM.search(first)
    if match is None:
        return None
    spoken = match["order"] or match["claim"].replace(" before ", " -> ")
    order = []
    for point in spoken.split(" -> "):
        container, _, event = point.strip().partition(":")
        if container and event:
            order.append((container, event))
    return Claim(match["pod"], match["claim"], match["problem"], order)


def headline(reason: str) -> str:
    """One line for a list of failures: the claim of an ordering failure, else the first line."""
    claim = parse_claim(reason)
    if claim is not None:
        return f"{claim.pod}: expected {claim.claim}, but {claim.problem}"
    lines = reason.strip().splitlines()
    return lines[0] if lines else ""


#: The verdict a group shows when its checks disagree: the one a reader must see.
SEVERITY = ("fail", "error", "unsupported", "skipped", "pass")


def worst(counts: dict[str, int]) -> str:
    """The most severe verdict that occurs ("" when there are no checks)."""
    return next((v for v in SEVERITY if counts.get(v)), "")


def tally_cell(counts: dict[str, int]) -> dict[str, str]:
    """A table cell for a group of checks: its worst verdict (for colour) and its counts."""
    verdict = worst(counts)
    return {"verdict": verdict, "text": count_text(counts) if verdict else "—"}


def attention_rank(counts: dict[str, int]) -> tuple[int, int]:
    """Sort key that puts failures and errors first, then unsupported, then the rest."""
    return (-counts.get("fail", 0) - counts.get("error", 0), -counts.get("unsupported", 0))


@dataclass
class GroupTally:
    """Verdict counts of one group of checks (a pattern or an area), per version and in all."""

    name: str
    per_version: dict[str, dict[str, int]]
    total: dict[str, int]


def tally_groups(matrix: Matrix, key: Callable[[Row], str]) -> list[GroupTally]:
    """Counts per group, groups with failures first, then with unsupported, then by name
    (checks without a pattern after the patterns)."""
    groups: dict[str, list[Row]] = {}
    for row in matrix.rows:
        groups.setdefault(key(row), []).append(row)
    tallies = []
    for name, rows in groups.items():
        per_version = {v: verdict_counts(r.cells[v] for r in rows if v in r.cells)
                       for v in matrix.versions}
        tallies.append(GroupTally(name, per_version,
                                  verdict_counts(c for r in rows for c in r.cells.values())))
    return sorted(tallies, key=lambda t: (*attention_rank(t.total), t.name == NO_PATTERN,
                                          t.name))


def by_pattern(matrix: Matrix) -> list[GroupTally]:
    return tally_groups(matrix, lambda row: row.pattern or NO_PATTERN)


def by_area(matrix: Matrix) -> list[GroupTally]:
    return tally_groups(matrix, lambda row: row.area)


def count_text(counts: dict[str, int]) -> str:
    """'73 pass, 2 fail': the verdicts that occur, in the fixed order."""
    return ", ".join(f"{counts[v]} {v}" for v in VERDICTS if counts.get(v)) or "no checks"


def run_summary(run: RunResult, *, results: str = "", report: str = "") -> str:
    """The short text printed at the end of `podlife run` (terminal and CI log alike)."""
    counts = verdict_counts(run.checks)
    lines = [f"podlife {run.podlife_version or '?'}: {len(run.checks)} checks on Kubernetes "
             f"{run.kubernetes_version or '?'} (provider {run.provider or '?'}, cluster "
             f"{run.cluster or '?'}) in {run.duration_s:.0f}s: {count_text(counts)}"]
    judged = sum(len(c.judged_pods) for c in run.checks)
    unjudged = sum(len(c.unjudged_pods) for c in run.checks)
    if judged or unjudged:
        lines.append(f"  model: {judged} pods judged, {unjudged} not judged "
                     "(a container without a podlife script, or an unreadable log)")
    explored = sum(c.explored for c in run.checks)
    if explored:
        lines.append(f"  explored: {explored} generated pods run and judged")
    lines += _listed("FAIL", [c for c in run.checks if c.verdict == "fail"])
    lines += _listed("ERROR", [c for c in run.checks if c.verdict == "error"])
    lines += _listed("UNSUPPORTED", [c for c in run.checks if c.verdict == "unsupported"])
    if results:
        lines.append(f"results: {results}")
    if report:
        lines.append(f"report:  {report}")
    return printable("\n".join(lines))


def _listed(label: str, checks: Iterable[CheckResult]) -> list[str]:
    checks = list(checks)
    lines = [f"  {label:<11} {c.key}: {headline(c.reason)}" for c in checks[:TEXT_LIMIT]]
    if len(checks) > TEXT_LIMIT:
        lines.append(f"  ... and {len(checks) - TEXT_LIMIT} more {label.lower()}")
    return lines
