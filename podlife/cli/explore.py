"""`podlife explore`: generated pods on a cluster, judged by podlife's model, until a
budget ends; a disagreement is shrunk to a minimal pod and saved as a manifest."""

from __future__ import annotations

import argparse
from pathlib import Path

from podlife.cli.output import add_reports_dir_option, build_progress
from podlife.cluster import options, registry
from podlife.core import argtypes, paths

DEFAULT_BUDGET = "10m"
DEFAULT_WORKERS = 4


def cmd_explore(args: argparse.Namespace, extra: list[str]) -> int:
    import os

    from podlife.cli.suite import print_run_summary
    from podlife.run.runner import run_suite

    opts = options.ProviderOptions.from_namespace(args)
    label = registry.get(opts.provider).preflight(opts, build_progress)
    out = paths.reports_dir() / "explore"
    os.environ["PODLIFE_EXPLORE_SHARDS"] = str(args.workers)
    os.environ["PODLIFE_EXPLORE_OUT"] = str(out)
    explore = ["--explore", "--explore-examples", str(args.examples),
               "--explore-seed", str(args.seed), "--explore-budget", str(args.budget)]
    outcome = run_suite(options.pytest_args(opts) + explore + extra,
                        label=f"explore-{label}", workers=args.workers, quiet=args.quiet)
    print_run_summary(outcome.results, None)
    saved = sorted(Path(out).glob("seed-*.yaml")) if out.exists() else []
    for path in saved:
        print(f"minimal disagreeing pod: {path}")
    return outcome.exit_code


def register(sub: argparse._SubParsersAction) -> None:
    e = sub.add_parser("explore", help="generated pods judged by podlife's model until a "
                       "budget ends (extra arguments go to pytest)")
    options.add_to_argparse(e, registry.names())
    e.add_argument("--examples", type=int, default=1000, metavar="N",
                   help="examples per worker at most (default: 1000; the budget ends first)")
    e.add_argument("--seed", type=int, default=0, metavar="S",
                   help="seed of the first worker's draws, S+1 the second's... (default: 0)")
    e.add_argument("--budget", type=argtypes.duration, default=DEFAULT_BUDGET,
                   metavar="DURATION", help=f"how long to explore, e.g. 90s, 10m "
                   f"(default: {DEFAULT_BUDGET})")
    e.add_argument("--workers", type=int, default=DEFAULT_WORKERS,
                   help=f"exploring workers, each with its own seed (default: "
                        f"{DEFAULT_WORKERS})")
    e.add_argument("--quiet", action="store_true",
                   help="do not echo pytest's output (default: off)")
    add_reports_dir_option(e)
    e.set_defaults(func=cmd_explore, passthrough=True)
