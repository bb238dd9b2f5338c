"""The native-sidecar verdicts: unsupported only when documented, fail or error otherwise."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from kubernetes.client.rest import ApiException

from podlife.check import features, sidecar_probe
from podlife.check.features import classify_rejection, classify_stored
from podlife.check.outcomes import CheckError, Unsupported
from podlife.check.sidecar_probe import classify_kubelet
from podlife.check.support import SUPPORTED, Support, minor_of
from podlife.check.waits import WaitFailed


def _body(message: str) -> str:
    return json.dumps({"kind": "Status", "message": message})


def test_minor_of() -> None:
    assert minor_of("v1.31.4") == 31
    assert minor_of("v1.33.0+k3s1") == 33
    assert minor_of("1.28") == 28
    assert minor_of("") is None


@pytest.mark.parametrize(("status", "reason", "body"), [
    (422, "Unprocessable Entity", _body(
        'Pod "p" is invalid: spec.initContainers[0].restartPolicy: Forbidden: may not be set')),
    (400, "Bad Request", _body(
        'strict decoding error: unknown field "spec.initContainers[0].restartPolicy"')),
])
def test_the_field_refused_is_unsupported_naming_the_gate(status: int, reason: str,
                                                          body: str) -> None:
    found = classify_rejection(status, reason, body)
    assert found.verdict == "unsupported"
    assert "SidecarContainers" in found.reason and str(status) in found.reason


@pytest.mark.parametrize(("status", "reason", "body"), [
    (403, "Forbidden", _body('pods "p" is forbidden: violates PodSecurity "restricted"')),
    (400, "Bad Request", _body('admission webhook "deny.example" denied the request')),
    (500, "Internal Server Error", _body("etcdserver: request timed out")),
    (422, "Unprocessable Entity", _body("spec.containers[0].image: Required value")),
])
def test_any_other_refusal_is_an_error_with_its_cause(status: int, reason: str,
                                                     body: str) -> None:
    found = classify_rejection(status, reason, body)
    assert found.verdict == "error"
    assert f"{status} {reason}" in found.reason
    assert json.loads(body)["message"] in found.reason


def test_kept_field_is_supported_by_the_api_server() -> None:
    assert classify_stored("Always", "") == SUPPORTED


@pytest.mark.parametrize("version", ["v1.28.15", "v1.31.4", "v1.32.0"])
def test_dropped_before_ga_is_unsupported(version: str) -> None:
    found = classify_stored(None, version)
    assert found.verdict == "unsupported"
    assert "SidecarContainers" in found.reason and version in found.reason


@pytest.mark.parametrize("version", ["v1.33.0", "v1.37.2", ""])
def test_dropped_from_ga_on_is_a_failure(version: str) -> None:
    found = classify_stored(None, version)
    assert found.verdict == "fail"
    assert "not conformant" in found.reason


@pytest.mark.parametrize(("kubelet", "verdict"), [
    # A kubelet reporting a release with the feature locked on is probed all the same: the
    # version a kubelet reports proves nothing of what it does.
    ("v1.37.2", None), ("v1.33.1", None), ("v1.27.16", "fail"),
    ("v1.28.15", None), ("v1.31.4", None), ("v1.32.0", None), ("unknown", None),
])
def test_kubelet_version_decides_or_asks_for_a_probe(kubelet: str, verdict: str | None) -> None:
    found = classify_kubelet("node-1", kubelet)
    assert (found.verdict if found else None) == verdict
    if verdict == "fail":
        assert found is not None and "kubelet on node node-1 (v1.27.16)" in found.reason


def test_each_verdict_ends_the_check_its_own_way() -> None:
    Support("supported").enforce()
    with pytest.raises(Unsupported, match="gate off"):
        Support("unsupported", "gate off").enforce()
    with pytest.raises(pytest.fail.Exception, match="dropped"):
        Support("fail", "dropped").enforce()
    with pytest.raises(CheckError, match="403"):
        Support("error", "403").enforce()


# --- against a fake cluster ---------------------------------------------------------------


class _FakeFramework:
    """Answers the dry run and the version like an API server would."""

    def __init__(self, host: str, stored_policy: str | None = "Always",
                 refuse: ApiException | None = None) -> None:
        self.api = SimpleNamespace(configuration=SimpleNamespace(host=host))
        self.stored_policy, self.refuse = stored_policy, refuse
        self.dry_runs = 0

    def dry_run(self, obj: dict) -> dict:
        self.dry_runs += 1
        if self.refuse:
            raise self.refuse
        init = dict(obj["spec"]["initContainers"][0])
        if self.stored_policy is None:
            init.pop("restartPolicy")
        return {"spec": {"initContainers": [init]}}


@pytest.fixture(autouse=True)
def _fresh_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(features, "_API_SERVER", {})
    monkeypatch.setattr(features, "_WHOLE", {})
    monkeypatch.setattr(features, "server_version", lambda api: "v1.31.4")


def test_gap_is_the_api_servers_answer_and_cached() -> None:
    fake: Any = _FakeFramework("https://a", stored_policy=None)
    gap = features.native_sidecar_gap(fake)
    assert gap and "v1.31.4" in gap and "SidecarContainers" in gap
    assert features.native_sidecar_gap(fake) == gap
    assert fake.dry_runs == 1


def test_gap_ends_the_check_on_an_error() -> None:
    refusal = ApiException(status=403, reason="Forbidden")
    refusal.body = _body("denied by policy").encode()
    fake: Any = _FakeFramework("https://b", refuse=refusal)
    with pytest.raises(CheckError, match="403 Forbidden: denied by policy"):
        features.native_sidecar_gap(fake)


def test_require_asks_the_kubelets_once_the_api_server_keeps_the_field(
        monkeypatch: pytest.MonkeyPatch) -> None:
    asked = []

    def kubelets(f: Any) -> Support:
        asked.append(f)
        return Support("fail", "the kubelet runs them as ordinary init containers")

    monkeypatch.setattr(sidecar_probe, "kubelet_support", kubelets)
    fake: Any = _FakeFramework("https://c")
    for _ in range(2):
        with pytest.raises(pytest.fail.Exception, match="ordinary init containers"):
            features.require_native_sidecars(fake)
    assert len(asked) == 1
    # The API-server-only question still answers "no gap" for the same cluster.
    assert features.native_sidecar_gap(fake) is None


# --- the kubelet probe's judgement ----------------------------------------------------------


def _pod(sidecar: str, app: str) -> dict:
    def status(name: str, state: str) -> dict:
        body = {"reason": "PodInitializing"} if state == "waiting" else {}
        return {"name": name, "state": {state: body}, "restartCount": 0}

    return {"metadata": {"name": "podlife-sidecar-probe-0"},
            "status": {"phase": "Pending", "initContainerStatuses": [status("sidecar", sidecar)],
                       "containerStatuses": [status("app", app)]}}


class _ProbeFramework:
    def __init__(self, seen: list[dict | None]) -> None:
        self.seen = seen

    def wait_pod(self, name: str, until: Any, **_: Any) -> dict:
        pod = self.seen.pop(0)
        if pod is not None and until(pod):
            return pod
        raise WaitFailed("timed out", pod)


def test_probe_app_started_is_supported() -> None:
    fake: Any = _ProbeFramework([_pod("running", "waiting"), _pod("running", "running")])
    assert sidecar_probe._watch(fake, "p", "node-1", "v1.31.4") == SUPPORTED


def test_probe_sidecar_running_app_waiting_is_a_kubelet_failure() -> None:
    fake: Any = _ProbeFramework([_pod("running", "waiting"), _pod("running", "waiting")])
    found = sidecar_probe._watch(fake, "p", "node-1", "v1.31.4")
    assert found.verdict == "fail"
    assert found.reason.startswith(
        "the kubelet on node node-1 (v1.31.4) runs restartPolicy: Always init containers as "
        "ordinary init containers: the SidecarContainers feature is off on the kubelet")
    assert "upgrade kubelets before deploying native sidecars" in found.reason


def test_probe_pod_that_never_runs_is_an_error() -> None:
    fake: Any = _ProbeFramework([None])
    assert sidecar_probe._watch(fake, "p", "node-1", "v1.31.4").verdict == "error"


def _node(name: str, kubelet: str, ready: str = "True", unschedulable: bool = False) -> Any:
    return SimpleNamespace(
        metadata=SimpleNamespace(name=name),
        spec=SimpleNamespace(unschedulable=unschedulable, taints=None),
        status=SimpleNamespace(node_info=SimpleNamespace(kubelet_version=kubelet),
                               conditions=[SimpleNamespace(type="Ready", status=ready)]))


def test_every_usable_kubelet_is_probed_whatever_version_it_reports(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A kubelet reporting v1.37.2 that runs sidecars as ordinary init containers is found
    by its probe; nodes no check's pod lands on are not asked; a kubelet reporting a
    release older than the feature fails without a probe."""
    nodes = [_node("new", "v1.37.2"), _node("gated", "v1.31.4"),
             _node("down", "v1.30.0", ready="False"), _node("cordoned", "v1.30.0",
                                                            unschedulable=True)]
    fake: Any = SimpleNamespace(core=SimpleNamespace(
        list_node=lambda: SimpleNamespace(items=nodes)))
    probed = []

    def probe(f: Any, index: int, node: str, kubelet: str) -> Support:
        probed.append((node, kubelet))
        return Support("fail", sidecar_probe.kubelet_cause(node, kubelet))

    monkeypatch.setattr(sidecar_probe, "probe", probe)
    found = sidecar_probe.kubelet_support(fake)
    assert probed == [("new", "v1.37.2")]
    assert found.verdict == "fail" and "node new (v1.37.2)" in found.reason
    nodes[:] = [_node("old", "v1.27.16"), _node("gated", "v1.31.4")]
    assert sidecar_probe.kubelet_support(fake).verdict == "fail"
    assert probed == [("new", "v1.37.2")]  # an old kubelet fails without a probe


def test_probe_pod_rejected_by_the_kubelet_is_a_kubelet_failure() -> None:
    rejected = {"metadata": {"name": "p"}, "status": {
        "phase": "Failed", "reason": "InitContainerRestartPolicyForbidden",
        "message": 'Pod was rejected: Init container "sidecar" may not have a non-default '
                   "restartPolicy"}}
    fake: Any = _ProbeFramework([rejected])
    found = sidecar_probe._watch(fake, "p", "node-1", "v1.31.0")
    assert found.verdict == "fail"
    assert found.reason.startswith(
        "the kubelet on node node-1 (v1.31.0) rejects pods with restartPolicy: Always init "
        "containers: the SidecarContainers feature is off on the kubelet")
    assert "may not have a non-default restartPolicy" in found.reason
