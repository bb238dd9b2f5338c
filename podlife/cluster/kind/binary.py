"""The kind binary, built from its Go module at a pinned version.

pytest-kind bundles (and would download) kind v0.17, which cannot create clusters of current
Kubernetes releases; podlife builds kind itself from the Go module proxy instead, once.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from podlife.core import paths
from podlife.core.errors import PodlifeError

KIND_VERSION = "v0.33.0"
MODULE = "sigs.k8s.io/kind"


def _go(*args: str, env: dict[str, str] | None = None) -> str:
    if shutil.which("go") is None:
        raise PodlifeError("Go is needed to build kind, but there is no 'go' on PATH",
                           "install Go 1.22 or newer")
    proc = subprocess.run(["nice", "-n", "10", "go", *args], capture_output=True, text=True,
                          cwd=paths.cache_dir(), env={**os.environ, **(env or {})})
    if proc.returncode != 0:
        raise PodlifeError(f"go {args[0]} {MODULE}@{KIND_VERSION} failed: "
                           f"{proc.stderr.strip().splitlines()[-1:]}",
                           "check the Go module proxy is reachable, then retry")
    return proc.stdout


def kind_module_dir() -> Path:
    """The kind module's source (its base image files are read from here)."""
    info = json.loads(_go("mod", "download", "-json", f"{MODULE}@{KIND_VERSION}"))
    return Path(info["Dir"])


def kind_binary() -> Path:
    """kind at KIND_VERSION, built into podlife's cache when missing."""
    out_dir = paths.cache_dir() / "kind" / f"kind-{KIND_VERSION}"
    binary = out_dir / "kind"
    if binary.exists():
        return binary
    out_dir.mkdir(parents=True, exist_ok=True)
    _go("install", f"{MODULE}@{KIND_VERSION}", env={"GOBIN": str(out_dir), "CGO_ENABLED": "0"})
    return binary
