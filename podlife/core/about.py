"""What `podlife version` reports: podlife, Python, the Kubernetes client, and a cluster's version.

The installed distribution's version wins over the package's own constant, so a wheel built
with another version string still reports what pip installed.
"""

from __future__ import annotations

import platform
from importlib import metadata

import podlife


def podlife_version() -> str:
    try:
        return metadata.version("podlife")
    except metadata.PackageNotFoundError:  # running from a checkout that is not installed
        return podlife.__version__


def client_version() -> str:
    """The kubernetes Python client's version, or why it is not there."""
    try:
        return metadata.version("kubernetes")
    except metadata.PackageNotFoundError:
        return "not installed"


def local_versions() -> dict[str, str]:
    """Everything known without a cluster."""
    return {"podlife": podlife_version(), "python": platform.python_version(),
            "kubernetes_client": client_version()}
