"""The upstream test images the pinned specs run, built here and imported by their real names.

agnhost is upstream's Go program (test/images/agnhost) at the cluster's release, over a
busybox root (upstream's image is alpine with a shell and a few tools: the specs podlife
pins use agnhost itself, a POSIX shell as sh and bash, and `curl URL`); busybox and pause
are podlife's own layers (images.py) under upstream's names. Archives are cached per
release.
"""

from __future__ import annotations

import time
from pathlib import Path

from podlife.cluster import oci_images as images
from podlife.cluster.binary_cache import BinaryCache, made_entry
from podlife.core import paths
from podlife.core.errors import PodlifeError

#: /etc/passwd and /etc/group of upstream's agnhost image (its Dockerfile adds this user).
_PASSWD = (b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n"
           b"user-defined-in-image:x:1000:1000::/home/user-defined-in-image:/bin/sh\n")
_GROUP = (b"root:x:0:\nnobody:x:65534:\nuser-defined-in-image:x:1000:\n"
          b"group-defined-in-image:x:50000:user-defined-in-image\n")


#: Upstream's agnhost image has curl (alpine's); the specs podlife runs call it only as
#: `curl URL` (lifecycle hooks reporting to a server pod): busybox's wget does the same GET.
CURL_SHIM = b"""#!/bin/busybox sh
url=""
for arg in "$@"; do case "$arg" in -*) ;; *) url="$arg" ;; esac; done
exec /bin/busybox wget -q -O - "$url"
"""

#: Upstream's agnhost image has bash; specs run `/bin/bash -c SCRIPT` with POSIX scripts
#: (traps, loops), which busybox's ash runs the same.
BASH_SHIM = b"""#!/bin/busybox sh
exec /bin/busybox sh "$@"
"""

#: Bumped whenever the images' content changes, so cached archives are rebuilt.
REVISION = 2


def agnhost_layer(agnhost: Path, kube_module_dir: Path) -> bytes:
    """agnhost at /agnhost (and /agnhost-2, as upstream links it), its user, /uploads, the
    porter's localhost certificate (https hooks and probes serve it) and the curl shim."""
    porter = kube_module_dir / "test" / "images" / "agnhost" / "porter"
    return images.tar_bytes([
        images.file_entry("agnhost", agnhost.read_bytes(), 0o755),
        images.link_entry("agnhost-2", "agnhost"),
        images.dir_entry("uploads"),
        images.file_entry("localhost.crt", (porter / "localhost.crt").read_bytes()),
        images.file_entry("localhost.key", (porter / "localhost.key").read_bytes()),
        images.dir_entry("bin"),
        images.file_entry("bin/curl", CURL_SHIM, 0o755),
        images.file_entry("bin/bash", BASH_SHIM, 0o755),
        images.dir_entry("etc"),
        images.file_entry("etc/passwd", _PASSWD),
        images.file_entry("etc/group", _GROUP),
    ])


def archives(tag: str, names: dict[str, str], agnhost: Path, kube_module_dir: Path,
             timings: dict[str, float]) -> dict[str, Path]:
    """One OCI archive per upstream image (reference -> archive), in one verified cache
    entry per release (podlife.binary_cache: checked before use, made again if changed).

    timings gets the seconds each image took to build (0 when it came from the cache).
    """
    timings.update(dict.fromkeys(names.values(), 0.0))

    def make(staged: Path) -> None:
        for image_id, ref in names.items():
            started = time.monotonic()
            _write(staged / _archive_name(image_id), image_id, ref, agnhost, kube_module_dir,
                   staged)
            timings[ref] = round(time.monotonic() - started, 2)

    key = f"e2e-{tag}-r{REVISION}-" + "-".join(sorted(i.lower() for i in names))
    cache = BinaryCache(paths.cache_dir() / "images")
    entry = made_entry(cache, key, make, {"kind": "upstream e2e images"})
    return {ref: entry / _archive_name(image_id) for image_id, ref in names.items()}


def _archive_name(image_id: str) -> str:
    return f"{image_id.lower()}.oci.tar"


def _write(archive: Path, image_id: str, ref: str, agnhost: Path, kube_module_dir: Path,
           staged: Path) -> None:
    if image_id == "Agnhost":
        images.write_oci_archive(archive, ref, [images.busybox_layer(),
                                                agnhost_layer(agnhost, kube_module_dir)],
                                 entrypoint=["/agnhost"], cmd=["pause"])
    elif image_id == "BusyBox":
        images.write_oci_archive(archive, ref, images.busybox_layer(), entrypoint=[],
                                 cmd=["sh"])
    elif image_id == "Pause":
        binary = images.build_pause_binary(kube_module_dir, staged / "pause")
        images.write_oci_archive(archive, ref, images.pause_layer(binary),
                                 entrypoint=["/pause"])
    else:
        raise PodlifeError(f"podlife cannot build the upstream image {ref}",
                           "remove the specs that need it from the list")
