"""Wait for one API server instance, not the balanced address: ready and on the release.

Behind the balancer (podlife.cluster.local.apilb) /readyz may be answered by any instance,
so an upgrade that restarts one instance must ask that one. Its address is reachable only
inside the cluster's namespaces, so this runs there, as a short command:
    python -m podlife.cluster.local.instance_probe https://IP:PORT PKI_DIR TAG TIMEOUT
Exit 0 once /readyz says ok and /version reports TAG; exit 1 with the last answer at the
timeout.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from podlife.cluster.local.boot_api import BootApi


def wait(server: str, pki: Path, tag: str, timeout: float) -> str:
    """'' once ready on `tag`, else what the instance last said."""
    api = BootApi(server, pki)
    deadline, last = time.monotonic() + timeout, "no answer"
    while time.monotonic() < deadline:
        try:
            if api.ready():
                running = api.get("/version").get("gitVersion")
                if running == tag:
                    return ""
                last = f"ready but reports {running}"
            else:
                last = "/readyz not ok"
        except Exception as exc:  # refused while it starts: try again
            last = f"{type(exc).__name__}: {exc}"
        time.sleep(0.1)
    return last


if __name__ == "__main__":
    problem = wait(sys.argv[1], Path(sys.argv[2]), sys.argv[3], float(sys.argv[4]))
    if problem:
        print(f"{sys.argv[1]} not ready on {sys.argv[3]} after {sys.argv[4]}s: {problem}")
    sys.exit(1 if problem else 0)
