"""A pod's timeline: every container's instrumented events, in the order they happened.

Instrumented containers print lines `podlife-event <container> <event> [detail]`. The
container runtime stamps each log line with a nanosecond timestamp (read back with
`timestamps=True`), so the timeline orders events across containers by when the runtime
saw them, not by any clock inside the containers.

These types are also the timeline's only definition in results files and reports: each
has one to_dict and one strict from_dict (see podlife.core.schema).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from podlife.core import schema
from podlife.core.schema import Where

CONTAINER_KINDS = ("init", "sidecar", "app")
MARKER = "podlife-event"
_LINE = re.compile(r"^(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d))\s"
                   r"(?P<text>.*)$")


@dataclass(frozen=True, order=True)
class Event:
    """One thing a container reported, at the runtime's timestamp (unix seconds)."""

    t: float
    container: str
    event: str
    detail: str = ""
    #: The runtime's exact timestamp in unix nanoseconds (0 if unknown): `t` is a float and
    #: keeps only microseconds, too coarse to order lines written back to back.
    ns: int = field(default=0, compare=False)

    def sort_key(self) -> int:
        """Nanoseconds since the epoch, from `ns` when known, else from `t`."""
        return self.ns or round(self.t * 1_000_000_000)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any, where: Where | None = None) -> Event:
        where = where or Where()
        data = schema.fields(data, where, ("t", "container", "event", "detail"), ("ns",))
        return cls(
            t=schema.number(data["t"], where.at("t")),
            container=schema.text(data["container"], where.at("container")),
            event=schema.text(data["event"], where.at("event")),
            detail=schema.text(data["detail"], where.at("detail")),
            ns=schema.integer(data.get("ns", 0), where.at("ns")),
        )


@dataclass
class ContainerSpan:
    """A container's life as the pod status reports it, plus how podlife classifies it."""

    name: str
    kind: str  # "init", "sidecar" or "app"
    started: float | None = None
    finished: float | None = None
    exit_code: int | None = None
    restarts: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any, where: Where | None = None) -> ContainerSpan:
        where = where or Where()
        data = schema.fields(data, where, _SPAN_FIELDS)
        return cls(
            name=schema.text(data["name"], where.at("name"), empty=False),
            kind=schema.one_of(data["kind"], where.at("kind"), CONTAINER_KINDS),
            started=schema.optional_number(data["started"], where.at("started")),
            finished=schema.optional_number(data["finished"], where.at("finished")),
            exit_code=schema.optional_integer(data["exit_code"], where.at("exit_code")),
            restarts=schema.integer(data["restarts"], where.at("restarts")),
        )


def _identity(event: Event) -> tuple[str, str, str, int]:
    return (event.container, event.event, event.detail, event.sort_key())


_SPAN_FIELDS = ("name", "kind", "started", "finished", "exit_code", "restarts")


@dataclass
class Timeline:
    """One pod's events (ordered by the runtime's clock) and its containers' spans."""

    pod: str
    events: list[Event] = field(default_factory=list)
    containers: list[ContainerSpan] = field(default_factory=list)
    #: Logs the API would not give (e.g. an earlier instance the runtime no longer has):
    #: missing evidence, shown when a claim fails, never read as "nothing happened".
    unreadable: list[str] = field(default_factory=list)

    def add_log(self, log_text: str) -> None:
        """Add the events found in one container log read with timestamps=True. A line
        already in the timeline (the same container's event at the same ns) is not added
        again: a container waiting to be restarted serves its last instance's log both as
        its current and as its previous one."""
        seen = {_identity(e) for e in self.events}
        self.events.extend(e for e in parse_log(log_text) if _identity(e) not in seen)
        # Stable sort on the exact time: lines stamped in the same instant keep log order.
        self.events.sort(key=Event.sort_key)

    def of(self, container: str, event: str | None = None) -> list[Event]:
        return [e for e in self.events
                if e.container == container and (event is None or e.event == event)]

    def first(self, container: str, event: str) -> Event:
        """The first time a container reported an event; a clear AssertionError if never."""
        found = self.of(container, event)
        if not found:
            seen = sorted({(e.container, e.event) for e in self.events})
            raise AssertionError(f"{self.pod}: container '{container}' never reported "
                                 f"'{event}' (seen: {seen})")
        return found[0]

    def last(self, container: str, event: str) -> Event:
        found = self.of(container, event)
        if not found:
            raise AssertionError(f"{self.pod}: container '{container}' never reported '{event}'")
        return found[-1]

    def to_dict(self) -> dict[str, Any]:
        return {"pod": self.pod, "events": [e.to_dict() for e in self.events],
                "containers": [c.to_dict() for c in self.containers]}

    @classmethod
    def from_dict(cls, data: Any, where: Where | None = None) -> Timeline:
        where = where or Where()
        data = schema.fields(data, where, ("pod", "events", "containers"))
        return cls(
            pod=schema.text(data["pod"], where.at("pod")),
            events=[Event.from_dict(e, at)
                    for e, at in schema.items(data["events"], where.at("events"))],
            containers=[ContainerSpan.from_dict(c, at)
                        for c, at in schema.items(data["containers"], where.at("containers"))],
        )


def parse_timestamp(text: str) -> float:
    """RFC 3339 with up to nanoseconds (Python keeps microseconds) to unix seconds."""
    text = text.replace("Z", "+00:00")
    main, _, rest = text.partition(".")
    if rest:
        digits = re.match(r"\d+", rest)
        assert digits
        frac = digits.group(0)
        tz = rest[len(frac):]
        text = f"{main}.{frac[:6].ljust(6, '0')}{tz}"
    return datetime.datetime.fromisoformat(text).timestamp()


def parse_timestamp_ns(text: str) -> int:
    """RFC 3339 with up to nanoseconds to exact unix nanoseconds (no float in between)."""
    main, _, rest = text.replace("Z", "+00:00").partition(".")
    frac = ""
    if rest:
        digits = re.match(r"\d+", rest)
        assert digits
        frac = digits.group(0)
        main += rest[len(frac):]
    seconds = int(datetime.datetime.fromisoformat(main).timestamp())
    return seconds * 1_000_000_000 + int(frac[:9].ljust(9, "0"))


def parse_log(log_text: str) -> list[Event]:
    """Events in a log read with timestamps; lines that are not events are ignored."""
    events = []
    for line in log_text.splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        words = match.group("text").split(maxsplit=3)
        if len(words) < 3 or words[0] != MARKER:
            continue
        detail = words[3] if len(words) > 3 else ""
        stamp = match.group("ts")
        events.append(Event(parse_timestamp(stamp), words[1], words[2], detail,
                            ns=parse_timestamp_ns(stamp)))
    return events


def spans_from_status(pod: dict) -> list[ContainerSpan]:
    """Container spans from a pod (as a dict from the API): what the kubelet reported."""
    spec = pod.get("spec", {})
    kinds = {c["name"]: ("sidecar" if c.get("restartPolicy") == "Always" else "init")
             for c in spec.get("initContainers") or []}
    kinds |= {c["name"]: "app" for c in spec.get("containers") or []}
    statuses = (pod.get("status", {}).get("initContainerStatuses") or []) + (
        pod.get("status", {}).get("containerStatuses") or [])
    spans = []
    for status in statuses:
        span = ContainerSpan(status["name"], kinds.get(status["name"], "app"),
                             restarts=status.get("restartCount", 0))
        state = status.get("state") or {}
        current = state.get("running") or state.get("terminated") or {}
        if current.get("startedAt"):
            span.started = _ts(current["startedAt"])
        terminated = state.get("terminated")
        if terminated:
            span.finished = _ts(terminated.get("finishedAt"))
            span.exit_code = terminated.get("exitCode")
        spans.append(span)
    return spans


def _ts(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    return parse_timestamp(str(value))
