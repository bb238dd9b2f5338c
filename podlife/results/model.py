"""The results of a run as typed records: what a check concluded, with its evidence.

The pytest recorder builds these, the results file stores them (podlife.results.results_file), the
matrix merges them (podlife.results.matrix) and the reports read their attributes. Each type has
one to_dict and one strict from_dict, so the schema is written down once, here and in
podlife.core.timeline for the evidence.

Schema version 2 added each check's `pattern` and `dump_errors`; version 1 still loads
(those fields become empty, and unknown keys inside its timelines are ignored, as before).
A run's `podlife_version` and `duration_s` were added later to version 2 as optional fields:
files without them still load (empty, and the time between started_at and finished_at).
Version 3 added the verdict "error" (the check could not reach a verdict); older files,
which cannot hold it, still load.
Version 4 added the run's `host_deviations` (podlife.cluster.local.deviations): a list, or null
when not known (a cluster podlife did not boot); older files load as not known.
A run's `kubelet_version` (the nodes' kubelets, when they differ from the API server: a
mixed cluster or an upgrade's skew window) is optional in every version: files without it
load with "" (the same as the API server).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from podlife.core import schema
from podlife.core.deviation import Deviation, read_records
from podlife.core.schema import Where
from podlife.core.timeline import Timeline
from podlife.core.versions import is_kube_version

SCHEMA_VERSION = 4
READABLE_VERSIONS = (1, 2, 3, 4)
VERDICTS = ("pass", "fail", "unsupported", "skipped", "error")
#: The verdicts each schema version can hold.
_VERDICTS = {1: VERDICTS[:4], 2: VERDICTS[:4], 3: VERDICTS, 4: VERDICTS}

_CHECK_FIELDS_V1 = (
    "nodeid", "check_id", "area", "title", "verdict", "duration_s", "reason", "timelines",
    "dumps",
)
_CHECK_FIELDS_V2 = (*_CHECK_FIELDS_V1, "pattern", "dump_errors")
_CHECK_FIELDS = {1: _CHECK_FIELDS_V1, 2: _CHECK_FIELDS_V2, 3: _CHECK_FIELDS_V2,
                 4: _CHECK_FIELDS_V2}
#: Added without a schema bump: files without them load (no pod was judged by the model).
_CHECK_OPTIONAL = ("judged_pods", "unjudged_pods", "explored")
_RUN_FIELDS = (
    "schema_version", "run_id", "provider", "cluster", "kubernetes_version", "started_at",
    "finished_at", "host", "checks",
)
#: Added without a schema bump: optional, so files that lack them (any version) still load.
_RUN_OPTIONAL = ("podlife_version", "duration_s", "kubelet_version")
#: Run fields each schema version added, required from that version on.
_RUN_ADDED = {4: ("host_deviations",)}


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
    timelines: list[Timeline] = field(default_factory=list)
    #: Evidence directories, relative to the run's directory.
    dumps: list[str] = field(default_factory=list)
    #: The tutorial pattern the check exercises (its `pattern` marker); "" if none.
    pattern: str = ""
    #: Why saving the evidence failed, when it did: reported, never swallowed.
    dump_errors: list[str] = field(default_factory=list)
    #: Pods of the check that podlife's model judged (podlife.model), by name.
    judged_pods: list[str] = field(default_factory=list)
    #: Pods it could not judge, each "pod: why" (never counted as passed).
    unjudged_pods: list[str] = field(default_factory=list)
    #: Generated pods run and judged by an exploring check (podlife explore); 0 otherwise.
    explored: int = 0

    @property
    def key(self) -> str:
        """Identity across runs: the same check in two runs has the same key."""
        return f"{self.area}/{self.check_id}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "nodeid": self.nodeid,
            "check_id": self.check_id,
            "area": self.area,
            "pattern": self.pattern,
            "title": self.title,
            "verdict": self.verdict,
            "duration_s": self.duration_s,
            "reason": self.reason,
            "timelines": [t.to_dict() for t in self.timelines],
            "dumps": list(self.dumps),
            "dump_errors": list(self.dump_errors),
            "judged_pods": list(self.judged_pods),
            "unjudged_pods": list(self.unjudged_pods),
            "explored": self.explored,
        }

    @classmethod
    def from_dict(cls, data: Any, where: Where | None = None) -> CheckResult:
        where = where or Where(version=SCHEMA_VERSION)
        version = where.version or SCHEMA_VERSION
        data = schema.fields(data, where, _CHECK_FIELDS[version], _CHECK_OPTIONAL)
        duration = schema.number(data["duration_s"], where.at("duration_s"))
        if duration < 0:
            raise where.at("duration_s").fail(f"must not be negative, got {duration:g}")
        # Version 1 kept unknown keys inside timelines; they are read past, not rejected.
        evidence = replace(where.at("timelines"), strict=version >= 2)
        return cls(
            nodeid=schema.text(data["nodeid"], where.at("nodeid"), empty=False),
            check_id=schema.text(data["check_id"], where.at("check_id"), empty=False),
            area=schema.text(data["area"], where.at("area"), empty=False),
            title=schema.text(data["title"], where.at("title")),
            verdict=schema.one_of(data["verdict"], where.at("verdict"), _VERDICTS[version]),
            duration_s=duration,
            reason=schema.text(data["reason"], where.at("reason")),
            timelines=[Timeline.from_dict(t, at)
                       for t, at in schema.items(data["timelines"], evidence)],
            dumps=schema.texts(data["dumps"], where.at("dumps")),
            pattern=schema.text(data.get("pattern", ""), where.at("pattern")),
            dump_errors=schema.texts(data.get("dump_errors", []), where.at("dump_errors")),
            judged_pods=schema.texts(data.get("judged_pods", []), where.at("judged_pods")),
            unjudged_pods=schema.texts(data.get("unjudged_pods", []),
                                       where.at("unjudged_pods")),
            explored=int(schema.number(data.get("explored", 0), where.at("explored"))),
        )


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
    #: The podlife that ran the checks ("" in files written before it was recorded).
    podlife_version: str = ""
    #: Wall time of the whole session, in seconds.
    duration_s: float = 0.0
    #: How the cluster's host made it differ from a standard node; None: not known (a
    #: cluster podlife did not boot, or a file older than schema version 4).
    host_deviations: list[Deviation] | None = None
    #: The nodes' kubelet release(s), comma-separated when they differ ("" = not known, or
    #: files written before it was recorded: read as the API server's).
    kubelet_version: str = ""
    #: Where the run was loaded from; not part of the file, used to locate dumps.
    source: str | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        # Schema version first, so a reader sees it before anything else.
        return {
            "schema_version": SCHEMA_VERSION,
            "run_id": self.run_id,
            "provider": self.provider,
            "cluster": self.cluster,
            "kubernetes_version": self.kubernetes_version,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "host": self.host,
            "podlife_version": self.podlife_version,
            "duration_s": self.duration_s,
            "host_deviations": (None if self.host_deviations is None
                                else [d.to_dict() for d in self.host_deviations]),
            "kubelet_version": self.kubelet_version,
            "checks": [c.to_dict() for c in self.checks],
        }

    @property
    def column(self) -> str:
        """Its matrix column: the API server's version, plus the kubelet's when it differs
        (podlife.core.skew)."""
        from podlife.core.skew import column

        return column(self.kubernetes_version, self.kubelet_version)

    @classmethod
    def from_dict(cls, data: Any, where: Where | None = None) -> RunResult:
        """Validate and build; a ResultsError names `where.source` and the bad field."""
        where = where or Where()
        version = schema.fields(data, replace(where, strict=False), ("schema_version",))[
            "schema_version"
        ]
        if isinstance(version, bool) or version not in READABLE_VERSIONS:
            raise where.at("schema_version").fail(
                f"is {version!r}, but this podlife reads schema versions "
                f"{', '.join(map(str, READABLE_VERSIONS))} "
                "(upgrade podlife, or re-run the suite with this one)"
            )
        where = replace(where, version=version, strict=True)
        added = tuple(name for since, names in _RUN_ADDED.items() if version >= since
                      for name in names)
        data = schema.fields(data, where, (*_RUN_FIELDS, *added), _RUN_OPTIONAL)
        kube = schema.text(data["kubernetes_version"], where.at("kubernetes_version"))
        if kube and not is_kube_version(kube):
            raise where.at("kubernetes_version").fail(f"must look like v1.30.2, got {kube!r}")
        checks = [CheckResult.from_dict(c, at)
                  for c, at in schema.items(data["checks"], where.at("checks"))]
        first_seen: dict[str, int] = {}
        for i, check in enumerate(checks):
            if check.key in first_seen:
                raise where.at("checks").at(i).fail(
                    f"repeats check {check.key!r} (already checks[{first_seen[check.key]}])"
                )
            first_seen[check.key] = i
        started_at = schema.timestamp(data["started_at"], where.at("started_at"))
        finished_at = schema.timestamp(data["finished_at"], where.at("finished_at"))
        duration = data.get("duration_s")
        return cls(
            run_id=schema.text(data["run_id"], where.at("run_id"), empty=False),
            provider=schema.text(data["provider"], where.at("provider")),
            cluster=schema.text(data["cluster"], where.at("cluster")),
            kubernetes_version=kube,
            started_at=started_at,
            finished_at=finished_at,
            host=schema.text(data["host"], where.at("host")),
            checks=checks,
            podlife_version=schema.text(data.get("podlife_version", ""),
                                        where.at("podlife_version")),
            duration_s=(schema.number(duration, where.at("duration_s")) if duration is not None
                        else _seconds_between(started_at, finished_at)),
            host_deviations=read_records(data.get("host_deviations"),
                                         where.at("host_deviations")),
            kubelet_version=schema.text(data.get("kubelet_version", ""),
                                        where.at("kubelet_version")),
            source=where.source,
        )


def _seconds_between(started_at: str, finished_at: str) -> float:
    """A run's duration from its timestamps, for files that did not record it."""
    delta = datetime.fromisoformat(finished_at) - datetime.fromisoformat(started_at)
    return max(delta.total_seconds(), 0.0)
