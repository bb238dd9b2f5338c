"""What changed between two runs: verdicts, checks added or removed, and big time shifts.

Used to gate upgrades (same suite, new Kubernetes) and suite changes (same cluster,
new checks): a check that passed and now does anything else (fail, unsupported, skipped,
error) is a regression. An upgrade that switched a feature off is not "no change", so a
move away from pass is only accepted when the user allows it by name, e.g.
`pass-to-unsupported` (see `parse_allowed`).
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from podlife.core.errors import PodlifeError
from podlife.core.safe_text import printable
from podlife.results.model import VERDICTS, CheckResult, RunResult

#: A duration change is reported when it exceeds this fraction of the earlier duration...
DURATION_RATIO = 0.5
#: ...and this many seconds, so sub-second jitter of skipped or trivial checks stays quiet.
DURATION_MIN_DELTA_S = 1.0
_TIMED = ("pass", "fail")
#: Every move away from pass, as `--allow` names it.
ALLOWABLE = tuple(f"pass-to-{v}" for v in VERDICTS if v != "pass")


def parse_allowed(names: list[str] | tuple[str, ...]) -> frozenset[str]:
    """Validate `--allow` values: each names one move away from pass, e.g. pass-to-skipped."""
    unknown = sorted(set(names) - set(ALLOWABLE))
    if unknown:
        raise PodlifeError(f"--allow {', '.join(unknown)} names no move away from pass",
                           f"use one or more of: {', '.join(ALLOWABLE)}")
    return frozenset(names)


@dataclass
class VerdictChange:
    check: str
    before: str
    after: str
    reason: str
    #: The user allowed this move away from pass explicitly (`--allow pass-to-...`).
    allowed: bool = False

    @property
    def away_from_pass(self) -> bool:
        return self.before == "pass" and self.after != "pass"

    @property
    def regression(self) -> bool:
        return self.away_from_pass and not self.allowed


@dataclass
class DurationChange:
    check: str
    before_s: float
    after_s: float

    @property
    def change(self) -> float | None:
        """Relative change (0.5 = 50% slower); None when the earlier run took no time."""
        if self.before_s <= 0:
            return None
        return (self.after_s - self.before_s) / self.before_s


@dataclass
class RunSummary:
    source: str | None
    run_id: str
    kubernetes_version: str
    provider: str
    cluster: str


@dataclass
class Comparison:
    before: RunSummary
    after: RunSummary
    verdict_changes: list[VerdictChange] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    duration_changes: list[DurationChange] = field(default_factory=list)

    @property
    def regressions(self) -> list[VerdictChange]:
        return [c for c in self.verdict_changes if c.regression]

    @property
    def unchanged(self) -> bool:
        return not (self.verdict_changes or self.added or self.removed or self.duration_changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "before": asdict(self.before),
            "after": asdict(self.after),
            "regressions": len(self.regressions),
            "verdict_changes": [
                {**asdict(c), "regression": c.regression} for c in self.verdict_changes
            ],
            "added": self.added,
            "removed": self.removed,
            "duration_changes": [
                {**asdict(c), "change": None if c.change is None else round(c.change, 3)}
                for c in self.duration_changes
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"


def _summary(run: RunResult) -> RunSummary:
    return RunSummary(run.source, run.run_id, run.kubernetes_version, run.provider, run.cluster)


def _by_key(run: RunResult) -> dict[str, CheckResult]:
    return {c.key: c for c in run.checks}


def compare(
    before: RunResult,
    after: RunResult,
    *,
    ratio: float = DURATION_RATIO,
    min_delta_s: float = DURATION_MIN_DELTA_S,
    allow: frozenset[str] = frozenset(),
) -> Comparison:
    """Compare two runs check by check (checks are matched by area and check id).

    `allow` holds moves away from pass the user accepts (from `parse_allowed`)."""
    old, new = _by_key(before), _by_key(after)
    result = Comparison(before=_summary(before), after=_summary(after))
    result.added = sorted(new.keys() - old.keys())
    result.removed = sorted(old.keys() - new.keys())
    for key in sorted(old.keys() & new.keys()):
        a, b = old[key], new[key]
        if a.verdict != b.verdict:
            allowed = f"{a.verdict}-to-{b.verdict}" in allow
            result.verdict_changes.append(
                VerdictChange(key, a.verdict, b.verdict, b.reason, allowed=allowed))
        # Only checks that ran both times have durations worth comparing.
        if a.verdict in _TIMED and b.verdict in _TIMED:
            delta = abs(b.duration_s - a.duration_s)
            if delta > min_delta_s and delta > ratio * a.duration_s:
                result.duration_changes.append(DurationChange(key, a.duration_s, b.duration_s))
    return result


def _label(run: RunSummary) -> str:
    where = run.source or run.run_id
    return f"{run.kubernetes_version or '?'} ({where})"


def _shown(text: str) -> Text:
    """A cell from a results file: plain text (never markup), control characters escaped."""
    return Text(printable(text))


def print_comparison(comparison: Comparison, console: Console) -> None:
    """Tables for a terminal; the same text goes to logs via format_text()."""
    # Everything printed from the files is Text, never markup: a reason holding "[/bold]"
    # or "[link=...]" is shown as written.
    c = comparison
    console.print(_shown(f"before: {_label(c.before)}"))
    console.print(_shown(f"after:  {_label(c.after)}"))
    if c.unchanged:
        console.print("No changes.")
        return
    if c.verdict_changes:
        table = Table(title="Verdict changes", title_justify="left")
        for name in ("check", "before", "after", "reason"):
            table.add_column(name, overflow="fold")
        for v in c.verdict_changes:
            style = "bold red" if v.regression else None
            after = f"{v.after} (allowed)" if v.allowed else v.after
            table.add_row(_shown(v.check), _shown(v.before), _shown(after), _shown(v.reason),
                          style=style)
        console.print(table)
    for title, keys in (("New checks", c.added), ("Removed checks", c.removed)):
        if keys:
            table = Table(title=title, title_justify="left")
            table.add_column("check", overflow="fold")
            for key in keys:
                table.add_row(_shown(key))
            console.print(table)
    if c.duration_changes:
        table = Table(title="Duration changes", title_justify="left")
        table.add_column("check", overflow="fold")
        for name in ("before", "after", "change"):
            table.add_column(name, justify="right")
        for d in c.duration_changes:
            change = "new time" if d.change is None else f"{d.change:+.0%}"
            table.add_row(_shown(d.check), f"{d.before_s:.1f}s", f"{d.after_s:.1f}s", change)
        console.print(table)
    n = len(c.regressions)
    verdict = (f"{n} regression{'s' if n != 1 else ''} (pass -> anything else)" if n
               else "No regressions.")
    console.print(verdict, style="bold red" if n else "green")


def format_text(comparison: Comparison, width: int = 100) -> str:
    """The comparison as plain text, without colours, e.g. for a CI log or a file."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, force_terminal=False)
    print_comparison(comparison, console)
    return buffer.getvalue()
