"""kind's node image for one Kubernetes release, assembled offline from podlife's builds.

`kind build node-image` fetches images from registries, so podlife does what it does by
hand: a container from the base image, the release's kubelet/kubeadm/kubectl copied in,
the control-plane images imported into the node's containerd (content only, unpacked at
boot, as kind does), and `docker commit`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from podlife.cluster import build
from podlife.cluster.kind import base_image, engine, node_images
from podlife.core.errors import PodlifeError
from podlife.core.versions import KubeVersion

#: Bump when what goes into a node image changes, so old ones are rebuilt.
REVISION = 1
ENTRYPOINT = 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]'


def image_name(version: KubeVersion) -> str:
    return f"podlife.local/kind-node:{version.tag}-{REVISION}"


def _progress(say: Callable[[str], None]) -> build.Progress:
    last = [0.0]

    def progress(label: str, done: int, total: int) -> None:
        if time.monotonic() - last[0] > 30:
            last[0] = time.monotonic()
            say(f"building {label}: {done}/{total or '?'} packages")
    return progress


def ensure(version: KubeVersion, say: Callable[[str], None] = print, *,
           force: bool = False) -> str:
    """The node image of a release in podlife's engine (built when missing)."""
    name = image_name(version)
    if not force and engine.docker("image", "inspect", name, check=False).returncode == 0:
        return name
    base = base_image.ensure(say)
    kube = build.build(build.kubernetes_build(version), progress=_progress(say))
    tools = build.build(build.kubernetes_tools_build(version), progress=_progress(say))
    archives = node_images.archives(version.tag, kube, tools / "kubeadm",
                                    base_image.rootfs(say), say)
    say(f"assembling {name}")
    cid = engine.docker("run", "-d", "--privileged", "--entrypoint", "sleep", base,
                        "infinity").stdout.strip()
    try:
        for binary, directory in (("kubelet", kube), ("kubeadm", tools), ("kubectl", tools)):
            engine.docker("cp", str(directory / binary), f"{cid}:/usr/bin/{binary}")
        engine.docker("exec", cid, "sh", "-c", f"echo {version.tag} > /kind/version")
        engine.docker("exec", cid, "sh", "-c", "containerd >/tmp/containerd.log 2>&1 &")
        _wait_containerd(cid)
        for archive in archives:
            engine.docker("cp", str(archive), f"{cid}:/tmp/image.tar")
            engine.docker("exec", cid, "ctr", "--namespace=k8s.io", "images", "import",
                          "--label=io.cri-containerd.pinned=pinned", "--all-platforms",
                          "--no-unpack", "/tmp/image.tar")
        engine.docker("exec", cid, "sh", "-c",
                      # sleep (PID 1 here) reaps nothing: a stopped containerd stays a zombie.
                      "pkill -x containerd; while pgrep -x -r R,S,D containerd; do sleep 0.2; "
                      "done; "
                      "rm -f /tmp/image.tar /tmp/containerd.log")
        engine.docker("commit", "--change", ENTRYPOINT, "--change", "CMD []", cid, name)
    finally:
        engine.docker("rm", "-f", cid, check=False)
    return name


def _wait_containerd(cid: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if engine.docker("exec", cid, "ctr", "version", check=False).returncode == 0:
            return
        time.sleep(0.5)
    log = engine.docker("exec", cid, "cat", "/tmp/containerd.log", check=False).stdout
    raise PodlifeError(f"containerd in the image build container did not start: "
                       f"{log.strip()[-300:]}", "read the log above and retry")
