"""A workload's availability while an upgrade rolls: probed through its Service, from
inside the cluster, every 100 ms.

manifests/support/availability.yaml holds the workload (3 replicas, a PodDisruptionBudget
keeping 2) and the prober, a DaemonSet: a drain leaves it running, so every node keeps
probing while its own kubelet is swapped. Each probe is one log line, "ok" or "fail";
containerd stamps every line, so the probes are read back with their times and counted
per step (`count`, pure and tested). Only a cluster of several nodes keeps such a workload
available through a drain: on one node, the budget would hold the drain forever.
"""

from __future__ import annotations

import contextlib
from datetime import datetime

from kubernetes.client.rest import ApiException

from podlife.check.framework import Framework
from podlife.check.waits import watch_until
from podlife.results.upgrade_records import Availability

NAMESPACE = "podlife-upgrade-availability"
SELECTOR = "app.kubernetes.io/name=probed"
PROBER_SELECTOR = "app.kubernetes.io/name=prober"
REPLICAS, BUDGET_MIN = 3, 2


def parse_line(line: str) -> tuple[float, bool] | None:
    """'2026-12-07T09:50:00.123456789Z ok' -> (epoch seconds, True); None for anything
    else (a partial line, a shell's complaint)."""
    stamp, _, word = line.strip().partition(" ")
    if word not in ("ok", "fail"):
        return None
    try:
        when = datetime.fromisoformat(stamp[:26].rstrip("Z") + "+00:00")
    except ValueError:
        return None
    return when.timestamp(), word == "ok"


def count(probes: dict[tuple[str, float], bool], start: float, end: float,
          into: Availability) -> None:
    """Fill the probe figures of `into` with the probes (by prober pod and time) that ran
    between start and end."""
    inside = [ok for (_pod, at), ok in probes.items() if start <= at <= end]
    into.probes, into.probes_failed = len(inside), inside.count(False)
    into.budget_min = BUDGET_MIN


class WorkloadProber:
    """The probed workload, its prober, and every probe read back so far."""

    def __init__(self, f: Framework) -> None:
        self.f = f
        self.probes: dict[tuple[str, float], bool] = {}

    def start(self, timeout: float) -> WorkloadProber:
        """Create it all and wait until every replica is available and every node probes."""
        self.f.create_support("availability")
        self.f.wait_deployment_available("probed", REPLICAS, timeout=timeout)
        self.wait_probing(timeout)
        return self

    def wait_probing(self, timeout: float) -> None:
        """Until a prober is ready on every node (each node's desired one scheduled)."""
        import kubernetes.client as k8s

        def everywhere(ds: dict) -> bool:
            status = ds.get("status") or {}
            return 0 < status.get("desiredNumberScheduled", 0) == status.get("numberReady")

        watch_until(k8s.AppsV1Api(self.f.api).list_namespaced_daemon_set, api=self.f.api,
                    namespace=NAMESPACE, name="prober", until=everywhere, timeout=timeout,
                    what="a prober ready on every node")

    def read(self) -> None:
        """Read every prober's log (and a restarted one's previous log) into `probes`."""
        for pod in self.f.core.list_namespaced_pod(NAMESPACE,
                                                   label_selector=PROBER_SELECTOR).items:
            for previous in (False, True):
                with contextlib.suppress(ApiException):
                    text = self.f.core.read_namespaced_pod_log(
                        pod.metadata.name, NAMESPACE, timestamps=True, previous=previous)
                    for line in text.splitlines():
                        parsed = parse_line(line)
                        if parsed:
                            self.probes[(pod.metadata.name, parsed[0])] = parsed[1]
