"""Boot time of any cluster, measured one way: to a Ready node, and to DNS answering a pod.

Used for kind clusters and, in the same run, for podlife's local cluster, so the two
figures compare. The default ServiceAccount must exist before the first pod is admitted.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from podlife.cluster import kubeclient
from podlife.core.errors import PodlifeError
from podlife.core.images import IMAGES

PROBE = "podlife-dns-probe"


def _poll(check: Callable[[], bool], deadline: float, what: str) -> float:
    """Seconds on the monotonic clock at which check() first held."""
    while time.monotonic() < deadline:
        try:
            if check():
                return time.monotonic()
        except Exception:  # the API server may still be starting
            pass
        time.sleep(0.5)
    raise PodlifeError(f"no {what} before the timeout",
                       "look at the cluster's logs; the machine may be overloaded")


def wait_ready_and_dns(kubeconfig: str, started: float, timeout: float,
                       image: str = IMAGES["busybox"].local) -> tuple[float, float]:
    """Seconds from `started` to every node Ready, and to a pod resolving the API's
    service."""
    from kubernetes import client

    deadline = started + timeout
    core = client.CoreV1Api(kubeclient.new_client(kubeconfig))

    def nodes_ready() -> bool:
        nodes = core.list_node().items
        return bool(nodes) and all(any(c.type == "Ready" and c.status == "True"
                                       for c in n.status.conditions or []) for n in nodes)

    ready = _poll(nodes_ready, deadline, "every node Ready") - started
    _poll(lambda: bool(core.read_namespaced_service_account("default", "default")),
          deadline, "default ServiceAccount")
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": PROBE},
           "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 0,
                    "containers": [{"name": "probe", "image": image,
                                    "imagePullPolicy": "Never",
                                    "command": ["nslookup",
                                                "kubernetes.default.svc.cluster.local"]}]}}

    def dns_answers() -> bool:
        try:
            phase = core.read_namespaced_pod(PROBE, "default").status.phase
        except client.ApiException as exc:
            if exc.status != 404:
                raise
            core.create_namespaced_pod("default", pod)
            return False
        if phase == "Failed":
            core.delete_namespaced_pod(PROBE, "default", grace_period_seconds=0)
        return phase == "Succeeded"

    dns = _poll(dns_answers, deadline, "DNS answer from a pod") - started
    core.delete_namespaced_pod(PROBE, "default", grace_period_seconds=0)
    return round(ready, 1), round(dns, 1)
