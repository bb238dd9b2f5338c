"""What the commands print to the terminal: one-line messages, step timings, build progress.

rich is imported on first use, so an error still prints when rich itself is the problem.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class _Console:
    """rich's stderr console, imported on first use."""

    def print(self, *args: object, **kwargs: object) -> None:
        from rich.console import Console

        Console(stderr=True).print(*args, **kwargs)


console = _Console()


@contextmanager
def build_progress() -> Iterator[Callable[[str, int, int], None]]:
    """Progress while Go compiles (packages done / total): live bars with an ETA on a
    terminal, plain lines with a heartbeat in a log (podlife.cli.progress), or nothing."""
    from podlife.cli import progress as plain

    chosen = plain.mode()
    if chosen == "none":
        yield lambda _label, _done, _total: None
        return
    if chosen == "plain":
        with plain.line_progress() as lines:
            yield lines
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=False) as bar:
        tasks: dict[str, int] = {}

        def update(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(f"build {label}", total=total or None)
            bar.update(tasks[label], completed=done, total=total or None)

        yield update


def step_printer() -> Callable[[str], None]:
    """Prints each step of a long operation with the seconds since it started."""
    started = time.monotonic()

    def step(message: str) -> None:
        console.print(f"[dim]{time.monotonic() - started:6.1f}s[/dim] {message}")

    return step


OUTPUT_FORMATS = ("text", "json")


def add_output_option(parser: argparse.ArgumentParser) -> None:
    """`--output json`: the same information as one JSON document on stdout, for scripts."""
    parser.add_argument("--output", choices=OUTPUT_FORMATS, default="text",
                        help="text for people, json for scripts (default: text)")


def print_json(data: object) -> None:
    """One JSON document on stdout; messages for people go to stderr, so pipes stay clean."""
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def add_reports_dir_option(parser: argparse.ArgumentParser) -> None:
    """--reports-dir: where runs are saved and reports rendered (podlife.core.paths.reports_dir)."""
    parser.add_argument("--reports-dir", default=None, metavar="DIR",
                        help="where runs are saved and reports written (default: ./reports, "
                             "or $PODLIFE_REPORTS)")


def add_allow_option(parser: argparse.ArgumentParser) -> None:
    """`--allow pass-to-X`: a move away from pass the user expects, so it is no regression."""
    from podlife.results.report.compare import ALLOWABLE

    parser.add_argument("--allow", action="append", default=[], choices=ALLOWABLE,
                        metavar="MOVE",
                        help="a verdict move that is not a regression, repeatable: "
                             f"{', '.join(ALLOWABLE)} (default: none, every move away from "
                             "pass is one)")
