"""manifests/rbac.yaml on a real cluster: what podlife's identity can do, and what it cannot.

Authorization is asserted with SubjectAccessReviews (what RBAC allows), and the admission
policy with real requests made as podlife (dry-run where the request would change
something outside podlife's namespaces).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from kubernetes import client as k8s
from kubernetes import utils
from kubernetes.client.rest import ApiException

from podlife import paths, versions
from podlife.local.cluster import ClusterInfo, LocalCluster, api_client
from tests.helpers import service_account_kubeconfig

pytestmark = pytest.mark.cluster

SA = "system:serviceaccount:podlife-system:podlife"
SA_GROUPS = ["system:serviceaccounts", "system:serviceaccounts:podlife-system",
             "system:authenticated"]
MANAGED = {"app.kubernetes.io/managed-by": "podlife"}


def manifest(name: str) -> list[dict]:
    text = (paths.repo_root() / "manifests" / name).read_text()
    return [doc for doc in yaml.safe_load_all(text) if doc]


def test_rbac_files_are_not_patterns_and_have_the_expected_objects() -> None:
    for name in ("rbac.yaml", "rbac-node-changes.yaml"):
        first = (paths.repo_root() / "manifests" / name).read_text().splitlines()[0]
        assert not first.startswith("# tutorial:")
    kinds = {(o["kind"], o["metadata"]["name"]) for o in manifest("rbac.yaml")}
    assert ("ClusterRoleBinding", "podlife") in kinds
    bound = {o["roleRef"]["name"] for o in manifest("rbac.yaml")
             if o["kind"] == "ClusterRoleBinding"}
    assert bound == {"podlife"}, "only the namespace-finding role may be bound cluster-wide"
    assert not any("node" in str(o).lower() and o["kind"] == "ClusterRole"
                   for o in manifest("rbac.yaml"))


@pytest.fixture(scope="module")
def cluster() -> Iterator[ClusterInfo]:
    local = LocalCluster("ci-rbac")
    local.down()
    info = local.up(versions.resolve(None))
    yield info
    local.down()


@pytest.fixture(scope="module")
def podlife_api(cluster: ClusterInfo, tmp_path_factory) -> k8s.ApiClient:
    """An API client acting as podlife's ServiceAccount, after rbac.yaml is applied."""
    kubeconfig = service_account_kubeconfig(
        cluster, tmp_path_factory.mktemp("rbac") / "podlife.kubeconfig")
    return api_client(Path(kubeconfig))


def can(cluster: ClusterInfo, verb: str, resource: str, namespace: str = "", *,
        group: str = "", sub: str = "", name: str = "") -> bool:
    review = k8s.AuthorizationV1Api(api_client(cluster.kubeconfig)).create_subject_access_review(
        {"spec": {"user": SA, "groups": SA_GROUPS, "resourceAttributes": {
            "verb": verb, "resource": resource, "group": group, "subresource": sub,
            "namespace": namespace, "name": name}}})
    return bool(review.status.allowed)


def own_namespace(api: k8s.ApiClient) -> str:
    """What podlife does for each check: a labelled namespace, then its RoleBinding there."""
    core = k8s.CoreV1Api(api)
    name = core.create_namespace({"metadata": {"generateName": "pl-rbac-",
                                               "labels": MANAGED}}).metadata.name
    k8s.RbacAuthorizationV1Api(api).create_namespaced_role_binding(name, worker_binding(name))
    return name


def worker_binding(namespace: str) -> dict:
    return {"metadata": {"name": "podlife", "namespace": namespace},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": "podlife-namespace-worker"},
            "subjects": [{"kind": "ServiceAccount", "name": "podlife",
                          "namespace": "podlife-system"}]}


def refused(call, *args, policy: bool = True, **kwargs) -> int:
    """The HTTP status of a refused request (by the admission policy, unless policy=False)."""
    with pytest.raises(ApiException) as caught:
        call(*args, **kwargs)
    if policy:
        assert "podlife-own-namespaces-only" in (caught.value.body or ""), caught.value.body
    return caught.value.status


def test_podlife_can_work_in_the_namespaces_it_creates(cluster, podlife_api) -> None:
    ns = own_namespace(podlife_api)
    deadline = time.monotonic() + 10
    while not can(cluster, "create", "pods", ns) and time.monotonic() < deadline:
        time.sleep(0.2)  # the RoleBinding reaches the authorizer's cache
    for verb, resource, sub, group in [
            ("create", "pods", "", ""), ("create", "pods", "exec", ""),
            ("get", "pods", "log", ""), ("get", "secrets", "", ""),
            ("create", "deployments", "", "apps"), ("create", "jobs", "", "batch"),
            ("list", "endpointslices", "", "discovery.k8s.io")]:
        assert can(cluster, verb, resource, ns, sub=sub, group=group), (verb, resource, sub)
    assert can(cluster, "delete", "namespaces", ns, name=ns)
    k8s.CoreV1Api(podlife_api).delete_namespace(ns)


@pytest.mark.parametrize(("verb", "resource", "namespace", "sub", "name"), [
    ("delete", "namespaces", "kube-system", "", "kube-system"),
    ("delete", "namespaces", "default", "", "default"),
    ("patch", "namespaces", "kube-system", "", "kube-system"),
    ("get", "secrets", "kube-system", "", ""),
    ("list", "secrets", "", "", ""),
    ("get", "secrets", "default", "", ""),
    ("create", "pods", "kube-system", "exec", ""),
    ("create", "pods", "default", "exec", ""),
    ("create", "pods", "kube-system", "", ""),
    ("create", "pods", "default", "", ""),
    ("patch", "nodes", "", "status", ""),
    ("create", "clusterrolebindings", "", "", ""),
])
def test_podlife_cannot_act_outside_its_namespaces(cluster, podlife_api, verb, resource,
                                                   namespace, sub, name) -> None:
    group = "rbac.authorization.k8s.io" if "binding" in resource else ""
    assert not can(cluster, verb, resource, namespace, sub=sub, name=name, group=group)


def test_admission_keeps_podlifes_bindings_in_its_own_namespaces(cluster, podlife_api) -> None:
    """RBAC lets podlife create RoleBindings; the policy refuses any outside its labelled
    namespaces, to another role or subject, and any namespace created without its label."""
    rbac = k8s.RbacAuthorizationV1Api(podlife_api)
    core = k8s.CoreV1Api(podlife_api)
    assert refused(rbac.create_namespaced_role_binding, "kube-system",
                   worker_binding("kube-system"), dry_run="All") == 403
    ns = own_namespace(podlife_api)
    try:
        admin_binding = {**worker_binding(ns), "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"}}
        admin_binding["metadata"] = {"name": "escalate", "namespace": ns}
        # RBAC's own escalation check refuses this one first (podlife lacks "bind" on admin).
        assert refused(rbac.create_namespaced_role_binding, ns, admin_binding,
                       dry_run="All", policy=False) == 403
        other = worker_binding(ns)
        other["metadata"] = {"name": "someone", "namespace": ns}
        other["subjects"] = [{"kind": "ServiceAccount", "name": "default", "namespace": "x"}]
        assert refused(rbac.create_namespaced_role_binding, ns, other, dry_run="All") == 403
        assert refused(core.create_namespace, {"metadata": {"name": "not-labelled"}},
                       dry_run="All") == 403
        assert refused(core.delete_namespace, "kube-system", dry_run="All",
                       policy=False) == 403
    finally:
        core.delete_namespace(ns)


def test_node_changes_only_with_the_separate_file(cluster, podlife_api) -> None:
    assert not can(cluster, "patch", "nodes", sub="status")
    admin = api_client(cluster.kubeconfig)
    for obj in manifest("rbac-node-changes.yaml"):
        utils.create_from_dict(admin, obj)
    try:
        deadline = time.monotonic() + 10
        while not can(cluster, "patch", "nodes", sub="status") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert can(cluster, "patch", "nodes", sub="status")
        assert can(cluster, "list", "nodes")
    finally:
        rbac = k8s.RbacAuthorizationV1Api(admin)
        rbac.delete_cluster_role_binding("podlife-node-changes")
        rbac.delete_cluster_role("podlife-node-changes")
