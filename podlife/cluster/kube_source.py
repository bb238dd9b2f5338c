"""Kubernetes from outside the build cache: its module's source (for the pause image and
upstream's e2e specs) and official release binaries a user points podlife at."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

from podlife.cluster.build import KUBE_BINARIES
from podlife.core import paths
from podlife.core.errors import PodlifeError
from podlife.core.versions import KubeVersion

VERSION_PROBE_TIMEOUT = 10.0


def kube_binaries_from_dir(directory: Path) -> tuple[Path, str]:
    """Accept a directory of official release binaries; returns it and the version they report."""
    missing = [name for name in KUBE_BINARIES if not (directory / name).is_file()]
    if missing:
        raise PodlifeError(f"{directory} lacks {', '.join(missing)}",
                           "point --kube-bin-dir at the server binaries of one release")
    # Its own session, so a probe that hangs is killed with everything it started.
    proc = subprocess.Popen([str(directory / "kubelet"), "--version"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        out = proc.communicate(timeout=VERSION_PROBE_TIMEOUT)[0].strip()
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise PodlifeError(f"{directory / 'kubelet'} --version did not answer in "
                           f"{VERSION_PROBE_TIMEOUT:.0f}s",
                           "point --kube-bin-dir at official release binaries") from None
    return directory, out.split()[-1] if out else "unknown"


def kube_module_dir(version: KubeVersion) -> Path:
    out = subprocess.run(["go", "mod", "download", "-json", f"k8s.io/kubernetes@{version.tag}"],
                         capture_output=True, text=True, env={**os.environ, "GOFLAGS": ""},
                         cwd=paths.cache_dir())
    if out.returncode != 0:
        raise PodlifeError(f"could not fetch k8s.io/kubernetes {version.tag} source",
                           "check the Go module proxy is reachable")
    return Path(json.loads(out.stdout)["Dir"])
