"""One cell's evidence in matrix.html: verdict, reason, dumps, timelines, and for an ordering
failure the expected order set beside what the pod's timeline shows.

A failed ordering assertion's reason starts with "<pod>: expected <claim>, but <problem>"
(podlife.check.ordering); the page shows that claim first, then each expected step with the
time the pod reported it, or that it never did, or that it came out of order.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from podlife.core.deviation import affecting
from podlife.core.timeline import Timeline
from podlife.results.matrix import Column, Row
from podlife.results.model import CheckResult
from podlife.results.report.summary import Claim, parse_claim
from podlife.results.report.timeline_svg import build_timeline, format_duration


def dump_href(column: Column, dump: str, out_dir: Path) -> str:
    """Dumps are relative to the run's directory (where its results file is); the link is
    made relative to the report, so the whole tree can be moved or archived together."""
    base = Path(column.source).resolve().parent if column.source else Path.cwd()
    target = (base / dump).resolve()
    rel = os.path.relpath(target, out_dir.resolve())
    return quote(Path(rel).as_posix())


def expected_steps(claim: Claim, timelines: list[Timeline]) -> list[dict[str, Any]]:
    """Each step of the expected order, with when the pod first reported it (if it did)."""
    timeline = next((t for t in timelines if t.pod == claim.pod), None)
    origin = timeline.events[0].sort_key() if timeline and timeline.events else 0
    steps: list[dict[str, Any]] = []
    previous: int | None = None
    for container, event in claim.order:
        found = timeline.of(container, event) if timeline else []
        step = {"point": f"{container}:{event}", "seen": "", "status": "missing"}
        if found:
            at = found[0].sort_key()
            step["seen"] = f"+{(at - origin) / 1e9:.3f}s"
            step["status"] = "ok" if previous is None or at > previous else "out-of-order"
            previous = at
        steps.append(step)
    return steps


def claim_view(cell: CheckResult) -> dict[str, Any] | None:
    if cell.verdict != "fail":
        return None
    claim = parse_claim(cell.reason)
    if claim is None:
        return None
    return {"pod": claim.pod, "claim": claim.claim, "problem": claim.problem,
            "steps": expected_steps(claim, cell.timelines)}


def cell_view(row: Row, column: Column, cell: CheckResult | None, ref: str,
              out_dir: Path) -> dict[str, Any]:
    key = f"{row.check_id}/{column.version}"
    if cell is None:
        return {"key": key, "version": column.version, "present": False}
    marks = affecting(column.host_deviations, f"{row.area}/{row.check_id}")
    return {
        "key": key,
        "version": column.version,
        "present": True,
        "ref": ref,
        "verdict": cell.verdict,
        "duration": format_duration(cell.duration_s),
        "reason": cell.reason,
        "claim": claim_view(cell),
        "nodeid": cell.nodeid,
        "timelines": [build_timeline(t) for t in cell.timelines],
        "dumps": [{"path": d, "href": dump_href(column, d, out_dir)} for d in cell.dumps],
        "dump_errors": cell.dump_errors,
        #: Host deviations this verdict could depend on (podlife.cluster.local.deviations).
        "deviations": [{"id": d.id, "what": d.what} for d in marks],
    }
