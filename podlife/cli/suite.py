"""`podlife run`, `podlife matrix` and `podlife upgrade`: the conformance suite on clusters.

The cluster options come from podlife.cluster.options, the same declaration pytest registers, so
`podlife run --X` and `pytest --X` mean the same thing.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from podlife.cli.output import (
    add_allow_option,
    add_reports_dir_option,
    build_progress,
    console,
    step_printer,
)
from podlife.cluster import options, registry
from podlife.core import argtypes, skew, versions
from podlife.run.runner import MATRIX_PARALLEL, MATRIX_WORKERS

RUN_WORKERS = 4
UPGRADE_NAME = "upgrade"


def cmd_run(args: argparse.Namespace, extra: list[str]) -> int:
    from podlife.run.runner import render_all, run_suite

    opts = options.ProviderOptions.from_namespace(args)
    # The provider refuses what it cannot honour, checks its cluster and builds what the
    # boot needs, before any check runs (one line and exit 2 on a problem).
    label = registry.get(opts.provider).preflight(opts, build_progress)
    outcome = run_suite(options.pytest_args(opts) + extra, label=label, workers=args.workers,
                        quiet=args.quiet, results=Path(args.results) if args.results else None)
    report = render_all() if not args.no_render else None
    print_run_summary(outcome.results, report)
    return outcome.exit_code


def print_run_summary(results: Path, report: Path | None) -> None:
    """The run's verdicts in a few lines on stdout, so they end every terminal and CI log."""
    from podlife.results.report.summary import run_summary
    from podlife.results.results_file import load_run

    if not results.exists():
        print(f"podlife: the run wrote no results; its output is in {results.parent}")
        return
    import sys

    from podlife.results.report import ci

    run = load_run(results)
    print(run_summary(run, results=str(results), report=str(report) if report else ""))
    ci.publish_runs([run], str(report or results), stream=sys.stdout)


def cmd_matrix(args: argparse.Namespace, extra: list[str]) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.progress import TimeRemainingColumn as Eta

    from podlife.cluster.local.preflight import preflight
    from podlife.run.runner import RunOutcome, build_versions, render_all, run_matrix

    preflight()
    wanted = [skew.parse_target(v) for v in args.versions.split(",")]
    started = time.monotonic()
    with build_progress() as progress:
        build_versions(sorted({v for t in wanted for v in (t.apiserver, t.node)}), progress)
    failed = False
    with Progress(TextColumn("[bold]matrix"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), Eta(), console=Console(stderr=True)) as bar:
        task = bar.add_task("matrix", total=len(wanted))

        def done(outcome: RunOutcome) -> None:
            nonlocal failed
            failed |= outcome.exit_code != 0
            bar.console.print(f"{outcome.version}: exit {outcome.exit_code}, "
                              f"{outcome.counts()}, {outcome.seconds:.0f}s")
            if outcome.exit_code != 0:
                bar.console.print(f"  its output: {outcome.results.parent / 'run.log'}")
            bar.advance(task)

        run_matrix(wanted, parallel=args.parallel, workers=args.workers,
                   extra=options.matrix_args(args) + extra, on_done=done)
    out = render_all()
    console.print(f"matrix of {len(wanted)} versions in {time.monotonic() - started:.0f}s: {out}")
    return 1 if failed else 0


def cmd_upgrade(args: argparse.Namespace) -> int:
    from podlife.cluster.local.control_planes import check_count as check_control_planes
    from podlife.cluster.local.preflight import preflight
    from podlife.cluster.local.workers import check_count
    from podlife.results.report.compare import parse_allowed
    from podlife.results.report.upgrade import format_text, write_reports
    from podlife.run.runner import build_versions, render_all
    from podlife.run.upgrade_chain import run_chain

    from_v, to_v = versions.resolve(args.from_version), versions.resolve(args.to_version)
    hops = skew.hops(from_v, to_v, skip_minors=args.skip_minors)  # refused here, in one line
    check_count(args.worker_nodes, "--worker-nodes")
    check_control_planes(args.control_planes)
    allow = parse_allowed(args.allow)
    preflight()
    with build_progress() as progress:
        build_versions([from_v, *hops], progress)
    report = run_chain(from_v, to_v, name=args.name, workers=args.workers, step=step_printer(),
                       allow=allow, skip_minors=args.skip_minors,
                       suite_args=["-k", args.k] if args.k else [], timeout=args.timeout,
                       drain=not args.no_drain, worker_nodes=args.worker_nodes,
                       control_planes=args.control_planes)
    report.hazards_allowed = args.allow_hazards
    written = write_reports(report)
    render_all()  # the matrix gains the skew-window columns and their hazards
    print(format_text(report), end="")
    print(f"upgrade report: {written['html']} (also {written['json'].name}, "
          f"{written['txt'].name})")
    return 0 if report.ok else 1


def _add_workers(parser: argparse.ArgumentParser, default: int, what: str) -> None:
    parser.add_argument("--workers", type=int, default=default,
                        help=f"pytest-xdist workers {what} (default: {default})")


def register(sub: argparse._SubParsersAction) -> None:
    """Add `run`, `matrix` and `upgrade` to the top parser."""
    run = sub.add_parser("run", help="run the conformance suite on one cluster "
                         "(extra arguments go to pytest)")
    options.add_to_argparse(run, registry.names())
    _add_workers(run, RUN_WORKERS, "running the checks")
    run.add_argument("--results", default=None, metavar="PATH",
                     help="write the results file here, pytest's log and evidence beside it "
                          "(default: results.json in a new directory under ./reports/runs/)")
    add_reports_dir_option(run)
    run.add_argument("--no-render", action="store_true",
                     help="do not re-render the reports afterwards (default: off, they are)")
    run.add_argument("--quiet", action="store_true",
                     help="do not echo pytest's output; it is still saved beside the results "
                          "(default: off)")
    run.set_defaults(func=cmd_run, passthrough=True)

    default_versions = ",".join(versions.MATRIX_VERSIONS)
    m = sub.add_parser("matrix", help="the suite on several versions, merged into one matrix "
                       "(extra arguments go to pytest)")
    m.add_argument("--versions", default=default_versions, metavar="V,V,...",
                   help="the versions to run, comma-separated; 1.33/kubelet-1.30 boots a "
                   "1.33 control plane with 1.30 kubelets (a column of its own) "
                   f"(default: {default_versions})")
    m.add_argument("--parallel", type=int, default=MATRIX_PARALLEL,
                   help=f"local clusters at a time (default: {MATRIX_PARALLEL})")
    _add_workers(m, MATRIX_WORKERS, "per version")
    add_reports_dir_option(m)
    options.add_to_argparse(m, registry.names(), matrix=True)
    m.set_defaults(func=cmd_matrix, passthrough=True)

    up = sub.add_parser("upgrade", help="validate an in-place upgrade of a local cluster, "
                        "hop by hop (control plane, suite, node, suite per minor)")
    up.add_argument("--from", dest="from_version", required=True, metavar="VERSION",
                    help="the older release to boot first (required, no default)")
    up.add_argument("--to", dest="to_version", required=True, metavar="VERSION",
                    help="the newer release to upgrade to (required, no default)")
    up.add_argument("--name", default=UPGRADE_NAME,
                    help=f"the local cluster's name (default: {UPGRADE_NAME})")
    _add_workers(up, RUN_WORKERS, "running the checks in each window")
    up.add_argument("--skip-minors", action="store_true",
                    help="upgrade the control plane straight to --to, skipping minors (not "
                    "supported by Kubernetes' skew policy; default: off, one minor per hop)")
    up.add_argument("--no-drain", action="store_true",
                    help="swap the kubelet under running containers instead of draining the "
                    "node first (not supported upstream across minors: the 1.31 kubelet "
                    "restarts every container; default: off, the node is drained)")
    up.add_argument("--worker-nodes", type=int, default=0, metavar="N",
                    help="worker nodes beside the control plane's node, 0-5; each is drained "
                    "and upgraded in turn while probers measure availability (default: 0)")
    up.add_argument("--control-planes", type=int, default=1, metavar="M",
                    help="control-plane instances, 1 or 3; upgraded one at a time behind "
                    "the balanced API address (default: 1)")
    up.add_argument("--allow-hazards", action="store_true",
                    help="report checks that fail only in a skew window (hazards) without "
                    "failing the run, once you know them (default: off, a hazard exits 1)")
    up.add_argument("-k", default=None, metavar="EXPR",
                    help="only the checks pytest -k EXPR selects, in every window, e.g. "
                    "'sidecar' (default: every check)")
    up.add_argument("--timeout", type=argtypes.seconds, default=300.0, metavar="SECONDS",
                    help="per boot and upgrade step (default: 300)")
    add_allow_option(up)
    add_reports_dir_option(up)
    up.set_defaults(func=cmd_upgrade)
