"""Before any check runs: can podlife use this kubeconfig, reach the cluster, and do its work?

Each problem a user can meet with an existing cluster (no such file, a file that is not a
kubeconfig, an API server that does not answer, credentials it rejects, an identity without
the rights podlife needs) becomes one PodlifeError naming the cause and the fix, instead of
every check failing one by one. Permissions are asked with SelfSubjectAccessReviews, so the
answer is the cluster's own authorizer's, whatever grants them (RBAC, webhook, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from podlife.cluster import kubeclient
from podlife.core import paths
from podlife.core.errors import PodlifeError

#: Seconds to wait for the API server's first answer.
CONNECT_TIMEOUT = 10.0


@dataclass(frozen=True)
class Permission:
    """One verb on one resource, in every namespace (checks run in namespaces they create)."""

    verb: str
    resource: str
    group: str = ""
    subresource: str = ""
    name: str = ""

    def __str__(self) -> str:
        name = f"{self.resource}/{self.subresource}" if self.subresource else self.resource
        return f"{self.verb} {name}" + (f" ({self.group})" if self.group else "")


#: What every run needs cluster-wide: each check makes its own namespace.
NEEDED_CLUSTER_WIDE: tuple[Permission, ...] = (Permission("create", "namespaces"),)
#: What every run needs in the namespaces it makes: held everywhere (an admin), or bound in
#: each new namespace through SELF_BINDING (manifests/rbac.yaml, rule by rule with reasons).
NEEDED_IN_NAMESPACE: tuple[Permission, ...] = (
    Permission("delete", "namespaces"),
    Permission("create", "pods"),
    Permission("watch", "pods"),
    Permission("get", "pods", subresource="log"),
    Permission("create", "pods", subresource="exec"),
    Permission("list", "events"),
    Permission("create", "services"),
    Permission("create", "configmaps"),
    Permission("create", "secrets"),
    Permission("watch", "endpointslices", "discovery.k8s.io"),
    Permission("create", "deployments", "apps"),
    Permission("create", "jobs", "batch"),
)
#: How the identity of manifests/rbac.yaml gets NEEDED_IN_NAMESPACE in each namespace it
#: creates: a RoleBinding to the podlife-namespace-worker ClusterRole (podlife.check.namespaces).
SELF_BINDING: tuple[Permission, ...] = (
    Permission("create", "rolebindings", "rbac.authorization.k8s.io"),
    Permission("bind", "clusterroles", "rbac.authorization.k8s.io",
               name="podlife-namespace-worker"),
)
#: Only with --allow-node-changes (the extended-resource scheduling check, whose pod
#: overhead cases make their own RuntimeClass).
NODE_CHANGES: tuple[Permission, ...] = (
    Permission("list", "nodes"),
    Permission("patch", "nodes", subresource="status"),
    Permission("create", "runtimeclasses", "node.k8s.io"),
)


def load_client(kubeconfig: str | Path | None, context: str | None = None) -> Any:
    """An API client from a kubeconfig file, failing with what is wrong with the file."""
    from kubernetes import client

    if not kubeconfig:
        raise PodlifeError("no kubeconfig was given",
                           "pass --kubeconfig PATH, or set KUBECONFIG")
    path = Path(kubeconfig).expanduser()
    if not path.is_file():
        raise PodlifeError(f"kubeconfig {path} does not exist",
                           "pass --kubeconfig with the path of an existing kubeconfig file")
    settings = client.Configuration()
    settings.retries = 0  # one attempt: an unreachable server is reported, not retried
    try:
        return kubeclient.new_client(path, context=context, configuration=settings)
    except Exception as exc:  # the client raises many types for a bad file; all mean the same
        raise PodlifeError(f"kubeconfig {path} cannot be used: {_first_line(exc)}",
                           "check it with `kubectl --kubeconfig FILE config view`, or pass "
                           "another --kubeconfig") from exc


def server_version(api: Any, where: str) -> str:
    """The API server's git version; an error says whether it is unreachable or refuses us."""
    from kubernetes import client
    from kubernetes.client.rest import ApiException
    from urllib3.exceptions import HTTPError

    server = api.configuration.host
    try:
        return client.VersionApi(api).get_code(_request_timeout=CONNECT_TIMEOUT).git_version
    except ApiException as exc:
        if exc.status == 401:
            raise PodlifeError(f"the API server {server} rejects the credentials in {where} "
                               "(401 Unauthorized)",
                               "renew the credentials (an expired token or certificate?)") from exc
        raise PodlifeError(f"the API server {server} answers {exc.status} {exc.reason} "
                           f"to /version (kubeconfig {where})",
                           "check the kubeconfig's server address and credentials") from exc
    except (HTTPError, OSError) as exc:
        raise PodlifeError(f"the API server {server} (kubeconfig {where}) does not answer: "
                           f"{_reason(exc)}",
                           "start the cluster, or fix the server address in the kubeconfig "
                           "and check that it is reachable from here") from exc


def missing_permissions(api: Any, wanted: tuple[Permission, ...]) -> list[Permission]:
    """The permissions in `wanted` that the cluster's authorizer denies to this identity."""
    from kubernetes import client

    authz = client.AuthorizationV1Api(api)
    missing = []
    for permission in wanted:
        attributes = {"verb": permission.verb, "resource": permission.resource,
                      "group": permission.group, "subresource": permission.subresource,
                      "name": permission.name}
        review = authz.create_self_subject_access_review(
            {"spec": {"resourceAttributes": attributes}})
        if not review.status.allowed:
            missing.append(permission)
    return missing


def check_cluster(kubeconfig: str | Path | None, *, node_changes: bool = False,
                  context: str | None = None) -> str:
    """Everything above, in order; returns the server version when podlife can run there."""
    api = load_client(kubeconfig, context)
    where = str(kubeconfig)
    version = server_version(api, where)
    wanted = NEEDED_CLUSTER_WIDE + (NODE_CHANGES if node_changes else ())
    missing = missing_permissions(api, wanted)
    in_namespace = missing_permissions(api, NEEDED_IN_NAMESPACE)
    if in_namespace and missing_permissions(api, SELF_BINDING):
        missing += in_namespace  # neither held everywhere nor bindable per namespace
    if missing:
        rbac = paths.manifests_dir() / "rbac.yaml"
        raise PodlifeError(
            f"the identity in {where} may not {', '.join(map(str, missing))} "
            "(in every namespace), which podlife needs",
            f"apply {rbac} and bind its ClusterRole to that identity, or use a kubeconfig "
            "whose identity has those rights")
    return version


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _reason(exc: BaseException) -> str:
    """The innermost cause of a connection failure (urllib3 wraps it in MaxRetryError)."""
    reason = getattr(exc, "reason", None)
    if isinstance(reason, BaseException):
        return _reason(reason)
    text = _first_line(exc)
    # urllib3 prefixes the cause with the connection's repr: keep the readable end.
    return text.rsplit("): ", 1)[-1]
