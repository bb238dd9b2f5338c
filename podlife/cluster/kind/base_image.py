"""kind's base image, assembled offline: a Debian rootfs plus the files and steps of kind's own.

kind's published base image is pulled from a registry, which podlife cannot reach. Its
Dockerfile (images/base in the kind module) is short: a Debian system with systemd and
the network tools, kind's own files, containerd, runc and the CNI plugins. podlife makes the
same from Debian's packages (debootstrap through apt's configured mirror), podlife's Go-built
containerd and Debian's CNI plugins, then imports it into its Docker engine.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from podlife.cluster import build
from podlife.cluster.kind import engine
from podlife.cluster.kind.binary import kind_module_dir
from podlife.core import paths
from podlife.core.errors import PodlifeError

SUITE = "bookworm"
#: Bump when what goes into the base changes, so an old image is rebuilt.
REVISION = 1
BASE_IMAGE = f"podlife.local/kind-base:{SUITE}-{REVISION}"
PACKAGES = ("systemd", "systemd-sysv", "dbus", "conntrack", "iptables", "nftables", "iproute2",
            "ethtool", "util-linux", "mount", "kmod", "libseccomp2", "pigz", "bash",
            "ca-certificates", "procps", "jq", "runc")
CNI_SOURCE = Path("/usr/lib/cni")
#: One node, no kindnetd: pods get addresses from host-local over point-to-point links.
CNI_CONFIG = {
    "cniVersion": "0.4.0", "name": "podlife-ptp",
    "plugins": [
        {"type": "ptp", "ipMasq": True,
         "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.0.0/24"}]],
                  "routes": [{"dst": "0.0.0.0/0"}]}},
        {"type": "portmap", "capabilities": {"portMappings": True}},
    ],
}
DOCKERFILE = """FROM {imported}
ENV container=docker
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]
"""

Say = Callable[[str], None]


def _one_line_entries(text: str) -> list[tuple[str, list[str]]]:
    """(URI, [suite]) of each `deb` line of a one-line-style .list file."""
    entries = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if words[:1] != ["deb"]:
            continue
        words = words[1:]
        if words and words[0].startswith("["):  # options: [arch=amd64 signed-by=...]
            while words and not words[0].endswith("]"):
                words.pop(0)
            words = words[1:]
        if len(words) >= 2:
            entries.append((words[0], [words[1]]))
    return entries


def _deb822_entries(text: str) -> list[tuple[str, list[str]]]:
    """(URI, suites) of each enabled `deb` stanza of a deb822-style .sources file."""
    entries = []
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if ":" in line and not line.startswith(("#", " ", "\t")):
                key, value = line.split(":", 1)
                fields[key.strip().lower()] = value.strip()
        if "deb" not in fields.get("types", "").split() or fields.get("enabled") == "no":
            continue
        suites = fields.get("suites", "").split()
        entries.extend((uri, suites) for uri in fields.get("uris", "").split())
    return entries


def apt_mirror(etc_apt: Path = Path("/etc/apt")) -> str:
    """The Debian mirror apt is configured with for SUITE (the only place packages come from).

    Reads only the files apt itself reads (sources.list, *.list, *.sources), so a source that
    was disabled by renaming it, or one for another distribution, is never picked.
    """
    files = [etc_apt / "sources.list", *sorted((etc_apt / "sources.list.d").glob("*.list")),
             *sorted((etc_apt / "sources.list.d").glob("*.sources"))]
    for source in files:
        if not source.is_file():
            continue
        text = source.read_text()
        parse = _deb822_entries if source.suffix == ".sources" else _one_line_entries
        for uri, suites in parse(text):
            if SUITE in suites:
                return uri
    raise PodlifeError(f"no Debian {SUITE} mirror found in apt's sources under {etc_apt}",
                       f"configure apt with a {SUITE} mirror (apt-get update must work) and retry")


def rootfs(say: Say) -> Path:
    """A minbase Debian rootfs with the packages kind's base installs, made once."""
    target = paths.cache_dir() / "kind" / f"rootfs-{SUITE}"
    if (target / "etc" / "debian_version").exists():
        return target
    if shutil.which("debootstrap") is None:
        raise PodlifeError("debootstrap is not installed", "apt-get install debootstrap")
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    say(f"debootstrap {SUITE} (minbase + {len(PACKAGES)} packages), a few minutes")
    log = partial.with_suffix(".log")
    with log.open("w") as out:
        code = subprocess.run(["nice", "-n", "10", "debootstrap", "--variant=minbase",
                               f"--include={','.join(PACKAGES)}", SUITE, str(partial),
                               apt_mirror()], stdout=out, stderr=out).returncode
    if code != 0:
        raise PodlifeError(f"debootstrap failed (exit {code})",
                           "check apt's mirror is reachable, then retry", log=str(log))
    partial.rename(target)
    return target


def _kind_files(root: Path) -> None:
    """Copy kind's base files in and run its Dockerfile's setup steps."""
    files = kind_module_dir() / "images" / "base" / "files"
    shutil.copytree(files, root, dirs_exist_ok=True, symlinks=True)
    for script in [*(root / "usr/local/bin").iterdir(), *(root / "kind/bin").iterdir()]:
        script.chmod(0o755)
    for pattern in ("lib/systemd/system/sysinit.target.wants/systemd-tmpfiles-setup.service",
                    "lib/systemd/system/multi-user.target.wants/*", "etc/systemd/system/*.wants/*",
                    "lib/systemd/system/local-fs.target.wants/*",
                    "lib/systemd/system/sockets.target.wants/*udev*",
                    "lib/systemd/system/sockets.target.wants/*initctl*",
                    "lib/systemd/system/basic.target.wants/*"):
        for path in root.glob(pattern):
            path.unlink()
    with (root / "etc/systemd/journald.conf").open("a") as conf:
        conf.write("ReadKMsg=no\n")
    # This host's root may not lower OOM scores (no CAP_SYS_RESOURCE): drop the setting.
    unit = root / "etc/systemd/system/containerd.service"
    unit.write_text("".join(line + "\n" for line in unit.read_text().splitlines()
                            if not line.startswith("OOMScoreAdjust")))
    config = root / "etc/containerd/config.toml"
    config.write_text(config.read_text().replace("restrict_oom_score_adj = false",
                                                 "restrict_oom_score_adj = true"))
    for unit_name in ("kubelet.service", "containerd.service", "undo-mount-hacks.service"):
        subprocess.run(["systemctl", f"--root={root}", "enable", unit_name], check=True,
                       capture_output=True)
    subprocess.run(["systemctl", f"--root={root}", "mask", "systemd-binfmt.service"],
                   check=True, capture_output=True)
    (root / "etc/kubernetes/manifests").mkdir(parents=True, exist_ok=True)


def _runtime(root: Path) -> None:
    """containerd (podlife's build), its base OCI spec, and the CNI plugins and config."""
    containerd = build.build(next(b for b in build.support_builds()
                                  if b.key.startswith("containerd")))
    for name in ("containerd", "containerd-shim-runc-v2", "ctr"):
        shutil.copy(containerd / name, root / "usr/local/bin" / name)
    spec = json.loads(subprocess.run([str(containerd / "ctr"), "oci", "spec"], check=True,
                                     capture_output=True, text=True).stdout)
    spec.setdefault("hooks", {}).setdefault("createContainer", []).append(
        {"path": "/kind/bin/mount-product-files.sh"})
    spec["process"].pop("rlimits", None)
    (root / "etc/containerd/cri-base.json").write_text(json.dumps(spec, indent=2))
    if not CNI_SOURCE.is_dir():
        raise PodlifeError("Debian's CNI plugins are not installed",
                           "apt-get install containernetworking-plugins")
    cni = root / "opt/cni/bin"
    cni.mkdir(parents=True, exist_ok=True)
    for plugin in ("ptp", "host-local", "loopback", "portmap"):
        shutil.copy(CNI_SOURCE / plugin, cni / plugin)
    (root / "etc/cni/net.d").mkdir(parents=True, exist_ok=True)
    (root / "etc/cni/net.d/10-podlife-ptp.conflist").write_text(json.dumps(CNI_CONFIG))


def ensure(say: Say = print) -> str:
    """The base image in podlife's engine (built when missing); returns its name."""
    if engine.docker("image", "inspect", BASE_IMAGE, check=False).returncode == 0:
        return BASE_IMAGE
    source = rootfs(say)
    with tempfile.TemporaryDirectory(dir=source.parent) as tmp:
        root = Path(tmp) / "rootfs"
        say("copying the rootfs and adding kind's base files")
        subprocess.run(["cp", "-a", str(source), str(root)], check=True)
        _kind_files(root)
        _runtime(root)
        say("importing the base image into podlife's Docker engine")
        imported = f"{BASE_IMAGE}-import"
        tar = subprocess.Popen(["tar", "-C", str(root), "--numeric-owner", "-c", "."],
                               stdout=subprocess.PIPE)
        engine.docker("import", "-", imported, stdin=tar.stdout)
        tar.wait()
        context = Path(tmp) / "context"
        context.mkdir()
        (context / "Dockerfile").write_text(DOCKERFILE.format(imported=imported))
        proc = subprocess.run(["docker", "build", "-q", "-t", BASE_IMAGE, str(context)],
                              env={**engine.docker_env(), "DOCKER_BUILDKIT": "0"},
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise PodlifeError(f"docker build of {BASE_IMAGE} failed: {proc.stderr.strip()}",
                               "read the error above; the engine log is in "
                               f"{engine.engine_dir()}")
        engine.docker("rmi", imported, check=False)
    return BASE_IMAGE
