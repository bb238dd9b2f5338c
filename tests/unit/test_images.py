"""The image map per provider, and the OCI archives podlife builds without a registry."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from podlife.cluster import oci_images
from podlife.core import images
from podlife.core.errors import PodlifeError


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
    layer = oci_images.tar_bytes([oci_images.file_entry("hello", b"hi\n", 0o644)])
    archive = oci_images.write_oci_archive(tmp_path / "x.tar", "podlife.local/x:1", layer,
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
