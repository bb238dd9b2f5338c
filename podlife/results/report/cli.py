"""Entry points behind `podlife report` and `podlife compare`.

The main CLI parses arguments and prints PodlifeError; these functions do the work
and turn every bad input into a PodlifeError that says what to fix.
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from podlife.core.errors import PodlifeError
from podlife.core.safe_text import one_line
from podlife.results.matrix import Matrix, merge, verdict_counts
from podlife.results.model import RunResult
from podlife.results.report import ci
from podlife.results.report.compare import Comparison, compare, parse_allowed, print_comparison
from podlife.results.report.html import write_html
from podlife.results.report.junit import write_junit
from podlife.results.results_file import load_run


def render_reports(
    result_files: list[Path], out_dir: Path, *, console: Console | None = None
) -> Path:
    """Merge results files into matrix.html, matrix.json and junit-<version>.xml in out_dir.

    Returns the path of matrix.html. With a console, also prints a summary table.
    """
    if not result_files:
        raise PodlifeError(
            "no results files were given",
            "pass one or more files written by `pytest --podlife-results FILE`",
        )
    runs = [load_run(Path(path)) for path in result_files]
    matrix = merge(runs)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PodlifeError(
            f"cannot create the report directory {out_dir} ({exc.strerror})",
            "choose another --out directory",
        ) from exc
    (out_dir / "matrix.json").write_text(matrix.to_json(), encoding="utf-8")
    write_junit(matrix, out_dir)
    html = write_html(matrix, out_dir)
    if console is not None:
        print_summary(matrix, console)
        console.print(f"Report: {one_line(str(html))}", markup=False)
    return html


def print_summary(matrix: Matrix, console: Console) -> None:
    """Verdict counts per version, and which file each version came from."""
    table = Table(title="podlife matrix", title_justify="left")
    for name in ("version", "pass", "fail", "unsupported", "skipped", "error", "results file"):
        table.add_column(name, justify="left" if name in ("version", "results file") else "right")
    for column in matrix.columns:
        counts = verdict_counts(cell for _, cell in matrix.cells_of(column.version))
        fail = str(counts["fail"])
        table.add_row(
            Text(one_line(column.version)),
            str(counts["pass"]),
            f"[bold red]{fail}[/]" if counts["fail"] else fail,
            str(counts["unsupported"]),
            str(counts["skipped"]),
            str(counts["error"]),
            Text(one_line(column.source or "-")),
        )
    console.print(table)


def compare_files(
    before: Path,
    after: Path,
    *,
    json_out: Path | None = None,
    console: Console | None = None,
    output: str = "text",
    allow: list[str] | tuple[str, ...] = (),
) -> int:
    """Print what changed from `before` to `after`; 1 if any check that passed does
    anything else now, unless `allow` names that move (e.g. "pass-to-unsupported").

    With json_out, the comparison is also written there as JSON (for CI annotations);
    output="json" prints that JSON on stdout instead of the tables.
    """
    runs = [load_run(Path(before)), load_run(Path(after))]
    comparison = compare(*runs, allow=parse_allowed(allow))
    if output == "json":
        sys.stdout.write(comparison.to_json())
    else:
        print_comparison(comparison, console or Console())
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(comparison.to_json(), encoding="utf-8")
    _publish_comparisons([comparison], runs)
    return 1 if comparison.regressions else 0


def compare_series(
    files: list[Path],
    *,
    console: Console | None = None,
    output: str = "text",
    allow: list[str] | tuple[str, ...] = (),
) -> int:
    """Three or more runs of one cluster (e.g. before an upgrade, after its control plane,
    after its nodes): each run against the one before it, then the first against the last.
    1 if any of those has a regression."""
    runs = [load_run(Path(f)) for f in files]
    allowed = parse_allowed(allow)
    pairs = [*itertools.pairwise(runs), (runs[0], runs[-1])]
    comparisons = [compare(a, b, allow=allowed) for a, b in pairs]
    if output == "json":
        sys.stdout.write(json.dumps({"comparisons": [c.to_dict() for c in comparisons]},
                                    indent=2) + "\n")
    else:
        console = console or Console()
        for index, comparison in enumerate(comparisons):
            title = ("first -> last" if index == len(comparisons) - 1
                     else f"step {index + 1} of {len(comparisons) - 1}")
            console.rule(title)
            print_comparison(comparison, console)
    _publish_comparisons(comparisons, runs)
    return 1 if any(c.regressions for c in comparisons) else 0


def _publish_comparisons(comparisons: list[Comparison], runs: list[RunResult]) -> None:
    """In GitHub Actions: the comparison as a job summary, and an annotation per regression
    (on the later run's check)."""
    if not ci.in_github_actions():
        return
    regressed = {c.check for comparison in comparisons for c in comparison.regressions}
    later = runs[-1]
    failing = [check for check in later.checks if check.key in regressed]
    lines = [ci.annotation(check, later.column, ci.check_location(check.nodeid, ci.roots()))
             for check in failing]
    ci.publish(ci.comparison_summary(comparisons, runs), lines, stream=sys.stdout)
