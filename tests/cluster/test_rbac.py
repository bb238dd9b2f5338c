"""manifests/rbac.yaml on a real cluster: what podlife's identity can do, and what it cannot.

Authorization is asserted with SubjectAccessReviews (what RBAC allows), and the admission
policy with real requests made as podlife (dry-run where the request would change
something outside podlife's namespaces).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from kubernetes import client as k8s
from kubernetes import utils
from kubernetes.client.rest import ApiException

from podlife.check.namespaces import POD_SECURITY
from podlife.cluster.local.cluster import ClusterInfo, api_client
from podlife.core import paths
from tests.helpers import local_cluster, service_account_kubeconfig

pytestmark = pytest.mark.cluster

SA = "system:serviceaccount:podlife-system:podlife"
SA_GROUPS = ["system:serviceaccounts", "system:serviceaccounts:podlife-system",
             "system:authenticated"]
MANAGED = {"app.kubernetes.io/managed-by": "podlife"}
OWN_LABELS = {**MANAGED, **POD_SECURITY}


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
    """PodSecurity's default level here is `privileged`, as on a cluster without a
    PodSecurity configuration: only podlife's own namespace labels stand in the way."""
    with local_cluster("ci-rbac", allow_privileged=True) as info:
        yield info


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
                                               "labels": OWN_LABELS}}).metadata.name
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
        assert "ValidatingAdmissionPolicy 'podlife-" in (caught.value.body or ""), \
            caught.value.body
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
            ("list", "endpointslices", "", "discovery.k8s.io"),
            ("create", "pods", "eviction", ""),
            ("create", "poddisruptionbudgets", "", "policy")]:
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
    ("create", "pods", "kube-system", "eviction", ""),
    ("create", "pods", "default", "eviction", ""),
    ("create", "poddisruptionbudgets", "default", "", ""),
    ("patch", "nodes", "", "status", ""),
    ("create", "clusterrolebindings", "", "", ""),
])
def test_podlife_cannot_act_outside_its_namespaces(cluster, podlife_api, verb, resource,
                                                   namespace, sub, name) -> None:
    group = ("rbac.authorization.k8s.io" if "binding" in resource
             else "policy" if resource == "poddisruptionbudgets" else "")
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
        assert refused(core.create_namespace, {"metadata": {"name": "no-pod-security",
                                                            "labels": MANAGED}},
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


# ----- the second attack round: from podlife's identity to root on a node -----------------

PRIVILEGED_POD = {
    "metadata": {"name": "root-on-the-node"},
    "spec": {"hostPID": True, "hostNetwork": True,
             "containers": [{"name": "c", "image": "podlife.local/busybox:podlife-1",
                             "command": ["sleep", "3600"],
                             "securityContext": {"privileged": True},
                             "volumeMounts": [{"name": "host", "mountPath": "/host"}]}],
             "volumes": [{"name": "host", "hostPath": {"path": "/"}}]}}


def test_the_escalation_to_root_on_a_node_fails_at_its_first_step(cluster, podlife_api) -> None:
    """The attack, as reproduced: a namespace labelled as podlife's with PodSecurity
    `privileged`, then the worker role bound there, then a privileged hostPID, hostNetwork,
    hostPath=/ pod, then exec. Its first step is refused, so nothing of it exists."""
    core = k8s.CoreV1Api(podlife_api)
    step_one = {"metadata": {"name": "pl-escalate", "labels": {
        **MANAGED, "pod-security.kubernetes.io/enforce": "privileged"}}}
    assert refused(core.create_namespace, step_one) == 403
    admin = k8s.CoreV1Api(api_client(cluster.kubeconfig))
    assert "pl-escalate" not in {n.metadata.name for n in admin.list_namespace().items}


@pytest.mark.parametrize(("labels", "annotations"), [
    ({"pod-security.kubernetes.io/enforce": "privileged"}, {}),
    ({"pod-security.kubernetes.io/enforce": "baseline",
      "pod-security.kubernetes.io/enforce-version": "v1.0"}, {}),
    ({"pod-security.kubernetes.io/enforce": "baseline",
      "pod-security.kubernetes.io/warn": "privileged"}, {}),
    ({"pod-security.kubernetes.io/enforce": "baseline", "team": "x"}, {}),
    ({"pod-security.kubernetes.io/enforce": "baseline"},
     {"scheduler.alpha.kubernetes.io/node-selector": "kubernetes.io/hostname=x"}),
    ({"pod-security.kubernetes.io/enforce": "baseline"},
     {"scheduler.alpha.kubernetes.io/defaultTolerations": '[{"operator": "Exists"}]'}),
    ({}, {}),
])
def test_podlifes_namespaces_cannot_loosen_admission(cluster, podlife_api, labels,
                                                     annotations) -> None:
    namespace = {"metadata": {"generateName": "pl-loose-", "labels": {**MANAGED, **labels},
                              "annotations": annotations}}
    assert refused(k8s.CoreV1Api(podlife_api).create_namespace, namespace) == 403


def test_a_podlife_namespace_refuses_a_privileged_pod_where_the_default_allows_it(
        cluster, podlife_api) -> None:
    """The cluster's default level admits the pod (an admin's unlabelled namespace, dry
    run); podlife's own namespace, labelled baseline as the policy requires, refuses it."""
    admin = k8s.CoreV1Api(api_client(cluster.kubeconfig))
    plain = admin.create_namespace({"metadata": {"generateName": "pl-plain-"}}).metadata.name
    try:
        admin.create_namespaced_pod(plain, PRIVILEGED_POD, dry_run="All")  # admitted
    finally:
        admin.delete_namespace(plain)
    with working_namespace(cluster, podlife_api) as ns:
        status = refused(k8s.CoreV1Api(podlife_api).create_namespaced_pod, ns,
                         PRIVILEGED_POD, policy=False)
        assert status == 403


def wait_allowed(cluster: ClusterInfo, verb: str, resource: str, namespace: str) -> None:
    deadline = time.monotonic() + 10
    while not can(cluster, verb, resource, namespace) and time.monotonic() < deadline:
        time.sleep(0.2)  # the RoleBinding reaches the authorizer's cache


@contextlib.contextmanager
def working_namespace(cluster: ClusterInfo, podlife_api: k8s.ApiClient) -> Iterator[str]:
    """A namespace podlife made, once its role there is in force; deleted afterwards."""
    ns = own_namespace(podlife_api)
    try:
        wait_allowed(cluster, "create", "pods", ns)
        yield ns
    finally:
        k8s.CoreV1Api(podlife_api).delete_namespace(ns)


def test_podlife_cannot_change_a_namespace_even_its_own(cluster, podlife_api) -> None:
    with working_namespace(cluster, podlife_api) as ns:
        for verb in ("update", "patch"):
            assert not can(cluster, verb, "namespaces", ns, name=ns)
            assert not can(cluster, verb, "namespaces", "kube-system", name="kube-system")
        loosen = {"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "privileged"}}}
        assert refused(k8s.CoreV1Api(podlife_api).patch_namespace, ns, loosen,
                       policy=False) == 403


@pytest.mark.parametrize(("verb", "resource", "sub", "group"), [
    ("patch", "pods", "ephemeralcontainers", ""),
    ("update", "pods", "ephemeralcontainers", ""),
    ("create", "pods", "attach", ""),
    ("create", "pods", "portforward", ""),
    ("create", "serviceaccounts", "", ""),
    ("create", "serviceaccounts", "token", ""),
    ("create", "roles", "", "rbac.authorization.k8s.io"),
    ("update", "rolebindings", "", "rbac.authorization.k8s.io"),
    ("create", "persistentvolumeclaims", "", ""),
])
def test_podlifes_rights_in_its_namespace_stop_short_of_escalation(
        cluster, podlife_api, verb, resource, sub, group) -> None:
    with working_namespace(cluster, podlife_api) as ns:
        assert not can(cluster, verb, resource, ns, sub=sub, group=group)


@pytest.mark.parametrize(("verb", "resource", "sub", "group", "name"), [
    ("get", "nodes", "proxy", "", ""),
    ("create", "nodes", "proxy", "", ""),
    ("create", "certificatesigningrequests", "", "certificates.k8s.io", ""),
    ("update", "certificatesigningrequests", "approval", "certificates.k8s.io", ""),
    ("impersonate", "users", "", "", ""),
    ("impersonate", "serviceaccounts", "", "", ""),
    ("escalate", "clusterroles", "", "rbac.authorization.k8s.io", ""),
    ("bind", "clusterroles", "", "rbac.authorization.k8s.io", "admin"),
    ("bind", "clusterroles", "", "rbac.authorization.k8s.io", "cluster-admin"),
    ("create", "validatingadmissionpolicies", "", "admissionregistration.k8s.io", ""),
    ("delete", "validatingadmissionpolicybindings", "", "admissionregistration.k8s.io", ""),
    ("create", "mutatingwebhookconfigurations", "", "admissionregistration.k8s.io", ""),
    ("create", "persistentvolumes", "", "", ""),
])
def test_podlife_has_no_cluster_wide_way_to_a_node(cluster, podlife_api, verb, resource, sub,
                                                    group, name) -> None:
    assert not can(cluster, verb, resource, sub=sub, group=group, name=name)


@pytest.mark.parametrize("spec", [
    {"type": "NodePort", "ports": [{"port": 80}]},
    {"type": "LoadBalancer", "ports": [{"port": 80}]},
    # A documentation address (RFC 5737), in a dry run: no traffic goes anywhere.
    {"ports": [{"port": 80}], "externalIPs": ["192.0.2.10"]},
])
def test_podlifes_services_stay_inside_the_cluster(cluster, podlife_api, spec) -> None:
    """externalIPs would capture traffic to any address cluster-wide (CVE-2020-8554)."""
    with working_namespace(cluster, podlife_api) as ns:
        service = {"metadata": {"name": "s"}, "spec": spec}
        assert refused(k8s.CoreV1Api(podlife_api).create_namespaced_service, ns, service,
                       dry_run="All") == 403


def test_node_changes_reach_only_podlifes_own_resources(cluster, podlife_api) -> None:
    """With rbac-node-changes.yaml: podlife's widgets may come and go on a node's status,
    but not its capacity, addresses or daemon endpoints (where the API server connects for
    exec and logs); RuntimeClasses only its own, without scheduling."""
    admin = api_client(cluster.kubeconfig)
    for obj in manifest("rbac-node-changes.yaml"):
        utils.create_from_dict(admin, obj)
    node_api = k8s.NodeV1Api(podlife_api)
    other = k8s.NodeV1Api(admin).create_runtime_class(
        {"metadata": {"name": "someone-elses"}, "handler": "runc"})
    core = k8s.CoreV1Api(podlife_api)
    try:
        deadline = time.monotonic() + 10
        while not can(cluster, "patch", "nodes", sub="status") and time.monotonic() < deadline:
            time.sleep(0.2)
        node = cluster.node_name
        widget = {"status": {"capacity": {"podlife.dev/widget-rbac": "3"}}}
        core.patch_node_status(node, widget, dry_run="All")  # allowed
        for change in ({"status": {"capacity": {"cpu": "64"}}},
                       {"status": {"daemonEndpoints": {"kubeletEndpoint": {"Port": 1}}}},
                       {"status": {"addresses": [{"type": "InternalIP",
                                                  "address": "127.0.0.9"}]}}):
            assert refused(core.patch_node_status, node, change, dry_run="All") == 403
        own = {"metadata": {"name": "podlife-rbac", "labels": MANAGED}, "handler": "runc"}
        node_api.create_runtime_class(own, dry_run="All")  # allowed
        tolerating = {**own, "scheduling": {"tolerations": [{"operator": "Exists"}]}}
        assert refused(node_api.create_runtime_class, tolerating, dry_run="All") == 403
        assert refused(node_api.delete_runtime_class, "someone-elses", dry_run="All") == 403
    finally:
        k8s.NodeV1Api(admin).delete_runtime_class(other.metadata.name)
        rbac = k8s.RbacAuthorizationV1Api(admin)
        rbac.delete_cluster_role_binding("podlife-node-changes")
        rbac.delete_cluster_role("podlife-node-changes")
