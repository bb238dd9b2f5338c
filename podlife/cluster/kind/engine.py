"""podlife's own Docker engine for kind: started when needed, stopped and undone afterwards.

The host has no Docker service of its own, and kind needs one. podlife runs dockerd with
everything (data, exec root, pidfile, socket) under its state dir, with no default bridge,
no iptables/NAT rules and no IP forwarding, its DNS on loopback, and one iptables rule that
drops anything forwarded to the host's uplink: nothing a node does can leave the machine.
Two host quirks are handled here: root lacks CAP_SYS_RESOURCE in its bounding set, so a
runtime wrapper drops that capability from each OCI spec before runc sees it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from podlife.cluster.host import KERNEL_TUNABLES, require_root
from podlife.core import paths
from podlife.core.errors import PodlifeError

RUNTIME_NAME = "podlife-runc"
#: Marks podlife's one iptables rule, so it is found and removed by its comment.
RULE_COMMENT = "podlife-kind-no-uplink"
#: Host tunables Docker or the nodes may change: recorded at start, restored at stop. The
#: node's kubelet writes the kernel ones (vm/, kernel/: not namespaced) on the host itself.
TUNABLES = ("net/ipv4/ip_forward", "net/ipv4/conf/all/route_localnet",
            "net/ipv4/conf/all/arp_ignore", "net/ipv4/conf/all/rp_filter",
            "net/ipv4/conf/default/rp_filter", "net/bridge/bridge-nf-call-iptables",
            *KERNEL_TUNABLES)

WRAPPER = """#!{python}
# Drops CAP_SYS_RESOURCE (absent from this host's bounding set) from the OCI spec (run) or
# process spec (exec), then runs runc.
import json, os, sys
args = sys.argv[1:]

def drop(path, key):
    with open(path) as f:
        spec = json.load(f)
    caps = (spec.get(key, {{}}) if key else spec).get("capabilities", {{}})
    for name, values in caps.items():
        caps[name] = [c for c in values if c != "CAP_SYS_RESOURCE"]
    with open(path, "w") as f:
        json.dump(spec, f)

if "--bundle" in args:
    drop(os.path.join(args[args.index("--bundle") + 1], "config.json"), "process")
if "--process" in args:
    drop(args[args.index("--process") + 1], None)
os.execv("{runc}", ["runc", *args])
"""


#: The directories Docker's own containerd makes for its `opt` plugin on the host (deepest
#: last); podlife cannot point that plugin elsewhere, so it removes what it made.
CONTAINERD_OPT = ("/opt/containerd", "/opt/containerd/bin", "/opt/containerd/lib")


def engine_dir() -> Path:
    return paths.state_root() / "docker"


def socket_path() -> Path:
    return engine_dir() / "docker.sock"


def docker_env() -> dict[str, str]:
    """The environment that points docker (and kind) at podlife's engine."""
    return {**os.environ, "DOCKER_HOST": f"unix://{socket_path()}"}


def docker(*args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    """Run the docker CLI against podlife's engine."""
    proc = subprocess.run(["docker", *args], env=docker_env(), capture_output=True, text=True,
                          **kwargs)
    if check and proc.returncode != 0:
        shown = " ".join(a if len(a) < 40 else a[:12] for a in args)
        output = (proc.stderr.strip() or proc.stdout.strip())[-300:]
        raise PodlifeError(f"docker {shown} failed (exit {proc.returncode}): {output}",
                           f"see the engine log in {engine_dir() / 'dockerd.log'}")
    return proc


def uplinks() -> list[str]:
    """Interfaces holding a default route: what must never see forwarded traffic."""
    out = subprocess.run(["ip", "-o", "route", "show", "default"], capture_output=True,
                         text=True).stdout
    return sorted({w[w.index("dev") + 1] for w in (line.split() for line in out.splitlines())
                   if "dev" in w})


def _read(name: str) -> str | None:
    with contextlib.suppress(OSError):
        return (Path("/proc/sys") / name).read_text().strip()
    return None


def _pid() -> int | None:
    pidfile = engine_dir() / "dockerd.pid"
    with contextlib.suppress(OSError, ValueError):
        pid = int(pidfile.read_text())
        os.kill(pid, 0)
        return pid
    return None


def running() -> bool:
    return _pid() is not None and docker("version", check=False).returncode == 0


def start(timeout: float = 60.0) -> None:
    """Start podlife's dockerd (once); record the host tunables it may change."""
    if running():
        return
    require_root("the kind provider (its own Docker engine, iptables rules)")
    for tool in ("dockerd", "docker", "runc", "iptables", "nft"):
        if shutil.which(tool) is None:
            raise PodlifeError(f"the kind provider needs {tool}, which is not installed",
                               "apt-get install docker.io iptables nftables")
    root = engine_dir()
    root.mkdir(parents=True, exist_ok=True)
    saved = root / "tunables"
    if not saved.exists():
        saved.write_text("".join(f"{n} {v}\n" for n in TUNABLES if (v := _read(n)) is not None))
    existing = {"tables": list(_tables()), "cgroups": _docker_cgroups(),
                "opt": [path for path in CONTAINERD_OPT if Path(path).exists()]}
    for record, found in existing.items():  # what stop() must not remove
        if not (root / record).exists():
            (root / record).write_text("".join(f"{item}\n" for item in found))
    wrapper = root / "runc-wrapper"
    wrapper.write_text(WRAPPER.format(python=sys.executable, runc=shutil.which("runc")))
    wrapper.chmod(0o755)
    _add_rules()
    log = (root / "dockerd.log").open("a")
    subprocess.Popen([
        "dockerd", "--data-root", str(root / "data"), "--exec-root", str(root / "exec"),
        "--pidfile", str(root / "dockerd.pid"), "-H", f"unix://{socket_path()}",
        "--bridge", "none", "--iptables=false", "--ip-forward=false", "--ip-masq=false",
        "--dns", "127.0.0.1", "--add-runtime", f"{RUNTIME_NAME}={wrapper}",
        "--default-runtime", RUNTIME_NAME, "--storage-driver", "overlay2",
    ], stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if running():
            return
        time.sleep(0.5)
    stop()
    raise PodlifeError(f"dockerd did not answer in {timeout:.0f}s",
                       f"read {root / 'dockerd.log'}")


def _add_rules() -> None:
    for dev in uplinks():
        check = ["iptables", "-C", "FORWARD", "-o", dev, "-m", "comment", "--comment",
                 RULE_COMMENT, "-j", "DROP"]
        if subprocess.run(check, capture_output=True).returncode != 0:
            subprocess.run(["iptables", "-I", *check[2:]], check=True)


def _remove_rules() -> None:
    rules = subprocess.run(["iptables", "-S", "FORWARD"], capture_output=True,
                           text=True).stdout
    for line in rules.splitlines():
        if RULE_COMMENT in line and line.startswith("-A "):
            args = line.split()[1:]
            args = [a.strip('"') for a in args]
            subprocess.run(["iptables", "-D", *args], capture_output=True)


def _tables() -> dict[str, str]:
    """The host's iptables tables and their chains and rules (counters and comments left out)."""
    out = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
    tables: dict[str, str] = {}
    name = ""
    for line in out.splitlines():
        if line.startswith("*"):
            name = line[1:]
            tables[name] = ""
        elif name and not line.startswith("#") and line != "COMMIT":
            tables[name] += re.sub(r"\[\d+:\d+\]", "", line).strip() + "\n"
    return tables


#: A table holding only built-in chains with their default policy and no rule.
_EMPTY_TABLE = re.compile(r"(:[A-Z]+ ACCEPT\n)*")


def _remove_new_tables(before: list[str]) -> None:
    """The tables that appeared while the engine ran (podlife's rule makes `filter` on a
    host that had none): deleted once empty, so the host is as found. iptables cannot
    delete a table; nft can."""
    for name, body in _tables().items():
        if name not in before and _EMPTY_TABLE.fullmatch(body):
            subprocess.run(["nft", "delete", "table", "ip", name], capture_output=True)


#: The cgroup v1 hierarchies (and v2's unified one) where dockerd makes its `docker` parent.
CGROUP_ROOT = Path("/sys/fs/cgroup")


def _docker_cgroups() -> list[str]:
    """The `docker` cgroup parents present now, one per mounted hierarchy."""
    return sorted(str(p) for p in CGROUP_ROOT.glob("*/docker") if p.is_dir())


def _remove_new_cgroups(before: list[str]) -> None:
    """dockerd leaves its (empty) `docker` cgroup parents behind when it stops: removed,
    deepest first, unless they were there before the engine started. A cgroup that still
    holds a process cannot be removed and is left alone."""
    for parent in _docker_cgroups():
        if parent in before:
            continue
        for path in sorted(Path(parent).rglob("*"), key=lambda p: -len(p.parts)):
            if path.is_dir():
                with contextlib.suppress(OSError):
                    path.rmdir()
        with contextlib.suppress(OSError):
            Path(parent).rmdir()


def _remove_new_opt(before: list[str]) -> None:
    """The `opt` directories that appeared while the engine ran, removed if still empty
    (deepest first); anything else put there is left alone."""
    for path in reversed(CONTAINERD_OPT):
        if path not in before:
            with contextlib.suppress(OSError):
                Path(path).rmdir()


def stop(timeout: float = 60.0) -> None:
    """Stop dockerd, remove the bridges, cgroups and /opt/containerd directories it made and
    podlife's rule, restore the tunables."""
    pid = _pid()
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _pid() is not None:
            time.sleep(0.5)
        if _pid() is not None:
            os.kill(pid, signal.SIGKILL)
    for link in subprocess.run(["ip", "-o", "link", "show", "type", "bridge"],
                               capture_output=True, text=True).stdout.splitlines():
        name = link.split(":")[1].strip().split("@")[0]
        if re.fullmatch(r"br-[0-9a-f]{12}", name):
            subprocess.run(["ip", "link", "delete", name], capture_output=True)
    _remove_rules()
    # What start() recorded as there before, and what removes whatever appeared since.
    for record, remove_new in (("tables", _remove_new_tables),
                               ("cgroups", _remove_new_cgroups), ("opt", _remove_new_opt)):
        path = engine_dir() / record
        if path.exists():
            remove_new(path.read_text().split())
            path.unlink()
    saved = engine_dir() / "tunables"
    if saved.exists():
        for line in saved.read_text().splitlines():
            name, value = line.split(" ", 1)
            if _read(name) != value:
                with contextlib.suppress(OSError):
                    (Path("/proc/sys") / name).write_text(value)
        saved.unlink()


@contextlib.contextmanager
def locked():
    """One podlife process at a time starts, stops, or creates and deletes clusters on the
    engine, so none stops it under another's cluster."""
    root = engine_dir()
    root.mkdir(parents=True, exist_ok=True)
    with (root / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def stop_if_unused() -> None:
    """Stop the engine unless a kind cluster (any podlife process's) still runs on it."""
    if running() and docker("ps", "-aq", "--filter", "label=io.x-k8s.kind.cluster",
                            check=False).stdout.split():
        return
    stop()


@contextlib.contextmanager
def engine():
    """dockerd for the duration of a block, stopped and undone afterwards."""
    start()
    try:
        yield
    finally:
        stop()
