"""Images without a registry: built here as OCI archives.

The local cluster has no registry to pull from, so podlife builds the two images the
suites need from Debian's busybox-static and Kubernetes' own pause source, and imports
them into the cluster's containerd. What they are called is podlife.core.images.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import tarfile
import time
from collections.abc import Callable
from pathlib import Path

from podlife.cluster.binary_cache import BinaryCache, made_entry
from podlife.core import paths
from podlife.core.errors import PodlifeError
from podlife.core.images import IMAGES

BUSYBOX_BINARY = Path("/bin/busybox")

#: Debian's busybox-static builds the small nc, without the -z (probe a port) that the
#: tutorial's `nc -z postgres 5432` uses and upstream's busybox image has. This keeps the
#: tutorial's command working unchanged: -z connects with no input and reports the result.
NC_WRAPPER = b"""#!/bin/busybox sh
if [ "$1" = "-z" ]; then
  shift
  exec /bin/busybox nc -w 2 "$@" </dev/null >/dev/null 2>&1
fi
exec /bin/busybox nc "$@"
"""


def tar_bytes(entries: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    """A reproducible tar: fixed mtimes and owners, so the same input gives the same digest."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in entries:
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def dir_entry(name: str, mode: int = 0o755) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = mode
    return info, None


def file_entry(name: str, data: bytes, mode: int = 0o644) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    return info, data


def link_entry(name: str, target: str) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    return info, None


def busybox_layer() -> bytes:
    """A root filesystem of busybox and its applets, plus the files shells expect."""
    if not BUSYBOX_BINARY.exists():
        raise PodlifeError("busybox-static is not installed",
                           "apt-get install busybox-static")
    applets = subprocess.run([str(BUSYBOX_BINARY), "--list"], capture_output=True, text=True,
                             check=True).stdout.split()
    entries: list[tuple[tarfile.TarInfo, bytes | None]] = [
        dir_entry("bin"), dir_entry("etc"), dir_entry("tmp", 0o1777), dir_entry("var"),
        dir_entry("var/log"), dir_entry("root", 0o700), dir_entry("home"),
        file_entry("bin/busybox", BUSYBOX_BINARY.read_bytes(), 0o755),
        file_entry("etc/passwd",
                   b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n"),
        file_entry("etc/group", b"root:x:0:\nnobody:x:65534:\n"),
    ]
    entries += [link_entry(f"bin/{applet}", "busybox") for applet in applets
                if applet not in ("busybox", "nc") and "/" not in applet]
    entries.append(file_entry("bin/nc", NC_WRAPPER, 0o755))
    return tar_bytes(entries)


def pause_layer(pause_binary: Path) -> bytes:
    return tar_bytes([file_entry("pause", pause_binary.read_bytes(), 0o755)])


def build_pause_binary(kube_module_dir: Path, out: Path) -> Path:
    """Compile Kubernetes' own pause program (C, static) from the module source."""
    source = kube_module_dir / "build" / "pause" / "linux" / "pause.c"
    if not source.exists():
        raise PodlifeError(f"pause source missing at {source}",
                           "run 'podlife build' first so the Kubernetes module is downloaded")
    if shutil.which("gcc") is None:
        raise PodlifeError("gcc is not installed (needed to build the pause image)",
                           "apt-get install gcc libc6-dev")
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["gcc", "-Os", "-static", "-DVERSION=podlife", "-o", str(out), str(source)],
                   check=True, capture_output=True)
    return out


def _blob(blobs: Path, data: bytes) -> tuple[str, int]:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    (blobs / digest.split(":")[1]).write_bytes(data)
    return digest, len(data)


def write_oci_archive(out: Path, ref: str, layer: bytes | list[bytes], *,
                      entrypoint: list[str], cmd: list[str] | None = None) -> Path:
    """Write an OCI image layout (one layer, or several bottom first) as a tar that
    `ctr images import` and kind accept."""
    staging = out.with_suffix(".d")
    if staging.exists():
        shutil.rmtree(staging)
    blobs = staging / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    layers = [_blob(blobs, data) for data in ([layer] if isinstance(layer, bytes) else layer)]
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(0)),
        "config": {"Entrypoint": entrypoint, "Cmd": cmd or [],
                   "Env": ["PATH=/bin:/usr/bin:/sbin:/usr/sbin"], "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": [digest for digest, _ in layers]},
    }
    config_digest, config_size = _blob(blobs, json.dumps(config).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": digest, "size": size} for digest, size in layers],
    }
    manifest_digest, manifest_size = _blob(blobs, json.dumps(manifest).encode())
    full_ref = ref if "/" in ref.split(":")[0] else f"docker.io/library/{ref}"
    index = {
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest, "size": manifest_size,
            "annotations": {"io.containerd.image.name": full_ref,
                            "org.opencontainers.image.ref.name": ref.rsplit(":", 1)[-1]},
        }],
    }
    (staging / "index.json").write_text(json.dumps(index))
    (staging / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    tmp = out.with_suffix(".tmp")
    with tarfile.open(tmp, "w") as tar:
        for child in sorted(staging.iterdir()):
            tar.add(child, arcname=child.name)
    tmp.rename(out)
    shutil.rmtree(staging)
    return out


#: The cache entry of the local images; a new revision when what they hold changes.
LOCAL_IMAGES_KEY = "local-images-r1"
PAUSE_BINARY = "pause"


def local_images_entry(kube_module_dir: Callable[[], Path]) -> Path:
    """The cache entry holding the local images' archives and the pause binary, built once,
    checked (owner, mode, sha256 of every file) before use and rebuilt if its bytes changed:
    containerd imports these archives as root, as it runs the cached binaries.

    kube_module_dir is called only when the pause image must be built (it may download).
    """
    def make(staged: Path) -> None:
        write_oci_archive(staged / "busybox.oci.tar", IMAGES["busybox"].local,
                          busybox_layer(), entrypoint=[], cmd=["sh"])
        binary = build_pause_binary(kube_module_dir(), staged / PAUSE_BINARY)
        write_oci_archive(staged / "pause.oci.tar", IMAGES["pause"].local,
                          pause_layer(binary), entrypoint=["/pause"])

    cache = BinaryCache(paths.cache_dir() / "images")
    return made_entry(cache, LOCAL_IMAGES_KEY, make, {"kind": "oci image archives"})


def image_archives(kube_module_dir: Callable[[], Path]) -> dict[str, Path]:
    """The archives of every local image, verified (see local_images_entry)."""
    entry = local_images_entry(kube_module_dir)
    return {name: entry / f"{name}.oci.tar" for name in ("busybox", "pause")}
