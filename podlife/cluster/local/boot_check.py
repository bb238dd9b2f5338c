"""The boot's last proof: a pod runs on the node and resolves a Service name through DNS.

The pod's container prints a marker line once its lookup has answered. The marker is read
from the container's log file on the node, where containerd writes it as it happens: the
kubelet reports a container's exit only after its next relist of the runtime (up to a
second later), so waiting for the pod's status alone would add that second to every boot.
The pod's status stays the authority on failure (a non-zero exit, with its log in the
error) and answers success too when no log file can be read.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path

from podlife.cluster.local.boot_api import ApiError, BootApi, pod_path
from podlife.cluster.local.readiness import NOT_READY_TAINT
from podlife.core import images
from podlife.core.errors import PodlifeError

BOOT_CHECK_POD = "podlife-boot-check"
NAMESPACE = "default"
CONTAINER = "dns"
#: Printed by the container only after nslookup has answered.
MARKER = "podlife-boot-check: the Service name resolved"
#: How often the pod's status is read while the log file is polled.
STATUS_INTERVAL = 0.5
LOG_INTERVAL = 0.05
#: How long the pod keeps retrying its lookup. DNS answers within a second of the node
#: being Ready on an idle host, and within a few seconds beside a matrix's other clusters.
LOOKUP_SECONDS = 45


def boot_check_pod() -> dict:
    """Resolves the kubernetes Service name, retrying while DNS and kube-proxy settle.

    It tolerates the not-ready taint, so it is placed as soon as the node registers and
    runs while the controller manager is still starting; the boot waits for that taint to
    go separately."""
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": BOOT_CHECK_POD, "namespace": NAMESPACE},
        "spec": {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "terminationGracePeriodSeconds": 0,
            "tolerations": [{"key": NOT_READY_TAINT, "operator": "Exists",
                             "effect": "NoSchedule"}],
            "containers": [{
                "name": CONTAINER, "image": images.IMAGES["busybox"].local,
                "command": ["sh", "-c", f"end=$(($(date +%s) + {LOOKUP_SECONDS})); "
                            "while [ $(date +%s) -lt $end ]; do nslookup "
                            f"kubernetes.default.svc.cluster.local && echo '{MARKER}' && "
                            "exit 0; sleep 0.2; done; exit 1"]}]}}


def check_exit_code(pod: dict) -> int | None:
    """The boot check container's exit code once the kubelet reports it terminated (or the
    pod failed without one: 1); None while it has not finished."""
    status = pod.get("status") or {}
    for container in status.get("containerStatuses") or []:
        terminated = (container.get("state") or {}).get("terminated")
        if terminated:
            return int(terminated.get("exitCode", 1))
    return 1 if status.get("phase") == "Failed" else None


def marker_logged(pod_logs: Path, uid: str) -> bool:
    """The container's log file on the node (the kubelet's /var/log/pods layout) holds the
    marker: the lookup answered, whatever the kubelet has reported so far."""
    directory = pod_logs / f"{NAMESPACE}_{BOOT_CHECK_POD}_{uid}" / CONTAINER
    for log in directory.glob("*.log"):
        with contextlib.suppress(OSError):
            if MARKER in log.read_text(errors="replace"):
                return True
    return False


class BootCheck:
    """Starts the check pod early and waits for its answer."""

    def __init__(self, pod_logs: Path, coredns_log: Path, kubelet_log: Path) -> None:
        self.pod_logs = pod_logs
        self.coredns_log = coredns_log
        self.kubelet_log = kubelet_log
        self.uid = ""

    def start(self, api: BootApi) -> None:
        """Create the pod as soon as the API server answers, so its scheduling, sandbox and
        lookups overlap the node becoming Ready.

        The `default` service account (which admission requires before any pod) is created
        here rather than awaited from the controller manager, which makes it later."""
        api.create(f"/api/v1/namespaces/{NAMESPACE}/serviceaccounts",
                   {"metadata": {"name": "default", "namespace": NAMESPACE}},
                   exists_ok=True)  # the controller manager may have made it first
        self.uid = api.create(pod_path(NAMESPACE), boot_check_pod())["metadata"]["uid"]

    def wait(self, api: BootApi, timeout: float, check_alive: Callable[[], None]) -> None:
        """Until the marker is logged or the container exits; then remove the pod.
        `check_alive` raises if a component of the cluster died meanwhile."""
        pod = pod_path(NAMESPACE, BOOT_CHECK_POD)
        deadline = time.monotonic() + timeout
        next_status = 0.0
        while not marker_logged(self.pod_logs, self.uid):
            check_alive()
            now = time.monotonic()
            if now > deadline:
                raise PodlifeError("the boot check pod did not finish in time",
                                   "read the kubelet and containerd logs",
                                   log=str(self.kubelet_log))
            if now >= next_status:
                next_status = now + STATUS_INTERVAL
                try:
                    code = check_exit_code(api.get(pod))
                except (ApiError, OSError):
                    code = None  # read again at the next interval
                if code == 0:
                    break
                if code is not None:
                    log = api.request("GET", f"{pod}/log", raw=True)
                    raise PodlifeError(f"the boot check pod could not resolve a Service name "
                                       f"in {LOOKUP_SECONDS} s: {log.strip()[-200:]}",
                                       "read the coredns log",
                                       log=str(self.coredns_log))
            time.sleep(LOG_INTERVAL)
        api.delete(pod, grace_seconds=0)
