"""The results file: one run as JSON on disk, written atomically, read back strictly.

A run on one cluster writes one file; reports combine files made on different machines
or CI jobs, so every problem on reading becomes a PodlifeError naming the file (and, for
content, the field: see podlife.model and podlife.schema).
"""

from __future__ import annotations

import json
from pathlib import Path

from podlife.errors import PodlifeError
from podlife.model import RunResult
from podlife.schema import ResultsError, Where


def run_to_json(run: RunResult) -> str:
    return json.dumps(run.to_dict(), indent=2) + "\n"


def parse_run(text: str, source: str = "<string>") -> RunResult:
    """Parse and validate; raises ResultsError naming `source` and the bad field."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultsError(
            source, "", f"is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    return RunResult.from_dict(data, Where(source))


def write_run(run: RunResult, path: Path) -> None:
    """Write atomically, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(run_to_json(run), encoding="utf-8")
    tmp.replace(path)


def load_run(path: Path) -> RunResult:
    """Read one results file; every problem becomes a PodlifeError naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise PodlifeError(
            f"results file {path} does not exist",
            "pass the file that `pytest --podlife-results FILE` wrote",
        ) from exc
    except IsADirectoryError as exc:
        raise PodlifeError(
            f"{path} is a directory, not a results file",
            "pass the JSON files inside it, e.g. DIR/*.json",
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise PodlifeError(
            f"results file {path} cannot be read ({exc})",
            "check the file's permissions and that it is the JSON podlife wrote",
        ) from exc
    return parse_run(text, source=str(path))
