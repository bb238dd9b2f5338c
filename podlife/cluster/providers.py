"""A run's cluster, acquired once for all its pytest workers and released at its end.

Which provider does the work is podlife.cluster.registry's business; this module keeps the
run's record (state root/runs/<run id>.json) so every xdist worker gets the same cluster,
and releases only what the run itself created.

Beside the record, <run id>.owner.json names the process that releases the cluster (the
pytest controller, by pid and start time, so a reused pid is not taken for it). A run
killed with SIGKILL never releases: the next podlife command that deals with clusters
finds the owner gone and releases the cluster for it (reap_abandoned).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path

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
        owner = os.environ.get(OWNER_ENV) or this_process()
        _owner_file(record).write_text(json.dumps({"owner": owner,
                                                   "keep": opts.keep_cluster}))
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
    for leftover in (_owner_file(record), runs / f"{run_id}.lock"):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()


#: The process that will release the run's cluster, as this_process() gives it; set by the
#: pytest controller, inherited by its workers (one of which boots the cluster).
OWNER_ENV = "PODLIFE_RUN_OWNER"


def this_process() -> str:
    """This process as "pid:start time" (clock ticks since boot, from /proc)."""
    return f"{os.getpid()}:{_start_time(os.getpid())}"


def _start_time(pid: int) -> str:
    """The process's start time; "" once it has ended (a zombie, killed but not yet reaped
    by its new parent, has ended too)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    # The command name, in parentheses, may hold spaces: fields count from after it.
    fields = stat.rsplit(")", 1)[1].split()
    return "" if fields[0] in ("Z", "X") else fields[19]


def _alive(owner: str) -> bool:
    pid, _, started = owner.partition(":")
    return pid.isdigit() and _start_time(int(pid)) == started != ""


def _owner_file(record: Path) -> Path:
    return record.with_name(f"{record.stem}.owner.json")


def reap_abandoned() -> list[str]:
    """Release the clusters of runs whose owner is gone (killed with SIGKILL, or the
    machine went down): what their own release would have done. Returns a line for each.
    A run still booting holds its lock, and is left alone."""
    runs = paths.state_root() / "runs"
    done = []
    for owner_file in sorted(runs.glob("*.owner.json")) if runs.is_dir() else []:
        run_id = owner_file.name.removesuffix(".owner.json")
        try:
            owner = json.loads(owner_file.read_text())
        except (OSError, ValueError):
            continue
        if _alive(str(owner.get("owner", ""))):
            continue
        with (runs / f"{run_id}.lock").open("w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            record = runs / f"{run_id}.json"
            if record.exists():
                handle = ClusterHandle(**json.loads(record.read_text()))
                if handle.created_by_run and not owner.get("keep"):
                    registry.get(handle.provider).release(handle)
                    done.append(f"removed cluster {handle.name}, left by run {run_id} "
                                f"whose podlife was killed")
                record.unlink()
            owner_file.unlink()
        with contextlib.suppress(FileNotFoundError):
            (runs / f"{run_id}.lock").unlink()
    return done
