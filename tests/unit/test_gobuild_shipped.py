"""Every build podlife pins ships its go.mod and go.sum (podlife/cluster/gobuild/<key>/), so
building it resolves nothing and never needs the checksum-database fallback. No Go, no
network."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from podlife.cluster import build
from podlife.core import versions
from podlife.core.errors import PodlifeError
from podlife.run.verify.builds import E2E_SHIPPED, e2e_build

SHIPPED = Path(build.__file__).parent / "gobuild"
PINNED = [versions.KubeVersion.parse(v) for v in versions.PINNED.values()]
#: verify's e2e.test builds of the releases that ship their module set.
E2E = [e2e_build(versions.KubeVersion.parse(v)) for v in E2E_SHIPPED]
BUILDS = [build.kubernetes_build(v) for v in PINNED] + build.support_builds() + E2E
_DEFAULT = build.kubernetes_build(versions.resolve(None))
#: A selftest mutant's build: the default release's, restricted to its patched binary.
MUTANT = build.GoBuild(**{**_DEFAULT.__dict__, "key": f"{_DEFAULT.key}+some-mutant",
                          "binaries": {"kubelet": _DEFAULT.binaries["kubelet"]}})
#: Staging modules every Kubernetes build compiles (the version stamp lives in two of them).
CORE_STAGING = ("k8s.io/api", "k8s.io/apimachinery", "k8s.io/client-go",
                "k8s.io/component-base", "k8s.io/kubelet")


def _requires(gomod: str) -> dict[str, str]:
    """module -> version of every require line, single or in a block."""
    found = {}
    for line in gomod.splitlines():
        line = line.split("//", 1)[0].strip()
        line = line.removeprefix("require ").strip()
        parts = line.split()
        if len(parts) == 2 and parts[1].startswith("v"):
            found[parts[0]] = parts[1]
    return found


def _replaces(gomod: str) -> dict[str, str]:
    """module -> 'target version' of every replace directive."""
    found = {}
    for line in gomod.splitlines():
        parts = line.removeprefix("replace ").split()
        if len(parts) >= 3 and parts[1] == "=>":
            found[parts[0]] = " ".join(parts[2:])
    return found


@pytest.mark.parametrize("spec", BUILDS, ids=lambda b: b.key)
def test_each_pinned_build_ships_its_go_mod_and_go_sum(spec: build.GoBuild) -> None:
    folder = SHIPPED / spec.key
    for name in ("go.mod", "go.sum"):
        assert (folder / name).is_file(), f"{folder / name} is missing"
        assert (folder / name).stat().st_size > 0, f"{folder / name} is empty"
    gomod = (folder / "go.mod").read_text()
    assert gomod.startswith(f"module podlife.local/build/{spec.key}\n")
    assert _requires(gomod).get(spec.module) == spec.version
    gosum = (folder / "go.sum").read_text()
    assert f"{spec.module} {spec.version} h1:" in gosum
    assert f"{spec.module} {spec.version}/go.mod h1:" in gosum


@pytest.mark.parametrize("version", PINNED, ids=str)
def test_kubernetes_staging_modules_are_replaced_by_their_release(
        version: versions.KubeVersion) -> None:
    """Each k8s.io staging module (v0.0.0 upstream, a ./staging path) => its v0.Y.Z."""
    folder = SHIPPED / build.kubernetes_build(version).key
    gomod = (folder / "go.mod").read_text()
    gosum = (folder / "go.sum").read_text()
    replaces = _replaces(gomod)
    assert set(CORE_STAGING) <= set(replaces)
    for module, target in replaces.items():
        assert module.startswith("k8s.io/"), f"unexpected replace of {module}"
        assert target == f"{module} {version.staging_tag}", f"{module} => {target}"
    for module, required in _requires(gomod).items():
        if module.startswith("k8s.io/") and module != "k8s.io/kubernetes" and (
                required == "v0.0.0" or required == version.staging_tag):
            assert module in replaces, f"staging module {module} is not replaced"
            assert f"{module} {version.staging_tag}/go.mod h1:" in gosum


def test_nothing_else_is_shipped() -> None:
    """Only pinned builds' folders, each with only its go.mod and go.sum (a release dropped
    from PINNED takes its folder with it)."""
    keys = {spec.key for spec in BUILDS}
    for folder in SHIPPED.iterdir():
        assert folder.name in keys, f"{folder} belongs to no pinned build"
        assert sorted(p.name for p in folder.iterdir()) == ["go.mod", "go.sum"]


@pytest.mark.parametrize("spec", [*BUILDS, MUTANT], ids=lambda b: b.key)
def test_a_pinned_build_runs_no_go_command_to_get_its_modules(
        spec: build.GoBuild, tmp_path: Path, monkeypatch) -> None:
    """The shipped files are copied as they are (a mutant gets its release's): no go mod
    tidy, so no module proxy and no checksum database."""
    def no_go(*args, **kwargs):
        raise AssertionError(f"ran go: {args}")

    monkeypatch.setattr(build, "_go", no_go)
    build._module_files(spec, tmp_path)
    folder = SHIPPED / build._module_key(spec)
    for name in ("go.mod", "go.sum"):
        assert (tmp_path / name).read_bytes() == (folder / name).read_bytes()
    for pkg in spec.binaries.values():
        assert re.search(rf'_ "{re.escape(pkg)}"', (tmp_path / "imports.go").read_text())


def _failing_run(calls: list[dict[str, str]]):
    """A subprocess.run that fails like a checksum-database miss, recording each env."""
    def run(cmd, *, env, **kwargs):
        calls.append(dict(env))
        return subprocess.CompletedProcess(
            cmd, 1, "", "verifying k8s.io/api@v0.99.0/go.mod: k8s.io/api@v0.99.0/go.mod: "
                        "reading https://sum.golang.org/lookup/k8s.io/api@v0.99.0: 404 Not "
                        "Found\n\tserver response: not found (sumdb)")
    return run


@pytest.mark.parametrize("fallback", [True, False])
def test_the_sumdb_fallback_is_only_for_builds_without_a_shipped_go_sum(
        fallback: bool, tmp_path: Path, monkeypatch) -> None:
    calls: list[dict[str, str]] = []
    monkeypatch.setattr(build.subprocess, "run", _failing_run(calls))
    monkeypatch.setattr(build.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.delenv("GONOSUMDB", raising=False)
    with pytest.raises(PodlifeError):
        build._go(["go", "mod", "tidy"], tmp_path, toolchain="local", sumdb_fallback=fallback)
    assert [env.get("GONOSUMDB") for env in calls] == (
        [None, "k8s.io"] if fallback else [None])
