"""The API client's key files stay in podlife's state dir, and go with their process."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from podlife.cluster import kubeclient

KEY = b"-----BEGIN PRIVATE KEY-----\nnot a real key\n-----END PRIVATE KEY-----\n"


def _kubeconfig(path: Path) -> Path:
    data = base64.b64encode(KEY).decode()
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "k", "cluster": {"server": "https://127.0.0.1:1",
                                               "certificate-authority-data": data}}],
        "users": [{"name": "u", "user": {"client-certificate-data": data,
                                         "client-key-data": data}}],
        "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}]}))
    return path


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PODLIFE_STATE", str(tmp_path / "state"))
    return tmp_path / "state"


def test_a_clients_key_files_go_to_its_process_dir_not_tmp(tmp_path: Path, state: Path) -> None:
    api = kubeclient.new_client(_kubeconfig(tmp_path / "kubeconfig"))
    key_file = Path(api.configuration.key_file)
    assert key_file.parent == state / "client-keys" / str(os.getpid())
    assert key_file.read_bytes() == KEY


def test_a_killed_process_key_dir_is_reaped_and_a_live_ones_kept(tmp_path: Path,
                                                                  state: Path) -> None:
    script = ("import os, signal, sys; from podlife.cluster import kubeclient; "
              "kubeclient.new_client(sys.argv[1]); os.kill(os.getpid(), signal.SIGKILL)")
    proc = subprocess.run([sys.executable, "-c", script, str(_kubeconfig(tmp_path / "kc"))],
                          check=False)
    assert proc.returncode == -9
    left = list((state / "client-keys").iterdir())
    assert len(left) == 1 and any(left[0].iterdir()), "the killed process left its keys"
    kubeclient.new_client(_kubeconfig(tmp_path / "kubeconfig"))  # this process's own
    kubeclient.reap_key_dirs()
    assert [p.name for p in (state / "client-keys").iterdir()] == [
        str(os.getpid())]


def test_a_normal_exit_removes_the_process_key_dir(tmp_path: Path, state: Path) -> None:
    script = ("import sys; from podlife.cluster import kubeclient; "
              "kubeclient.new_client(sys.argv[1])")
    subprocess.run([sys.executable, "-c", script, str(_kubeconfig(tmp_path / "kc"))],
                   check=True)
    assert not any((state / "client-keys").iterdir())
