"""watch_until's own logic (restarts, early stop, timeout message) with a scripted watch."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes.client.rest import ApiException

from podlife.check import waits


class Api:
    def sanitize_for_serialization(self, obj: Any) -> Any:
        return obj


def scripted(monkeypatch: pytest.MonkeyPatch, rounds: list[list[Any]]) -> list[dict]:
    """Make each new watch play one round: dict events, or an exception to raise."""
    calls: list[dict] = []

    class FakeWatch:
        def stream(self, fn: Any, *args: Any, **kwargs: Any) -> Iterator[dict]:
            calls.append({"args": args, **kwargs})
            for item in rounds.pop(0) if rounds else []:
                if isinstance(item, Exception):
                    raise item
                yield item

        def stop(self) -> None:
            pass

    monkeypatch.setattr(waits.watch, "Watch", FakeWatch)
    return calls


def ev(kind: str, phase: str, name: str = "p") -> dict:
    return {"type": kind, "object": {"metadata": {"name": name}, "status": {"phase": phase}}}


def is_running(obj: dict) -> bool:
    return obj["status"]["phase"] == "Running"


def test_returns_the_object_that_satisfied(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = scripted(monkeypatch, [[ev("ADDED", "Pending"), ev("MODIFIED", "Running")]])
    got = waits.watch_until(lambda *a, **k: None, api=Api(), what="Running", until=is_running,
                            timeout=5, namespace="ns", name="p", label_selector="a=b")
    assert got["status"]["phase"] == "Running"
    assert calls[0]["args"] == ("ns",)
    assert calls[0]["field_selector"] == "metadata.name=p"
    assert calls[0]["label_selector"] == "a=b"


def test_resumes_after_gone_and_ended_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = scripted(monkeypatch, [[ev("ADDED", "Pending"), ApiException(status=410)],
                                   [],  # the server ended the watch
                                   [ev("ADDED", "Running")]])
    got = waits.watch_until(lambda *a, **k: None, api=Api(), what="Running", until=is_running,
                            timeout=5, name="p")
    assert got["status"]["phase"] == "Running" and len(calls) == 3
    assert calls[0]["args"] == ()  # cluster-scoped list: no namespace argument


def test_other_api_errors_propagate(monkeypatch: pytest.MonkeyPatch) -> None:
    scripted(monkeypatch, [[ApiException(status=403)]])
    with pytest.raises(ApiException):
        waits.watch_until(lambda: None, api=Api(), what="x", until=is_running, timeout=5)


def test_never_stops_at_once_with_reason_and_last_object(
        monkeypatch: pytest.MonkeyPatch) -> None:
    scripted(monkeypatch, [[ev("ADDED", "Pending"), ev("MODIFIED", "Failed"),
                            ev("MODIFIED", "Running")]])
    with pytest.raises(waits.WaitFailed) as info:
        waits.watch_until(lambda: None, api=Api(), what="Ready", until=is_running, timeout=30,
                          name="p", never=lambda o: "it failed"
                          if o["status"]["phase"] == "Failed" else None)
    assert "gave up waiting for Ready: it failed" in str(info.value)
    assert info.value.last["status"]["phase"] == "Failed"


def test_deleted_objects_do_not_satisfy(monkeypatch: pytest.MonkeyPatch) -> None:
    scripted(monkeypatch, [[ev("DELETED", "Running")]] * 50)
    with pytest.raises(waits.WaitFailed, match="timed out after 0s waiting for Running"):
        waits.watch_until(lambda: None, api=Api(), what="Running", until=is_running,
                          timeout=0.2, name="p")


def test_timeout_message_describes_last_object(monkeypatch: pytest.MonkeyPatch) -> None:
    scripted(monkeypatch, [[ev("ADDED", "Pending")]] * 1000)
    with pytest.raises(waits.WaitFailed) as info:
        waits.watch_until(lambda: None, api=Api(), what="Running", until=is_running,
                          timeout=0.2, name="p", describe=lambda o: o["status"]["phase"])
    assert str(info.value) == "p: timed out after 0s waiting for Running; last seen: Pending"
