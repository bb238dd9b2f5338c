"""Sending objects to the API server as JSON: create, server-side dry run, dry-run apply.

The URL of a kind comes from the API server's own discovery documents, so any kind the
server serves works without a table in podlife. No client model sits between the server
and a check either: a model older than the server would drop fields on its own, which is
exactly what the API-acceptance checks must see the server do (or not do).
"""

from __future__ import annotations

import copy
import json
import threading
from typing import Any

from kubernetes.client.rest import ApiException

#: (id of the API client, apiVersion) -> kind -> (plural, namespaced). Discovery answers
#: do not change during a run, and every check creates objects: ask once per group version.
_DISCOVERED: dict[tuple[int, str], dict[str, tuple[str, bool]]] = {}
_LOCK = threading.Lock()


def request(api: Any, method: str, path: str, *, body: Any = None,
            query: list[tuple[str, str]] | None = None,
            content_type: str = "application/json") -> dict:
    """One authenticated request; the server's JSON answer, or its error as ApiException."""
    call = api.param_serialize(
        method=method, resource_path=path, query_params=query or [],
        header_params={"Accept": "application/json", "Content-Type": content_type},
        body=body, auth_settings=["BearerToken"])
    response = api.call_api(*call)
    response.read()
    if not 200 <= response.status <= 299:
        raise ApiException.from_response(http_resp=response, body=None, data=None)
    return json.loads(response.data)


def group_path(api_version: str) -> str:
    """'v1' -> /api/v1 (the core group); 'apps/v1' -> /apis/apps/v1."""
    return f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"


def resource_of(api: Any, obj: dict) -> tuple[str, bool]:
    """(plural, namespaced) of the object's kind, as the API server serves it."""
    version, kind = obj.get("apiVersion", ""), obj.get("kind", "")
    key = (id(api), version)
    with _LOCK:
        if key not in _DISCOVERED:
            try:
                listing = request(api, "GET", group_path(version))
            except ApiException as exc:
                raise ValueError(f"the API server does not serve apiVersion {version!r} "
                                 f"({exc.status} {exc.reason})") from None
            _DISCOVERED[key] = {r["kind"]: (r["name"], bool(r.get("namespaced")))
                                for r in listing.get("resources", []) if "/" not in r["name"]}
        kinds = _DISCOVERED[key]
    if kind not in kinds:
        raise ValueError(f"the API server serves no kind {kind!r} in {version}; "
                         f"it serves: {', '.join(sorted(kinds))}")
    return kinds[kind]


def as_sent(api: Any, obj: dict, namespace: str) -> dict:
    """The body podlife sends: namespaced kinds moved into `namespace`, cluster-scoped kinds
    (Namespace, ClusterRole, RuntimeClass...) without one. The caller's dict is not changed."""
    body = copy.deepcopy(obj)
    metadata = body.setdefault("metadata", {})
    if resource_of(api, body)[1]:
        metadata["namespace"] = namespace
    else:
        metadata.pop("namespace", None)
    return body


def collection_path(api: Any, body: dict) -> str:
    """The URL that creates `body` (already namespaced by as_sent)."""
    plural, namespaced = resource_of(api, body)
    namespace = body.get("metadata", {}).get("namespace")
    scope = f"/namespaces/{namespace}" if namespaced else ""
    return f"{group_path(body['apiVersion'])}{scope}/{plural}"


def create(api: Any, obj: dict, namespace: str) -> dict:
    """Create the object; returns it as the server stored it."""
    body = as_sent(api, obj, namespace)
    return request(api, "POST", collection_path(api, body), body=body)


def dry_run(api: Any, obj: dict, namespace: str) -> dict:
    """What the server would store for a create, decoded strictly like `kubectl create
    --dry-run=server`: an unknown field is an error, not a warning."""
    body = as_sent(api, obj, namespace)
    return request(api, "POST", collection_path(api, body), body=body,
                   query=[("dryRun", "All"), ("fieldValidation", "Strict")])


def dry_run_apply(api: Any, obj: dict, namespace: str) -> dict:
    """A forced, strict server-side-apply dry run: for an object that exists already, where
    a dry-run create only answers 409."""
    body = as_sent(api, obj, namespace)
    path = f"{collection_path(api, body)}/{body['metadata']['name']}"
    return request(api, "PATCH", path, body=json.dumps(body),
                   query=[("dryRun", "All"), ("fieldManager", "podlife"), ("force", "true"),
                          ("fieldValidation", "Strict")],
                   content_type="application/apply-patch+yaml")
