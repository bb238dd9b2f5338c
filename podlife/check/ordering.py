"""Named ordering assertions over a pod's timeline: the only way a check says "A before B".

They compare the runtime's nanosecond timestamps, and a tie is *not* an order: two events
stamped in the same nanosecond prove nothing about which came first. When one fails, the
message holds the pod's whole timeline (every event, offset from the first, and what the
kubelet reported of each container), so the failure can be read without a cluster.
"""

from __future__ import annotations

import itertools

from podlife.core.timeline import Event, Timeline

#: (container, event) as the instrumented scripts report it, e.g. ("app", "starting").
Point = tuple[str, str]
STARTING, EXITING = "starting", "exiting"


class OrderError(AssertionError):
    """An ordering claim the timeline does not support; its text shows the timeline."""


def describe(timeline: Timeline) -> str:
    """The whole timeline, one event a line, offsets in seconds to the nanosecond."""
    lines = [f"timeline of pod {timeline.pod}:"]
    if not timeline.events:
        lines.append("  (no events)")
    origin = timeline.events[0].sort_key() if timeline.events else 0
    width = max((len(e.container) for e in timeline.events), default=0)
    for event in timeline.events:
        offset = (event.sort_key() - origin) / 1e9
        detail = f" {event.detail}" if event.detail else ""
        lines.append(f"  +{offset:.9f}s  {event.container:<{width}}  {event.event}{detail}")
    for span in timeline.containers:
        lines.append(f"  kubelet: {span.name} ({span.kind}) started={span.started} "
                     f"finished={span.finished} exit={span.exit_code} "
                     f"restarts={span.restarts}")
    lines.extend(f"  unreadable: {note}" for note in timeline.unreadable)
    return "\n".join(lines)


def _fail(timeline: Timeline, claim: str, problem: str) -> OrderError:
    return OrderError(f"{timeline.pod}: expected {claim}, but {problem}\n{describe(timeline)}")


def _name(point: Point) -> str:
    return f"{point[0]}:{point[1]}"


def _first(timeline: Timeline, point: Point, claim: str) -> Event:
    found = timeline.of(*point)
    if not found:
        raise _fail(timeline, claim, f"{_name(point)} was never reported")
    return found[0]


def happened_before(timeline: Timeline, a: Point, b: Point) -> int:
    """a's first report came strictly before b's; returns the gap in nanoseconds."""
    claim = f"{_name(a)} before {_name(b)}"
    first_a, first_b = _first(timeline, a, claim), _first(timeline, b, claim)
    gap = first_b.sort_key() - first_a.sort_key()
    if gap == 0:
        raise _fail(timeline, claim, "both carry the same timestamp (a tie is not an order)")
    if gap < 0:
        raise _fail(timeline, claim, f"{_name(b)} came {-gap / 1e9:.9f}s earlier")
    return gap


def expect_order(timeline: Timeline, *points: Point) -> None:
    """Each point came strictly before the next (their first reports)."""
    for a, b in itertools.pairwise(points):
        try:
            happened_before(timeline, a, b)
        except OrderError as exc:
            order = " -> ".join(_name(p) for p in points)
            raise OrderError(f"order {order} not observed: {exc}") from None


def starts_before(timeline: Timeline, a: str, b: str) -> int:
    """Container a started (reported 'starting') strictly before container b."""
    return happened_before(timeline, (a, STARTING), (b, STARTING))


def exits_before(timeline: Timeline, a: str, b: str) -> int:
    """Container a reported its exit strictly before container b reported its own."""
    return happened_before(timeline, (a, EXITING), (b, EXITING))


def exited_before_start(timeline: Timeline, a: str, b: str) -> int:
    """Container a had exited before container b started: they never overlapped."""
    return happened_before(timeline, (a, EXITING), (b, STARTING))


def runs_together(timeline: Timeline, a: str, b: str) -> None:
    """The two containers were running at the same time: each started before the other
    exited (a container that never reported its exit is still running)."""
    claim = f"{a} and {b} to run together"
    start_a, start_b = _first(timeline, (a, STARTING), claim), _first(timeline, (b, STARTING),
                                                                       claim)
    for first, second, second_start in ((a, b, start_b), (b, a, start_a)):
        exits = timeline.of(first, EXITING)
        if exits and exits[-1].sort_key() <= second_start.sort_key():
            raise _fail(timeline, claim, f"{first} exited before {second} started")


def restarted(timeline: Timeline, container: str, at_least: int = 1) -> None:
    """The kubelet restarted the container at least `at_least` times, and the logs show a
    second start (the previous instance's log and the current one)."""
    claim = f"{container} restarted at least {at_least} time(s)"
    spans = [s for s in timeline.containers if s.name == container]
    if not spans:
        raise _fail(timeline, claim, f"the kubelet reported no status for {container}")
    if spans[0].restarts < at_least:
        raise _fail(timeline, claim, f"its restart count is {spans[0].restarts}")
    if len(timeline.of(container, STARTING)) < 2:
        gone = [n for n in timeline.unreadable if n.startswith(f"{container}:")]
        why = (" (the kubelet could not give the earlier instance's log: the runtime no "
               "longer has that container, so the restart is not proven by the logs)"
               if gone else "")
        raise _fail(timeline, claim, f"its logs show fewer than two starts{why}")


def close_together(timeline: Timeline, points: list[Point], within_s: float) -> float:
    """The first reports of all points fall within `within_s` seconds of each other (e.g.
    SIGTERMs sent to several containers at once); returns the observed spread."""
    claim = f"{', '.join(_name(p) for p in points)} within {within_s}s of each other"
    stamps = [_first(timeline, p, claim).sort_key() for p in points]
    spread = (max(stamps) - min(stamps)) / 1e9
    if spread >= within_s:
        raise _fail(timeline, claim, f"they are {spread:.3f}s apart")
    return spread


def reported_after(timeline: Timeline, point: Point, instant: float, what: str, *,
                   slack_s: float = 0.0) -> float:
    """The point was reported after an instant known outside the timeline (an API object's
    timestamp, unix seconds); returns the delay in seconds. `slack_s` admits an instant
    that is only known to the second (the API's timestamps are whole seconds)."""
    claim = f"{_name(point)} after {what}"
    delay = (_first(timeline, point, claim).sort_key() - round(instant * 1e9)) / 1e9
    if delay <= -slack_s:
        raise _fail(timeline, claim, f"it came {-delay:.3f}s before {what} "
                                     f"({instant:.3f}, slack {slack_s}s)")
    return delay


def one_after_another(timeline: Timeline, *containers: str) -> None:
    """Each container exited before the next one started: strictly sequential, as init
    containers must run."""
    for a, b in itertools.pairwise(containers):
        exited_before_start(timeline, a, b)


class MissingEvidence(AssertionError):
    """A claim of absence without the log that could show it: never a pass."""


def never_reported(timeline: Timeline, container: str, *events: str) -> None:
    """The container ran (its log shows it starting) and reported none of `events`.

    Without a "starting" line from that container its log was empty or unreadable, and the
    absence of an event proves nothing: that fails as missing evidence, never passes.
    """
    if not timeline.of(container, STARTING):
        raise MissingEvidence(
            f"{timeline.pod}: no log evidence from {container} (it never reported "
            f"'{STARTING}'), so the absence of {', '.join(events)} proves nothing\n"
            f"{describe(timeline)}")
    for event in events:
        found = timeline.of(container, event)
        if found:
            raise _fail(timeline, f"{container} never to report '{event}'",
                        f"it did, {len(found)} time(s)")
