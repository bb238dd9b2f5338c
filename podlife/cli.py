"""The `podlife` command: build, clusters, runs, reports.

Every user-fixable failure is a PodlifeError, printed as one line with its fix and a
non-zero exit; Ctrl-C exits 130 after the command has cleaned up after itself.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from podlife import versions
from podlife.errors import PodlifeError


class _Console:
    """rich's console, imported on first use: errors print even without rich."""

    def print(self, *args: object, **kwargs: object) -> None:
        from rich.console import Console

        Console(stderr=True).print(*args, **kwargs)


console = _Console()


@contextmanager
def build_progress() -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar with ETA per component while Go compiles (packages done / total)."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )


    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=False) as bar:
        tasks: dict[str, int] = {}

        def update(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(f"build {label}", total=total or None)
            bar.update(tasks[label], completed=done, total=total or None)

        yield update


def step_printer() -> Callable[[str], None]:
    started = time.monotonic()

    def step(message: str) -> None:
        console.print(f"[dim]{time.monotonic() - started:6.1f}s[/dim] {message}")

    return step


def cmd_build(args: argparse.Namespace) -> int:
    from podlife import build

    version = versions.resolve(args.version)
    specs = [build.kubernetes_build(version), *build.support_builds()]
    with build_progress() as progress:
        for spec in specs:
            started = time.monotonic()
            entry = build.build(spec, progress=progress, force=args.force)
            console.print(f"{spec.key}: {entry} ({time.monotonic() - started:.1f}s)")
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from podlife.local.preflight import preflight

    preflight()
    from podlife.local.cluster import LocalCluster, parse_gates

    version = versions.resolve(args.version)
    if args.kube_bin_dir:
        # Official binaries say which release they are; that, not --version, configures them.
        from podlife.build import kube_binaries_from_dir

        _, reported = kube_binaries_from_dir(Path(args.kube_bin_dir))
        version = versions.KubeVersion.parse(reported)
    gates = parse_gates(args.feature_gates)
    cluster = LocalCluster(args.name)
    with build_progress() as progress:
        info = cluster.up(version, api_port=args.api_port, gates=gates,
                          kube_bin_dir=Path(args.kube_bin_dir) if args.kube_bin_dir else None,
                          step=step_printer(), progress=progress, timeout=args.timeout)
    console.print(f"[green]cluster '{info.name}' ({info.version}) is up in "
                  f"{info.boot_seconds:.1f}s[/green]")
    print(info.kubeconfig)
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    from podlife import paths
    from podlife.local.cluster import LocalCluster

    cluster = LocalCluster(args.name)
    if not paths.cluster_dir(args.name).exists() and not cluster.cgroups.exists():
        console.print(f"no local cluster named '{args.name}': nothing to do")
        return 0
    started = time.monotonic()
    cluster.down()
    console.print(f"cluster '{args.name}' removed in {time.monotonic() - started:.1f}s")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from podlife.local.cluster import LocalCluster, list_clusters

    table = Table("name", "version", "api", "health", "kubeconfig")
    for info in list_clusters():
        health = LocalCluster(info.name).health()
        down = [name for name, ok in health.items() if not ok]
        table.add_row(info.name, info.version, info.server,
                      "healthy" if health and not down else f"down: {', '.join(down)}",
                      str(info.kubeconfig))
    Console().print(table)
    return 0


def cmd_kubeconfig(args: argparse.Namespace) -> int:
    from podlife.local.cluster import ClusterInfo

    print(ClusterInfo.load(args.name).kubeconfig)
    return 0


def cmd_logs(args: argparse.Namespace) -> int:
    from podlife.local.cluster import ClusterInfo

    info = ClusterInfo.load(args.name)
    log = Path(info.state_dir) / "logs" / f"{args.component}.log"
    if not log.exists():
        known = sorted(p.stem for p in log.parent.glob("*.log"))
        raise PodlifeError(f"no log for component '{args.component}'",
                           f"use one of {', '.join(known)}")
    sys.stdout.write(log.read_text(errors="replace"))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from podlife.report.cli import render_reports
    from podlife.runner import render_all

    if args.all:
        out = render_all(Path(args.out))
        if out is None:
            raise PodlifeError("no saved results under reports/runs/",
                               "run 'nox -s conformance' (or 'podlife run') first")
    elif args.results:
        out = render_reports([Path(f) for f in args.results], Path(args.out))
    else:
        raise PodlifeError("no results files given", "pass results.json files, or --all")
    console.print(f"report written: {out}")
    return 0


def _provider_args(args: argparse.Namespace) -> list[str]:
    """The pytest options that pick the cluster, from `podlife run`'s own flags."""
    out = ["--provider", args.provider]
    for flag, value in (("--kube-version", args.kube_version),
                        ("--reuse-cluster", args.reuse_cluster),
                        ("--kubeconfig", args.kubeconfig),
                        ("--feature-gates", args.feature_gates),
                        ("--image-registry", args.image_registry)):
        if value:
            out += [flag, value]
    if args.allow_node_changes:
        out.append("--allow-node-changes")
    return out


def cmd_run(args: argparse.Namespace, extra: list[str]) -> int:
    from podlife.runner import render_all, run_suite

    version = versions.resolve(args.kube_version) if args.provider != "kubeconfig" else None
    if args.provider == "local" and not args.reuse_cluster:
        from podlife.local.preflight import preflight

        preflight()
        assert version is not None
        args.kube_version = version.tag
        with build_progress() as progress:
            from podlife.runner import build_versions

            build_versions([version], progress)
    label = version.tag if version else "existing"
    outcome = run_suite(_provider_args(args) + extra, label=label, workers=args.workers,
                        quiet=args.quiet)
    print(f"results: {outcome.results}")
    if not args.no_render:
        out = render_all()
        if out:
            console.print(f"reports: {out}")
    return outcome.exit_code


def cmd_matrix(args: argparse.Namespace, extra: list[str]) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.progress import TimeRemainingColumn as Eta

    from podlife.local.preflight import preflight
    from podlife.runner import build_versions, render_all, run_matrix

    preflight()
    wanted = [versions.resolve(v) for v in args.versions.split(",")]
    started = time.monotonic()
    with build_progress() as progress:
        build_versions(wanted, progress)
    failed = False
    with Progress(TextColumn("[bold]matrix"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), Eta(), console=Console(stderr=True)) as bar:
        task = bar.add_task("matrix", total=len(wanted))

        def done(outcome, output: str) -> None:
            nonlocal failed
            failed |= outcome.exit_code != 0
            bar.console.print(f"{outcome.version}: exit {outcome.exit_code}, "
                              f"{outcome.counts()}, {outcome.seconds:.0f}s")
            bar.advance(task)

        run_matrix(wanted, parallel=args.parallel, workers=args.workers, extra=extra,
                   on_done=done)
    out = render_all()
    console.print(f"matrix of {len(wanted)} versions in {time.monotonic() - started:.0f}s: {out}")
    return 1 if failed else 0


def cmd_compare(args: argparse.Namespace) -> int:
    from podlife.report.cli import compare_files

    return compare_files(Path(args.before), Path(args.after))


def cmd_upgrade(args: argparse.Namespace) -> int:
    from podlife.local.preflight import preflight
    from podlife.upgrade import validate

    preflight()
    from_v, to_v = versions.resolve(args.from_version), versions.resolve(args.to_version)
    if not from_v < to_v:
        raise PodlifeError(f"--from {from_v} is not older than --to {to_v}",
                           "give the older release to --from and the newer to --to")
    with build_progress() as progress:
        from podlife.runner import build_versions

        build_versions([from_v, to_v], progress)
    report = validate(from_v, to_v, name=args.name, workers=args.workers, step=step_printer())
    console.print(f"upgrade {from_v} -> {to_v} took {report.upgrade_seconds}s; workloads "
                  f"{'survived' if report.survival.survived else 'DID NOT survive'}")
    for problem in report.survival.problems:
        console.print(f"  [red]{problem}[/red]")
    changed = report.changes.get("verdict_changes", [])
    console.print(f"checks whose verdict changed: {len(changed)}")
    for change in changed:
        console.print(f"  {change}")
    regressions = [c for c in changed if c.get("regression")]
    return 0 if report.survival.survived and not regressions else 1


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="podlife", description=__doc__.splitlines()[0])
    sub = top.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build", help="build a Kubernetes release's components into the cache")
    b.add_argument("--version", default=None, help=f"e.g. 1.33 or 1.33.5 "
                   f"(default {versions.DEFAULT_VERSION})")
    b.add_argument("--force", action="store_true", help="rebuild even if cached")
    b.set_defaults(func=cmd_build)

    c = sub.add_parser("cluster", help="local clusters")
    csub = c.add_subparsers(dest="action", required=True)
    up = csub.add_parser("up", help="boot a local cluster")
    up.add_argument("--name", default="podlife")
    up.add_argument("--version", default=None)
    up.add_argument("--feature-gates", default=None, help="K=V,... for every component")
    up.add_argument("--api-port", type=int, default=None, help="host loopback port")
    up.add_argument("--kube-bin-dir", default=None, help="official release binaries to use")
    up.add_argument("--timeout", type=float, default=180.0)
    up.set_defaults(func=cmd_up)
    down = csub.add_parser("down", help="stop a local cluster and remove all its state")
    down.add_argument("--name", default="podlife")
    down.set_defaults(func=cmd_down)
    status = csub.add_parser("status", help="list local clusters")
    status.set_defaults(func=cmd_status)
    kc = csub.add_parser("kubeconfig", help="print a cluster's kubeconfig path")
    kc.add_argument("--name", default="podlife")
    kc.set_defaults(func=cmd_kubeconfig)
    logs = csub.add_parser("logs", help="print a component's log")
    logs.add_argument("name")
    logs.add_argument("component")
    logs.set_defaults(func=cmd_logs)

    run = sub.add_parser("run", help="run the conformance suite on one cluster "
                         "(extra arguments go to pytest)")
    run.add_argument("--provider", default="local", choices=["local", "kind", "kubeconfig"])
    run.add_argument("--kube-version", default=None)
    run.add_argument("--reuse-cluster", default=None)
    run.add_argument("--kubeconfig", default=None)
    run.add_argument("--feature-gates", default=None)
    run.add_argument("--image-registry", default=None)
    run.add_argument("--allow-node-changes", action="store_true")
    run.add_argument("--workers", type=int, default=4, help="pytest-xdist workers")
    run.add_argument("--no-render", action="store_true", help=argparse.SUPPRESS)
    run.add_argument("--quiet", action="store_true", help=argparse.SUPPRESS)
    run.set_defaults(func=cmd_run, passthrough=True)

    m = sub.add_parser("matrix", help="the suite on several versions, merged into one matrix")
    m.add_argument("--versions", default=",".join(versions.MATRIX_VERSIONS))
    m.add_argument("--parallel", type=int, default=2, help="local clusters at a time")
    m.add_argument("--workers", type=int, default=3, help="pytest-xdist workers per version")
    m.set_defaults(func=cmd_matrix, passthrough=True)

    up_v = sub.add_parser("upgrade", help="validate an in-place upgrade of a local cluster")
    up_v.add_argument("--from", dest="from_version", required=True)
    up_v.add_argument("--to", dest="to_version", required=True)
    up_v.add_argument("--name", default="upgrade")
    up_v.add_argument("--workers", type=int, default=4)
    up_v.set_defaults(func=cmd_upgrade)

    r = sub.add_parser("report", help="merge result files into matrix.html/json and JUnit")
    r.add_argument("results", nargs="*")
    r.add_argument("--all", action="store_true", help="every run saved under reports/runs/")
    r.add_argument("--out", default="reports")
    r.set_defaults(func=cmd_report)
    cmp = sub.add_parser("compare", help="compare two runs (before/after an upgrade)")
    cmp.add_argument("before")
    cmp.add_argument("after")
    cmp.set_defaults(func=cmd_compare)
    return top


def main(argv: list[str] | None = None) -> int:
    args, extra = parser().parse_known_args(argv)
    if extra and not getattr(args, "passthrough", False):
        parser().parse_args(argv)  # reports the unknown arguments and exits 2
    try:
        if getattr(args, "passthrough", False):
            return int(args.func(args, extra) or 0)
        return int(args.func(args) or 0)
    except PodlifeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: everything started was stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
