"""The results file format and the cross-version matrix built from several of them.

A run on one cluster writes one results file; reports combine files made on different
machines or CI jobs, so the format is validated strictly on load and every error names
the file and the field that is wrong.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from podlife.errors import PodlifeError

SCHEMA_VERSION = 1
VERDICTS = ("pass", "fail", "unsupported", "skipped")
CONTAINER_KINDS = ("init", "sidecar", "app")

_VERSION_RE = re.compile(
    r"^v?(?P<major>\d+)\.(?P<minor>\d+)(?:\.(?P<patch>\d+))?"
    r"(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+(?P<build>[0-9A-Za-z.-]+))?$"
)
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


# --- Kubernetes versions ------------------------------------------------------------------


def is_kube_version(text: str) -> bool:
    """True for 'v1.30', 'v1.30.2', '1.30.2-rc.1', 'v1.29.3+k3s1'."""
    return bool(_VERSION_RE.match(text))


def normalize_version(text: str) -> str:
    """One spelling per version ('1.30.2' and 'v1.30.2' are the same column)."""
    text = text.strip()
    return text if text.startswith("v") else f"v{text}"


def version_sort_key(text: str) -> tuple[Any, ...]:
    """Semantic order: v1.9 < v1.28, v1.30.0-rc.1 < v1.30.0; unparsable strings sort last."""
    match = _VERSION_RE.match(text.strip())
    if not match:
        return (1, (), text)
    pre = match["pre"]
    # A pre-release sorts before its release; its dot parts compare numbers as numbers.
    pre_key: tuple[Any, ...] = (1,)
    if pre:
        pre_key = (0, *((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")))
    numbers = (int(match["major"]), int(match["minor"]), int(match["patch"] or 0))
    return (0, numbers, pre_key, match["build"] or "")


# --- The results of one run -----------------------------------------------------------------


@dataclass
class CheckResult:
    """The verdict of one conformance check on one cluster, with its evidence."""

    nodeid: str
    check_id: str
    area: str
    title: str
    verdict: str
    duration_s: float
    reason: str = ""
    timelines: list[dict[str, Any]] = field(default_factory=list)
    dumps: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        """Identity across runs: the same check in two runs has the same key."""
        return f"{self.area}/{self.check_id}"


@dataclass
class RunResult:
    """One pytest session against one cluster: what `--podlife-results` writes."""

    run_id: str
    provider: str
    cluster: str
    kubernetes_version: str
    started_at: str
    finished_at: str
    host: str
    checks: list[CheckResult] = field(default_factory=list)
    schema_version: int = SCHEMA_VERSION
    #: Where the run was loaded from; not part of the file, used to locate dumps.
    source: str | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["source"]
        # Schema version first, so a reader sees it before anything else.
        return {"schema_version": data.pop("schema_version"), **data}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str = "<string>") -> RunResult:
        """Parse and validate; raises ResultsError naming `source` and the bad field."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ResultsError(
                source, "", f"is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
            ) from exc
        return cls.from_dict(data, source)

    @classmethod
    def from_dict(cls, data: Any, source: str = "<string>") -> RunResult:
        return _RunReader(source).run(data)

    def write(self, path: Path) -> None:
        """Write atomically, so a reader never sees half a file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(self.to_json(), encoding="utf-8")
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
    return RunResult.from_json(text, source=str(path))


class _RunReader:
    """Validates a decoded results file field by field, tracking the path for messages."""

    _RUN_FIELDS = (
        "schema_version",
        "run_id",
        "provider",
        "cluster",
        "kubernetes_version",
        "started_at",
        "finished_at",
        "host",
        "checks",
    )
    _CHECK_FIELDS = (
        "nodeid",
        "check_id",
        "area",
        "title",
        "verdict",
        "duration_s",
        "reason",
        "timelines",
        "dumps",
    )

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, problem: str) -> ResultsError:
        return ResultsError(self.source, path, problem)

    def obj(self, value: Any, path: str, fields: Iterable[str], *, strict: bool) -> dict:
        if not isinstance(value, dict):
            raise self.fail(path, f"must be an object, got {_type_name(value)}")
        for name in fields:
            if name not in value:
                raise self.fail(_join(path, name), "is missing")
        if strict:
            extra = sorted(set(value) - set(fields))
            if extra:
                raise self.fail(_join(path, extra[0]), "is not part of schema version 1")
        return value

    def str_(self, value: Any, path: str, *, empty: bool = True) -> str:
        if not isinstance(value, str):
            raise self.fail(path, f"must be a string, got {_type_name(value)}")
        if not empty and not value.strip():
            raise self.fail(path, "must not be empty")
        return value

    def num(self, value: Any, path: str, *, optional: bool = False) -> float | None:
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(path, f"must be a number, got {_type_name(value)}")
        return float(value)

    def int_(self, value: Any, path: str, *, optional: bool = False) -> int | None:
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(path, f"must be an integer, got {_type_name(value)}")
        return value

    def list_(self, value: Any, path: str) -> list:
        if not isinstance(value, list):
            raise self.fail(path, f"must be a list, got {_type_name(value)}")
        return value

    def timestamp(self, value: Any, path: str) -> str:
        text = self.str_(value, path, empty=False)
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            raise self.fail(
                path,
                f"must be an ISO 8601 time with a UTC offset, e.g. 2025-01-31T12:00:00Z, "
                f"got {text!r}",
            )
        return text

    def run(self, data: Any) -> RunResult:
        data = self.obj(data, "", ("schema_version",), strict=False)
        version = data["schema_version"]
        if version != SCHEMA_VERSION:
            raise self.fail(
                "schema_version",
                f"is {version!r}, but this podlife reads schema version {SCHEMA_VERSION} "
                "(upgrade podlife, or re-run the suite with this one)",
            )
        data = self.obj(data, "", self._RUN_FIELDS, strict=True)
        kube = self.str_(data["kubernetes_version"], "kubernetes_version")
        if kube and not is_kube_version(kube):
            raise self.fail("kubernetes_version", f"must look like v1.30.2, got {kube!r}")
        checks = [
            self.check(item, f"checks[{i}]")
            for i, item in enumerate(self.list_(data["checks"], "checks"))
        ]
        seen: dict[str, int] = {}
        for i, check in enumerate(checks):
            if check.key in seen:
                raise self.fail(
                    f"checks[{i}]",
                    f"repeats check {check.key!r} (already checks[{seen[check.key]}])",
                )
            seen[check.key] = i
        return RunResult(
            schema_version=version,
            run_id=self.str_(data["run_id"], "run_id", empty=False),
            provider=self.str_(data["provider"], "provider"),
            cluster=self.str_(data["cluster"], "cluster"),
            kubernetes_version=kube,
            started_at=self.timestamp(data["started_at"], "started_at"),
            finished_at=self.timestamp(data["finished_at"], "finished_at"),
            host=self.str_(data["host"], "host"),
            checks=checks,
            source=self.source,
        )

    def check(self, value: Any, path: str) -> CheckResult:
        data = self.obj(value, path, self._CHECK_FIELDS, strict=True)
        verdict = self.str_(data["verdict"], f"{path}.verdict")
        if verdict not in VERDICTS:
            raise self.fail(
                f"{path}.verdict", f"must be one of {', '.join(VERDICTS)}, got {verdict!r}"
            )
        duration = self.num(data["duration_s"], f"{path}.duration_s")
        assert duration is not None
        if duration < 0:
            raise self.fail(f"{path}.duration_s", f"must not be negative, got {duration}")
        dumps = [
            self.str_(d, f"{path}.dumps[{i}]", empty=False)
            for i, d in enumerate(self.list_(data["dumps"], f"{path}.dumps"))
        ]
        timelines = [
            self.timeline(t, f"{path}.timelines[{i}]")
            for i, t in enumerate(self.list_(data["timelines"], f"{path}.timelines"))
        ]
        return CheckResult(
            nodeid=self.str_(data["nodeid"], f"{path}.nodeid", empty=False),
            check_id=self.str_(data["check_id"], f"{path}.check_id", empty=False),
            area=self.str_(data["area"], f"{path}.area", empty=False),
            title=self.str_(data["title"], f"{path}.title"),
            verdict=verdict,
            duration_s=duration,
            reason=self.str_(data["reason"], f"{path}.reason"),
            timelines=timelines,
            dumps=dumps,
        )

    def timeline(self, value: Any, path: str) -> dict[str, Any]:
        # Timelines are produced by the checks' helpers; extra keys are kept, not rejected.
        data = self.obj(value, path, ("pod", "events", "containers"), strict=False)
        self.str_(data["pod"], f"{path}.pod")
        for i, event in enumerate(self.list_(data["events"], f"{path}.events")):
            where = f"{path}.events[{i}]"
            self.obj(event, where, ("t", "container", "event", "detail"), strict=False)
            self.num(event["t"], f"{where}.t")
            for name in ("container", "event", "detail"):
                self.str_(event[name], f"{where}.{name}")
        for i, box in enumerate(self.list_(data["containers"], f"{path}.containers")):
            where = f"{path}.containers[{i}]"
            names = ("name", "kind", "started", "finished", "exit_code", "restarts")
            self.obj(box, where, names, strict=False)
            self.str_(box["name"], f"{where}.name", empty=False)
            if box["kind"] not in CONTAINER_KINDS:
                raise self.fail(
                    f"{where}.kind",
                    f"must be one of {', '.join(CONTAINER_KINDS)}, got {box['kind']!r}",
                )
            self.num(box["started"], f"{where}.started", optional=True)
            self.num(box["finished"], f"{where}.finished", optional=True)
            self.int_(box["exit_code"], f"{where}.exit_code", optional=True)
            self.int_(box["restarts"], f"{where}.restarts")
        return data


def validate_timeline(value: Any) -> dict[str, Any]:
    """Check one timeline dict as a check attached it; raises ResultsError if malformed."""
    return _RunReader("timeline").timeline(value, "timeline")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _type_name(value: Any) -> str:
    return {
        type(None): "null",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)


# --- The matrix: checks x Kubernetes versions -----------------------------------------------


@dataclass
class Column:
    """One Kubernetes version, and the run (and file) its cells come from."""

    version: str
    source: str | None
    run_id: str
    provider: str
    cluster: str
    host: str
    started_at: str
    finished_at: str
    #: Files of earlier runs of the same version that this column replaced.
    superseded: list[str] = field(default_factory=list)


@dataclass
class Cell:
    """One check on one version."""

    verdict: str
    duration_s: float
    reason: str
    nodeid: str
    timelines: list[dict[str, Any]] = field(default_factory=list)
    dumps: list[str] = field(default_factory=list)


@dataclass
class Row:
    """One check across versions; a version where it did not run has no cell."""

    area: str
    check_id: str
    title: str
    cells: dict[str, Cell] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.area}/{self.check_id}"


@dataclass
class Matrix:
    """Checks x Kubernetes versions, merged from several runs."""

    columns: list[Column]
    rows: list[Row]

    @property
    def versions(self) -> list[str]:
        return [c.version for c in self.columns]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "podlife-matrix",
            "schema_version": SCHEMA_VERSION,
            "versions": self.versions,
            "columns": [asdict(c) for c in self.columns],
            "rows": [
                {
                    "area": r.area,
                    "check_id": r.check_id,
                    "title": r.title,
                    "cells": {v: asdict(c) for v, c in r.cells.items()},
                }
                for r in self.rows
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"


def _run_order(indexed: tuple[int, RunResult]) -> tuple[datetime, datetime, int]:
    index, run = indexed
    return (datetime.fromisoformat(run.started_at), datetime.fromisoformat(run.finished_at), index)


def merge(runs: Iterable[RunResult]) -> Matrix:
    """Combine runs into a matrix; for a version run more than once, the later run wins.

    "Later" is by started_at (then finished_at, then the order given), so re-running a
    flaky version and passing both files replaces the old column instead of mixing them.
    """
    runs = list(runs)
    for run in runs:
        if not run.kubernetes_version:
            raise PodlifeError(
                f"{run.source or run.run_id}: the run recorded no Kubernetes version "
                "(it never reached a cluster)",
                "leave this file out of the report, or re-run the suite against a cluster",
            )
    chosen: dict[str, RunResult] = {}
    superseded: dict[str, list[str]] = {}
    for _, run in sorted(enumerate(runs), key=_run_order):
        version = normalize_version(run.kubernetes_version)
        if version in chosen:
            old = chosen[version]
            superseded.setdefault(version, []).append(old.source or old.run_id)
        chosen[version] = run

    versions = sorted(chosen, key=version_sort_key)
    columns = [
        Column(
            version=v,
            source=chosen[v].source,
            run_id=chosen[v].run_id,
            provider=chosen[v].provider,
            cluster=chosen[v].cluster,
            host=chosen[v].host,
            started_at=chosen[v].started_at,
            finished_at=chosen[v].finished_at,
            superseded=superseded.get(v, []),
        )
        for v in versions
    ]
    rows: dict[str, Row] = {}
    for version in versions:  # oldest first, so the newest run's title is the one kept
        for check in chosen[version].checks:
            row = rows.setdefault(check.key, Row(check.area, check.check_id, check.title))
            if check.title:
                row.title = check.title
            row.cells[version] = Cell(
                verdict=check.verdict,
                duration_s=check.duration_s,
                reason=check.reason,
                nodeid=check.nodeid,
                timelines=check.timelines,
                dumps=check.dumps,
            )
    ordered = sorted(rows.values(), key=lambda r: (r.area, r.check_id))
    return Matrix(columns=columns, rows=ordered)


def verdict_counts(cells: Mapping[str, Cell] | Iterable[Cell]) -> dict[str, int]:
    """How many cells have each verdict, in the fixed verdict order."""
    values = cells.values() if isinstance(cells, Mapping) else cells
    counts = dict.fromkeys(VERDICTS, 0)
    for cell in values:
        counts[cell.verdict] += 1
    return counts
