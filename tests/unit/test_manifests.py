"""The manifest files are faithful to the tutorial, and the stand-ins stay inside the cluster.

Pure tests: nothing here talks to a cluster. They pin the reconstruction of the
tutorial's unindented YAML (same lines, same containers, a structure Kubernetes accepts)
so a later edit cannot drift from what the tutorial teaches.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from podlife.check import manifests, tutorial
from podlife.check.tutorial import TutorialManifest

EXPECTED_MANIFESTS = 10
EXPECTED_FRAGMENTS = 2

# Objects the patterns refer to but the tutorial never defines, and where they live.
SUPPORT_FILES = {
    "availability",
    "postgres",
    "config-server",
    "cache-service",
    "git-source",
    "cdn",
    "configmaps",
    "secrets",
}
STANDIN_SERVICES = {
    "postgres": 5432,
    "config-server": 80,
    "cache-service": 80,
    "git-source": 80,
    "cdn": 80,
}
BUSYBOX_APPLETS = {"sh", "nc", "httpd", "wget", "sleep", "cat", "echo"}
PART_OF = ("app.kubernetes.io/part-of", "podlife")

# Field names Kubernetes knows at each level, limited to those podlife's files may use.
# A key outside these sets means a line was nested under the wrong parent.
POD_SPEC_KEYS = {
    "affinity",
    "tolerations",
    "initContainers",
    "containers",
    "volumes",
    "restartPolicy",
    "securityContext",
    "serviceAccountName",
    "terminationGracePeriodSeconds",
}
CONTAINER_KEYS = {
    "name",
    "image",
    "imagePullPolicy",
    "command",
    "args",
    "workingDir",
    "env",
    "ports",
    "volumeMounts",
    "resources",
    "readinessProbe",
    "livenessProbe",
    "startupProbe",
    "restartPolicy",
    "securityContext",
}
PROBE_KEYS = {
    "httpGet",
    "tcpSocket",
    "exec",
    "initialDelaySeconds",
    "periodSeconds",
    "timeoutSeconds",
    "successThreshold",
    "failureThreshold",
}
MOUNT_KEYS = {"name", "mountPath", "readOnly", "subPath"}
PORT_KEYS = {"containerPort", "name", "protocol"}
VOLUME_SOURCES = {"emptyDir", "configMap", "secret"}

_URL = re.compile(r"https?://([^/\s\"'`:]+)")
_CLUSTER_SUFFIXES = (".svc", ".svc.cluster.local", ".cluster.local")


@pytest.fixture(scope="module")
def tutorial_manifests() -> list[TutorialManifest]:
    """The tutorial's manifests; a missing tutorial fails every test that needs it."""
    try:
        text = tutorial.read_tutorial()
    except FileNotFoundError as exc:
        pytest.fail(str(exc), pytrace=False)
    return tutorial.find_manifests(text)


def _by_section(found: list[TutorialManifest], section: str) -> TutorialManifest:
    matches = [m for m in found if m.section == section]
    assert len(matches) == 1, f"tutorial section {section!r} holds {len(matches)} manifests"
    return matches[0]


def _body_lines(path: Path) -> list[str]:
    """A file's lines as the tutorial prints them: no indentation, no header comments."""
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    while lines and (not lines[0] or lines[0].startswith("#")):
        lines.pop(0)
    return [line for line in lines if line and line != "---"]


def _header(pattern: str) -> str:
    """Leading comment block of a pattern file."""
    text = (manifests.pattern_path(pattern)).read_text(encoding="utf-8")
    header = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    return "\n".join(header)


def _pod_spec(obj: dict[str, Any]) -> dict[str, Any] | None:
    if obj["kind"] == "Pod":
        return obj["spec"]
    if obj["kind"] in {"Deployment", "Job"}:
        return obj["spec"]["template"]["spec"]
    return None


def _containers(obj: dict[str, Any]) -> list[tuple[str, str, str, tuple[str, ...] | None]]:
    """(list, name, image, command) of every container, in file order."""
    spec = _pod_spec(obj)
    assert spec is not None, f"{obj['kind']} has no pod spec"
    return [
        (
            list_name,
            c["name"],
            c["image"],
            tuple(c["command"]) if "command" in c else None,
        )
        for list_name in ("initContainers", "containers")
        for c in spec.get(list_name, [])
    ]


def _all_yaml() -> list[Path]:
    return sorted(manifests.MANIFEST_DIR.rglob("*.yaml"))


def _support_objects() -> Iterator[tuple[str, dict[str, Any]]]:
    for path in sorted(manifests.SUPPORT_DIR.glob("*.yaml")):
        for obj in manifests.support(path.stem):
            yield path.name, obj


def _check_pod_spec(spec: dict[str, Any], where: str) -> None:
    """Every key sits under the parent Kubernetes expects, and references resolve."""
    assert set(spec) <= POD_SPEC_KEYS, f"{where}: unexpected pod spec keys {set(spec)}"
    volumes = spec.get("volumes", [])
    for volume in volumes:
        sources = set(volume) - {"name"}
        assert "name" in volume and len(sources) == 1, f"{where}: bad volume {volume}"
        assert sources <= VOLUME_SOURCES, f"{where}: unexpected volume source {sources}"
    declared = {v["name"] for v in volumes}
    for list_name in ("initContainers", "containers"):
        for c in spec.get(list_name, []):
            at = f"{where} {list_name}/{c.get('name')}"
            assert set(c) <= CONTAINER_KEYS, f"{at}: unexpected keys {set(c) - CONTAINER_KEYS}"
            assert isinstance(c.get("image"), str), f"{at}: no image"
            if "restartPolicy" in c:
                assert list_name == "initContainers", f"{at}: restartPolicy on an app container"
            for mount in c.get("volumeMounts", []):
                assert set(mount) <= MOUNT_KEYS, f"{at}: bad volumeMount {mount}"
                assert mount["name"] in declared, f"{at}: mounts undeclared {mount['name']}"
            for port in c.get("ports", []):
                assert set(port) <= PORT_KEYS and "containerPort" in port, f"{at}: bad {port}"
            for env in c.get("env", []):
                assert len(set(env) & {"value", "valueFrom"}) == 1, f"{at}: bad env {env}"
            assert set(c.get("resources", {})) <= {"requests", "limits"}, f"{at}: resources"
            for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
                if probe in c:
                    assert set(c[probe]) <= PROBE_KEYS, f"{at}: bad {probe} {c[probe]}"


# --- the tutorial itself -------------------------------------------------------------


def test_tutorial_manifest_count(tutorial_manifests: list[TutorialManifest]) -> None:
    fragments = [m for m in tutorial_manifests if m.is_fragment]
    assert len(tutorial_manifests) == EXPECTED_MANIFESTS
    assert len(fragments) == EXPECTED_FRAGMENTS
    assert all(m.kind is None and m.name is None for m in fragments)
    assert all(m.kind and m.name for m in tutorial_manifests if not m.is_fragment)


def test_every_tutorial_manifest_has_one_pattern(
    tutorial_manifests: list[TutorialManifest],
) -> None:
    file_sections = sorted(manifests.tutorial_section(p) for p in manifests.all_patterns())
    tutorial_sections = sorted(m.section for m in tutorial_manifests)
    assert file_sections == tutorial_sections, "pattern files must follow the tutorial 1:1"


def test_seed_path_env_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(tutorial.ENV_VAR, str(tmp_path / "elsewhere.txt"))
    assert tutorial.seed_path() == tmp_path / "elsewhere.txt"
    with pytest.raises(FileNotFoundError, match=tutorial.ENV_VAR):
        tutorial.read_tutorial()
    monkeypatch.delenv(tutorial.ENV_VAR)
    assert tutorial.seed_path() == tutorial.SEED_PATH


# --- each pattern file against its tutorial manifest --------------------------------


@pytest.mark.parametrize("pattern", manifests.all_patterns())
def test_pattern_matches_tutorial(pattern: str, tutorial_manifests: list[TutorialManifest]) -> None:
    path = manifests.pattern_path(pattern)
    assert path.is_file(), f"missing pattern file {path}"
    source = _by_section(tutorial_manifests, manifests.tutorial_section(pattern))
    obj = manifests.load_one(pattern)
    expected = [(c.list_name, c.name, c.image, c.command) for c in source.containers]
    actual = _containers(obj)
    if source.is_fragment:
        assert (obj["kind"], obj["metadata"]["name"]) == ("Pod", pattern)
        assert [c for c in actual if c in expected] == expected, "fragment containers changed"
    else:
        assert (obj["kind"], obj["metadata"]["name"]) == (source.kind, source.name)
        assert actual == expected


@pytest.mark.parametrize("pattern", manifests.all_patterns())
def test_pattern_keeps_tutorial_lines(
    pattern: str, tutorial_manifests: list[TutorialManifest]
) -> None:
    """Indentation aside, the file is the tutorial's text, line for line."""
    source = _by_section(tutorial_manifests, manifests.tutorial_section(pattern))
    body = _body_lines(manifests.pattern_path(pattern))
    expected = list(source.lines)
    if not source.is_fragment:
        assert body == expected
        return
    runs = [body[i : i + len(expected)] for i in range(len(body) - len(expected) + 1)]
    assert expected in runs, "the fragment's lines must appear unchanged and contiguous"
    header = _header(pattern)
    assert "completed" in header.lower(), "a completed fragment must say so in its header"


@pytest.mark.parametrize("pattern", manifests.all_patterns())
def test_pattern_structure(pattern: str) -> None:
    """Catches a line nested under the wrong parent while restoring indentation."""
    obj = manifests.load_one(pattern)
    spec = _pod_spec(obj)
    assert spec is not None
    _check_pod_spec(spec, pattern)
    if obj["kind"] == "Deployment":
        labels = obj["spec"]["template"]["metadata"]["labels"]
        assert obj["spec"]["selector"]["matchLabels"].items() <= labels.items()


# --- every file under manifests/ ----------------------------------------------------


@pytest.mark.parametrize(
    "path", _all_yaml(), ids=lambda p: str(p.relative_to(manifests.MANIFEST_DIR))
)
def test_yaml_parses_and_objects_are_named(path: Path) -> None:
    with path.open(encoding="utf-8") as handle:
        docs = [d for d in yaml.safe_load_all(handle) if d is not None]
    assert docs, f"{path} holds no objects"
    for doc in docs:
        assert isinstance(doc, dict)
        assert doc.get("apiVersion") and doc.get("kind"), f"{path}: {doc}"
        assert doc.get("metadata", {}).get("name"), f"{path}: unnamed {doc['kind']}"


def test_manifest_dir_holds_exactly_the_patterns() -> None:
    top = {p.name for p in manifests.MANIFEST_DIR.glob("*.yaml")}
    assert top == {f"{p}.yaml" for p in manifests.all_patterns()} | {
        "rbac.yaml", "rbac-node-changes.yaml"}
    assert {p.stem for p in manifests.SUPPORT_DIR.glob("*.yaml")} == SUPPORT_FILES


# --- the stand-ins -------------------------------------------------------------------


def test_support_refers_to_no_host_outside_the_cluster() -> None:
    for path in sorted(manifests.SUPPORT_DIR.glob("*.yaml")):
        for host in _URL.findall(path.read_text(encoding="utf-8")):
            local = "." not in host or host.endswith(_CLUSTER_SUFFIXES)
            assert local, f"{path.name} refers to {host}, outside the cluster"


def test_support_runs_only_busybox() -> None:
    for filename, obj in _support_objects():
        spec = _pod_spec(obj)
        if spec is None:
            continue
        _check_pod_spec(spec, filename)
        for list_name, name, image, command in _containers(obj):
            where = f"{filename} {list_name}/{name}"
            assert image == "busybox", f"{where} uses {image}"
            assert command and command[0] in BUSYBOX_APPLETS, f"{where} runs {command}"


def test_support_objects_are_labelled() -> None:
    key, value = PART_OF
    for filename, obj in _support_objects():
        labels = obj["metadata"].get("labels", {})
        assert labels.get(key) == value, f"{filename}: {obj['kind']} lacks {key}={value}"
        spec = _pod_spec(obj)
        if spec is not None:
            assert obj["spec"]["template"]["metadata"]["labels"].get(key) == value


def test_standin_services_select_a_listening_pod() -> None:
    for name, port in STANDIN_SERVICES.items():
        objs = {(o["kind"], o["metadata"]["name"]): o for o in manifests.support(name)}
        service = objs[("Service", name)]
        workload = objs.get(("Deployment", name)) or objs[("Pod", name)]
        pod_labels = (
            workload["spec"]["template"]["metadata"]["labels"]
            if workload["kind"] == "Deployment"
            else workload["metadata"]["labels"]
        )
        assert service["spec"]["selector"].items() <= pod_labels.items(), name
        (service_port,) = service["spec"]["ports"]
        assert service_port["port"] == port, name
        target = service_port["targetPort"]
        container_ports = [p for c in _pod_spec(workload)["containers"] for p in c["ports"]]
        assert any(target in (p["containerPort"], p.get("name")) for p in container_ports), name


def test_standins_serve_what_the_patterns_fetch() -> None:
    def config_map(stand_in: str) -> dict[str, str]:
        (cm,) = [o for o in manifests.support(stand_in) if o["kind"] == "ConfigMap"]
        return cm["data"]

    assert "app.conf" in config_map("config-server")
    assert "bundle.js" in config_map("cdn")
    repo = config_map("git-source")
    assert "main.py" in repo
    assert set(repo["files.txt"].split()) <= set(repo), "files.txt lists unserved files"
    assert "/warm" in config_map("cache-service")["handler.sh"]


def test_objects_the_patterns_reference_are_in_support() -> None:
    config_maps = {o["metadata"]["name"] for o in manifests.support("configmaps")}
    secrets = {o["metadata"]["name"]: o for o in manifests.support("secrets")}
    for pattern in manifests.all_patterns():
        spec = _pod_spec(manifests.load_one(pattern))
        assert spec is not None
        for volume in spec.get("volumes", []):
            if "configMap" in volume:
                assert volume["configMap"]["name"] in config_maps, pattern
        for list_name in ("initContainers", "containers"):
            for c in spec.get(list_name, []):
                for env in c.get("env", []):
                    ref = env.get("valueFrom", {}).get("secretKeyRef")
                    if ref:
                        assert ref["key"] in secrets[ref["name"]]["stringData"], pattern
    assert config_maps == {"fluent-bit-config", "envoy-config"}
    assert set(secrets) == {"db-secret", "db-credentials"}
