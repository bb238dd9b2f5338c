"""What a local cluster records in its state dir, and removing that dir at teardown.

`cluster.json` is the record that lets status, down, kubeconfig and upgrade work from any
shell after `up` has returned; everything else in the dir belongs to the components.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from podlife.cluster import kubeclient
from podlife.core import paths
from podlife.core.errors import PodlifeError


@dataclass
class ClusterInfo:
    """What `up` records in the state dir, so status/down/kubeconfig work from any shell."""

    name: str
    version: str
    api_port: int
    state_dir: str
    node_name: str
    feature_gates: dict[str, bool] = field(default_factory=dict)
    #: Booted with --allow-privileged: PodSecurity refuses nothing.
    allow_privileged: bool = False
    booted_at: float = 0.0
    boot_seconds: float = 0.0
    #: Gates of one component (e.g. "kubelet"), over feature_gates (podlife.cluster.local.gates).
    component_gates: dict[str, dict[str, bool]] = field(default_factory=dict)
    #: How the host makes this cluster differ from a standard node, as detected at boot
    #: (podlife.cluster.local.deviations records); None: booted by a podlife that did not detect.
    host_deviations: list[dict[str, Any]] | None = None
    #: The release of the kubelet and kube-proxy when it is not `version` (a mixed cluster,
    #: or an upgrade between its control-plane and node steps); "" = the same.
    kubelet_version: str = ""
    #: The worker nodes' names (none: the one node does everything).
    workers: list[str] = field(default_factory=list)
    #: Each worker's kubelet release, in the order of `workers`.
    worker_versions: list[str] = field(default_factory=list)
    #: The control-plane instances (the node's namespace first); empty in older records.
    control_planes: list[str] = field(default_factory=list)
    #: Instances already on a newer API server release while the others are still on
    #: `version` (a rolling control-plane upgrade, podlife.cluster.local.upgrade).
    instance_versions: dict[str, str] = field(default_factory=dict)

    @property
    def node_version(self) -> str:
        """The kubelet's (and kube-proxy's) release: kubelet_version, else version."""
        return self.kubelet_version or self.version

    def gates_for(self, component: str) -> dict[str, bool]:
        return {**self.feature_gates, **self.component_gates.get(component, {})}

    @property
    def kubeconfig(self) -> Path:
        return Path(self.state_dir) / "kubeconfig" / "admin.kubeconfig"

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.api_port}"

    @classmethod
    def load(cls, name: str) -> ClusterInfo:
        from podlife.cluster.local.preflight import validate_name

        validate_name(name)  # a name is a path component: never '..' or '/'
        path = paths.cluster_dir(name) / "cluster.json"
        try:
            return cls(**json.loads(path.read_text()))
        except FileNotFoundError:
            raise PodlifeError(f"no local cluster named '{name}'",
                               "list clusters with 'podlife cluster status'") from None

    def save(self) -> None:
        (Path(self.state_dir) / "cluster.json").write_text(json.dumps(asdict(self), indent=2))


def list_clusters() -> list[ClusterInfo]:
    root = paths.state_root() / "clusters"
    found = []
    for entry in sorted(root.glob("*/cluster.json")) if root.exists() else []:
        with contextlib.suppress(ValueError, TypeError, OSError):
            found.append(ClusterInfo(**json.loads(entry.read_text())))
    return found


def api_client(kubeconfig: Path):

    return kubeclient.new_client(kubeconfig)


def kubeconfig_yaml(info: ClusterInfo) -> dict:
    return yaml.safe_load(info.kubeconfig.read_text())


def remove_state(name: str, state: Path, logs: Path, *, keep_logs: bool) -> Path | None:
    """Unmount and delete a cluster's state dir (its processes must be stopped first).

    keep_logs (after a failed boot) moves the component logs to
    <state root>/failed-boots/<name>/ first, so the error's log path still exists; returns
    where they went.
    """
    if not state.exists():
        return None
    kept = None
    _unmount_under(state)
    if keep_logs and logs.exists():
        kept = paths.state_root() / "failed-boots" / name
        shutil.rmtree(kept, ignore_errors=True)
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(logs, kept)
    shutil.rmtree(state, ignore_errors=True)
    return kept


def mounts_under(path: Path, mount_points: list[str]) -> list[str]:
    """The mount points at or below `path`, deepest first. Matching is by whole path
    components: cluster 'a' never matches a mount of cluster 'ab'."""
    top = str(path)
    inside = [m for m in mount_points if m == top or m.startswith(top + "/")]
    return sorted(inside, key=len, reverse=True)


def host_mount_points() -> list[str]:
    """Every mount point on the host, with /proc/mounts' octal escapes (e.g. \\040) decoded."""
    points = []
    for line in Path("/proc/mounts").read_text().splitlines():
        field = line.split()[1]
        points.append(re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field))
    return points


def _unmount_under(path: Path) -> None:
    """Unmount anything still mounted at or below path on the host (there should be nothing)."""
    for mount in mounts_under(path, host_mount_points()):
        subprocess.run(["umount", "-l", "--", mount], check=False, capture_output=True)
