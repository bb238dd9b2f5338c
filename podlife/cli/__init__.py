"""The `podlife` command: build, clusters, runs, reports.

Every user-fixable failure is a PodlifeError, printed as one line with its fix and a
non-zero exit; Ctrl-C exits 130 after the command has cleaned up after itself.
Each subcommand lives beside its siblings in this package and registers itself here.
"""

from __future__ import annotations

import argparse
import sys

from podlife.cli import cluster, reports, selftest, suite
from podlife.errors import PodlifeError


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="podlife", description=__doc__.splitlines()[0])
    sub = top.add_subparsers(dest="command", required=True)
    cluster.register(sub)
    suite.register(sub)
    reports.register(sub)
    selftest.register(sub)
    return top


def split_arguments(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    """podlife's own arguments, and those for pytest (after an optional `--`)."""
    args, extra = parser().parse_known_args(argv)
    if extra and not getattr(args, "passthrough", False):
        parser().parse_args(argv)  # reports the unknown arguments and exits 2
    # argparse keeps the `--` that ends podlife's own options; pytest would read what
    # follows it as file names.
    return args, extra[1:] if extra[:1] == ["--"] else extra


def main(argv: list[str] | None = None) -> int:
    args, extra = split_arguments(argv)
    passthrough = getattr(args, "passthrough", False)
    try:
        if passthrough:
            return int(args.func(args, extra) or 0)
        return int(args.func(args) or 0)
    except PodlifeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: everything started was stopped", file=sys.stderr)
        return 130
