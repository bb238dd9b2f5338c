"""matrix.html: the version matrix as one self-contained page with per-cell evidence.

Geometry of the timeline drawings is computed here, in Python, so it can be unit
tested; the template only places the shapes, and the page's script only opens panels.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2

from podlife.matrix import Column, Matrix, Row, verdict_counts
from podlife.model import CheckResult
from podlife.timeline import ContainerSpan, Event, Timeline

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

# Timeline drawing, in SVG user units.
SVG_WIDTH = 820
LABEL_WIDTH = 170
RIGHT_PAD = 70
ROW_HEIGHT = 24
BAR_HEIGHT = 12
TOP_PAD = 6
AXIS_HEIGHT = 26
_NICE_STEPS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600)
_POD_ROW = "(pod)"


def format_duration(seconds: float) -> str:
    """Short and stable: '0.42s', '12.3s', '2m05s', '1h02m'."""
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


@dataclass
class Bar:
    x: float
    width: float
    kind: str
    open_end: bool
    tooltip: str


@dataclass
class Tick:
    x: float
    tooltip: str
    event: str


@dataclass
class LaneView:
    """One container (or the pod itself, for events not tied to a container)."""

    name: str
    kind: str
    y: float
    bar: Bar | None
    ticks: list[Tick] = field(default_factory=list)
    note: str = ""


@dataclass
class AxisTick:
    x: float
    label: str


@dataclass
class TimelineView:
    pod: str
    width: int
    height: int
    plot_left: int
    plot_right: int
    axis_y: float
    lanes: list[LaneView]
    axis: list[AxisTick]
    events: list[dict[str, str]]


def _nice_step(span: float) -> float:
    for step in _NICE_STEPS:
        if span / step <= 8:
            return step
    return _NICE_STEPS[-1] * max(1, round(span / _NICE_STEPS[-1] / 8))


def _offset(t: float, t0: float) -> str:
    return f"+{t - t0:.2f}s"


def _bar(span: ContainerSpan, t0: float, t1: float, x: Callable[[float], float]
         ) -> tuple[Bar | None, str]:
    """A container's bar from start to finish (open-ended if still running) and its note."""
    if span.started is None:
        return None, "never started"
    finished, exit_code, restarts = span.finished, span.exit_code, span.restarts
    end = finished if finished is not None else t1
    tip = (
        f"{span.name} ({span.kind}): started {_offset(span.started, t0)}, "
        + (f"finished {_offset(finished, t0)}" if finished is not None else "still running")
        + (f", exit {exit_code}" if exit_code is not None else "")
        + (f", {restarts} restarts" if restarts else "")
    )
    bar = Bar(
        x=x(span.started),
        width=max(round(x(end) - x(span.started), 2), 2.0),
        kind=span.kind,
        open_end=finished is None,
        tooltip=tip,
    )
    parts = [f"exit {exit_code}" if exit_code is not None else "",
             f"↻{restarts}" if restarts else ""]
    return bar, " ".join(p for p in parts if p)


def build_timeline(timeline: Timeline) -> TimelineView:
    """Lay out one pod: a lane per container with a bar from start to finish, event ticks."""
    events = sorted(timeline.events, key=Event.sort_key)
    times = [e.t for e in events]
    for span in timeline.containers:
        times += [t for t in (span.started, span.finished) if t is not None]
    t0 = min(times, default=0.0)
    t1 = max(times, default=0.0)
    span_s = (t1 - t0) or 1.0
    plot_left, plot_right = LABEL_WIDTH, SVG_WIDTH - RIGHT_PAD

    def x(t: float) -> float:
        return round(plot_left + (t - t0) / span_s * (plot_right - plot_left), 2)

    names = {c.name for c in timeline.containers}
    stray = [e for e in events if e.container not in names]
    rows: list[tuple[str, str, ContainerSpan | None]] = [
        (c.name, c.kind, c) for c in timeline.containers
    ]
    if stray:
        rows.insert(0, (_POD_ROW, "pod", None))
    lanes: list[LaneView] = []
    for index, (name, kind, span) in enumerate(rows):
        bar, note = _bar(span, t0, t1, x) if span is not None else (None, "")
        lane_events = stray if span is None else [e for e in events if e.container == name]
        ticks = [
            Tick(
                x=x(e.t),
                event=e.event,
                tooltip=f"{_offset(e.t, t0)} {e.container or 'pod'}: {e.event}"
                + (f" — {e.detail}" if e.detail else ""),
            )
            for e in lane_events
        ]
        y = TOP_PAD + index * ROW_HEIGHT + ROW_HEIGHT / 2
        lanes.append(LaneView(name=name, kind=kind, y=y, bar=bar, ticks=ticks, note=note))

    axis_y = TOP_PAD + len(rows) * ROW_HEIGHT + 4
    step = _nice_step(span_s)
    axis = []
    k = 0
    while k * step <= span_s + 1e-9:
        axis.append(AxisTick(x=x(t0 + k * step), label=f"{k * step:g}s"))
        k += 1
    return TimelineView(
        pod=timeline.pod,
        width=SVG_WIDTH,
        height=int(axis_y + AXIS_HEIGHT),
        plot_left=plot_left,
        plot_right=plot_right,
        axis_y=axis_y,
        lanes=lanes,
        axis=axis,
        events=[
            {"at": _offset(e.t, t0), "container": e.container or "pod", "event": e.event,
             "detail": e.detail}
            for e in events
        ],
    )


def dump_href(column: Column, dump: str, out_dir: Path) -> str:
    """Dumps are relative to the run's directory (where its results file is); the link is
    made relative to the report, so the whole tree can be moved or archived together."""
    base = Path(column.source).resolve().parent if column.source else Path.cwd()
    target = (base / dump).resolve()
    rel = os.path.relpath(target, out_dir.resolve())
    return quote(Path(rel).as_posix())


def _cell_view(
    row: Row, column: Column, cell: CheckResult | None, ref: str, out_dir: Path
) -> dict[str, Any]:
    key = f"{row.check_id}/{column.version}"
    if cell is None:
        return {"key": key, "version": column.version, "present": False}
    return {
        "key": key,
        "version": column.version,
        "present": True,
        "ref": ref,
        "verdict": cell.verdict,
        "duration": format_duration(cell.duration_s),
        "reason": cell.reason,
        "nodeid": cell.nodeid,
        "timelines": [build_timeline(t) for t in cell.timelines],
        "dumps": [{"path": d, "href": dump_href(column, d, out_dir)} for d in cell.dumps],
        "dump_errors": cell.dump_errors,
    }


def build_view(matrix: Matrix, out_dir: Path) -> dict[str, Any]:
    """Everything the template needs, as plain data: rows grouped by pattern, then area."""
    groups: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for pattern, areas in matrix.groups():
        group: dict[str, Any] = {"pattern": pattern, "areas": []}
        for area, area_rows in areas:
            views = []
            for row in area_rows:
                cells = [
                    _cell_view(row, col, row.cells.get(col.version), f"ev-{len(rows)}-{c}",
                               out_dir)
                    for c, col in enumerate(matrix.columns)
                ]
                views.append({"check_id": row.check_id, "title": row.title, "area": row.area,
                              "pattern": row.pattern, "cells": cells})
                rows.append(views[-1])
            group["areas"].append({"area": area, "rows": views})
        groups.append(group)
    columns = [
        {"column": col, "counts": verdict_counts(c for _, c in matrix.cells_of(col.version))}
        for col in matrix.columns
    ]
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "columns": columns,
        "groups": groups,
        # Pattern headings only when some check names a pattern (v1 files never do).
        "show_patterns": any(g["pattern"] for g in groups),
        "rows": rows,
        "check_count": len(matrix.rows),
        "bar_height": BAR_HEIGHT,
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
