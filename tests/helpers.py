"""Helpers shared by podlife's own tests: the CLI as a user runs it, the one-line error it
must give, a cluster's state dir without processes, and podlife's RBAC identity."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client as k8s
from kubernetes import utils
from kubernetes.client.rest import ApiException

from podlife.cluster import build
from podlife.cluster.binary_cache import BinaryCache
from podlife.cluster.local.cluster import ClusterInfo, LocalCluster, api_client
from podlife.core import paths, versions
from podlife.core.images import IMAGES


def podlife(*args: str, env: dict[str, str] | None = None,
            timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """`podlife ARGS` in a new process, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "podlife.cli", *args], capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


@contextlib.contextmanager
def local_cluster(name: str, **up: Any) -> Iterator[ClusterInfo]:
    """A local cluster of the default release (or `up`'s version=...), booted fresh (a
    leftover of the same name is removed first) and removed afterwards, whatever happened.
    `up` goes to LocalCluster.up (allow_privileged=True, ...)."""
    cluster = LocalCluster(name)
    cluster.down()
    version = up.pop("version", None) or versions.resolve(None)
    try:
        yield cluster.up(version, **up)
    finally:
        cluster.down()


def one_clear_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit 2, no traceback, one `error: ... Fix: ...` line naming each word."""
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr, result.stderr
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "Fix:" in errors[0], result.stderr
    for word in words:
        assert word.lower() in errors[0].lower(), errors[0]


def fake_state(root: Path, name: str) -> Path:
    """A cluster's state dir as a reboot would leave it: records, no processes."""
    state = root / "clusters" / name
    (state / "pids").mkdir(parents=True)
    info = {"name": name, "version": "v1.37.2", "api_port": 1, "state_dir": str(state),
            "node_name": f"{name}-node"}
    (state / "cluster.json").write_text(json.dumps(info))
    return state


def service_account_kubeconfig(info: ClusterInfo, out: Path) -> Path:
    """Apply manifests/rbac.yaml and write a kubeconfig for its `podlife` ServiceAccount."""
    api = api_client(info.kubeconfig)
    rbac = list(yaml.safe_load_all((paths.repo_root() / "manifests" / "rbac.yaml").read_text()))
    for obj in filter(None, rbac):
        try:
            utils.create_from_dict(api, obj)
        except utils.FailToCreateError as exc:  # applied already (by another test)
            if any(e.status != 409 for e in exc.api_exceptions):
                raise
    token = k8s.CoreV1Api(api).create_namespaced_service_account_token(
        "podlife", "podlife-system", {"spec": {"expirationSeconds": 3600}}).status.token
    wait_for_policies(info, token)
    admin = yaml.safe_load(info.kubeconfig.read_text())
    ca = Path(admin["clusters"][0]["cluster"]["certificate-authority"]).read_bytes()
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "podlife",
        "clusters": [{"name": "c", "cluster": {
            "server": info.server, "certificate-authority-data": base64.b64encode(ca).decode()}}],
        "users": [{"name": "podlife", "user": {"token": token}}],
        "contexts": [{"name": "podlife", "context": {"cluster": "c", "user": "podlife"}}],
    }
    out.write_text(yaml.safe_dump(config))
    out.chmod(0o600)
    return out


def wait_for_policies(info: ClusterInfo, token: str, timeout: float = 30.0) -> None:
    """Until rbac.yaml's admission policies judge podlife's requests: the API server loads
    a new policy a moment after it is created, and until then admits everything."""
    api = api_client(info.kubeconfig)
    api.configuration.api_key = {"authorization": f"Bearer {token}"}
    api.configuration.cert_file = api.configuration.key_file = None
    as_podlife = k8s.ApiClient(api.configuration)
    probes = [
        lambda: k8s.CoreV1Api(as_podlife).create_namespace(
            {"metadata": {"generateName": "pl-probe-"}}, dry_run="All"),
        lambda: k8s.RbacAuthorizationV1Api(as_podlife).create_namespaced_role_binding(
            "kube-system", {"metadata": {"name": "probe"}, "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                "name": "podlife-namespace-worker"}, "subjects": [{
                    "kind": "ServiceAccount", "name": "podlife",
                    "namespace": "podlife-system"}]}, dry_run="All"),
    ]
    deadline = time.monotonic() + timeout
    for probe in probes:
        while True:
            try:
                probe()
            except ApiException as exc:
                if "ValidatingAdmissionPolicy" in (exc.body or ""):
                    break
            if time.monotonic() > deadline:
                raise AssertionError(f"rbac.yaml's policies judged nothing in {timeout:.0f}s")
            time.sleep(0.2)


#: The unprivileged user the non-root tests run podlife as.
NOBODY = 65534


def nobody_python(root: Path) -> list[str]:
    """A command that runs this podlife as the user nobody: the system's Python (this one
    may live under /root, which nobody cannot enter) over a readable copy of this
    environment's packages and of the checkout, made under `root`. Hard links where the
    file system allows, so the copy costs little."""
    if sys.version_info[:2] != _system_python_version():
        raise RuntimeError("the system's python3 is not this Python's version")
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    packages = [Path(p) for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    copies = []
    for index, site in enumerate(packages):
        copy = root / f"site-{index}"
        if subprocess.run(["cp", "-al", str(site), str(copy)]).returncode != 0:
            subprocess.run(["cp", "-a", str(site), str(copy)], check=True)
        copies.append(copy)
    source = root / "src"
    source.mkdir()
    for name in ("podlife", "suites", "manifests", "pyproject.toml", "conftest.py"):
        subprocess.run(["cp", "-a", str(paths.repo_root() / name), str(source)], check=True)
    subprocess.run(["chmod", "-R", "o+rX", str(root)], check=True)
    pythonpath = ":".join(str(p) for p in [source, *copies])
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "env",
            "-i", "PATH=/usr/local/bin:/usr/bin:/bin", f"PYTHONPATH={pythonpath}",
            "/usr/bin/python3"]


def _system_python_version() -> tuple[int, int]:
    out = subprocess.run(["/usr/bin/python3", "-c", "import sys; print(*sys.version_info[:2])"],
                         capture_output=True, text=True)
    major, minor = out.stdout.split() if out.returncode == 0 else ("0", "0")
    return int(major), int(minor)


def run_pod(core: k8s.CoreV1Api, name: str, script: str, *, init: str | None = None,
            timeout: float = 90, resources: dict | None = None,
            node: str | None = None) -> k8s.V1Pod:
    """Run a one-shot busybox pod to completion (on `node`, if given) and return its final
    state."""
    image = IMAGES["busybox"].local
    spec: dict = {"restartPolicy": "Never", "terminationGracePeriodSeconds": 0,
                  "containers": [{"name": "main", "image": image,
                                  "command": ["sh", "-c", script],
                                  "resources": resources or {}}]}
    if init:
        spec["initContainers"] = [{"name": "init", "image": image,
                                   "command": ["sh", "-c", init]}]
    if node:
        spec["nodeName"] = node
    core.create_namespaced_pod("default", {"apiVersion": "v1", "kind": "Pod",
                                           "metadata": {"name": name}, "spec": spec})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pod = core.read_namespaced_pod(name, "default")
        if pod.status.phase in ("Succeeded", "Failed"):
            return pod
        time.sleep(0.2)
    raise AssertionError(f"pod {name} did not finish in {timeout}s: {pod.status}")


def repo_copy(into: Path) -> Path:
    """The repository's package, suites, manifests, conftest.py and pyproject.toml, copied
    into `into`: where a test adds what a contributor would, without touching the checkout."""
    root = paths.repo_root()
    for part in ("podlife", "suites", "manifests"):
        shutil.copytree(root / part, into / part, ignore=shutil.ignore_patterns("__pycache__"))
    for part in ("conftest.py", "pyproject.toml"):
        shutil.copy(root / part, into / part)
    return into


def run_in_copy(copy: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """`python ARGS` in a repo_copy, importing the copy's podlife (which finds its files)."""
    env = {k: v for k, v in os.environ.items() if k != "PODLIFE_RUN_ID"}
    env["PYTHONPATH"] = str(copy)
    return subprocess.run([sys.executable, *args], cwd=copy, env=env, capture_output=True,
                          text=True, timeout=timeout)


def need_builds(*minors: str) -> list[versions.KubeVersion]:
    """The releases, or a skip naming the builds to make first (the cluster tests build
    only the default release)."""
    wanted = [versions.resolve(m) for m in minors]
    cache = BinaryCache()
    missing = [v for v in wanted if not cache.is_complete(build.kubernetes_build(v).key)]
    if missing:
        pytest.skip("needs cached builds: " + "; ".join(
            f"podlife build --version {v.minor_key}" for v in missing))
    return wanted
