"""The few requests a boot or an upgrade makes to its own API server, as plain JSON over HTTPS.

Not the Kubernetes client, on purpose: loading the client and building its typed API
classes costs about 1.1 CPU-s, and during a boot that CPU is taken from the API server
starting beside it on a 2-core machine (measured: the boot took 0.4 s longer with the
client loading in the background). The boot needs a readiness probe, a handful of
creates and deletes, and reads of two objects; everything after the boot uses the client.
Requests go as the cluster's admin (client certificate), like every other boot request.
"""

from __future__ import annotations

import contextlib
import json
import ssl
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

#: One request's own limit: the API server answers a healthy request in milliseconds.
REQUEST_TIMEOUT = 5.0


class ApiError(Exception):
    """The API server answered with an error status."""

    def __init__(self, status: int, method: str, path: str, message: str) -> None:
        super().__init__(f"{method} {path}: {status} {message}")
        self.status = status


class BootApi:
    """JSON requests to one cluster's API server, authenticated by the admin certificate."""

    def __init__(self, server: str, pki: Path) -> None:
        self.server = server
        self.context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        self.context.load_cert_chain(pki / "client-admin.crt", pki / "client-admin.key")

    def request(self, method: str, path: str, body: dict | None = None, *,
                raw: bool = False) -> Any:
        """The decoded answer (text if `raw`); an error status raises ApiError."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.server}{path}", data=data, method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, context=self.context,
                                        timeout=REQUEST_TIMEOUT) as answer:
                text = answer.read().decode()
        except urllib.error.HTTPError as exc:
            message = exc.read().decode(errors="replace")
            with contextlib.suppress(ValueError):
                message = json.loads(message).get("message", message)
            raise ApiError(exc.code, method, path, message) from None
        return text if raw else json.loads(text)

    def ready(self) -> bool:
        """/readyz: every check of the API server passes (RBAC bootstrapped among them)."""
        return self.request("GET", "/readyz", raw=True).strip() == "ok"

    def get(self, path: str) -> dict:
        return self.request("GET", path)

    def create(self, path: str, obj: dict, *, exists_ok: bool = False) -> dict:
        """POST `obj` to the collection at `path`; with exists_ok a 409 returns {}."""
        try:
            return self.request("POST", path, obj)
        except ApiError as exc:
            if exists_ok and exc.status == 409:
                return {}
            raise

    def delete(self, path: str, grace_seconds: int | None = None) -> None:
        body = {"gracePeriodSeconds": grace_seconds} if grace_seconds is not None else None
        self.request("DELETE", path, body)


def node_path(name: str) -> str:
    return f"/api/v1/nodes/{name}"


def pod_path(namespace: str, name: str = "") -> str:
    """The pods collection of a namespace, or one pod in it."""
    base = f"/api/v1/namespaces/{namespace}/pods"
    return f"{base}/{name}" if name else base


RBAC_PATHS = {"ClusterRole": "/apis/rbac.authorization.k8s.io/v1/clusterroles",
              "ClusterRoleBinding": "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"}


def create_cluster_rbac(api: BootApi, objects: list[dict]) -> None:
    """Create each ClusterRole and ClusterRoleBinding, leaving alone any that exists."""
    for obj in objects:
        api.create(RBAC_PATHS[obj["kind"]], obj, exists_ok=True)
