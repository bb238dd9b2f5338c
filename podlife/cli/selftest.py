"""`podlife selftest`: every mutant cluster must fail some check, and a healthy one none."""

from __future__ import annotations

import argparse

from podlife.cli.output import add_reports_dir_option, build_progress, console, step_printer
from podlife.core import argtypes, versions


def run_oracles() -> tuple[str, ...]:
    from podlife.run.selftest.run import ORACLES

    return ORACLES

#: Providers that boot clusters of their own (an existing cluster cannot be soaked fresh).
SOAK_PROVIDERS = ("local", "kind")


def cmd_selftest(args: argparse.Namespace, extra: list[str]) -> int:
    from podlife.cluster.local.preflight import preflight
    from podlife.run.selftest import mutants, prove, run

    version = versions.resolve(None)
    chosen = mutants.find(args.mutant)
    if args.prove:
        return prove.prove_all(chosen, version, step=step_printer())
    from podlife.cluster.local.workers import check_count

    check_count(args.worker_nodes, "--worker-nodes")
    preflight()
    results = []
    with build_progress() as progress:
        for mutant in chosen:
            results.append(run.run_mutant(mutant, version, workers=args.workers,
                                          pytest_args=extra, step=step_printer(),
                                          progress=progress, oracle=args.oracle,
                                          explore_budget_s=args.explore_budget,
                                          worker_nodes=args.worker_nodes))
    out = run.write_report(results)
    for result in results:
        verdict = (f"[green]caught[/green] by {len(result.caught_by)}" if result.caught
                   else "[red]NOT CAUGHT[/red]")
        explored = f", {result.explored} pods explored" if result.explored else ""
        console.print(f"{result.mutant}: {verdict} ({result.passed} passed{explored}; build "
                      f"{result.build_s}s, suite {result.suite_s}s)", markup=True)
        for key in result.caught_by:
            console.print(f"    {key}: {result.reasons[key]}", markup=False)
    console.print(f"selftest report: {out}")
    return 0 if all(r.caught for r in results) else 1


def cmd_soak(args: argparse.Namespace, extra: list[str]) -> int:
    from podlife.run.soak import soak

    if args.runs < 0 or args.fresh_runs < 0 or args.runs + args.fresh_runs == 0:
        from podlife.core.errors import PodlifeError

        raise PodlifeError(f"--runs {args.runs} and --fresh-runs {args.fresh_runs} ask for "
                           "no run", "give --runs N (N >= 1), --fresh-runs M, or both")
    from podlife.cluster import options, registry

    opts = options.ProviderOptions(provider=args.provider, kube_version=args.kube_version)
    registry.get(args.provider).preflight(opts, build_progress)  # builds what booting needs
    version = versions.resolve(opts.kube_version)
    report, out = soak(version, runs=args.runs, fresh=args.fresh_runs, workers=args.workers,
                       pytest_args=extra, step=step_printer(), provider=args.provider)
    total = args.runs + args.fresh_runs
    flaky = report.flaky
    console.print(f"soak of {version} ({args.provider}): {total} runs ({args.runs} on one cluster, "
                  f"{args.fresh_runs} on fresh ones) in {report.seconds:.0f}s; "
                  f"{len(report.checks)} checks; {len(flaky)} did not always pass")
    for rate in flaky:
        console.print(f"  {rate.check}: {rate.not_passed}/{rate.runs} "
                      f"({rate.rate:.0%}): {rate.reasons[0]}", markup=False)
    console.print(f"soak report: {out}")
    return 1 if flaky else 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `selftest` and `soak` to the top parser."""
    s = sub.add_parser("selftest", help="run the suite on clusters built with patches that "
                       "break one behaviour each; every one must be caught "
                       "(extra arguments go to pytest)")
    s.add_argument("--mutant", action="append", default=None, metavar="NAME",
                   help="only this mutant (repeatable; default: every mutant in "
                        "podlife/run/selftest/mutants/)")
    s.add_argument("--workers", type=int, default=4,
                   help="pytest-xdist workers per suite run (default: 4)")
    s.add_argument("--worker-nodes", type=int, default=0, metavar="N",
                   help="boot each mutant's cluster with N worker nodes, so the multi-node "
                        "checks run (default: 0, one node)")
    s.add_argument("--oracle", choices=run_oracles(), default="all",
                   help="what may catch the mutants: all (the suite, judged by the model), "
                        "model (the model alone: the generated pods, then exploring), hand "
                        "(the hand-written checks alone, the model off) (default: all)")
    s.add_argument("--explore-budget", type=argtypes.duration_or_zero, default="10m",
                   metavar="DURATION", help="with --oracle model: how long to explore when "
                   "the fixed generated pods did not catch it; 0 for none (default: 10m)")
    s.add_argument("--prove", action="store_true",
                   help="instead of clusters, run the upstream unit tests of each patched "
                        "package with and without the patch (default: off)")
    s.set_defaults(func=cmd_selftest, passthrough=True)

    k = sub.add_parser("soak", help="run the suite many times on a healthy cluster and "
                       "report each check's failure rate (extra arguments go to pytest)")
    k.add_argument("--runs", type=int, default=20,
                   help="runs on one cluster booted for the soak (default: 20)")
    k.add_argument("--fresh-runs", type=int, default=2,
                   help="further runs, each on a cluster booted for it (default: 2)")
    k.add_argument("--kube-version", default=None, metavar="VERSION",
                   help="the release to soak (default: the default release)")
    k.add_argument("--provider", choices=SOAK_PROVIDERS, default="local",
                   help="boot the soak's clusters locally or with kind (default: local)")
    k.add_argument("--workers", type=int, default=4,
                   help="pytest-xdist workers per run (default: 4)")
    add_reports_dir_option(k)
    k.set_defaults(func=cmd_soak, passthrough=True)
