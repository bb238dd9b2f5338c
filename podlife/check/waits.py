"""One way to wait for a Kubernetes object to reach a state: a watch that survives restarts.

Every wait in podlife is `watch_until` with a predicate. A watch can end early (the server's
timeout, a dropped connection) or expire (HTTP 410 when the resource version is too old);
both simply restart it, and a restarted watch first replays the objects as they are now, so
no state is missed. A `never` predicate ends the wait at once when success has become
impossible (a pod that failed while the check waits for it to be Ready), so a broken
cluster fails a check in seconds rather than after its timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import urllib3
from kubernetes import watch
from kubernetes.client.rest import ApiException

Predicate = Callable[[dict], bool]
#: Returns why success is impossible now, or None while it is still possible.
Never = Callable[[dict], str | None]

HTTP_GONE = 410


class WaitFailed(AssertionError):
    """A wait that ended without its condition: an AssertionError, so a check fails."""

    def __init__(self, message: str, last: dict | None) -> None:
        super().__init__(message)
        self.last = last


def short(obj: dict | None) -> str:
    """Default description of the last object seen: its name and status."""
    if not obj:
        return "nothing (no object matched)"
    name = (obj.get("metadata") or {}).get("name", "?")
    return f"{obj.get('kind') or ''} {name}: status {obj.get('status')}".strip()


def watch_until(list_fn: Callable[..., Any], *, api: Any, what: str, until: Predicate,
                timeout: float, namespace: str | None = None, name: str | None = None,
                label_selector: str | None = None, field_selector: str | None = None,
                never: Never | None = None, describe: Callable[[dict], str] = short,
                until_deleted: bool = False) -> dict:
    """Watch objects of one kind until one satisfies `until`; return it (as a dict).

    `list_fn` is a client list function: namespaced (`list_namespaced_pod`, given
    `namespace`) or cluster-wide (`list_node`). `name` narrows to one object. The error of a
    timeout or of `never` names `what` was awaited and describes the last object seen.
    With `until_deleted`, the wait ends when the object is deleted (and returns it as last
    seen); a watch that starts after the deletion sees no object at all, which counts too.
    """
    selectors = [s for s in (field_selector, f"metadata.name={name}" if name else None) if s]
    args = (namespace,) if namespace is not None else ()
    kwargs: dict[str, Any] = {}
    if selectors:
        kwargs["field_selector"] = ",".join(selectors)
    if label_selector:
        kwargs["label_selector"] = label_selector
    target = name or label_selector or field_selector or "object"
    last: dict | None = None
    deadline = time.monotonic() + timeout
    while (remaining := deadline - time.monotonic()) > 0:
        stream = watch.Watch()
        seen_any = False
        try:
            for event in stream.stream(list_fn, *args, timeout_seconds=max(1, int(remaining)),
                                       _request_timeout=remaining + 5, **kwargs):
                if event.get("type") == "ERROR":
                    break  # e.g. an expired resource version sent as an event: restart
                seen_any = True
                obj = event["object"]
                last = obj if isinstance(obj, dict) else api.sanitize_for_serialization(obj)
                if event.get("type") == "DELETED":
                    if until_deleted:
                        return last
                    continue
                if until(last):
                    return last
                impossible = never(last) if never else None
                if impossible:
                    raise WaitFailed(f"{target}: gave up waiting for {what}: {impossible}; "
                                     f"last seen: {describe(last)}", last)
            if until_deleted and not seen_any and last is not None:
                return last  # a restarted watch that replays nothing: the object is gone
        except ApiException as exc:
            if exc.status != HTTP_GONE:
                raise
        except (urllib3.exceptions.ReadTimeoutError, urllib3.exceptions.ProtocolError):
            pass  # the connection dropped: the loop restarts the watch
        finally:
            stream.stop()
    raise WaitFailed(f"{target}: timed out after {timeout:.0f}s waiting for {what}; "
                     f"last seen: {describe(last) if last else 'nothing (no object matched)'}",
                     last)
