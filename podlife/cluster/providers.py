"""A run's cluster, acquired once for all its pytest workers and released at its end.

Which provider does the work is podlife.cluster.registry's business; this module keeps the
run's record (state root/runs/<run id>.json) so every xdist worker gets the same cluster,
and releases only what the run itself created.
"""

from __future__ import annotations

import contextlib
import fcntl
import json

from podlife.cluster import registry
from podlife.cluster.options import ProviderOptions
from podlife.cluster.provider import ClusterHandle
from podlife.core import paths


def acquire(opts: ProviderOptions, run_id: str) -> ClusterHandle:
    """Get the run's cluster once, even from several xdist workers (first one boots it)."""
    runs = paths.state_root() / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    record = runs / f"{run_id}.json"
    with (runs / f"{run_id}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if record.exists():
            return ClusterHandle(**json.loads(record.read_text()))
        handle = registry.get(opts.provider).acquire(opts, run_id)
        handle.version = handle.server_version()
        handle.kubelet_version = handle.kubelet_versions()
        record.write_text(handle.to_json())
        return handle


def host_deviations(handle: ClusterHandle) -> list[dict] | None:
    """How the cluster's host made it differ from a standard node (podlife.core.deviation),
    as its provider knows it; None, not known, where podlife did not boot the nodes."""
    return registry.get(handle.provider).host_deviations(handle)


def release(opts: ProviderOptions, run_id: str) -> None:
    """Tear down what this run created (not reused or existing clusters), and its records."""
    runs = paths.state_root() / "runs"
    record = runs / f"{run_id}.json"
    if record.exists():
        handle = ClusterHandle(**json.loads(record.read_text()))
        if handle.created_by_run and not opts.keep_cluster:
            registry.get(handle.provider).release(handle)
        record.unlink()
    with contextlib.suppress(FileNotFoundError):
        (runs / f"{run_id}.lock").unlink()
