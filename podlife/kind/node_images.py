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

from podlife import build, images, paths
from podlife.errors import PodlifeError
from podlife.local.cluster import kube_module_dir
from podlife.versions import KubeVersion

#: Revision of the archives' layout: bump to rebuild them.
REVISION = 1
#: sandbox_image in kind's containerd config.toml.
SANDBOX_IMAGE = "registry.k8s.io/pause:3.10"


def _static_layer(binary: Path, at: str) -> bytes:
    """A filesystem of one static binary plus the few files programs expect."""
    entries: list = [images._dir("etc"), images._dir("tmp", 0o1777), images._dir("var"),
                     images._dir("usr"), images._dir("usr/bin"), images._dir("usr/local"),
                     images._dir("usr/local/bin"),
                     images._file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"
                                  b"nobody:x:65534:65534::/:/bin/false\n"),
                     images._file("etc/group", b"root:x:0:\nnobody:x:65534:\n"),
                     images._file("etc/nsswitch.conf", b"hosts: files dns\n"),
                     images._file(at, binary.read_bytes(), 0o755)]
    return images._tar_bytes(entries)


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
    """Every image a node needs preloaded, as OCI archives cached per release."""
    out = paths.cache_dir() / "kind" / "images" / f"{tag}-{REVISION}"
    out.mkdir(parents=True, exist_ok=True)
    # containerd's own sandbox image (kind's config.toml) may differ from kubeadm's pause.
    wanted = {**expected_images(kubeadm, tag), "pause-sandbox": SANDBOX_IMAGE}
    support = {b.key.split("-")[0]: build.build(b) for b in build.support_builds()}
    pause_bin = paths.cache_dir() / "images" / "pause-bin" / "pause"
    if not pause_bin.exists():
        # image_archives builds the pause binary on its way.
        images.image_archives(lambda: kube_module_dir(KubeVersion.parse(tag)))
    made = []
    for component, ref in sorted(wanted.items()):
        archive = out / f"{component}.oci.tar"
        made.append(archive)
        if archive.exists():
            continue
        say(f"image {ref}")
        if component in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
            layer: bytes | list[bytes] = _static_layer(kube_bin / component,
                                                       f"usr/bin/{component}")
            entry = [f"/usr/bin/{component}"]
        elif component == "kube-proxy":
            layer = [_rootfs_layer(rootfs),
                     _static_layer(kube_bin / component, "usr/local/bin/kube-proxy")]
            entry = ["/usr/local/bin/kube-proxy"]
        elif component == "etcd":
            layer = _static_layer(support["etcd"] / "etcd", "usr/bin/etcd")
            entry = ["/usr/bin/etcd"]
        elif component == "coredns":
            layer = _static_layer(support["coredns"] / "coredns", "coredns")
            entry = ["/coredns"]
        elif component.startswith("pause"):
            layer = images.pause_layer(pause_bin)
            entry = ["/pause"]
        else:
            raise PodlifeError(f"kubeadm {tag} wants an image podlife cannot make: {ref}",
                               "report this release to the podlife maintainers")
        _write(archive, ref, layer, entry)
    for logical in ("busybox", "pause"):
        made.append(images.image_archives(lambda: kube_module_dir(KubeVersion.parse(tag)))[logical])
    return made


def _write(archive: Path, ref: str, layer: bytes | list[bytes], entry: list[str]) -> None:
    images.write_oci_archive(archive, ref, layer, entrypoint=entry)
