"""The `podlife cluster verify` subcommand (registered by podlife/cli/cluster.py)."""

from __future__ import annotations

import argparse

from podlife.core import argtypes

DEFAULT_SHARDS = 3
DEFAULT_TIMEOUT = 5400.0


def cmd_verify(args: argparse.Namespace) -> int:
    from rich.markup import escape

    from podlife.cli.output import build_progress, step_printer
    from podlife.run.verify.run import verify

    step = step_printer()

    def show(line: str) -> None:
        print(line, flush=True)

    return verify(args.name, args.specs, shards=args.shards, timeout_s=args.timeout,
                  say=lambda message: step(escape(message)), show=show,
                  progress_bar=build_progress)


def add_verify(csub: argparse._SubParsersAction, default_name: str) -> None:
    v = csub.add_parser("verify", help="run upstream's pod-lifecycle e2e specs on a local "
                        "cluster (builds e2e.test for its exact release)")
    v.add_argument("--name", default=default_name,
                   help=f"the local cluster's name (default: {default_name})")
    v.add_argument("--specs", choices=("full", "ci"), default="full",
                   help="which pinned list of podlife/run/verify/specs.yaml (default: full)")
    v.add_argument("--shards", type=int, default=DEFAULT_SHARDS, metavar="N",
                   help=f"e2e.test processes run side by side (default: {DEFAULT_SHARDS})")
    v.add_argument("--timeout", type=argtypes.seconds, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                   help=f"ginkgo's timeout for each process (default: {DEFAULT_TIMEOUT:.0f})")
    v.set_defaults(func=cmd_verify)
