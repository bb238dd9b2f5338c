"""The crash-loop back-off of the kubelet on a node, read from its own /configz (through the
API server's node proxy), so the model judges restarts by the kubelet's configuration and
not by an assumed default."""

from __future__ import annotations

import json
import threading
from typing import Any

import urllib3
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from podlife.model.backoff import BackOff, from_kubelet_config

_known: dict[tuple[str, str], BackOff | None] = {}
_lock = threading.Lock()


def kubelet_config(api: Any, node: str) -> dict | None:
    """The node's kubelet configuration as it runs, or None when it cannot be read (no
    nodes/proxy permission on a shared cluster, a kubelet that does not serve it)."""
    try:
        response = k8s.CoreV1Api(api).connect_get_node_proxy_with_path(
            node, "configz", _preload_content=False, _request_timeout=10)
        return json.loads(response.data).get("kubeletconfig")
    except (ApiException, urllib3.exceptions.HTTPError, ValueError, AttributeError):
        return None


def backoff_of(api: Any, node: str | None, minor: int | None) -> BackOff | None:
    """The back-off of the kubelet on `node` (read once per API server and node), None
    when unknown: the back-off rule then does not judge the node's pods."""
    if not node:
        return None
    key = (str(getattr(getattr(api, "configuration", None), "host", "")), node)
    with _lock:
        if key in _known:
            return _known[key]
    config = kubelet_config(api, node)
    found = None if config is None else from_kubelet_config(config, minor)
    with _lock:
        _known[key] = found
    return found
