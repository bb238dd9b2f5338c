"""The images a kind node runs, made from podlife's own builds under the names kubeadm expects.

kubeadm starts the control plane from images (kube-apiserver, etcd, CoreDNS, ...) it would
pull from registry.k8s.io. podlife already builds each of these programs; here each becomes
an OCI archive: a static binary on a minimal filesystem, or, for kube-proxy (which runs
iptables), on the Debian rootfs. The etcd and CoreDNS images carry kubeadm's tags but
podlife's builds (build.ETCD_VERSION, build.COREDNS_VERSION): the same as the local cluster.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from podlife.cluster import build
from podlife.cluster import oci_images as images
from podlife.cluster.binary_cache import BinaryCache, made_entry
from podlife.cluster.kube_source import kube_module_dir
from podlife.core import paths
from podlife.core.errors import PodlifeError
from podlife.core.versions import KubeVersion

#: Revision of the archives' layout: bump to rebuild them.
REVISION = 1
#: sandbox_image in kind's containerd config.toml.
SANDBOX_IMAGE = "registry.k8s.io/pause:3.10"


def _static_layer(binary: Path, at: str) -> bytes:
    """A filesystem of one static binary plus the few files programs expect."""
    folders = ["etc", ("tmp", 0o1777), "var", "usr", "usr/bin", "usr/local", "usr/local/bin"]
    entries: list = [images.dir_entry(*f) if isinstance(f, tuple) else images.dir_entry(f)
                     for f in folders]
    entries += [images.file_entry("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"
                                  b"nobody:x:65534:65534::/:/bin/false\n"),
                images.file_entry("etc/group", b"root:x:0:\nnobody:x:65534:\n"),
                images.file_entry("etc/nsswitch.conf", b"hosts: files dns\n"),
                images.file_entry(at, binary.read_bytes(), 0o755)]
    return images.tar_bytes(entries)


def _rootfs_layer(rootfs: Path) -> bytes:
    """The Debian rootfs as one layer (kube-proxy needs iptables and its libraries)."""
    return subprocess.run(["tar", "-C", str(rootfs), "--numeric-owner", "-c", "."],
                          check=True, capture_output=True).stdout


def expected_images(kubeadm: Path, tag: str) -> dict[str, str]:
    """kubeadm's image list for a release, by component (kube-apiserver, etcd, coredns...)."""
    proc = subprocess.run([str(kubeadm), "config", "images", "list",
                           f"--kubernetes-version={tag}"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise PodlifeError(f"kubeadm config images list failed: {proc.stderr.strip()}",
                           "rebuild the kind tools (podlife kind-image)")
    found = {}
    for ref in proc.stdout.split():
        found[ref.rsplit("/", 1)[-1].split(":")[0]] = ref
    return found


def archives(tag: str, kube_bin: Path, kubeadm: Path, rootfs: Path, say) -> list[Path]:
    """Every image a node needs preloaded, as OCI archives in one verified cache entry per
    release (podlife.binary_cache: checked before each use, made again if changed)."""
    # containerd's own sandbox image (kind's config.toml) may differ from kubeadm's pause.
    wanted = {**expected_images(kubeadm, tag), "pause-sandbox": SANDBOX_IMAGE}
    support = {b.key.split("-")[0]: build.build(b) for b in build.support_builds()}
    local = images.local_images_entry(lambda: kube_module_dir(KubeVersion.parse(tag)))
    pause_bin = local / images.PAUSE_BINARY

    def make(staged: Path) -> None:
        for component, ref in sorted(wanted.items()):
            say(f"image {ref}")
            layer, entry = _layer(component, ref, tag, kube_bin, rootfs, support, pause_bin)
            _write(staged / f"{component}.oci.tar", ref, layer, entry)

    cache = BinaryCache(paths.cache_dir() / "kind" / "images")
    entry = made_entry(cache, f"{tag}-{REVISION}", make, {"kind": "kind node images"})
    return [*(entry / f"{component}.oci.tar" for component in sorted(wanted)),
            *(local / f"{logical}.oci.tar" for logical in ("busybox", "pause"))]


def _layer(component: str, ref: str, tag: str, kube_bin: Path, rootfs: Path,
           support: dict[str, Path], pause_bin: Path) -> tuple[bytes | list[bytes], list[str]]:
    """The layers and entrypoint of one of kubeadm's images, from podlife's own builds."""
    if component in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        return (_static_layer(kube_bin / component, f"usr/bin/{component}"),
                [f"/usr/bin/{component}"])
    if component == "kube-proxy":
        return ([_rootfs_layer(rootfs),
                 _static_layer(kube_bin / component, "usr/local/bin/kube-proxy")],
                ["/usr/local/bin/kube-proxy"])
    if component == "etcd":
        return _static_layer(support["etcd"] / "etcd", "usr/bin/etcd"), ["/usr/bin/etcd"]
    if component == "coredns":
        return _static_layer(support["coredns"] / "coredns", "coredns"), ["/coredns"]
    if component.startswith("pause"):
        return images.pause_layer(pause_bin), ["/pause"]
    raise PodlifeError(f"kubeadm {tag} wants an image podlife cannot make: {ref}",
                       "report this release to the podlife maintainers")


def _write(archive: Path, ref: str, layer: bytes | list[bytes], entry: list[str]) -> None:
    images.write_oci_archive(archive, ref, layer, entrypoint=entry)
