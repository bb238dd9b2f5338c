"""API clients from kubeconfig files, with the client's key files kept in podlife's own dir.

The kubernetes client writes a kubeconfig's embedded client key and certificates to temp
files, and removes them only at a normal exit (atexit). A podlife killed with SIGKILL used
to leave a private key and two certificates in the host's /tmp. They now go to a dir of
this process's own under podlife's state root, which the next podlife command removes once
its process is gone (reap_key_dirs).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
from pathlib import Path
from typing import Any

from podlife.core import paths


def key_root() -> Path:
    """Where each podlife process keeps its client key files: a dir per process id."""
    return paths.state_root() / "client-keys"


def _key_dir() -> Path:
    own = key_root() / str(os.getpid())
    if not own.is_dir():
        own.mkdir(parents=True, exist_ok=True)
        # Registered before the client registers its own cleanup (at its first file), so
        # it runs after it (atexit runs the last registered first) and removes the dir.
        atexit.register(shutil.rmtree, own, True)
    return own


def new_client(kubeconfig: str | Path, context: str | None = None,
               configuration: Any = None) -> Any:
    """An ApiClient for the kubeconfig (and context), like the client's own
    new_client_from_config, but never writing outside podlife's dirs."""
    from kubernetes import client, config

    settings = configuration if configuration is not None else client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), context=context,
                            client_configuration=settings, persist_config=False,
                            temp_file_path=str(_key_dir()))
    return client.ApiClient(configuration=settings)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_key_dirs() -> None:
    """Remove the key dirs of podlife processes that are gone (killed before their atexit)."""
    root = key_root()
    for entry in root.iterdir() if root.is_dir() else []:
        if entry.name.isdigit() and not _alive(int(entry.name)):
            shutil.rmtree(entry, ignore_errors=True)
    with contextlib.suppress(OSError):
        root.rmdir()  # only when empty: no podlife process holds keys
