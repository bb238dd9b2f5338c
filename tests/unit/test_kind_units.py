"""The kind provider's pure parts: its config, image names and refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from podlife.cluster.kind import base_image, config, engine, node_image
from podlife.core import versions
from podlife.core.errors import PodlifeError


def test_config_tells_new_kubelets_to_accept_cgroup_v1() -> None:
    text = config.kind_config("img:1", versions.resolve("1.37"))
    assert "failCgroupV1: false" in text
    assert "disableDefaultCNI: true" in text
    assert "image: img:1" in text


def test_config_leaves_the_field_out_for_kubelets_that_lack_it() -> None:
    assert "failCgroupV1" not in config.kind_config("img:1", versions.resolve("1.28"))


def test_node_image_is_per_exact_release() -> None:
    v = versions.resolve("1.33")
    assert node_image.image_name(v).startswith(f"podlife.local/kind-node:{v.tag}-")


def test_missing_dockerd_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "running", lambda: False)
    monkeypatch.setattr(engine, "require_root", lambda what: None)  # a unit test needs no root
    monkeypatch.setattr(engine.shutil, "which",
                        lambda tool: None if tool == "dockerd" else f"/usr/bin/{tool}")
    with pytest.raises(PodlifeError, match="dockerd"):
        engine.start()


def test_cni_config_is_one_ptp_network() -> None:
    plugins = [p["type"] for p in base_image.CNI_CONFIG["plugins"]]
    assert plugins[0] == "ptp"


def test_apt_mirror_is_found() -> None:
    assert base_image.apt_mirror().startswith("http")


def test_apt_mirror_skips_disabled_and_foreign_sources(tmp_path) -> None:
    """A renamed-away source (apt ignores it) and another distribution's repo are not picked:
    debootstrap against them fails."""
    lists = tmp_path / "sources.list.d"
    lists.mkdir()
    (lists / "a-nodesource.sources.disabled").write_text(
        "Types: deb\nURIs: https://deb.nodesource.com/node_20.x\nSuites: bookworm\n")
    (lists / "b-node.sources").write_text(
        "Types: deb\nURIs: https://deb.nodesource.com/node_20.x\nSuites: nodistro\n")
    (lists / "c-old.sources").write_text(
        "Enabled: no\nTypes: deb\nURIs: http://old.example/debian\nSuites: bookworm\n")
    (lists / "debian.sources").write_text(
        "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\n"
        "Components: main\n\nTypes: deb\nURIs: http://deb.debian.org/debian-security\n"
        "Suites: bookworm-security\n")
    assert base_image.apt_mirror(tmp_path) == "http://deb.debian.org/debian"


def test_apt_mirror_reads_one_line_sources_with_options(tmp_path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list").write_text(
        "# deb http://commented.example/debian bookworm main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian bookworm main contrib\n")
    assert base_image.apt_mirror(tmp_path) == "http://mirror.example/debian"


def test_no_mirror_is_one_clear_error(tmp_path) -> None:
    with pytest.raises(PodlifeError, match="no Debian bookworm mirror"):
        base_image.apt_mirror(tmp_path)


def test_runtime_wrapper_drops_only_cap_sys_resource(tmp_path) -> None:
    """The wrapper edits the bundle's spec (run) and the process spec (exec), then execs runc."""
    import json
    import subprocess
    import sys

    wrapper = tmp_path / "wrapper"
    wrapper.write_text(engine.WRAPPER.format(python=sys.executable, runc="/bin/true"))
    wrapper.chmod(0o755)
    caps = {"bounding": ["CAP_CHOWN", "CAP_SYS_RESOURCE"], "effective": ["CAP_SYS_RESOURCE"]}
    (tmp_path / "config.json").write_text(json.dumps({"process": {"capabilities": caps}}))
    (tmp_path / "process.json").write_text(json.dumps({"capabilities": caps}))
    subprocess.run([str(wrapper), "create", "--bundle", str(tmp_path), "x"], check=True)
    subprocess.run([str(wrapper), "exec", "--process", str(tmp_path / "process.json"), "x"],
                   check=True)
    run = json.loads((tmp_path / "config.json").read_text())["process"]["capabilities"]
    exe = json.loads((tmp_path / "process.json").read_text())["capabilities"]
    assert run == exe == {"bounding": ["CAP_CHOWN"], "effective": []}


def test_engine_removes_only_the_docker_cgroups_it_made(tmp_path, monkeypatch) -> None:
    """dockerd leaves empty `docker` cgroup parents when it stops: those it made go, one
    that was there before stays."""
    monkeypatch.setattr(engine, "CGROUP_ROOT", tmp_path)
    (tmp_path / "memory" / "docker").mkdir(parents=True)
    before = engine._docker_cgroups()
    (tmp_path / "cpu" / "docker" / "abc").mkdir(parents=True)
    (tmp_path / "pids" / "docker").mkdir(parents=True)
    engine._remove_new_cgroups(before)
    assert engine._docker_cgroups() == [str(tmp_path / "memory" / "docker")]


def test_the_engine_removes_only_the_opt_directories_it_made(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Docker's containerd makes /opt/containerd/{bin,lib} on the host: gone after stop
    when they were not there before; a directory that was, or that holds a file, stays."""
    made = (tmp_path / "containerd", tmp_path / "containerd" / "bin",
            tmp_path / "containerd" / "lib")
    monkeypatch.setattr(engine, "CONTAINERD_OPT", tuple(str(p) for p in made))
    for path in made:
        path.mkdir()
    engine._remove_new_opt([])
    assert not made[0].exists()
    for path in made:
        path.mkdir()
    (made[2] / "plugin").write_text("someone's")
    engine._remove_new_opt([str(made[1])])
    assert made[1].exists() and (made[2] / "plugin").exists()
