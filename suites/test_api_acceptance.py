"""The cluster's API server accepts every tutorial manifest as written, and keeps every field.

A reader copies the tutorial's YAML as it is. The server may reject it (a field the version
does not know), or, worse, accept it and silently drop a field it has switched off (an
init container's `restartPolicy` when the SidecarContainers gate is off turns a sidecar
into a blocking init container). So each manifest object, with its tutorial images and
commands unchanged, goes through a server-side dry run, and everything sent must come back.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
import yaml
from kubernetes.client.rest import ApiException

from podlife.check import manifests
from podlife.check.apply import resource_of
from podlife.check.features import native_sidecar_gap, server_version
from podlife.check.framework import Framework
from podlife.check.outcomes import unsupported
from podlife.check.support import minor_of
from podlife.model.requests import parse_quantity

#: Maps whose values are resource quantities: "1Gi" may legitimately come back as
#: "1073741824" or 1 as "1", so these compare by value, not by spelling.
QUANTITY_MAPS = {"requests", "limits", "overhead", "capacity", "allocatable", "hard"}

#: Kinds of podlife's own manifests that older releases do not serve at that apiVersion,
#: with the minor that made them GA: before it their absence is documented (unsupported),
#: from it on a missing kind is a failure.
GA_MINOR_OF_KIND = {
    ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy"): 30,
    ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding"): 30,
}

#: Fields identifying an element of a list of objects (containers by name, mounts by
#: path...), so server additions (the service-account token volume) do not shift them.
LIST_KEYS = ("name", "mountPath", "containerPort", "port", "devicePath")


def manifest_objects() -> list[Any]:
    """Every object of every YAML file under manifests/ (patterns, support, RBAC)."""
    params = []
    patterns = set(manifests.all_patterns())
    for path in sorted(manifests.MANIFEST_DIR.rglob("*.yaml")):
        # Ids become part of the check's namespace name: letters, digits and '-' only.
        rel = path.relative_to(manifests.MANIFEST_DIR).with_suffix("").as_posix()
        with path.open(encoding="utf-8") as handle:
            docs = [d for d in yaml.safe_load_all(handle) if d is not None]
        marks = [pytest.mark.pattern(path.stem)] if path.stem in patterns else []
        for doc in docs:
            ident = f"{rel.replace('/', '-')}-{doc['kind']}-{doc['metadata']['name']}"
            params.append(pytest.param(doc, id=ident, marks=marks))
    return params


def uses_native_sidecars(obj: dict) -> bool:
    if obj["kind"] == "Pod":
        spec = obj.get("spec") or {}
    else:
        spec = ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
    return any("restartPolicy" in c for c in spec.get("initContainers") or [])


def expected_from(sent: dict) -> dict:
    """What the server must give back for `sent`: a Secret's write-only stringData is
    documented to come back merged into data, base64-encoded."""
    if sent.get("kind") != "Secret" or "stringData" not in sent:
        return sent
    expected = {k: v for k, v in sent.items() if k != "stringData"}
    data = dict(sent.get("data") or {})
    for key, value in sent["stringData"].items():
        data[key] = base64.b64encode(str(value).encode()).decode()
    expected["data"] = data
    return expected


def differences(sent: Any, got: Any, path: str = "", quantities: bool = False) -> list[str]:
    """Every value in `sent` that is missing from or different in `got` (additions are fine).

    Lists of scalars (commands, args) must come back identical; lists of objects are matched
    by their identifying field and must keep their order (init containers run in order).
    Values of quantity maps (requests, limits...) compare by value ("1Gi" == "1073741824").
    """
    if isinstance(sent, dict):
        if not isinstance(got, dict):
            return [f"{path or '.'}: sent an object, got {got!r}"]
        out = []
        for key, value in sent.items():
            where = f"{path}.{key}"
            if key not in got:
                out.append(f"{where}: dropped (sent {value!r})")
            else:
                out += differences(value, got[key], where, key in QUANTITY_MAPS)
        return out
    if isinstance(sent, list):
        if not isinstance(got, list):
            return [f"{path}: sent a list, got {got!r}"]
        if not all(isinstance(item, dict) for item in sent):
            return [] if sent == got else [f"{path}: sent {sent!r}, got {got!r}"]
        return _list_differences(sent, got, path)
    if sent == got and type(sent) is type(got):
        return []
    if quantities:
        try:
            if parse_quantity(sent) == parse_quantity(got):
                return []
        except ValueError:
            pass
    return [f"{path}: sent {sent!r}, got {got!r}"]


def _list_differences(sent: list[dict], got: list[Any], path: str) -> list[str]:
    key = next((k for k in LIST_KEYS if all(k in item for item in sent)
                and len({repr(item[k]) for item in sent}) == len(sent)), None)
    if key is None:
        if len(got) != len(sent):
            return [f"{path}: sent {len(sent)} items, got {len(got)}: {got!r}"]
        return [d for i, item in enumerate(sent)
                for d in differences(item, got[i], f"{path}[{i}]")]
    out: list[str] = []
    positions = []
    for item in sent:
        label = f"{path}[{key}={item[key]}]"
        found = [i for i, g in enumerate(got) if isinstance(g, dict) and g.get(key) == item[key]]
        if not found:
            out.append(f"{label}: dropped")
            continue
        positions.append(found[0])
        out += differences(item, got[found[0]], label)
    if positions != sorted(positions):
        out.append(f"{path}: order changed: sent {[i[key] for i in sent]}, got "
                   f"{[g.get(key) for g in got if isinstance(g, dict)]}")
    return out


@pytest.mark.parametrize("obj", manifest_objects())
def test_manifest_accepted_unchanged(f: Framework, obj: dict) -> None:
    """The API server accepts the tutorial object as written and drops none of its fields."""
    if uses_native_sidecars(obj):
        gap = native_sidecar_gap(f)
        if gap:
            unsupported(gap)
    ga_minor = GA_MINOR_OF_KIND.get((obj["apiVersion"], obj["kind"]))
    if ga_minor:
        version = server_version(f.api)
        if (minor_of(version) or ga_minor) < ga_minor:
            unsupported(f"the API server ({version}) does not serve {obj['kind']} in "
                        f"{obj['apiVersion']}: it is GA from 1.{ga_minor}")
    sent = f.as_sent(obj)
    try:
        try:
            stored = f.dry_run(sent)
        except ApiException as exc:
            # A cluster-scoped object podlife itself installed (the RBAC) may exist already:
            # a dry-run create only answers 409 then, a dry-run apply still shows the result.
            if exc.status != 409:
                raise
            stored = f.dry_run_apply(sent)
    except ApiException as exc:
        _, namespaced = resource_of(f.api, obj)
        if exc.status == 403 and not namespaced:
            pytest.skip(f"not permitted to create cluster-scoped {obj['kind']} on this "
                        f"cluster ({exc.reason}); bind cluster-admin to check it")
        raise AssertionError(f"the API server rejected {obj['kind']}/"
                             f"{obj['metadata']['name']}: {exc.status} {exc.reason}: "
                             f"{exc.body}") from None
    problems = differences(expected_from(sent), stored)
    assert not problems, (f"{obj['kind']}/{obj['metadata']['name']}: the server did not keep "
                          "what was sent:\n  " + "\n  ".join(problems))


def test_comparison_reports_a_dropped_field(f: Framework) -> None:
    """The comparison flags a restartPolicy missing from a real dry-run response (so the
    acceptance rows above can fail), while the server's additions pass."""
    sent = f.as_sent(manifests.load_one("native-sidecar"))
    try:
        stored = f.dry_run(sent)
    except ApiException as exc:
        unsupported(f"the API server rejects the native-sidecar pod: {exc.status} {exc.reason}")
    assert len(stored["spec"]["volumes"]) > len(sent["spec"]["volumes"]), (
        "expected the server to add the service-account token volume")
    stored["spec"]["initContainers"][0].pop("restartPolicy", None)
    assert differences(sent, stored) == [
        ".spec.initContainers[name=log-shipper].restartPolicy: dropped (sent 'Always')"]
    stored["spec"]["containers"][0]["image"] = "other:v2"
    assert ".spec.containers[name=app].image: sent 'myapp:v1', got 'other:v2'" in differences(
        sent, stored)
