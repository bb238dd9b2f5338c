"""The timeline the suites assert on: log parsing, ordering, and container spans (pure).

Every ordering check in the suites ("init N exited before N+1 started", "sidecars stop
last") reads podlife.core.timeline; these tests pin how it reads the runtime's timestamps and
the kubelet's statuses, without a cluster.
"""

from __future__ import annotations

import datetime

import pytest

from podlife.core.timeline import (
    MARKER,
    ContainerSpan,
    Event,
    Timeline,
    parse_log,
    parse_timestamp,
    parse_timestamp_ns,
    spans_from_status,
)

T0 = "2026-01-02T03:04:05"
EPOCH_T0 = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC).timestamp()


def line(frac: str, container: str, event: str, detail: str = "") -> str:
    """One log line as `kubectl logs --timestamps` returns it."""
    text = f"{MARKER} {container} {event}" + (f" {detail}" if detail else "")
    return f"{T0}.{frac}Z {text}"


# ----- timestamps ------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    (f"{T0}Z", EPOCH_T0),
    (f"{T0}.5Z", EPOCH_T0 + 0.5),
    (f"{T0}.123456Z", EPOCH_T0 + 0.123456),
    (f"{T0}.123456789Z", EPOCH_T0 + 0.123456),  # Python keeps microseconds
    (f"{T0}.000000001Z", EPOCH_T0),
    (f"{T0}.25+02:00", EPOCH_T0 - 7200 + 0.25),
    (f"{T0}.250000000-01:30", EPOCH_T0 + 5400 + 0.25),
    (f"{T0}+00:00", EPOCH_T0),
])
def test_parse_timestamp(text: str, expected: float) -> None:
    """RFC 3339 timestamps with 0-9 fractional digits and any offset become unix seconds."""
    assert parse_timestamp(text) == pytest.approx(expected, abs=1e-6)


# ----- parse_log -------------------------------------------------------------------------

def test_parse_log_reads_events_with_details() -> None:
    """Each event line gives its container, event and the rest of the line as detail."""
    log = "\n".join([
        line("100000001", "app", "starting"),
        line("200000002", "app", "exiting", "0"),
        line("300000003", "app", "note", "several words of detail"),
    ])
    events = parse_log(log)
    assert [(e.container, e.event, e.detail) for e in events] == [
        ("app", "starting", ""), ("app", "exiting", "0"),
        ("app", "note", "several words of detail")]
    assert events[0].t == pytest.approx(EPOCH_T0 + 0.1, abs=1e-6)
    assert events[1].t == pytest.approx(EPOCH_T0 + 0.2, abs=1e-6)


def test_parse_log_ignores_non_event_lines() -> None:
    """Application output, blank lines, lines without a timestamp and a bare marker are
    not events."""
    log = "\n".join([
        f"{T0}.1Z waiting for db",
        "",
        f"{MARKER} app starting",  # no timestamp: not from the runtime
        f"{T0}.2Z {MARKER} app",  # marker and container, no event
        f"{T0}.3Z something {MARKER} app starting",  # marker not first
        f"{T0}.4Z {MARKER}x app starting",
        "garbage 2026-01-02T03:04:05Z",
        line("5", "app", "ready"),
    ])
    events = parse_log(log)
    assert [(e.container, e.event) for e in events] == [("app", "ready")]


def test_parse_log_of_empty_text() -> None:
    """An empty log (a container that never ran) has no events."""
    assert parse_log("") == []


def test_parse_log_handles_crlf() -> None:
    """Windows line endings do not leak into the detail."""
    events = parse_log(line("1", "app", "exiting", "3") + "\r\n")
    assert [(e.event, e.detail) for e in events] == [("exiting", "3")]


# ----- Timeline ordering -----------------------------------------------------------------

def test_timeline_orders_events_across_containers() -> None:
    """Logs added container by container are merged by the runtime's timestamps."""
    timeline = Timeline("p")
    timeline.add_log("\n".join([line("300", "app", "starting"),
                                line("600", "app", "exiting", "0")]))
    timeline.add_log("\n".join([line("100", "init", "starting"),
                                line("200", "init", "exiting", "0"),
                                line("700", "init", "late")]))
    assert [(e.container, e.event) for e in timeline.events] == [
        ("init", "starting"), ("init", "exiting"), ("app", "starting"), ("app", "exiting"),
        ("init", "late")]


def test_the_same_instance_read_twice_counts_once() -> None:
    """A container waiting in back-off serves its last instance's log as both its current
    and its previous one: read twice, that instance is still one run."""
    run = "\n".join([line("100000001", "app", "starting"),
                     line("400000001", "app", "exiting", "1")])
    timeline = Timeline("p")
    timeline.add_log(run)
    timeline.add_log(run)
    assert [(e.container, e.event) for e in timeline.events] == [
        ("app", "starting"), ("app", "exiting")]


def test_timeline_keeps_log_order_within_a_microsecond() -> None:
    """Lines the runtime stamped less than a microsecond apart keep their order.

    containerd stamps each line when it reads it; lines written back to back can land in the
    same microsecond, and must not be re-sorted by event name ('exiting' < 'starting').
    """
    timeline = Timeline("p")
    timeline.add_log("\n".join([line("100000100", "app", "starting"),
                                line("100000400", "app", "exiting", "0")]))
    assert [e.event for e in timeline.of("app")] == ["starting", "exiting"]


def test_timeline_orders_by_nanoseconds_across_containers() -> None:
    """Events in different containers 300ns apart are ordered by time, not by name."""
    timeline = Timeline("p")
    timeline.add_log(line("100000400", "a-sidecar", "starting"))
    timeline.add_log(line("100000100", "z-init", "starting"))
    assert [e.container for e in timeline.events] == ["z-init", "a-sidecar"]


def test_timeline_first_and_last() -> None:
    """first/last return the earliest and latest report of an event (restarts repeat it)."""
    timeline = Timeline("p")
    timeline.add_log("\n".join([line("1", "app", "starting"), line("2", "app", "exiting", "1"),
                                line("3", "app", "starting"), line("4", "app", "exiting", "0")]))
    assert timeline.first("app", "exiting").detail == "1"
    assert timeline.last("app", "exiting").detail == "0"
    assert timeline.first("app", "starting").t < timeline.last("app", "starting").t
    assert len(timeline.of("app", "starting")) == 2
    assert len(timeline.of("app")) == 4


def test_timeline_first_error_names_what_was_seen() -> None:
    """Asking for an event never reported fails with the pod, container and what was seen."""
    timeline = Timeline("mypod")
    timeline.add_log(line("1", "app", "starting"))
    with pytest.raises(AssertionError) as info:
        timeline.first("app", "ready")
    message = str(info.value)
    assert "mypod" in message and "'app'" in message and "'ready'" in message
    assert "('app', 'starting')" in message
    with pytest.raises(AssertionError, match="never reported 'starting'"):
        timeline.first("other", "starting")


def test_timeline_last_error() -> None:
    """last() on a missing event fails too, naming pod, container and event."""
    with pytest.raises(AssertionError, match=r"p: container 'app' never reported 'ready'"):
        Timeline("p").last("app", "ready")


def test_timeline_to_dict() -> None:
    """The evidence form carries the pod, each event and each span."""
    timeline = Timeline("p", containers=[ContainerSpan("app", "app", started=1.0)])
    timeline.add_log(line("5", "app", "starting"))
    data = timeline.to_dict()
    assert data["pod"] == "p"
    assert [(e["container"], e["event"], e["detail"]) for e in data["events"]] == [
        ("app", "starting", "")]
    assert data["events"][0]["t"] == pytest.approx(EPOCH_T0 + 0.5)
    assert data["containers"][0]["name"] == "app"
    assert data["containers"][0]["kind"] == "app"


def test_parse_timestamp_ns_is_exact() -> None:
    """The nanosecond reading keeps all nine digits and the offset."""
    assert parse_timestamp_ns(f"{T0}.123456789Z") == int(EPOCH_T0) * 10**9 + 123456789
    assert parse_timestamp_ns(f"{T0}Z") == int(EPOCH_T0) * 10**9
    assert parse_timestamp_ns(f"{T0}.5+01:00") == (int(EPOCH_T0) - 3600) * 10**9 + 5 * 10**8
    (event,) = parse_log(line("000000007", "app", "x"))
    assert event.ns == int(EPOCH_T0) * 10**9 + 7


def test_events_built_by_hand_still_sort() -> None:
    """Events made directly (without parsing a log) order by their unix time."""
    timeline = Timeline("p", events=[Event(2.0, "b", "x"), Event(1.0, "a", "y")])
    timeline.add_log("")
    assert [e.t for e in timeline.events] == [1.0, 2.0]


# ----- spans_from_status -----------------------------------------------------------------

POD = {
    "spec": {
        "initContainers": [
            {"name": "setup", "image": "busybox"},
            {"name": "shipper", "image": "busybox", "restartPolicy": "Always"},
            {"name": "odd", "image": "busybox", "restartPolicy": "Never"},
        ],
        "containers": [{"name": "app", "image": "busybox"}],
    },
    "status": {
        "initContainerStatuses": [
            {"name": "setup", "restartCount": 0, "state": {"terminated": {
                "exitCode": 0, "startedAt": f"{T0}Z", "finishedAt": "2026-01-02T03:04:07Z"}}},
            {"name": "shipper", "restartCount": 2, "state": {"running": {
                "startedAt": "2026-01-02T03:04:08Z"}}},
            {"name": "odd", "state": {"waiting": {"reason": "PodInitializing"}}},
        ],
        "containerStatuses": [
            {"name": "app", "restartCount": 1, "state": {"terminated": {
                "exitCode": 137, "startedAt": "2026-01-02T03:04:09Z",
                "finishedAt": "2026-01-02T03:04:15Z"}}},
        ],
    },
}


def test_spans_classify_init_sidecar_and_app() -> None:
    """Init containers are 'init', restartPolicy Always makes 'sidecar', the rest 'app'."""
    kinds = {s.name: s.kind for s in spans_from_status(POD)}
    assert kinds == {"setup": "init", "shipper": "sidecar", "odd": "init", "app": "app"}


def test_spans_read_times_exit_codes_and_restarts() -> None:
    """Spans carry the kubelet's start/finish times, exit codes and restart counts."""
    spans = {s.name: s for s in spans_from_status(POD)}
    assert spans["setup"].started == EPOCH_T0
    assert spans["setup"].finished == EPOCH_T0 + 2
    assert spans["setup"].exit_code == 0
    assert spans["shipper"].started == EPOCH_T0 + 3
    assert spans["shipper"].finished is None and spans["shipper"].exit_code is None
    assert spans["shipper"].restarts == 2
    assert spans["odd"].started is None and spans["odd"].restarts == 0
    assert spans["app"].exit_code == 137
    assert spans["app"].finished == EPOCH_T0 + 10
    assert [s.name for s in spans_from_status(POD)] == ["setup", "shipper", "odd", "app"]


def test_spans_accept_datetimes() -> None:
    """Statuses from the client's models (datetime objects) read the same as strings."""
    started = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    pod = {"spec": {"containers": [{"name": "app"}]},
           "status": {"containerStatuses": [{"name": "app", "state": {"running": {
               "startedAt": started}}}]}}
    (span,) = spans_from_status(pod)
    assert span.started == EPOCH_T0 and span.kind == "app"


def test_spans_of_a_pod_without_status() -> None:
    """A pod not yet scheduled has no spans; a status for an unknown name counts as app."""
    assert spans_from_status({"spec": {"containers": [{"name": "app"}]}}) == []
    pod = {"spec": {}, "status": {"containerStatuses": [{"name": "ghost", "state": {}}]}}
    (span,) = spans_from_status(pod)
    assert span.kind == "app" and span.started is None


def test_timeline_round_trips_through_its_dict() -> None:
    """The evidence form reads back into the same typed timeline, nanoseconds included."""
    timeline = Timeline("p", containers=spans_from_status(POD))
    timeline.add_log("\n".join([line("100000001", "setup", "starting"),
                                line("100000002", "app", "exiting", "137")]))
    again = Timeline.from_dict(timeline.to_dict())
    assert again == timeline
    assert [e.ns for e in again.events] == [e.ns for e in timeline.events]
    assert again.first("app", "exiting").detail == "137"
