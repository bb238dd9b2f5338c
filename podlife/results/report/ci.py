"""Output for CI systems: a job summary in Markdown, and an error annotation per failing check.

GitHub Actions shows what a step appends to `$GITHUB_STEP_SUMMARY` on the run's page, and
turns `::error file=F,line=L,title=T::message` lines of a step's output into annotations
on that line of the source. A failing check then points at its own `def test_...` line,
with its claim as the message. Nothing here runs unless GITHUB_ACTIONS is "true".
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from podlife.core.safe_text import one_line
from podlife.results.matrix import verdict_counts
from podlife.results.model import VERDICTS, CheckResult, RunResult
from podlife.results.report.compare import Comparison
from podlife.results.report.summary import headline

#: Verdicts that fail a run, and so are annotated as errors.
FAILING = ("fail", "error")
#: How many failing (or unsupported) checks a summary lists before "and N more".
SUMMARY_LIMIT = 50


@dataclass(frozen=True)
class Location:
    """Where a check is defined, relative to the repository (line None when not found)."""

    file: str
    line: int | None


def _cell(text: str) -> str:
    """Text for a Markdown table cell or list item: one line, no HTML, no table breaks."""
    text = one_line(text)
    for raw, shown in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|"),
                       ("`", "'")):
        text = text.replace(raw, shown)
    return text


def _claim(check: CheckResult) -> str:
    return headline(check.reason) or check.verdict


def step_summary(runs: Iterable[RunResult], *, report: str = "",
                 title: str = "podlife conformance") -> str:
    """The Markdown summary: verdict counts per version, failing checks with their claim,
    unsupported checks with their reason, and where the report is."""
    runs = list(runs)
    shown = [v for v in VERDICTS if any(c.verdict == v for r in runs for c in r.checks)]
    lines = [f"## {_cell(title)}", ""]
    if not runs:
        return "\n".join([*lines, "No results.", ""])
    lines += ["| version | provider | checks | " + " | ".join(shown) + " |",
              "|---|---|---:|" + "---:|" * len(shown)]
    for run in runs:
        counts = verdict_counts(run.checks)
        cells = [f"**{counts[v]}**" if v in FAILING and counts[v] else str(counts[v])
                 for v in shown]
        lines.append(f"| {_cell(run.column)} | {_cell(run.provider)} | {len(run.checks)} | "
                     + " | ".join(cells) + " |")
    judged = sum(len(c.judged_pods) for r in runs for c in r.checks)
    unjudged = sum(len(c.unjudged_pods) for r in runs for c in r.checks)
    if judged or unjudged:
        lines += ["", f"Pods judged by podlife's model: {judged} (not judged: {unjudged})."]
    lines += _listing("Failing checks", runs, FAILING)
    lines += _listing("Unsupported checks", runs, ("unsupported",))
    if report:
        lines += ["", f"Report: `{one_line(report).replace('`', '')}`"]
    return "\n".join([*lines, ""])


def _listing(heading: str, runs: list[RunResult], verdicts: tuple[str, ...]) -> list[str]:
    found = [(run, check) for run in runs for check in run.checks if check.verdict in verdicts]
    if not found:
        return []
    lines = ["", f"### {heading} ({len(found)})", ""]
    for run, check in found[:SUMMARY_LIMIT]:
        lines.append(f"- **{_cell(check.key)}** on {_cell(run.column)} ({check.verdict}): "
                     f"{_cell(_claim(check))}")
    if len(found) > SUMMARY_LIMIT:
        lines.append(f"- ... and {len(found) - SUMMARY_LIMIT} more")
    return lines


def comparison_summary(comparisons: Iterable[Comparison], runs: list[RunResult]) -> str:
    """`podlife compare`'s summary: the runs' counts, then every check that changed verdict."""
    text = step_summary(runs, title="podlife compare")
    changes = [(c, change) for c in comparisons for change in c.verdict_changes]
    lines = [f"### Verdict changes ({len(changes)})", ""]
    for comparison, change in changes[:SUMMARY_LIMIT]:
        mark = "**regression**" if change.regression else "allowed" if change.allowed else "change"
        lines.append(f"- {mark} {_cell(change.check)}: {change.before} → {change.after} "
                     f"({_cell(comparison.before.kubernetes_version)} → "
                     f"{_cell(comparison.after.kubernetes_version)})"
                     + (f": {_cell(headline(change.reason))}" if change.reason else ""))
    if not changes:
        lines.append("No check changed its verdict.")
    return text + "\n" + "\n".join([*lines, ""])


def check_location(nodeid: str, roots: Iterable[Path]) -> Location | None:
    """The file and `def` line of the check a pytest node id names, found in the first root
    that has the file; None when no root has it (a results file from elsewhere)."""
    file, _, rest = nodeid.partition("::")
    if not file.endswith(".py") or not rest:
        return None
    names = [part.split("[", 1)[0] for part in rest.split("::")]
    for root in roots:
        path = root / file
        if not path.is_file():
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, UnicodeDecodeError):
            return Location(file, None)
        return Location(file, _def_line(tree.body, names))
    return None


def _def_line(body: list[ast.stmt], names: list[str]) -> int | None:
    """The line of the nested definition names[0]::names[1]::... (class, then function)."""
    for node in body:
        defined = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        if defined and node.name == names[0]:
            if len(names) == 1:
                return node.lineno
            return _def_line(node.body, names[1:])
    return None


def _data(text: str) -> str:
    """A workflow command's message: % and line breaks encoded, as the runner expects."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    """A workflow command's property value: also its separators (: and ,) encoded."""
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(check: CheckResult, column: str, where: Location | None) -> str:
    """One `::error` workflow command for a failing check (on its def line when known)."""
    props = []
    if where is not None:
        props.append(f"file={_property(where.file)}")
        if where.line is not None:
            props.append(f"line={where.line}")
    props.append(f"title={_property(one_line(f'{check.key} on {column}'))}")
    return f"::error {','.join(props)}::{_data(one_line(_claim(check)))}"


def annotations(runs: Iterable[RunResult], roots: Iterable[Path]) -> list[str]:
    """An annotation for every failing check of every run."""
    roots = list(roots)
    return [annotation(check, run.column, check_location(check.nodeid, roots))
            for run in runs for check in run.checks if check.verdict in FAILING]


def roots() -> list[Path]:
    """Where check files named by node ids are looked up: the current directory (a
    checkout, as CI runs it), then the directory holding podlife's installed suites."""
    from podlife.core import paths

    return [Path.cwd(), paths.suites_dir().parent]


def publish_runs(runs: list[RunResult], report: str = "", *,
                 stream: TextIO, env: Mapping[str, str] | None = None) -> Path | None:
    """The summary and annotations of `podlife run` or `podlife report`."""
    if not in_github_actions(env):
        return None
    return publish(step_summary(runs, report=report), annotations(runs, roots()),
                   stream=stream, env=env)


def in_github_actions(env: Mapping[str, str] | None = None) -> bool:
    return (env if env is not None else os.environ).get("GITHUB_ACTIONS") == "true"


def publish(markdown: str, lines: list[str], *, stream: TextIO,
            env: Mapping[str, str] | None = None) -> Path | None:
    """In GitHub Actions: append the summary to $GITHUB_STEP_SUMMARY (when set) and print
    the annotations. Elsewhere nothing. Returns the summary file written, if any."""
    env = env if env is not None else os.environ
    if not in_github_actions(env):
        return None
    for line in lines:
        stream.write(line + "\n")
    stream.flush()
    target = env.get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    path = Path(target)
    with path.open("a", encoding="utf-8") as out:
        out.write(markdown + "\n")
    return path
