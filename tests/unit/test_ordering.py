"""The named ordering assertions: strict on nanoseconds, ties refused, whole timeline shown."""

from __future__ import annotations

import pytest

from podlife.check import ordering
from podlife.core.timeline import ContainerSpan, Event, Timeline

BASE = 1_700_000_000 * 1_000_000_000


def timeline(*events: tuple[int, str, str], restarts: int = 0) -> Timeline:
    """Events as (ns after BASE, container, event)."""
    return Timeline("p", events=[Event((BASE + ns) / 1e9, c, e, ns=BASE + ns)
                                 for ns, c, e in events],
                    containers=[ContainerSpan("side", "sidecar", restarts=restarts)])


SEQUENCE = timeline((0, "init", "starting"), (5, "init", "exiting"),
                    (9, "side", "starting"), (12, "app", "starting"), (20, "app", "exiting"))


def test_happened_before_returns_the_gap_in_ns() -> None:
    assert ordering.happened_before(SEQUENCE, ("init", "exiting"), ("app", "starting")) == 7
    assert ordering.starts_before(SEQUENCE, "init", "app") == 12
    assert ordering.exited_before_start(SEQUENCE, "init", "side") == 4


def test_a_tie_is_not_an_order() -> None:
    tied = timeline((3, "a", "starting"), (3, "b", "starting"))
    with pytest.raises(ordering.OrderError, match="same timestamp"):
        ordering.starts_before(tied, "a", "b")


def test_a_nanosecond_is_an_order() -> None:
    """Floats would lose this (1.7e9 s keeps ~0.2 us); the ns stamps do not."""
    close = timeline((3, "a", "starting"), (4, "b", "starting"))
    assert ordering.starts_before(close, "a", "b") == 1
    with pytest.raises(ordering.OrderError, match=r"came 0\.000000001s earlier"):
        ordering.starts_before(close, "b", "a")


def test_failure_prints_the_whole_timeline() -> None:
    with pytest.raises(ordering.OrderError) as info:
        ordering.exits_before(SEQUENCE, "app", "init")
    text = str(info.value)
    assert text.startswith("p: expected app:exiting before init:exiting")
    for line in ("+0.000000000s  init  starting", "+0.000000020s  app   exiting",
                 "kubelet: side (sidecar)"):
        assert line in text, text


def test_missing_event_is_an_error_not_a_pass() -> None:
    with pytest.raises(ordering.OrderError, match="side:exiting was never reported"):
        ordering.exits_before(SEQUENCE, "side", "app")


def test_expect_order_names_the_whole_sequence() -> None:
    ordering.expect_order(SEQUENCE, ("init", "starting"), ("side", "starting"),
                          ("app", "exiting"))
    with pytest.raises(ordering.OrderError, match="order init:starting -> app:starting -> "
                                                  "side:starting not observed"):
        ordering.expect_order(SEQUENCE, ("init", "starting"), ("app", "starting"),
                              ("side", "starting"))


def test_one_after_another() -> None:
    ordering.one_after_another(SEQUENCE, "init", "app")
    with pytest.raises(ordering.OrderError, match="b:starting came"):
        ordering.one_after_another(
            timeline((0, "a", "starting"), (2, "b", "starting"), (5, "a", "exiting")), "a", "b")


def test_runs_together() -> None:
    ordering.runs_together(SEQUENCE, "side", "app")  # side never exited: still running
    with pytest.raises(ordering.OrderError, match="init exited before app started"):
        ordering.runs_together(SEQUENCE, "init", "app")


def test_restarted_needs_the_kubelet_count_and_two_starts() -> None:
    twice = timeline((0, "side", "starting"), (9, "side", "starting"), restarts=1)
    ordering.restarted(twice, "side")
    with pytest.raises(ordering.OrderError, match="restart count is 0"):
        ordering.restarted(timeline((0, "side", "starting"), (9, "side", "starting")), "side")
    with pytest.raises(ordering.OrderError, match="fewer than two starts"):
        ordering.restarted(timeline((0, "side", "starting"), restarts=1), "side")
    with pytest.raises(ordering.OrderError, match="no status for app"):
        ordering.restarted(twice, "app")


def test_a_restart_whose_earlier_log_is_gone_fails_naming_the_missing_log() -> None:
    """The runtime no longer has the earlier instance: the claim is not proven, and the
    message says why instead of reading the gap as "never restarted"."""
    lost = timeline((0, "side", "starting"), restarts=1)
    lost.unreadable.append("side: the earlier instance's log: unable to retrieve container "
                           "logs for containerd://99")
    with pytest.raises(ordering.OrderError,
                       match=r"(?s)no longer has that container.*unreadable: side"):
        ordering.restarted(lost, "side")


def test_close_together_and_reported_after() -> None:
    assert ordering.close_together(SEQUENCE, [("init", "starting"), ("app", "starting")],
                                   within_s=1e-6) == pytest.approx(12e-9)
    with pytest.raises(ordering.OrderError, match="apart"):
        ordering.close_together(SEQUENCE, [("init", "starting"), ("app", "exiting")],
                                within_s=1e-8)
    instant = BASE / 1e9
    assert ordering.reported_after(SEQUENCE, ("app", "starting"), instant, "t0") > 0
    with pytest.raises(ordering.OrderError, match="before the deadline"):
        ordering.reported_after(SEQUENCE, ("init", "starting"), instant + 1, "the deadline")
    ordering.reported_after(SEQUENCE, ("init", "starting"), instant + 0.5, "t", slack_s=1)


def test_absence_needs_the_containers_log() -> None:
    """No 'starting' from the container: its log was not read, so absence proves nothing."""
    with pytest.raises(ordering.MissingEvidence, match="no log evidence from ghost"):
        ordering.never_reported(SEQUENCE, "ghost", "sigterm")


def test_absence_holds_or_names_the_event() -> None:
    ordering.never_reported(SEQUENCE, "app", "sigterm")
    with pytest.raises(ordering.OrderError, match="app never to report 'exiting'"):
        ordering.never_reported(SEQUENCE, "app", "sigterm", "exiting")
