"""A host deviation as results carry it: one way a cluster differs from a standard node.

The local provider detects them (podlife.cluster.local.deviations) and records them in its
cluster.json; the results model, the matrix and the reports only carry and show them, so
they depend on this record and not on the provider that produces it.
"""

from __future__ import annotations

import fnmatch
from dataclasses import asdict, dataclass
from typing import Any

from podlife.core import schema
from podlife.core.schema import Where


@dataclass(frozen=True)
class Deviation:
    """One way the cluster differs from a standard node, and what was measured to say so."""

    id: str
    #: What differs, for a reader of a report: the setting and its effect on pods.
    what: str
    #: What was read on the host (or why podlife always does it).
    cause: str
    #: Checks ("area/check_id" patterns) whose verdict could depend on it.
    checks: tuple[str, ...] = ()

    def affects(self, check_key: str) -> bool:
        return any(fnmatch.fnmatchcase(check_key, pattern) for pattern in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "checks": list(self.checks)}

    @classmethod
    def from_dict(cls, data: Any, where: Where | None = None) -> Deviation:
        where = where or Where()
        data = schema.fields(data, where, ("id", "what", "cause", "checks"))
        return cls(id=schema.text(data["id"], where.at("id"), empty=False),
                   what=schema.text(data["what"], where.at("what")),
                   cause=schema.text(data["cause"], where.at("cause")),
                   checks=tuple(schema.texts(data["checks"], where.at("checks"))))


def records(found: list[Deviation]) -> list[dict[str, Any]]:
    """As cluster.json and results files store them."""
    return [d.to_dict() for d in found]


def read_records(data: Any, where: Where | None = None) -> list[Deviation] | None:
    """None (unknown: not recorded) stays None; a list is validated item by item."""
    if data is None:
        return None
    return [Deviation.from_dict(item, at)
            for item, at in schema.items(data, where or Where())]


def affecting(found: list[Deviation] | None, check_key: str) -> list[Deviation]:
    return [d for d in found or [] if d.affects(check_key)]


def describe(found: list[Deviation] | None, unknown: str = "unknown") -> str:
    """One line: the ids, "none", or why they are not known."""
    if found is None:
        return unknown
    return ", ".join(d.id for d in found) or "none"
