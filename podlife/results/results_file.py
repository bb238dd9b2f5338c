"""The results file: one run as JSON on disk, written atomically, read back strictly.

A run on one cluster writes one file; reports combine files made on different machines
or CI jobs, so every problem on reading becomes a PodlifeError naming the file (and, for
content, the field: see podlife.results.model and podlife.core.schema).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from podlife.core.errors import PodlifeError
from podlife.core.schema import ResultsError, Where
from podlife.results.model import RunResult

#: A run of a few hundred checks is well under 1 MiB; a file far larger is not podlife's.
MAX_BYTES = 64 * 1024 * 1024
#: The format nests a handful of levels; a deeper file is refused before it is walked.
MAX_DEPTH = 32


def run_to_json(run: RunResult) -> str:
    # allow_nan=False: NaN and Infinity are not JSON, so podlife never writes them.
    return json.dumps(run.to_dict(), indent=2, allow_nan=False) + "\n"


def _no_constant(name: str) -> None:
    raise ValueError(f"holds {name}, which is not a JSON number")


def _depth(data: object) -> int:
    """How deeply lists and objects nest (iteratively: no recursion limit to hit)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, level = stack.pop()
        children = value.values() if isinstance(value, dict) else (
            value if isinstance(value, list) else ())
        for child in children:
            if isinstance(child, dict | list):
                if level + 1 > MAX_DEPTH:
                    return level + 1
                stack.append((child, level + 1))
        deepest = max(deepest, level)
    return deepest


def parse_run(text: str, source: str = "<string>") -> RunResult:
    """Parse and validate; raises ResultsError naming `source` and the bad field."""
    if len(text) > MAX_BYTES:
        raise ResultsError(source, "", f"is larger than {MAX_BYTES // 2**20} MiB")
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise ResultsError(
            source, "", f"is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    except ValueError as exc:
        raise ResultsError(source, "", str(exc)) from exc
    except RecursionError as exc:
        raise ResultsError(source, "", f"nests deeper than {MAX_DEPTH} levels") from exc
    if _depth(data) > MAX_DEPTH:
        raise ResultsError(source, "", f"nests deeper than {MAX_DEPTH} levels")
    return RunResult.from_dict(data, Where(source))


def write_run(run: RunResult, path: Path) -> None:
    """Write atomically, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(run_to_json(run), encoding="utf-8")
    tmp.replace(path)


def read_bounded(path: Path) -> str:
    """The file's text, read only if it is a regular file and at most MAX_BYTES: a FIFO
    would block for ever and /dev/zero never ends, so neither is opened for reading."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise PodlifeError(
                f"{path} is not a regular file (a pipe, device or socket)",
                "pass the JSON file that `pytest --podlife-results FILE` wrote")
        data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise PodlifeError(
            f"results file {path} is larger than {MAX_BYTES // 2**20} MiB",
            "pass the JSON file that `pytest --podlife-results FILE` wrote",
        )
    return data.decode("utf-8")


def load_run(path: Path) -> RunResult:
    """Read one results file; every problem becomes a PodlifeError naming the file."""
    try:
        text = read_bounded(path)
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
