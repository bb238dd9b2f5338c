"""The local cluster provider, tested for real: boot, pods, DNS, containment, teardown, errors.

These tests boot real clusters (root, the Debian packages, built binaries). They test the
provider itself, so they drive `LocalCluster` and the `podlife` command directly rather
than through the suites' `cluster` fixture.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from kubernetes import client as k8s

from podlife.cluster.local import deviations
from podlife.cluster.local.boot_check import LOOKUP_SECONDS
from podlife.cluster.local.cluster import ClusterInfo, LocalCluster, api_client
from podlife.cluster.local.launch import Launcher
from podlife.cluster.local.node import CgroupTree, processes_in
from podlife.core import paths, versions
from podlife.core.errors import PodlifeError
from podlife.core.images import IMAGES
from tests.helpers import podlife, run_pod

pytestmark = pytest.mark.cluster

SECOND_VERSION = os.environ.get("PODLIFE_SECOND_VERSION", "1.31")
#: The module's shared cluster; another name keeps a second run of these tests (e.g. a
#: developer's, beside CI's) off CI's cluster.
MAIN = os.environ.get("PODLIFE_TEST_CLUSTER", "ci-main")


def netns_of(pids: set[int]) -> set[str]:
    """The network namespaces (as 'net:[inode]') that these processes are in."""
    found = set()
    for pid in pids:
        try:
            found.add(os.readlink(f"/proc/{pid}/ns/net"))
        except OSError:
            continue
    return found


def netns_in_use() -> set[str]:
    """Every network namespace some process on the host is in, or that is mounted."""
    pids = {int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()}
    used = netns_of(pids)
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        if " nsfs " in line:
            used.add(line.split()[3].strip("/"))
    return used


def cluster_netns(name: str) -> set[str]:
    """The namespaces of a running cluster: its node's and every pod's (not the host's,
    where its loopback port forward runs)."""
    own = netns_of(CgroupTree(name).pids()) - {os.readlink("/proc/self/ns/net")}
    assert own, f"cluster {name} has no processes"
    return own


def host_iptables() -> str:
    """The host's rules, without iptables-save's comments (they carry the time)."""
    out = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
    return "".join(line for line in out.splitlines(keepends=True) if not line.startswith("#"))


def processes_working_in(directory: Path) -> list[int]:
    """Processes whose working directory is inside `directory` (go build runs there)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if str(directory) in os.readlink(entry / "cwd"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def leftovers(name: str) -> list[str]:
    """Everything a cluster could leave behind, described; empty when nothing is left."""
    cluster = LocalCluster(name)
    found = [f"process {pid}: {cmd[:80]}" for pid, cmd in processes_in(cluster.state)]
    mounts = Path("/proc/mounts").read_text()
    found += [f"mount {line.split()[1]}" for line in mounts.splitlines()
              if str(cluster.state) in line]
    found += [f"cgroup {d}" for d in CgroupTree(name).dirs() if d.exists()]
    if cluster.state.exists():
        found.append(f"state dir {cluster.state}")
    return found


@pytest.fixture(autouse=True)
def failed_boot_logs_removed() -> Iterator[None]:
    """The logs a failed boot keeps (the user's evidence) are removed after the tests that
    make boots fail on purpose: only those that appeared during the test."""
    kept = paths.state_root() / "failed-boots"
    before = set(kept.iterdir()) if kept.exists() else set()
    yield
    for new in (set(kept.iterdir()) if kept.exists() else set()) - before:
        shutil.rmtree(new, ignore_errors=True)


@pytest.fixture(scope="module")
def booted() -> Iterator[ClusterInfo]:
    """One cluster of the default version for the tests that only look at it."""
    rules = host_iptables()
    cluster = LocalCluster(MAIN)
    cluster.down()
    info = cluster.up(versions.resolve(None))
    yield info
    namespaces = cluster_netns(MAIN)
    cluster.down()
    assert leftovers(MAIN) == []
    assert not namespaces & netns_in_use(), "a network namespace was left behind"
    assert host_iptables() == rules, "host iptables rules changed"


@pytest.fixture(scope="module")
def core(booted: ClusterInfo) -> k8s.CoreV1Api:
    return k8s.CoreV1Api(api_client(booted.kubeconfig))


def logs(core: k8s.CoreV1Api, name: str, container: str = "main") -> str:
    return core.read_namespaced_pod_log(name, "default", container=container)


def test_node_reports_the_built_version(booted: ClusterInfo, core: k8s.CoreV1Api) -> None:
    """The node is Ready and its kubelet reports the exact release podlife built."""
    node = core.read_node(booted.node_name)
    assert node.status.node_info.kubelet_version == f"v{versions.DEFAULT_VERSION}"
    assert any(c.type == "Ready" and c.status == "True" for c in node.status.conditions)
    server = k8s.VersionApi(api_client(booted.kubeconfig)).get_code()
    assert server.git_version == f"v{versions.DEFAULT_VERSION}"
    assert booted.boot_seconds > 0


def test_init_container_then_app_complete_in_order(core: k8s.CoreV1Api) -> None:
    """A pod with an init container and an app container completes, init first."""
    pod = run_pod(core, "ordered", "date +%s > /dev/null; echo app-ran",
                  init="echo init-ran")
    assert pod.status.phase == "Succeeded"
    init = pod.status.init_container_statuses[0].state.terminated
    app = pod.status.container_statuses[0].state.terminated
    assert init.exit_code == 0 and app.exit_code == 0
    assert init.finished_at <= app.started_at
    assert logs(core, "ordered", "init").strip() == "init-ran"


def test_service_name_resolves_and_nothing_else(core: k8s.CoreV1Api) -> None:
    """Cluster DNS answers Service names, and forwards nothing outside the cluster."""
    pod = run_pod(core, "dns", "nslookup kubernetes.default.svc.cluster.local; echo rc=$?; "
                  "nslookup example.com; echo rc=$?")
    out = logs(core, "dns")
    codes = re.findall(r"rc=(\d+)", out)
    assert codes == ["0", "1"], out
    assert "10.96.0.1" in out
    assert pod.status.phase == "Succeeded"


def test_pod_cannot_reach_outside(booted: ClusterInfo, core: k8s.CoreV1Api) -> None:
    """A pod's packets to an address outside the machine are dropped inside the cluster."""
    # 192.0.2.1 is TEST-NET-1: nobody's host. The node namespace has no route to it.
    run_pod(core, "egress", "timeout 5 wget -q -O- http://192.0.2.1/ 2>&1; echo rc=$?")
    out = logs(core, "egress")
    assert "rc=0" not in out
    assert re.search(r"unreachable|No route", out, re.I), out
    cluster = LocalCluster(booted.name)
    routes = cluster.sandbox.run(["ip", "route"]).stdout
    assert "default" not in routes, routes


def test_host_deviations_are_recorded_shown_and_applied(booted: ClusterInfo,
                                                        core: k8s.CoreV1Api) -> None:
    """cluster.json and `cluster status` name the deviations this host shows now, and the
    boot applied them: containerd restricts OOM scores exactly when CAP_SYS_RESOURCE is
    missing (a Guaranteed pod's own score shows it), the kubelet allows swap only with swap."""
    expected = [d.id for d in deviations.detect(deviations.read_host())]
    assert [d["id"] for d in ClusterInfo.load(booted.name).host_deviations or []] == expected
    status = podlife("cluster", "status", "--output", "json")
    row = next(r for r in json.loads(status.stdout) if r["name"] == booted.name)
    assert row["host_deviations"] == ", ".join(expected)
    state = Path(booted.state_dir)
    restricted = deviations.NO_CAP_SYS_RESOURCE in expected
    containerd = tomllib.loads((state / "containerd" / "config.toml").read_text())
    assert containerd["plugins"]["io.containerd.cri.v1.runtime"][
        "restrict_oom_score_adj"] is restricted
    kubelet = yaml.safe_load((state / "kubelet-config.yaml").read_text())
    assert kubelet.get("failSwapOn", True) is (deviations.SWAP_ON not in expected)
    # Guaranteed: -997 on a standard node; raised to containerd's own score when restricted.
    own = [int(Path(f"/proc/{pid}/oom_score_adj").read_text())
           for pid in CgroupTree(booted.name).pids()
           if Path(f"/proc/{pid}/comm").read_text().strip() == "containerd"]
    assert len(own) == 1, own
    guaranteed = {"cpu": "50m", "memory": "32Mi"}
    pod = run_pod(core, "guaranteed", "cat /proc/self/oom_score_adj",
                  resources={"requests": guaranteed, "limits": guaranteed})
    assert pod.status.qos_class == "Guaranteed"
    assert int(logs(core, "guaranteed")) == (max(-997, own[0]) if restricted else -997)


def test_only_loopback_is_exposed_on_the_host(booted: ClusterInfo) -> None:
    """On the host, the cluster listens on 127.0.0.1 only; its files are owner-only."""
    pids = CgroupTree(booted.name).pids()
    listening = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True).stdout
    ours = [line for line in listening.splitlines()
            if any(f"pid={pid}," in line for pid in pids)]
    assert ours, "the API port forward is not listening on the host"
    for line in ours:
        assert line.split()[3].startswith("127.0.0.1:"), line
    state = Path(booted.state_dir)
    for secret in [*state.glob("pki/*.key"), *state.glob("kubeconfig/*")]:
        assert secret.stat().st_mode & 0o077 == 0, f"{secret} is readable by others"


HOST_TAKEOVER_POD = {
    "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "takeover"},
    "spec": {"hostPID": True, "hostNetwork": True, "restartPolicy": "Never",
             "volumes": [{"name": "host", "hostPath": {"path": "/"}}],
             "containers": [{"name": "main", "image": IMAGES["busybox"].local,
                             "command": ["sh", "-c", "cat /host/etc/shadow"],
                             "securityContext": {"privileged": True},
                             "volumeMounts": [{"name": "host", "mountPath": "/host"}]}]}}


def test_privileged_host_pod_is_refused_and_anonymous_requests_too(
        booted: ClusterInfo, core: k8s.CoreV1Api) -> None:
    """PodSecurity baseline is enforced by default: a privileged, hostPID, hostNetwork pod
    with the host's / mounted is refused. The API server answers no anonymous request."""
    import ssl
    import urllib.error
    import urllib.request

    with pytest.raises(k8s.ApiException) as refused:
        core.create_namespaced_pod("default", HOST_TAKEOVER_POD)
    assert refused.value.status == 403 and "PodSecurity" in refused.value.body
    ctx = ssl.create_default_context(cafile=str(Path(booted.state_dir) / "pki" / "ca.crt"))
    with pytest.raises(urllib.error.HTTPError) as anonymous:
        urllib.request.urlopen(f"{booted.server}/version", context=ctx, timeout=5)
    assert anonymous.value.code == 401


def etcd_version(cluster: LocalCluster, cert: Path | None) -> str:
    """GET /version from etcd over TLS inside the node's namespace, optionally with a cert."""
    load = (f"c.load_cert_chain('{cert}.crt', '{cert}.key'); " if cert else "")
    probe = ("import socket, ssl; c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); "
             "c.check_hostname = False; c.verify_mode = ssl.CERT_NONE; " + load +
             "s = c.wrap_socket(socket.create_connection(('127.0.0.1', 2379), timeout=5)); "
             "s.sendall(b'GET /version HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n'); "
             "print(s.recv(400))")
    result = cluster.sandbox.run([sys.executable, "-c", probe], timeout=30)
    return result.stdout + result.stderr


def test_host_network_pod_cannot_read_etcd() -> None:
    """Even with --allow-privileged (the pod is admitted), a pod on the node's network
    cannot talk to etcd: it speaks TLS only and wants a client certificate of its own CA."""
    cluster = LocalCluster("ci-priv")
    cluster.down()
    try:
        info = cluster.up(versions.resolve(None), allow_privileged=True)
        other = k8s.CoreV1Api(api_client(info.kubeconfig))
        pod = {**HOST_TAKEOVER_POD, "spec": {**HOST_TAKEOVER_POD["spec"], "containers": [{
            **HOST_TAKEOVER_POD["spec"]["containers"][0], "command": ["sh", "-c",
            "wget -T 3 -q -O- http://127.0.0.1:2379/version; echo rc=$?; "
            "wget -T 3 -q -O- https://127.0.0.1:2379/version; echo rc=$?"]}]}}
        other.create_namespaced_pod("default", pod)
        deadline = time.monotonic() + 90
        while other.read_namespaced_pod("takeover", "default").status.phase not in (
                "Succeeded", "Failed") and time.monotonic() < deadline:
            time.sleep(0.3)
        out = other.read_namespaced_pod_log("takeover", "default")
        assert re.findall(r"rc=(\d+)", out) and "rc=0" not in out, out
        assert "etcdserver" not in out, out
        # From the node's network namespace: without a certificate of etcd's CA, nothing;
        # with the API server's (the control), etcd answers, so the probe itself works.
        etcd_pki = cluster.layout.etcd_pki
        assert "etcdserver" not in etcd_version(cluster, None)
        assert "etcdserver" in etcd_version(cluster, etcd_pki / "apiserver-client")
    finally:
        cluster.down()
    assert leftovers("ci-priv") == []


def test_two_versions_side_by_side(booted: ClusterInfo, core: k8s.CoreV1Api) -> None:
    """A cluster of another version runs beside the default one, sharing nothing."""
    second = LocalCluster("ci-second")
    second.down()
    version = versions.resolve(SECOND_VERSION)
    try:
        info = second.up(version)
        other = k8s.CoreV1Api(api_client(info.kubeconfig))
        node = other.read_node(info.node_name)
        assert node.status.node_info.kubelet_version == version.tag
        assert info.api_port != booted.api_port
        assert run_pod(other, "side", "echo hello").status.phase == "Succeeded"
        # The first cluster is unaffected and still schedules pods.
        assert run_pod(core, "still-here", "echo ok").status.phase == "Succeeded"
        assert CgroupTree("ci-second").pids().isdisjoint(CgroupTree(booted.name).pids())
    finally:
        second.down()
    assert leftovers("ci-second") == []


def test_down_leaves_nothing() -> None:
    """After down: no process, mount, cgroup, network namespace, iptables rule or state."""
    rules = host_iptables()
    cluster = LocalCluster("ci-down")
    cluster.down()
    info = cluster.up(versions.resolve(None))
    run_pod(k8s.CoreV1Api(api_client(info.kubeconfig)), "with-netns", "echo hi")
    namespaces = cluster_netns("ci-down")
    assert len(namespaces) >= 1 and leftovers("ci-down") != []
    assert podlife("cluster", "down", "--name", "ci-down").returncode == 0
    assert leftovers("ci-down") == []
    assert not namespaces & netns_in_use(), "a network namespace was left behind"
    assert host_iptables() == rules


# ----- bad input and faults: one clear line, non-zero exit, nothing half-started ----------

def assert_clear_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode not in (0, None), result
    lines = [ln for ln in result.stderr.strip().splitlines() if ln.strip()]
    error = [ln for ln in lines if ln.startswith("error:")]
    assert error, result.stderr
    assert "Fix:" in " ".join(lines[lines.index(error[0]):])
    for word in words:
        assert word.lower() in result.stderr.lower(), result.stderr


def test_error_not_root() -> None:
    """Not root: says root is needed."""
    result = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                             sys.executable, "-m", "podlife.cli", "cluster", "up",
                             "--name", "ci-nonroot"], capture_output=True, text=True,
                            env={**os.environ, "HOME": "/tmp"})
    assert_clear_error(result, "root")
    assert leftovers("ci-nonroot") == []


def test_error_missing_debian_package(tmp_path: Path) -> None:
    """A missing Debian package is named, with the apt-get line that installs it."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("runc", "iptables", "conntrack", "ip", "unshare", "nsenter", "gcc", "go"):
        found = subprocess.run(["which", tool], capture_output=True, text=True).stdout.strip()
        if found:
            (bin_dir / tool).symlink_to(found)
    result = podlife("cluster", "up", "--name", "ci-nosocat", env={"PATH": str(bin_dir)})
    assert_clear_error(result, "socat", "apt-get install")
    assert leftovers("ci-nosocat") == []


def test_error_go_missing(tmp_path: Path) -> None:
    """Building without Go says so."""
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PODLIFE_CACHE": str(tmp_path)}
    result = podlife("build", "--version", versions.DEFAULT_VERSION, env=env)
    assert_clear_error(result, "go")


def test_error_go_proxy_unreachable(tmp_path: Path) -> None:
    """An unreachable module proxy is named as the cause."""
    env = {"PODLIFE_CACHE": str(tmp_path / "cache"), "GOPROXY": "http://127.0.0.1:9",
           "GOMODCACHE": str(tmp_path / "mod"), "GOSUMDB": "off", "GOFLAGS": "-mod=mod"}
    result = podlife("build", "--version", versions.DEFAULT_VERSION, env=env, timeout=120)
    assert_clear_error(result, "proxy")


def test_error_version_does_not_exist() -> None:
    """A version with no release gets a clear error naming it."""
    assert_clear_error(podlife("cluster", "up", "--version", "1.99"), "1.99")
    assert_clear_error(podlife("cluster", "up", "--version", "banana"), "banana")


def test_error_port_in_use() -> None:
    """A taken API port is named, with the flag that picks another."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = podlife("cluster", "up", "--name", "ci-port", "--api-port", str(port))
    assert_clear_error(result, str(port), "--api-port")
    assert leftovers("ci-port") == []


def test_error_component_crash_during_boot() -> None:
    """A component that dies while booting is named, with its log; nothing is left."""
    result = podlife("cluster", "up", "--name", "ci-crash", "--feature-gates",
                     "NoSuchPodlifeGate=true")
    assert_clear_error(result, "exited during boot", "log:")
    log = re.search(r"log: (\S+?)\)", result.stderr)
    assert log and Path(log.group(1)).exists(), result.stderr
    assert leftovers("ci-crash") == []


def test_error_dns_never_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """A boot whose DNS never answers fails when the check pod stops retrying, naming the
    lookup and CoreDNS's kept log; nothing is left."""
    monkeypatch.setattr(Launcher, "coredns", lambda self: None)  # CoreDNS never starts
    cluster = LocalCluster("ci-nodns")
    cluster.down()
    started = time.monotonic()
    with pytest.raises(PodlifeError) as caught:
        cluster.up(versions.resolve(None))
    assert f"could not resolve a Service name in {LOOKUP_SECONDS} s" in caught.value.cause
    assert caught.value.fix == "read the coredns log"
    assert caught.value.log and caught.value.log.endswith("coredns.log"), caught.value.log
    assert time.monotonic() - started < LOOKUP_SECONDS + 45, "the boot waited past the lookups"
    assert leftovers("ci-nodns") == []


def up_until_the_api_server_starts(name: str) -> subprocess.Popen[str]:
    """`podlife cluster up` in the background, returned once the boot is half done."""
    proc = subprocess.Popen([sys.executable, "-m", "podlife.cli", "cluster", "up", "--name",
                             name], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    apiserver_log = LocalCluster(name).layout.logs / "kube-apiserver.log"
    deadline = time.monotonic() + 120
    while not apiserver_log.exists() and time.monotonic() < deadline:
        time.sleep(0.05)  # polling for the observed moment to interrupt, not a fixed wait
    assert apiserver_log.exists(), "the boot never reached the API server"
    return proc


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_termination_signals_during_up_clean_up_as_ctrl_c(sig: signal.Signals) -> None:
    """`kill -TERM` or a closed terminal mid-boot: exit 130, nothing left running."""
    name = f"ci-{sig.name.lower()}"
    proc = up_until_the_api_server_starts(name)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err, err
    assert leftovers(name) == []


def test_sigkill_during_up_is_a_dead_half_boot_that_up_and_down_clear() -> None:
    """After `kill -9` of up: status calls it a dead half-boot (not healthy); up of the name
    removes the remains and boots; down then removes everything."""
    proc = up_until_the_api_server_starts("ci-kill9")
    proc.kill()
    proc.communicate(timeout=10)
    assert leftovers("ci-kill9") != [], "SIGKILL should leave the half-boot's processes"
    status = podlife("cluster", "status", env={"COLUMNS": "400"})
    row = [ln for ln in status.stdout.splitlines() if "ci-kill9" in ln]
    assert row and "dead half-boot" in row[0] and "healthy" not in row[0], status.stdout
    try:
        again = podlife("cluster", "up", "--name", "ci-kill9")
        assert again.returncode == 0, again.stderr
        assert "dead half-boot" in again.stdout + again.stderr
        health = LocalCluster("ci-kill9").health()
        assert health and all(health.values()), health
    finally:
        podlife("cluster", "down", "--name", "ci-kill9")
    assert leftovers("ci-kill9") == []


def test_a_cluster_whose_processes_all_died_is_cleared_by_the_next_up_of_its_name() -> None:
    """Every process of a booted cluster killed at once (as when the machine's session
    ends): its state would block the name for ever. The next `up` of the name keeps its
    logs, removes the rest, says so, and boots."""
    boot = podlife("cluster", "up", "--name", "ci-dead")
    assert boot.returncode == 0, boot.stderr
    try:
        tree = CgroupTree("ci-dead")
        for _ in range(20):
            pids = tree.pids()
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.2)
        assert not tree.pids(), "every process of the cluster should be gone"
        status = podlife("cluster", "status", "--output", "json")
        health = {row["name"]: row["health"] for row in json.loads(status.stdout)}
        assert health["ci-dead"].startswith("dead: no process of it runs"), health
        again = podlife("cluster", "up", "--name", "ci-dead")
        assert again.returncode == 0, again.stderr
        said = again.stdout + again.stderr
        assert "removed what was left of 'ci-dead'" in said, said
        assert (paths.state_root() / "failed-boots" / "ci-dead" / "kubelet.log").exists()
        health = LocalCluster("ci-dead").health()
        assert health and all(health.values()), health
    finally:
        podlife("cluster", "down", "--name", "ci-dead")
    assert leftovers("ci-dead") == []


def test_ctrl_c_during_up_leaves_nothing_and_next_run_works() -> None:
    """Ctrl-C in the middle of a boot stops everything; the next boot succeeds."""
    proc = up_until_the_api_server_starts("ci-int")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert leftovers("ci-int") == []
    again = podlife("cluster", "up", "--name", "ci-int")
    try:
        assert again.returncode == 0, again.stderr
    finally:
        podlife("cluster", "down", "--name", "ci-int")
    assert leftovers("ci-int") == []


def test_two_concurrent_ups_of_one_name_one_wins_one_gets_a_line() -> None:
    """Two `up --name X` at once: one boots, the other exits 2 with one line and no
    traceback, and the winner's cluster is untouched (its state and processes)."""
    argv = [sys.executable, "-m", "podlife.cli", "cluster", "up", "--name", "ci-race"]
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    try:
        outcomes = sorted(((p.wait(timeout=600), p.communicate()[1]) for p in procs),
                          key=lambda o: o[0])
        (won, _), (lost, err) = outcomes
        assert (won, lost) == (0, 2), outcomes
        assert "Traceback" not in err and "busy" in err, err
        info = ClusterInfo.load("ci-race")
        health = LocalCluster("ci-race").health()
        assert health and all(health.values()), health
        node = k8s.CoreV1Api(api_client(info.kubeconfig)).read_node(info.node_name)
        assert any(c.type == "Ready" and c.status == "True" for c in node.status.conditions)
    finally:
        podlife("cluster", "down", "--name", "ci-race")
    assert leftovers("ci-race") == []


def test_ctrl_c_during_build_leaves_nothing_and_next_run_works(tmp_path: Path) -> None:
    """Ctrl-C while Go compiles stops the compiler, leaves no partial cache entry, and the
    next build completes (the Go build cache makes it quick)."""
    env = {"PODLIFE_CACHE": str(tmp_path / "cache")}
    go_work_before = set(Path("/tmp").glob("go-build*"))
    # An empty Go build cache makes sure Go is really compiling when the interrupt comes.
    cold = {**os.environ, **env, "GOCACHE": str(tmp_path / "gocache")}
    proc = subprocess.Popen([sys.executable, "-m", "podlife.cli", "build", "--version",
                             versions.DEFAULT_VERSION], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=cold)
    log = tmp_path / "cache" / "work" / f"kubernetes-v{versions.DEFAULT_VERSION}" / "build.log"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and (not log.exists() or log.read_text().count(
            "\n") < 3):
        time.sleep(0.1)  # polling for the observed moment: Go is compiling
    assert log.exists() and proc.poll() is None, "the build never started compiling"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert processes_working_in(tmp_path) == [], "a compiler outlived the interrupted build"
    assert not list((tmp_path / "cache" / "bin").glob(".*partial*")), "a partial entry was left"
    # go, stopped with SIGKILL, cannot remove its work dir: it is podlife's (GOTMPDIR).
    assert set(Path("/tmp").glob("go-build*")) <= go_work_before, "go left its work dir in /tmp"
    again = podlife("build", "--version", versions.DEFAULT_VERSION, env=env, timeout=1800)
    assert again.returncode == 0, again.stderr
    kubelet = tmp_path / "cache" / "bin" / f"kubernetes-v{versions.DEFAULT_VERSION}" / "kubelet"
    assert kubelet.exists()
    # What a CI job carries between runs: each entry's key, size and place, then the sum.
    entry = re.search(rf"^cache entry kubernetes-v{re.escape(versions.DEFAULT_VERSION)}: "
                      r"(\d+) MiB, (\S+) ", again.stdout, re.MULTILINE)
    assert entry and int(entry[1]) > 100 and Path(entry[2]) == kubelet.parent, again.stdout
    assert re.search(r"4 cache entries, \d+ MiB under ", again.stdout), again.stdout


def test_a_full_disk_is_named_with_its_fix() -> None:
    """etcd dies on a state dir with no room: `up` says so in one line, with the fix, not
    with the last frame of etcd's stack dump, and leaves no process behind."""
    import tempfile

    state = tempfile.mkdtemp(prefix="pl-df-")
    script = ('mount --make-rprivate / && mount -t tmpfs -o size=256k tmpfs "$1" && '
              'PODLIFE_STATE="$1" "$2" -m podlife.cli cluster up --name df')
    try:
        result = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", state,
                                 sys.executable], capture_output=True, text=True, timeout=300)
        assert result.returncode == 2, result
        errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
        assert len(errors) == 1, result.stderr
        # etcd may fill it first, or podlife writing a pid file: either way, one line.
        assert "no space left on device" in errors[0].lower() and "df -h" in errors[0], (
            errors[0])
        assert ".go:" not in errors[0], errors[0]
        left = subprocess.run(["pgrep", "-f", state], capture_output=True, text=True).stdout
        assert not left.strip(), f"processes left behind: {left}"
    finally:
        os.rmdir(state)


def test_sigterm_during_run_stops_the_checks_and_removes_the_runs_cluster(
        tmp_path: Path) -> None:
    """`kill -TERM` of `podlife run` while checks run on the cluster it booted: pytest is
    interrupted as by Ctrl-C, the cluster is removed, exit 130, no process left."""
    run_id = "sigrun01"
    name = f"t{run_id[:8]}"  # podlife.cluster.providers.run_cluster_name
    results = tmp_path / "results.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "podlife.cli", "run", "--results", str(results), "--quiet",
         "--no-render", "-k", "native_sidecars"], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env={**os.environ, "PODLIFE_RUN_ID": run_id})
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not checks_running(name):
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.2)  # polling for the observed moment to interrupt, not a fixed wait
        assert checks_running(name), "no check ever started on the run's cluster"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err, err
    assert leftovers(name) == []
    left = subprocess.run(["pgrep", "-f", str(results)], capture_output=True, text=True)
    assert not left.stdout.strip(), f"pytest processes left: {left.stdout}"


def checks_running(name: str) -> bool:
    """A check's namespace exists on the local cluster `name` (so checks are under way)."""
    try:
        info = ClusterInfo.load(name)
        if not info.booted_at:
            return False
        core = k8s.CoreV1Api(api_client(info.kubeconfig))
        return bool(core.list_namespace(
            label_selector="app.kubernetes.io/managed-by=podlife").items)
    except Exception:  # not booted yet, or its API not answering yet
        return False
