"""Progress that a log can show: plain lines when the output is not a terminal.

A terminal gets rich's live bars. A CI log gets, for each build, a line when it starts, a
heartbeat at least every HEARTBEAT_S seconds (what it builds, elapsed time, packages done
of total and an ETA), and a line when it ends with its duration, so a hung build can be
told from a slow one. `--progress plain|rich|none` (or PODLIFE_PROGRESS) overrides the
choice.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

MODES = ("auto", "plain", "rich", "none")
MODE_ENV = "PODLIFE_PROGRESS"
HEARTBEAT_ENV = "PODLIFE_HEARTBEAT_S"
#: The longest a long step stays silent in a log.
HEARTBEAT_S = 30.0

Update = Callable[[str, int, int], None]


def mode() -> str:
    """plain, rich or none: the user's choice, else rich on a terminal and plain in a log."""
    chosen = os.environ.get(MODE_ENV, "auto")
    if chosen in ("plain", "rich", "none"):
        return chosen
    return "rich" if sys.stderr.isatty() else "plain"


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{seconds:.1f}s"


@dataclass
class _Task:
    started: float
    done: int = 0
    total: int = 0
    last_line: float = field(default=0.0)
    #: When the build last reported (its end, once another build has started).
    updated: float = field(default=0.0)


class LineProgress:
    """The build callback (label, done, total) for logs: start, heartbeat and end lines."""

    def __init__(self, write: Callable[[str], None], heartbeat_s: float = HEARTBEAT_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.write, self.heartbeat_s, self.clock = write, heartbeat_s, clock
        self.tasks: dict[str, _Task] = {}
        self.lock = threading.Lock()

    def __call__(self, label: str, done: int, total: int) -> None:
        with self.lock:
            now = self.clock()
            task = self.tasks.get(label)
            if task is None:
                # podlife runs one Go build at a time: a new one means the others ended.
                for other, earlier in list(self.tasks.items()):
                    self._end(other, earlier, earlier.updated)
                task = self.tasks[label] = _Task(started=now, last_line=now)
                self.write(f"build {label}: started" + (f", {total} packages" if total else ""))
            task.done, task.total, task.updated = done, total, now
            if total and done >= total:
                self._end(label, task, now)  # the build says it is done
            elif now - task.last_line >= self.heartbeat_s:
                self._heartbeat(label, task, now)

    def tick(self) -> None:
        """A heartbeat for every build silent for heartbeat_s (go may compile one package
        for minutes without a progress update)."""
        with self.lock:
            now = self.clock()
            for label, task in self.tasks.items():
                if now - task.last_line >= self.heartbeat_s:
                    self._heartbeat(label, task, now)

    def finish(self) -> None:
        with self.lock:
            now = self.clock()
            for label, task in list(self.tasks.items()):
                self._end(label, task, now)

    def _end(self, label: str, task: _Task, at: float) -> None:
        self.write(f"build {label}: done in {_duration(at - task.started)}")
        del self.tasks[label]

    def _heartbeat(self, label: str, task: _Task, now: float) -> None:
        elapsed = now - task.started
        line = f"build {label}: {_duration(elapsed)} elapsed"
        if task.total:
            line += f", {task.done}/{task.total} packages"
            if task.done:
                eta = elapsed * (task.total - task.done) / task.done
                line += f", ETA {_duration(eta)}"
        self.write(line)
        task.last_line = now


@contextmanager
def line_progress(write: Callable[[str], None] | None = None) -> Iterator[LineProgress]:
    """A LineProgress whose heartbeats come from a timer thread, finished on exit."""
    def to_stderr(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    heartbeat = float(os.environ.get(HEARTBEAT_ENV) or HEARTBEAT_S)
    progress = LineProgress(write or to_stderr, heartbeat)
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(min(1.0, heartbeat / 2)):
            progress.tick()

    thread = threading.Thread(target=beat, name="progress-heartbeat", daemon=True)
    thread.start()
    try:
        yield progress
    finally:
        stop.set()
        thread.join(timeout=2)
        progress.finish()
