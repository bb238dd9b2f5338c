"""The API's availability while an upgrade rolls: a steady client loop, as a user's
controller would run one.

Every 100 ms it lists the probed Deployment's pods through the address the kubeconfig
names (the balancer, with several control planes). Each answer is timed and counts its
ready replicas, so one loop gives both the API's failed requests and longest gap and the
fewest replicas the workload ever had (podlife.run.probe_workload probes the workload
itself). Figures per step come from `figures(samples, start, end)`, pure and tested.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from podlife.cluster import kubeclient
from podlife.results.upgrade_records import Availability

INTERVAL_S = 0.1
REQUEST_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Sample:
    """One request: when it ended (wall clock), whether it was answered, ready replicas."""

    at: float
    ok: bool
    ready: int = -1


def ready_replicas(pods: list[dict]) -> int:
    """Pods Ready and not being deleted: what a PodDisruptionBudget counts as healthy."""
    return sum(1 for p in pods if not p["metadata"].get("deletionTimestamp") and any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (p.get("status") or {}).get("conditions") or []))


def figures(samples: list[Sample], start: float, end: float, into: Availability) -> None:
    """Fill the API figures of `into` from the samples between start and end. The longest
    gap counts from the step's start to its first answer and from its last answer to the
    step's end, so a step the API never answered in is one gap as long as the step."""
    inside = [s for s in samples if start <= s.at <= end]
    answered = [s.at for s in inside if s.ok]
    edges = [start, *answered, end]
    into.api_requests = len(inside)
    into.api_failed = sum(1 for s in inside if not s.ok)
    into.api_longest_gap_s = round(max(b - a for a, b in pairwise(edges)), 2)
    counted = [s.ready for s in inside if s.ok and s.ready >= 0]
    if counted:
        into.fewest_ready = min(counted)


class ApiProber:
    """The loop, in a thread of its own with a client of its own."""

    def __init__(self, kubeconfig: Path, namespace: str, selector: str) -> None:
        self.kubeconfig, self.namespace, self.selector = kubeconfig, namespace, selector
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="api-prober", daemon=True)

    def start(self) -> ApiProber:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=REQUEST_TIMEOUT_S + 1)

    def _loop(self) -> None:
        import kubernetes.client as k8s

        api = kubeclient.new_client(self.kubeconfig)
        core = k8s.CoreV1Api(api)
        while not self._stop.is_set():
            began = time.monotonic()
            try:
                pods = core.list_namespaced_pod(self.namespace, label_selector=self.selector,
                                                _request_timeout=REQUEST_TIMEOUT_S)
                sample = Sample(time.time(), True,
                                ready_replicas(api.sanitize_for_serialization(pods)["items"]))
            except Exception:  # refused, reset, timed out, 5xx: all one failed request
                sample = Sample(time.time(), False)
            self.samples.append(sample)
            self._stop.wait(max(0.0, INTERVAL_S - (time.monotonic() - began)))
        api.close()
