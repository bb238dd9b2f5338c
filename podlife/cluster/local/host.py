"""The host-wide kernel tunables the kubelet changes at start, put back as they were.

The kubelet sets vm.overcommit_memory, vm.panic_on_oom, kernel.panic, kernel.panic_on_oops
and the root key quotas when it starts (its container manager's setup), and has no setting
to leave them alone: protectKernelDefaults only turns the change into a start failure.
These sysctls are not namespaced, so a cluster's private namespaces cannot hold them.
podlife records them before a kubelet starts and writes them back once that kubelet has
registered its node (its setup is done by then, and it does not set them again).

The record is a file under the state root, written before the kubelet starts, so it
outlives a podlife killed in between (SIGKILL, power loss): the next podlife command that
takes the lock and finds a record writes the host's values back, and a later boot takes
the recorded values, never the kubelet's, for the host's own. The record is dropped once
the cluster that wrote it has no process left (its kubelet could still be starting).

The lock spanning each record-and-restore is an flock on a file under the state root: it
excludes processes in every network namespace, and the kernel drops it with its holder.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

from podlife.cluster.host import KERNEL_TUNABLES, read_tunables, write_tunables
from podlife.core import flock, paths
from podlife.core.errors import PodlifeError


def lock_path() -> Path:
    return paths.state_root() / "locks" / "host-tunables.lock"


def record_path() -> Path:
    """The host's values while a kubelet may have changed them (absent otherwise)."""
    return paths.state_root() / "host-tunables.json"


@contextlib.contextmanager
def _host_lock(timeout: float) -> Iterator[None]:
    def wait(holder: str) -> None:
        pass  # another boot's kubelet start: it is short

    try:
        with flock.exclusive(lock_path(), f"pid {os.getpid()}", wait, timeout=timeout):
            yield
    except TimeoutError:
        raise PodlifeError(f"another podlife kept the kernel-tunables lock for {timeout:.0f}s",
                           "wait for its boot to finish, then retry") from None


def _read_record() -> dict | None:
    try:
        data = json.loads(record_path().read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {"values": {}, "cluster": ""}  # torn write: nothing usable, drop it
    if not isinstance(data, dict) or not isinstance(data.get("values"), dict):
        return {"values": {}, "cluster": ""}
    return data


def _write_record(values: dict[str, str], cluster: str) -> None:
    path = record_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as out:
        json.dump({"values": values, "cluster": cluster, "pid": os.getpid()}, out)
        out.flush()
        os.fsync(out.fileno())
    tmp.replace(path)


def _cluster_running(name: str) -> bool:
    from podlife.cluster.local.node import CgroupTree

    return bool(name) and bool(CgroupTree(name).pids())


def _restore_locked() -> dict[str, str] | None:
    """Under the lock: a record left by a dead holder is put back; returns its values."""
    record = _read_record()
    if record is None:
        return None
    values = {k: str(v) for k, v in record["values"].items() if k in KERNEL_TUNABLES}
    write_tunables(values)
    if not _cluster_running(str(record.get("cluster", ""))):
        record_path().unlink(missing_ok=True)
    return values or None


def restore_stale(timeout: float = 600.0) -> bool:
    """What every local-cluster command does first: if a killed podlife left a record, the
    host's values go back. True when a record was found."""
    if not record_path().exists():
        return False
    with _host_lock(timeout):
        return _restore_locked() is not None


def host_tunables(timeout: float = 600.0) -> dict[str, str]:
    """The host's own values: read under the lock after any stale record is put back, so
    never another boot's kubelet's."""
    with _host_lock(timeout):
        return _restore_locked() or read_tunables()


@contextlib.contextmanager
def kernel_tunables_kept(cluster: str, timeout: float = 600.0) -> Iterator[None]:
    """Around a kubelet's start (until its node is registered): the host's tunables are
    the same after the block as before it, whether the block succeeds or fails; if this
    process dies inside it, the record lets the next podlife command put them back."""
    with _host_lock(timeout):
        before = _restore_locked() or read_tunables()
        _write_record(before, cluster)
        try:
            yield
        except BaseException:
            # The kubelet may still be starting: the record stays until the teardown has
            # stopped it (LocalCluster's down puts the values back once more).
            write_tunables(before)
            raise
        write_tunables(before)
        record_path().unlink(missing_ok=True)
