"""The `podlife` command: build, clusters, runs, reports.

Every user-fixable failure is a PodlifeError, printed as one line with its fix and a
non-zero exit; Ctrl-C exits 130 after the command has cleaned up after itself.
Each subcommand lives beside its siblings in this package and registers itself here.
The exit codes are documented in the README ("Exit codes") and defined here.
"""

from __future__ import annotations

import argparse
import difflib
import errno
import os
import sys
import traceback
from pathlib import Path

from podlife.cli import cluster, explore, info, kind, progress, reports, selftest, suite
from podlife.core import paths
from podlife.core.errors import PodlifeError
from podlife.core.safe_text import one_line
from podlife.core.signals import interrupt_on_termination

EXIT_PASSED = 0  # every check passed (or was unsupported/skipped, with its reason)
EXIT_CHECK_FAILED = 1  # a check failed (or, for matrix/upgrade/compare, a regression)
EXIT_USAGE = 2  # bad arguments, or an environment or cluster podlife cannot use
EXIT_INTERNAL = 3  # a bug in podlife or pytest: the traceback says where
EXIT_INTERRUPTED = 130  # Ctrl-C, after cleaning up
#: Errors of a full or read-only disk: the user's to fix, so one line, not a traceback.
NO_ROOM = {errno.ENOSPC, errno.EDQUOT, errno.EROFS}


class WholeNamesParser(argparse.ArgumentParser):
    """A parser that takes options by their whole names only, as do the subcommands'
    (add_subparsers makes them of the same class): argparse's abbreviations let
    `podlife run --worker 2` quietly mean `--workers 2`, and a typo should be named."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)


def parser() -> argparse.ArgumentParser:
    top = WholeNamesParser(
        prog="podlife", description=__doc__.splitlines()[0],
        epilog="exit codes: 0 all checks passed, 1 a check failed, 2 usage or environment "
               "error, 3 internal error, 130 interrupted")
    sub = top.add_subparsers(dest="command", required=True)
    info.register(sub)
    cluster.register(sub)
    kind.register(sub)
    suite.register(sub)
    reports.register(sub)
    selftest.register(sub)
    explore.register(sub)
    _add_progress_option(top)
    return top


def _add_progress_option(parser: argparse.ArgumentParser) -> None:
    """--progress on every command (a leaf of the parser tree), so `podlife run --progress
    plain` works as nox passes it on; the choice reaches child processes by environment."""
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subparsers:
        parser.add_argument("--progress", choices=progress.MODES, default=None,
                            help="how long steps report: live bars (rich), lines with a "
                                 "heartbeat every 30 s for logs (plain), or none (default: "
                                 "rich on a terminal, plain otherwise)")
        return
    for action in subparsers:
        for child in set(action.choices.values()):
            _add_progress_option(child)


def command_options(command: str) -> list[str]:
    """The option strings one subcommand takes (`--reuse-cluster`, `-h`, ...)."""
    for action in parser()._actions:
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            return list(action.choices[command]._option_string_actions)
    return []


def misspelt_option(extra: list[str], known: list[str]) -> tuple[str, str] | None:
    """(given, meant) when an argument podlife passes on to pytest (before any `--`) is
    close to one of the command's own options: a typo would otherwise reach pytest and
    fail there with its whole usage."""
    before_dash = extra[:extra.index("--")] if "--" in extra else extra
    for token in before_dash:
        name = token.split("=", 1)[0]
        if name.startswith("--") and name not in known:
            close = difflib.get_close_matches(name, known, n=2, cutoff=0.75)
            if close:
                return name, " or ".join(sorted(close))
    return None


def split_arguments(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    """podlife's own arguments, and those for pytest (after an optional `--`)."""
    args, extra = parser().parse_known_args(argv)
    if extra and not getattr(args, "passthrough", False):
        parser().parse_args(argv)  # reports the unknown arguments and exits 2
    if extra and (typo := misspelt_option(extra, command_options(args.command))):
        print(f"error: podlife {args.command} has no option {typo[0]} (did you mean "
              f"{typo[1]}?). Fix: see `podlife {args.command} --help`; pytest's own "
              f"options go after `--`", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)
    # argparse keeps the `--` that ends podlife's own options; pytest would read what
    # follows it as file names.
    return args, extra[1:] if extra[:1] == ["--"] else extra


#: Commands that deal with clusters: each first releases the clusters of killed runs.
REAPING = {"cluster", "kind", "run", "matrix", "upgrade", "soak", "explore", "selftest"}


def reap_abandoned_runs() -> None:
    """A run killed with SIGKILL could not release its cluster (nor its API client's key
    files); do it now, saying so."""
    from podlife.cluster.kubeclient import reap_key_dirs
    from podlife.cluster.providers import reap_abandoned

    reap_key_dirs()

    for line in reap_abandoned():
        print(f"podlife: {line}", file=sys.stderr)


def internal_error() -> int:
    """Inside an except block: the traceback, then one line saying it is podlife's bug."""
    traceback.print_exc()
    print("internal error in podlife (the traceback above says where)", file=sys.stderr)
    return EXIT_INTERNAL


def main(argv: list[str] | None = None) -> int:
    args, extra = split_arguments(argv)
    if getattr(args, "progress", None):
        os.environ[progress.MODE_ENV] = args.progress  # matrix runs and pytest inherit it
    if getattr(args, "reports_dir", None):
        # Through the environment, so pytest and matrix runs started from here agree.
        os.environ[paths.REPORTS_ENV] = str(Path(args.reports_dir).absolute())
    passthrough = getattr(args, "passthrough", False)
    try:
        with interrupt_on_termination():  # a kill or a closed terminal cleans up like Ctrl-C
            if args.command in REAPING:
                reap_abandoned_runs()
            if passthrough:
                return int(args.func(args, extra) or 0)
            return int(args.func(args) or 0)
    except PodlifeError as exc:
        print(f"error: {one_line(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        if exc.errno not in NO_ROOM:
            return internal_error()
        print(f"error: {exc.strerror} writing {exc.filename or 'a file'}. Fix: free space "
              "there (df -h), or point PODLIFE_STATE, PODLIFE_CACHE or --reports-dir at a "
              "writable directory with room", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted: everything started was stopped", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception:  # not the user's to fix: show where, with a status scripts can tell apart
        return internal_error()
