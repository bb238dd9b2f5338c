"""Pure logic of podlife's framework pieces: versions, images, instrumentation, gates, PKI."""

from __future__ import annotations

import json
import subprocess
import tarfile
from pathlib import Path

import pytest
import yaml

from podlife import images, manifests, versions
from podlife.errors import PodlifeError
from podlife.instrument import instrument, run, serve
from podlife.local.cluster import parse_gates, validate_name
from podlife.local.components import Layout, kubelet_config
from podlife.local.node import Network


def test_versions_resolve_minor_to_pinned_patch() -> None:
    assert versions.resolve("1.28").tag == "v1.28.15"
    assert versions.resolve("v1.33.5").tag == "v1.33.5"
    assert versions.resolve(None).tag == f"v{versions.DEFAULT_VERSION}"
    assert versions.KubeVersion.parse("1.9.0") < versions.KubeVersion.parse("1.28.0")
    assert versions.resolve("1.33.5").staging_tag == "v0.33.5"


def test_versions_reject_nonsense() -> None:
    with pytest.raises(PodlifeError, match="banana"):
        versions.resolve("banana")


def test_toolchain_for_old_releases() -> None:
    assert versions.toolchain_for(versions.resolve("1.28")).startswith("go1.22")
    assert versions.toolchain_for(versions.resolve(None)) == "local"


def test_image_map_per_provider() -> None:
    assert images.ImageMap("local").ref("busybox").startswith("podlife.local/")
    assert images.ImageMap("kind").ref("busybox") == "busybox:1.36.1"
    assert images.ImageMap("kubeconfig", "mirror.example:5000/lib").ref("busybox") == (
        "mirror.example:5000/lib/busybox:1.36.1")
    with pytest.raises(PodlifeError):
        images.ImageMap("local").ref("nginx")


def test_nc_probe_adapted_for_the_local_image_only() -> None:
    cmd = ["sh", "-c", "until nc -z postgres 5432; do sleep 2; done"]
    assert images.adapt_command(cmd, "local")[2].startswith("until /bin/nc -z postgres")
    assert images.adapt_command(cmd, "kind") == cmd


def test_oci_archive_layout(tmp_path: Path) -> None:
    """The archive is an OCI layout whose manifest, config and layer digests all match."""
    layer = images._tar_bytes([images._file("hello", b"hi\n", 0o644)])
    archive = images.write_oci_archive(tmp_path / "x.tar", "podlife.local/x:1", layer,
                                       entrypoint=["/hello"])
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        index = json.loads(tar.extractfile("index.json").read())  # type: ignore[union-attr]
        entry = index["manifests"][0]
        assert entry["annotations"]["io.containerd.image.name"] == "podlife.local/x:1"
        digest = entry["digest"].split(":")[1]
        manifest = json.loads(tar.extractfile(f"blobs/sha256/{digest}").read())  # type: ignore
    assert "oci-layout" in names
    for blob in [manifest["config"], *manifest["layers"]]:
        assert f"blobs/sha256/{blob['digest'].split(':')[1]}" in names


def test_script_reports_events_and_exit_code() -> None:
    """A rendered script really prints its events and exits as told (run by busybox sh)."""
    script = run("ev did-work", exit_code=3).render("setup")
    proc = subprocess.run(["busybox", "sh", "-c", script], capture_output=True, text=True)
    assert proc.returncode == 3
    assert proc.stdout.split("\n")[:3] == ["podlife-event setup starting",
                                           "podlife-event setup did-work",
                                           "podlife-event setup exiting 3"]


def test_serve_script_answers_sigterm() -> None:
    script = serve().render("app")
    proc = subprocess.Popen(["busybox", "sh", "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "podlife-event app starting"
    assert proc.stdout.readline().strip() == "podlife-event app ready"
    proc.terminate()
    rest = proc.stdout.read()
    assert proc.wait(timeout=10) == 0
    assert "podlife-event app sigterm" in rest and "podlife-event app exiting 0" in rest


def test_instrument_replaces_every_container_and_keeps_structure() -> None:
    pod = manifests.load_one("native-sidecar")
    out = instrument(pod, {"log-shipper": serve(), "app": run()}, images.ImageMap("local"))
    assert out["spec"]["initContainers"][0]["restartPolicy"] == "Always"
    assert out["spec"]["volumes"] == pod["spec"]["volumes"]
    for container in out["spec"]["initContainers"] + out["spec"]["containers"]:
        assert container["image"] == images.ImageMap("local").ref("busybox")
    annotations = out["metadata"]["annotations"]
    assert annotations["podlife.dev/original-image.app"] == "myapp:v1"
    with pytest.raises(ValueError, match="unknown containers"):
        instrument(pod, {"nope": run()}, images.ImageMap("local"))


def test_instrument_gives_unlisted_containers_a_default_script() -> None:
    """Init containers run and exit 0; sidecars and app containers serve until SIGTERM."""
    pod = manifests.load_one("multiple-init-containers")
    pod["spec"]["initContainers"][1]["restartPolicy"] = "Always"
    out = instrument(pod, {}, images.ImageMap("local"))
    first, sidecar, last = out["spec"]["initContainers"]
    assert "ev exiting 0" in first["command"][2] and "ev ready" not in first["command"][2]
    assert "ev ready" in sidecar["command"][2] and "ev ready" not in last["command"][2]
    assert "ev ready" in out["spec"]["containers"][0]["command"][2]


def test_feature_gates_parse_and_reject() -> None:
    assert parse_gates("SidecarContainers=false,Foo=true") == {"SidecarContainers": False,
                                                               "Foo": True}
    with pytest.raises(PodlifeError, match="NAME=true"):
        parse_gates("SidecarContainers")


def test_cluster_names_are_checked() -> None:
    validate_name("ok-1")
    for bad in ("", "UPPER", "-lead", "a" * 31, "sp ace"):
        with pytest.raises(PodlifeError):
            validate_name(bad)


def test_kubelet_gets_fail_cgroup_v1_false_only_where_it_exists(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    new = yaml.safe_load(kubelet_config(layout, Network(), versions.resolve("1.37"), "/x",
                                        True, {}))
    old = yaml.safe_load(kubelet_config(layout, Network(), versions.resolve("1.28"), "/x",
                                        True, {}))
    assert new["failCgroupV1"] is False
    assert "failCgroupV1" not in old
    assert new["authentication"]["anonymous"]["enabled"] is False
    assert new["authorization"]["mode"] == "Webhook"
