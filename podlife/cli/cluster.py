"""`podlife build` and `podlife cluster ...`: the cached components and local clusters."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from podlife.cli.output import (
    add_output_option,
    build_progress,
    console,
    print_json,
    step_printer,
)
from podlife.core import argtypes, versions
from podlife.core.errors import PodlifeError

DEFAULT_NAME = "podlife"
DEFAULT_BOOT_TIMEOUT = 180.0


def cmd_build(args: argparse.Namespace) -> int:
    from podlife.cluster import build

    version = versions.resolve(args.version)
    from podlife.cluster.binary_cache import BinaryCache

    cache = BinaryCache()
    specs = [build.kubernetes_build(version), *build.support_builds()]
    total = 0
    with build_progress() as progress:
        for spec in specs:
            started = time.monotonic()
            entry = build.build(spec, cache=cache, progress=progress, force=args.force)
            size = cache.size(spec.key)
            total += size
            print(f"cache entry {spec.key}: {_mib(size)} MiB, {entry} "
                  f"({time.monotonic() - started:.1f}s)", flush=True)
    # On stdout, as the command's result: what a CI job should carry between runs.
    print(f"{version}: {len(specs)} cache entries, {_mib(total)} MiB under {cache.root}; "
          "carry them between CI jobs (README, 'Caching in CI')", flush=True)
    return 0


def _mib(size: int) -> int:
    return round(size / 2**20)


def cmd_up(args: argparse.Namespace) -> int:
    from podlife.cluster.local.control_planes import check_count as check_control_planes
    from podlife.cluster.local.preflight import preflight, validate_port
    from podlife.cluster.local.workers import check_count

    check_control_planes(args.control_planes)
    check_count(args.workers)
    node_versions = ([versions.resolve(v) for v in args.node_versions.split(",")]
                     if args.node_versions else None)
    if node_versions and args.workers in (0, len(node_versions)):
        args.workers = len(node_versions)  # --node-versions alone says how many
    elif node_versions:
        raise PodlifeError(f"--workers {args.workers} but --node-versions names "
                           f"{len(node_versions)} releases",
                           "give one release per worker node, or drop --workers")
    check_count(args.workers)
    validate_port(args.api_port)
    preflight()
    from podlife.cluster.local.cluster import LocalCluster, parse_gates

    version = versions.resolve(args.version)
    kubelet = versions.resolve(args.kubelet_version) if args.kubelet_version else None
    if args.kube_bin_dir:
        # Official binaries say which release they are; that, not --version, configures them.
        from podlife.cluster.kube_source import kube_binaries_from_dir

        _, reported = kube_binaries_from_dir(Path(args.kube_bin_dir))
        version = versions.KubeVersion.parse(reported)
    from podlife.cluster.local.gates import COMPONENTS, parse_component_gates

    gates = parse_gates(args.feature_gates)
    component_gates = parse_component_gates(
        {short: getattr(args, _gates_dest(short)) for short in COMPONENTS})
    cluster = LocalCluster(args.name)
    with build_progress() as progress:
        info = cluster.up(version, api_port=args.api_port, gates=gates,
                          kube_bin_dir=Path(args.kube_bin_dir) if args.kube_bin_dir else None,
                          step=step_printer(), progress=progress, timeout=args.timeout,
                          component_gates=component_gates,
                          allow_privileged=args.allow_privileged, kubelet_version=kubelet,
                          workers=args.workers, worker_versions=node_versions,
                          control_planes=args.control_planes)
    mixed = f", kubelet {info.node_version}" if info.node_version != info.version else ""
    shape = f", {len(info.workers)} worker node(s)" if info.workers else ""
    console.print(f"[green]cluster '{info.name}' ({info.version}{mixed}{shape}) is up in "
                  f"{info.boot_seconds:.1f}s[/green]")
    found = [d["id"] for d in info.host_deviations or []]
    console.print(f"host deviations: {', '.join(found) or 'none'} "
                  "(what each changes: README, Host deviations)", markup=False)
    print(info.kubeconfig)
    return 0


def cmd_upgrade(args: argparse.Namespace) -> int:
    """One step of an in-place upgrade: the control plane, the node, or both (in order)."""
    from podlife.cluster.local.cluster import ClusterInfo, LocalCluster

    version = versions.resolve(args.version)
    info = ClusterInfo.load(args.name)
    cluster = LocalCluster(args.name)
    seconds = 0.0
    with build_progress() as progress:
        if args.part in ("control-plane", "all") and info.version != version.tag:
            seconds += cluster.upgrade_control_plane(
                version, step=step_printer(), progress=progress, timeout=args.timeout,
                skip_minors=args.skip_minors)
        if args.part in ("node", "all"):
            seconds += cluster.upgrade_node(version, step=step_printer(), progress=progress,
                                            timeout=args.timeout)
    info = ClusterInfo.load(args.name)
    console.print(f"[green]cluster '{info.name}': control plane {info.version}, kubelet "
                  f"{info.node_version} ({seconds:.1f}s)[/green]")
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    from podlife.cluster.local.cluster import LocalCluster
    from podlife.cluster.local.host import restore_stale

    cluster = LocalCluster(args.name)
    restore_stale()  # a killed `up` of any cluster may have left the kubelet's sysctls
    if not cluster.made_by_podlife():
        if cluster.cgroups.exists():
            raise cluster.foreign_cgroup()
        console.print(f"no local cluster named '{args.name}': nothing to do", markup=False)
        return 0
    started = time.monotonic()
    cluster.down()  # main() turns SIGTERM into KeyboardInterrupt; a second one is ignored
    console.print(f"cluster '{args.name}' removed in {time.monotonic() - started:.1f}s")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from podlife.cluster.local.host import restore_stale
    from podlife.cluster.local.status import cluster_states

    restore_stale()  # a killed `up` may have left the kubelet's sysctls on the host
    rows = cluster_states()
    if args.output == "json":
        print_json([asdict(row) for row in rows])
        return 0
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table("name", "version", "nodes", "api", "health", "feature gates",
                  "host deviations", "kubeconfig")
    for row in rows:
        table.add_row(*(Text(cell) for cell in (row.name, row.version, row.nodes,
                                                 row.server, row.health, row.feature_gates,
                                                 row.host_deviations,
                                                 row.kubeconfig)))
    Console().print(table)
    return 0


def cmd_kubeconfig(args: argparse.Namespace) -> int:
    from podlife.cluster.local.cluster import ClusterInfo

    print(ClusterInfo.load(args.name).kubeconfig)
    return 0


def cmd_logs(args: argparse.Namespace) -> int:
    from podlife.cluster.local.cluster import ClusterInfo
    from podlife.cluster.local.components import LOG_NAMES

    if args.component not in LOG_NAMES:
        raise PodlifeError(f"'{args.component}' is not a component of a local cluster",
                           f"use one of {', '.join(LOG_NAMES)}")
    info = ClusterInfo.load(args.name)
    log = Path(info.state_dir) / "logs" / f"{args.component}.log"
    if not log.exists():
        raise PodlifeError(f"cluster '{args.name}' has no {args.component} log (yet)",
                           "it has not started that component; see 'podlife cluster status'")
    sys.stdout.write(log.read_text(errors="replace"))
    return 0


def _gates_dest(short: str) -> str:
    return f"{short.replace('-', '_')}_feature_gates"


def _add_gates(parser: argparse.ArgumentParser) -> None:
    """--feature-gates for every component, and one flag per component merged over it."""
    from podlife.cluster.local.gates import COMPONENTS

    parser.add_argument("--feature-gates", default=None, metavar="K=V,...",
                        help="feature gates for every component (default: the release's own)")
    for short, component in COMPONENTS.items():
        parser.add_argument(f"--{short}-feature-gates", dest=_gates_dest(short), default=None,
                            metavar="K=V,...",
                            help=f"feature gates of {component} only, over --feature-gates "
                            "(default: none of its own)")


def _add_name(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", default=DEFAULT_NAME,
                        help=f"the local cluster's name (default: {DEFAULT_NAME})")


def register(sub: argparse._SubParsersAction) -> None:
    """Add `build` and `cluster` (up, down, status, kubeconfig, logs, verify) to the top parser."""
    b = sub.add_parser("build", help="build a Kubernetes release's components into the cache")
    b.add_argument("--version", default=None, help="Kubernetes release, e.g. 1.33 or 1.33.5 "
                   f"(default: {versions.DEFAULT_VERSION})")
    b.add_argument("--force", action="store_true",
                   help="rebuild even if cached (default: off, cached builds are reused)")
    b.set_defaults(func=cmd_build)

    c = sub.add_parser("cluster", help="local clusters")
    csub = c.add_subparsers(dest="action", required=True)
    up = csub.add_parser("up", help="boot a local cluster")
    _add_name(up)
    up.add_argument("--version", default=None, help="Kubernetes release, e.g. 1.33 or 1.33.5 "
                    f"(default: {versions.DEFAULT_VERSION})")
    up.add_argument("--kubelet-version", default=None, metavar="VERSION",
                    help="run the kubelet and kube-proxy of this release, e.g. 1.30 under a "
                    "1.33 control plane (default: --version); the skew policy decides which")
    _add_gates(up)
    up.add_argument("--api-port", type=int, default=None,
                    help="host loopback port of the API server (default: a free port)")
    up.add_argument("--kube-bin-dir", default=None, metavar="DIR",
                    help="official release binaries to use (default: podlife's own build)")
    up.add_argument("--timeout", type=argtypes.seconds, default=DEFAULT_BOOT_TIMEOUT,
                    metavar="SECONDS",
                    help=f"give up booting after this long (default: {DEFAULT_BOOT_TIMEOUT:.0f})")
    up.add_argument("--workers", type=int, default=0, metavar="N",
                    help="worker nodes beside the control plane's node, 0-5, each with its "
                         "own namespaces, containerd, kubelet and kube-proxy (default: 0, "
                         "one node)")
    up.add_argument("--control-planes", type=int, default=1, metavar="M",
                    help="control-plane instances, 1 or 3: with 3, etcd has three members, "
                         "three API servers sit behind one address that fails over, the "
                         "controllers elect leaders (default: 1)")
    up.add_argument("--node-versions", default=None, metavar="V,V,...",
                    help="each worker node's kubelet and kube-proxy release, e.g. 1.36,1.37 "
                         "(one per worker; within the skew policy of --version; default: "
                         "every node runs the control plane node's release)")
    up.add_argument("--allow-privileged", action="store_true",
                    help="let pods be privileged or use host namespaces and paths (default: "
                    "off, PodSecurity 'baseline' is enforced on every namespace)")
    up.set_defaults(func=cmd_up)

    upg = csub.add_parser("upgrade", help="upgrade a running local cluster in place: the "
                          "control plane, then the node (the skew policy decides what is "
                          "allowed)")
    _add_name(upg)
    upg.add_argument("--version", required=True,
                     help="the release to move to (required, no default)")
    upg.add_argument("--part", choices=("all", "control-plane", "node"), default="all",
                     help="upgrade only the control plane (leaving the cluster in the skew "
                     "window), only the node, or both in order (default: all)")
    upg.add_argument("--skip-minors", action="store_true",
                     help="let the control plane skip minors (default: off, one at a time)")
    upg.add_argument("--timeout", type=argtypes.seconds, default=DEFAULT_BOOT_TIMEOUT,
                     metavar="SECONDS",
                     help=f"per step (default: {DEFAULT_BOOT_TIMEOUT:.0f})")
    upg.set_defaults(func=cmd_upgrade)

    down = csub.add_parser("down", help="stop a local cluster and remove all its state")
    _add_name(down)
    down.set_defaults(func=cmd_down)
    status = csub.add_parser("status", help="list local clusters")
    add_output_option(status)
    status.set_defaults(func=cmd_status)
    kc = csub.add_parser("kubeconfig", help="print a cluster's kubeconfig path")
    _add_name(kc)
    kc.set_defaults(func=cmd_kubeconfig)
    logs = csub.add_parser("logs", help="print a component's log")
    logs.add_argument("name", help="the local cluster's name")
    logs.add_argument("component", help="e.g. kubelet (a wrong name lists the known ones)")
    logs.set_defaults(func=cmd_logs)
    from podlife.cli.verify import add_verify

    add_verify(csub, DEFAULT_NAME)
