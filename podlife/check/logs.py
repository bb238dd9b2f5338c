"""Container logs as evidence: read, followed until a line appears, and turned into timelines.

Logs are always read with the runtime's timestamps: the instrumented `podlife-event` lines
in them are what a pod's timeline is made of.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import urllib3
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from podlife.check import instrument, pod_state, pods
from podlife.core.timeline import MARKER, Timeline, spans_from_status

#: What the kubelet streams as the log of a container the runtime no longer has.
UNRETRIEVABLE = "unable to retrieve container logs for "


def read_log(api: Any, namespace: str, pod: str, container: str, *,
             previous: bool = False) -> str:
    """A container's log with timestamps; "" when there is none (never started, no
    previous instance)."""
    try:
        return k8s.CoreV1Api(api).read_namespaced_pod_log(
            pod, namespace, container=container, timestamps=True, previous=previous) or ""
    except ApiException as exc:
        if exc.status in (400, 404):
            return ""
        raise


def pod_timeline(api: Any, namespace: str, name: str) -> Timeline:
    """The pod's timeline now: every container's events (current and previous instance)."""
    pod = pods.read(api, namespace, name)
    timeline = Timeline(name, containers=spans_from_status(pod))
    for container in instrument.containers(pod):
        previous = read_log(api, namespace, name, container["name"], previous=True)
        if previous.startswith(UNRETRIEVABLE):
            timeline.unreadable.append(f"{container['name']}: the earlier instance's log: "
                                       f"{previous.strip()}")
        timeline.add_log(previous)
        timeline.add_log(read_log(api, namespace, name, container["name"]))
    return timeline


def previous_logs(api: Any, namespace: str, name: str) -> list[str]:
    """Each instrumented container's previous instance's log ("" where there is none, or
    the runtime no longer has it)."""
    found = []
    for container in instrument.containers(pods.read(api, namespace, name)):
        text = read_log(api, namespace, name, container["name"], previous=True)
        found.append("" if text.startswith(UNRETRIEVABLE) else text)
    return found


def wait_log(api: Any, namespace: str, pod: str, container: str,
             condition: Callable[[str], bool], *, timeout: float, what: str) -> str:
    """Follow a container's log until condition(log so far) holds; returns that log.

    For output a check cannot watch through the API (lines a tutorial command prints,
    files a sidecar tails): the log is streamed as the runtime writes it, so the wait ends
    on the observed line rather than after a guess.
    """
    deadline = time.monotonic() + timeout
    pods.wait_started(api, namespace, pod, container, timeout=timeout)
    core = k8s.CoreV1Api(api)
    text = ""
    while (remaining := deadline - time.monotonic()) > 0:
        text = ""
        try:
            resp = core.read_namespaced_pod_log(
                pod, namespace, container=container, follow=True, timestamps=True,
                _preload_content=False, _request_timeout=(10, remaining))
            try:
                for chunk in resp.stream():
                    text += chunk.decode(errors="replace")
                    if condition(text):
                        return text
            finally:
                resp.release_conn()
        except (urllib3.exceptions.ReadTimeoutError, urllib3.exceptions.ProtocolError):
            break
        # The stream ended: the container exited. Give up unless it was restarted.
        if not pod_state.is_running(pods.read(api, namespace, pod), container):
            break
    tail = "\n".join(text.splitlines()[-10:])
    raise AssertionError(f"pod {pod}: container {container}: no log showing {what} within "
                         f"{timeout:.0f}s; last lines:\n{tail}")


def wait_reported(api: Any, namespace: str, pod: str, container: str, event: str = "ready",
                  *, timeout: float = 90) -> Timeline:
    """Wait until a container reported an event; returns the pod's timeline then.

    A pod is Ready as soon as its containers run, before their scripts have reported
    anything; a check that asserts on what a script reports waits for that report
    (by default `ready`, which a `serve` script prints once its body is done).
    """
    line = re.compile(rf"^\S+ {re.escape(MARKER)} {re.escape(container)} "
                      rf"{re.escape(event)}( |$)", re.MULTILINE)
    wait_log(api, namespace, pod, container, lambda text: bool(line.search(text)),
             timeout=timeout, what=f"event '{event}'")
    return pod_timeline(api, namespace, pod)


class LogFollower:
    """One thread per container following its log (with timestamps) until it ends: what
    a deleted pod's containers print while they stop is kept even after the pod is gone."""

    def __init__(self, api: Any, namespace: str, pod: str) -> None:
        self.api, self.namespace, self.pod = api, namespace, pod
        self.buffers: dict[str, list[str]] = {}
        self.threads: list[threading.Thread] = []

    def start(self, *only: str) -> LogFollower:
        """Follow every instrumented container's log, or only the containers named."""
        for container in instrument.containers(pods.read(self.api, self.namespace, self.pod)):
            name = container["name"]
            if only and name not in only:
                continue
            self.buffers[name] = []
            thread = threading.Thread(target=self._follow, args=(name,), daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def _follow(self, container: str) -> None:
        with contextlib.suppress(Exception):
            resp = k8s.CoreV1Api(self.api).read_namespaced_pod_log(
                self.pod, self.namespace, container=container, follow=True, timestamps=True,
                _preload_content=False)
            for line in resp.stream():
                self.buffers[container].append(line.decode(errors="replace"))

    def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def texts(self) -> list[str]:
        return ["".join(chunks) for chunks in self.buffers.values()]

    def text(self, container: str) -> str:
        """What one followed container printed (its log stream ends when it exits)."""
        return "".join(self.buffers.get(container, []))
