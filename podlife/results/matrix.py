"""The cross-version matrix: checks x Kubernetes versions, merged from several runs.

Rows are grouped by the tutorial pattern a check exercises, then by area (its suite
file); checks without a pattern come after those with one. A cell is the check's own
CheckResult from the run chosen for that version. A run whose kubelets differ from its
API server (a mixed cluster, an upgrade's skew window) is a column of its own,
`v1.29.15/kubelet-v1.28.15` (podlife.core.skew), placed before the API server's own column.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from podlife.core import schema
from podlife.core.deviation import Deviation, read_records
from podlife.core.errors import PodlifeError
from podlife.core.schema import Where
from podlife.core.skew import column_sort_key
from podlife.results.model import SCHEMA_VERSION, VERDICTS, CheckResult, RunResult

MATRIX_KIND = "podlife-matrix"
_COLUMN_TEXTS = ("version", "run_id", "provider", "cluster", "host", "started_at",
                 "finished_at")


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
    #: The podlife that made the run ("" for files that did not record it).
    podlife_version: str = ""
    #: The run's wall time in seconds.
    duration_s: float = 0.0
    #: The run's host deviations (podlife.cluster.local.deviations); None: not known.
    host_deviations: list[Deviation] | None = None
    #: The nodes' kubelet release(s) ("" = not recorded: the API server's).
    kubelet_version: str = ""

    @property
    def skew(self) -> bool:
        """The column of a cluster whose kubelets are older than its API server."""
        from podlife.core.skew import is_skew_column

        return is_skew_column(self.version)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["host_deviations"] = (None if self.host_deviations is None
                                   else [d.to_dict() for d in self.host_deviations])
        return data

    @classmethod
    def from_dict(cls, data: Any, where: Where | None = None) -> Column:
        where = where or Where()
        data = schema.fields(data, where, (*_COLUMN_TEXTS, "source", "superseded",
                                           "podlife_version", "duration_s"),
                             ("host_deviations", "kubelet_version"))
        source = data["source"]
        return cls(
            **{name: schema.text(data[name], where.at(name)) for name in _COLUMN_TEXTS},
            source=None if source is None else schema.text(source, where.at("source")),
            superseded=schema.texts(data["superseded"], where.at("superseded")),
            podlife_version=schema.text(data["podlife_version"], where.at("podlife_version")),
            duration_s=schema.number(data["duration_s"], where.at("duration_s")),
            host_deviations=read_records(data.get("host_deviations"),
                                         where.at("host_deviations")),
            kubelet_version=schema.text(data.get("kubelet_version", ""),
                                        where.at("kubelet_version")),
        )


@dataclass
class Row:
    """One check across versions; a version where it did not run has no cell."""

    area: str
    check_id: str
    title: str
    pattern: str = ""
    cells: dict[str, CheckResult] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.area}/{self.check_id}"

    def sort_key(self) -> tuple[bool, str, str, str]:
        """Pattern first (rows without one last), then area, then check."""
        return (not self.pattern, self.pattern, self.area, self.check_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "pattern": self.pattern,
            "area": self.area,
            "check_id": self.check_id,
            "title": self.title,
            "cells": {v: c.to_dict() for v, c in self.cells.items()},
        }

    @classmethod
    def from_dict(cls, data: Any, where: Where | None = None) -> Row:
        where = where or Where()
        data = schema.fields(data, where, ("pattern", "area", "check_id", "title", "cells"))
        # Cells are keyed by version, so any key is allowed there.
        cells = schema.fields(data["cells"], replace(where.at("cells"), strict=False), ())
        return cls(
            area=schema.text(data["area"], where.at("area"), empty=False),
            check_id=schema.text(data["check_id"], where.at("check_id"), empty=False),
            title=schema.text(data["title"], where.at("title")),
            pattern=schema.text(data["pattern"], where.at("pattern")),
            cells={v: CheckResult.from_dict(c, where.at("cells").at(v)) for v, c in cells.items()},
        )


@dataclass
class Matrix:
    """Checks x Kubernetes versions, merged from several runs."""

    columns: list[Column]
    rows: list[Row]

    @property
    def versions(self) -> list[str]:
        return [c.version for c in self.columns]

    def groups(self) -> list[tuple[str, list[tuple[str, list[Row]]]]]:
        """[(pattern, [(area, rows), ...]), ...] in row order ("" = no pattern)."""
        return [
            (pattern, [(area, list(rows)) for area, rows in
                       itertools.groupby(in_pattern, key=lambda r: r.area)])
            for pattern, in_pattern in itertools.groupby(self.rows, key=lambda r: r.pattern)
        ]

    def cells_of(self, version: str) -> list[tuple[Row, CheckResult]]:
        """The checks that ran on one version, in row order."""
        return [(row, row.cells[version]) for row in self.rows if version in row.cells]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": MATRIX_KIND,
            "schema_version": SCHEMA_VERSION,
            "versions": self.versions,
            "columns": [c.to_dict() for c in self.columns],
            "rows": [r.to_dict() for r in self.rows],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    @classmethod
    def from_dict(cls, data: Any, where: Where | None = None) -> Matrix:
        """Read matrix.json back (only the current schema version: it is always re-made)."""
        where = where or Where(version=SCHEMA_VERSION)
        data = schema.fields(data, where, ("kind", "schema_version", "versions", "columns",
                                           "rows"))
        schema.one_of(data["kind"], where.at("kind"), (MATRIX_KIND,))
        if data["schema_version"] != SCHEMA_VERSION:
            raise where.at("schema_version").fail(f"must be {SCHEMA_VERSION} for a matrix")
        return cls(
            columns=[Column.from_dict(c, at)
                     for c, at in schema.items(data["columns"], where.at("columns"))],
            rows=[Row.from_dict(r, at) for r, at in schema.items(data["rows"], where.at("rows"))],
        )


def _run_order(indexed: tuple[int, RunResult]) -> tuple[datetime, datetime, int]:
    index, run = indexed
    return (datetime.fromisoformat(run.started_at), datetime.fromisoformat(run.finished_at), index)


def _latest_per_version(runs: list[RunResult]) -> tuple[dict[str, RunResult], dict[str, list]]:
    """The run chosen for each version, and the files of the runs it replaced."""
    chosen: dict[str, RunResult] = {}
    superseded: dict[str, list[str]] = {}
    for _, run in sorted(enumerate(runs), key=_run_order):
        version = run.column
        if version in chosen:
            old = chosen[version]
            superseded.setdefault(version, []).append(old.source or old.run_id)
        chosen[version] = run
    return chosen, superseded


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
    chosen, superseded = _latest_per_version(runs)
    versions = sorted(chosen, key=column_sort_key)
    columns = [
        Column(version=v, source=chosen[v].source, run_id=chosen[v].run_id,
               provider=chosen[v].provider, cluster=chosen[v].cluster, host=chosen[v].host,
               started_at=chosen[v].started_at, finished_at=chosen[v].finished_at,
               superseded=superseded.get(v, []), podlife_version=chosen[v].podlife_version,
               duration_s=chosen[v].duration_s, host_deviations=chosen[v].host_deviations,
               kubelet_version=chosen[v].kubelet_version)
        for v in versions
    ]
    rows: dict[str, Row] = {}
    for version in versions:  # oldest first, so the newest run's title and pattern are kept
        for check in chosen[version].checks:
            row = rows.setdefault(check.key, Row(check.area, check.check_id, check.title))
            row.title = check.title or row.title
            row.pattern = check.pattern or row.pattern
            row.cells[version] = check
    return Matrix(columns=columns, rows=sorted(rows.values(), key=Row.sort_key))


def verdict_counts(cells: Mapping[str, CheckResult] | Iterable[CheckResult]) -> dict[str, int]:
    """How many cells have each verdict, in the fixed verdict order."""
    values = cells.values() if isinstance(cells, Mapping) else cells
    counts = dict.fromkeys(VERDICTS, 0)
    for cell in values:
        counts[cell.verdict] += 1
    return counts
