"""matrix.html: the version matrix as one self-contained page, read from the top down.

It opens on a summary (verdict counts per version, then per tutorial pattern and per
behaviour area, failures and unsupported first). The matrix below groups rows by pattern,
then area; the API-acceptance checks of a pattern (one per manifest object, alike and
many) fold into one row that expands. A cell opens its evidence (podlife.results.report.cells);
timelines are drawn by podlife.results.report.timeline_svg.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2

from podlife.core.deviation import describe
from podlife.results.hazards import ADVICE, matrix_hazards
from podlife.results.matrix import Column, Matrix, Row, verdict_counts
from podlife.results.model import VERDICTS
from podlife.results.report import summary
from podlife.results.report.cells import cell_view
from podlife.results.report.timeline_svg import BAR_HEIGHT, build_timeline, format_duration

__all__ = ["build_timeline", "build_view", "format_duration", "render_html", "write_html"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: Areas whose checks of one pattern fold into one expandable row: many alike checks
#: (suites/test_api_acceptance.py checks every manifest object) that would bury the rest.
FOLDED_AREAS = ("api_acceptance",)


def _column_view(matrix: Matrix, column: Column) -> dict[str, Any]:
    return {"column": column, "duration": format_duration(column.duration_s),
            "counts": verdict_counts(c for _, c in matrix.cells_of(column.version)),
            "deviations": describe(column.host_deviations, unknown="not known")}


def _unknown_why(column: Column) -> str:
    return (f"not recorded for this {column.provider} cluster: podlife records them only for "
            "nodes it boots on its own host, and only since it detects them")


def _deviations_view(matrix: Matrix) -> dict[str, Any]:
    """The header's host deviations: each with the versions whose run had it and how many
    verdicts could depend on it (marked cells); then the versions where none were found
    and those where they are not known, which is never shown as none."""
    found: dict[str, dict[str, Any]] = {}
    for column in matrix.columns:
        for deviation in column.host_deviations or []:
            entry = found.setdefault(deviation.id, {
                "id": deviation.id, "what": deviation.what, "cause": deviation.cause,
                "versions": [], "marked": 0})
            entry["versions"].append(column.version)
            entry["marked"] += sum(deviation.affects(cell.key)
                                   for _, cell in matrix.cells_of(column.version))
    return {"found": list(found.values()),
            "none": [c.version for c in matrix.columns if c.host_deviations == []],
            "unknown": [{"version": c.version, "why": _unknown_why(c)}
                        for c in matrix.columns if c.host_deviations is None]}


def _fold_cells(rows: list[Row], columns: list[Column]) -> list[dict[str, Any]]:
    """Per version: the worst verdict of the folded checks, and their counts."""
    return [summary.tally_cell(verdict_counts(r.cells[c.version] for r in rows
                                              if c.version in r.cells))
            for c in columns]


def _area_views(matrix: Matrix, pattern: str, areas: list[tuple[str, list[Row]]],
                rows: list[dict[str, Any]], out_dir: Path) -> list[dict[str, Any]]:
    """The pattern's areas, behaviour areas first and folded ones last; fills `rows`."""
    views = []
    for area, area_rows in sorted(areas, key=lambda item: (item[0] in FOLDED_AREAS, item[0])):
        folded = area in FOLDED_AREAS
        checks = []
        for row in area_rows:
            cells = [cell_view(row, col, row.cells.get(col.version), f"ev-{len(rows)}-{c}",
                               out_dir)
                     for c, col in enumerate(matrix.columns)]
            checks.append({"check_id": row.check_id, "title": row.title, "area": row.area,
                           "pattern": row.pattern, "cells": cells})
            rows.append(checks[-1])
        fold = None
        if folded:
            fold = {"id": f"fold-{len(rows)}", "count": len(area_rows),
                    "label": f"{area}: {len(area_rows)} check{'s' if len(area_rows) != 1 else ''}"
                             f" of {pattern or 'other files'}",
                    "cells": _fold_cells(area_rows, matrix.columns)}
        views.append({"area": area, "rows": checks, "fold": fold})
    return views


def _summary_view(matrix: Matrix) -> dict[str, Any]:
    """The top of the page: what failed or is unsupported, then counts by pattern and area."""
    failing, unsupported = [], []
    for row in matrix.rows:
        for version, cell in row.cells.items():
            item = {"key": f"{row.check_id}/{version}", "check": row.title or row.check_id,
                    "area": row.area, "version": version,
                    "headline": summary.headline(cell.reason), "verdict": cell.verdict}
            if cell.verdict in ("fail", "error"):
                failing.append(item)
            elif cell.verdict == "unsupported":
                unsupported.append(item)
    reasons: dict[tuple[str, str], int] = {}
    for item in unsupported:
        reasons[(item["version"], item["headline"])] = (
            reasons.get((item["version"], item["headline"]), 0) + 1)
    return {
        "failing": failing,
        "unsupported": [{"version": v, "reason": r, "count": n}
                        for (v, r), n in reasons.items()],
        "patterns": [_tally_view(t, matrix) for t in summary.by_pattern(matrix)],
        "areas": [_tally_view(t, matrix) for t in summary.by_area(matrix)],
    }


def _tally_view(tally: summary.GroupTally, matrix: Matrix) -> dict[str, Any]:
    return {"name": tally.name, "total": summary.tally_cell(tally.total),
            "cells": [summary.tally_cell(tally.per_version[v]) for v in matrix.versions]}


def _hazard_views(matrix: Matrix) -> list[dict[str, Any]]:
    """Checks failing only in a skew column (podlife.results.hazards), linked to their cells."""
    by_column = {v: {row.key: cell for row, cell in matrix.cells_of(v)} for v in matrix.versions}
    ids = {row.key: row.check_id for row in matrix.rows}
    return [{"column": h.column, "key": f"{ids[h.check]}/{h.column}", "title": h.title,
             "verdict": h.verdict, "headline": summary.headline(h.reason),
             "elsewhere": ", ".join(f"{v} on {c}" for c, v in h.elsewhere)}
            for h in matrix_hazards(by_column)]


def build_view(matrix: Matrix, out_dir: Path) -> dict[str, Any]:
    """Everything the template needs, as plain data: summary, then rows by pattern and area."""
    groups: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for pattern, areas in matrix.groups():
        groups.append({"pattern": pattern, "areas": _area_views(matrix, pattern, areas, rows,
                                                                   out_dir)})
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "columns": [_column_view(matrix, col) for col in matrix.columns],
        "summary": _summary_view(matrix),
        "deviations": _deviations_view(matrix),
        "hazards": _hazard_views(matrix),
        "hazard_advice": ADVICE,
        "groups": groups,
        # Pattern headings only when some check names a pattern (v1 files never do).
        "show_patterns": any(g["pattern"] for g in groups),
        "rows": rows,
        "check_count": len(matrix.rows),
        "bar_height": BAR_HEIGHT,
        "verdicts": VERDICTS,
    }


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(matrix: Matrix, out_dir: Path) -> str:
    template = _environment().get_template("matrix.html.j2")
    return template.render(**build_view(matrix, out_dir))


def write_html(matrix: Matrix, out_dir: Path) -> Path:
    path = out_dir / "matrix.html"
    path.write_text(render_html(matrix, out_dir), encoding="utf-8")
    return path
