"""Strict reading of JSON-shaped data into typed records, with errors that say where.

Results files are made on other machines and CI jobs and merged later, so every type's
from_dict checks each field it reads; when one is wrong, the error names the file and the
field's path (e.g. `checks[3].timelines[0].events[2].t`), which these helpers track.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from podlife.core.errors import PodlifeError

_FIX_SCHEMA = (
    "write the file with `pytest --podlife-results FILE`, or correct that field "
    "(the schema is in the README)"
)


class ResultsError(PodlifeError):
    """A results file that cannot be used; carries the file and the field for tooling."""

    def __init__(self, source: str, field_path: str, problem: str) -> None:
        self.source = source
        self.field = field_path
        where = f"{source}: field '{field_path}'" if field_path else source
        super().__init__(f"{where} {problem}", _FIX_SCHEMA)


@dataclass(frozen=True)
class Where:
    """A position in a document: the file it came from and the path to the current value."""

    source: str = "<dict>"
    path: str = ""
    #: The schema version being read, named when a field is not part of it.
    version: int = 0
    #: Unknown keys are errors; off where a schema version tolerated them.
    strict: bool = True

    def at(self, key: str | int) -> Where:
        if isinstance(key, int):
            return replace(self, path=f"{self.path}[{key}]")
        return replace(self, path=f"{self.path}.{key}" if self.path else key)

    def fail(self, problem: str) -> ResultsError:
        return ResultsError(self.source, self.path, problem)


def fields(value: Any, where: Where, required: Iterable[str], optional: Iterable[str] = ()
           ) -> dict[str, Any]:
    """An object with every required key; with `where.strict`, no keys beyond the optional."""
    if not isinstance(value, dict):
        raise where.fail(f"must be an object, got {type_name(value)}")
    required = tuple(required)
    for name in required:
        if name not in value:
            raise where.at(name).fail("is missing")
    if where.strict:
        extra = sorted(set(value) - set(required) - set(optional))
        if extra:
            version = f"schema version {where.version}" if where.version else "the schema"
            raise where.at(extra[0]).fail(f"is not part of {version}")
    return value


def text(value: Any, where: Where, *, empty: bool = True) -> str:
    if not isinstance(value, str):
        raise where.fail(f"must be a string, got {type_name(value)}")
    if not empty and not value.strip():
        raise where.fail("must not be empty")
    return value


def texts(value: Any, where: Where) -> list[str]:
    """A list of non-empty strings."""
    return [text(item, at, empty=False) for item, at in items(value, where)]


def one_of(value: Any, where: Where, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise where.fail(f"must be one of {', '.join(choices)}, got {value!r}")
    return str(value)


def number(value: Any, where: Where) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise where.fail(f"must be a number, got {type_name(value)}")
    if not math.isfinite(value):
        raise where.fail(f"must be a finite number, got {value!r}")
    return float(value)


def optional_number(value: Any, where: Where) -> float | None:
    return None if value is None else number(value, where)


def integer(value: Any, where: Where) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise where.fail(f"must be an integer, got {type_name(value)}")
    return value


def optional_integer(value: Any, where: Where) -> int | None:
    return None if value is None else integer(value, where)


def items(value: Any, where: Where) -> list[tuple[Any, Where]]:
    """The elements of a list, each with its own position."""
    if not isinstance(value, list):
        raise where.fail(f"must be a list, got {type_name(value)}")
    return [(item, where.at(i)) for i, item in enumerate(value)]


def timestamp(value: Any, where: Where) -> str:
    """An ISO 8601 time with a UTC offset, kept as written."""
    written = text(value, where, empty=False)
    try:
        parsed: datetime | None = datetime.fromisoformat(written)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise where.fail(
            "must be an ISO 8601 time with a UTC offset, e.g. 2025-01-31T12:00:00Z, "
            f"got {written!r}"
        )
    return written


def type_name(value: Any) -> str:
    return {
        type(None): "null",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)
