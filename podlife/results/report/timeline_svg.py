"""The timeline drawing of a pod in matrix.html: one lane per container, bars and event ticks.

The geometry is computed here, in Python, so it can be unit tested; the template only
places the shapes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from podlife.core.timeline import ContainerSpan, Event, Timeline

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
