"""`podlife report` and `podlife compare`: reports from saved results files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from podlife.cli.output import (
    add_allow_option,
    add_output_option,
    add_reports_dir_option,
    console,
)
from podlife.core import paths
from podlife.core.errors import PodlifeError

DEFAULT_OUT = "reports"


def cmd_report(args: argparse.Namespace) -> int:
    from podlife.results.report.cli import render_reports
    from podlife.run.runner import render_all, saved_results

    if args.all:
        out = render_all(Path(args.out) if args.out else None)
        if out is None:
            raise PodlifeError(f"no saved results under {paths.reports_dir() / 'runs'}",
                               "run 'podlife run' first, or pass --reports-dir")
        files = saved_results()
    elif args.results:
        files = [Path(f) for f in args.results]
        out = render_reports(files, Path(args.out or DEFAULT_OUT))
    else:
        raise PodlifeError("no results files given", "pass results.json files, or --all")
    from podlife.core.safe_text import one_line
    from podlife.results.report import ci
    from podlife.results.results_file import load_run

    console.print(f"report written: {one_line(str(out))}", markup=False)
    if ci.in_github_actions():
        ci.publish_runs([load_run(f) for f in files], str(out), stream=sys.stdout)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from podlife.results.report.cli import compare_files, compare_series

    if args.more:
        return compare_series([Path(f) for f in (args.before, args.after, *args.more)],
                              output=args.output, allow=args.allow)
    return compare_files(Path(args.before), Path(args.after), output=args.output,
                         allow=args.allow)


def register(sub: argparse._SubParsersAction) -> None:
    """Add `report` and `compare` to the top parser."""
    r = sub.add_parser("report", help="merge result files into matrix.html/json and JUnit")
    r.add_argument("results", nargs="*", help="results.json files to merge")
    r.add_argument("--all", action="store_true",
                   help="every run saved under the reports directory's runs/ (default: off, "
                        "only the files given)")
    r.add_argument("--out", default=None,
                   help="directory to write the reports into (default: the reports "
                        f"directory with --all, else ./{DEFAULT_OUT})")
    add_reports_dir_option(r)
    r.set_defaults(func=cmd_report)
    cmp = sub.add_parser("compare", help="compare two runs (before/after an upgrade), or more "
                         "(each with the one before, then first with last); exit 1 when a "
                         "check that passed does anything else now")
    cmp.add_argument("before", help="results.json of the earlier run")
    cmp.add_argument("after", help="results.json of the later run")
    cmp.add_argument("more", nargs="*", help="results.json of later runs still, in order "
                     "(e.g. after the control plane, then after the nodes)")
    add_allow_option(cmp)
    add_output_option(cmp)
    cmp.set_defaults(func=cmd_compare)
