"""The records of `podlife upgrade`: each suite window, each hop, the whole chain.

podlife.run.upgrade_chain fills them in as the chain runs; the upgrade report
(podlife.results.report.upgrade) renders them. Keeping them here lets the report read
them without importing the orchestration that makes them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from podlife.core import paths


@dataclass
class Survival:
    """What one upgrade step did to the long-running workloads."""

    before: dict[str, dict[str, str]] = field(default_factory=dict)
    after: dict[str, dict[str, str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    #: What the cluster said about the restarts (Killing events), to explain problems.
    causes: list[str] = field(default_factory=list)
    #: Pods a drain evicted before the step ("namespace/name"); empty when not drained.
    evicted: list[str] = field(default_factory=list)

    @property
    def survived(self) -> bool:
        return not self.problems


@dataclass
class Window:
    """One suite run on one state of the cluster, and what changed since the one before."""

    column: str
    results: str
    exit_code: int
    suite_s: float
    counts: dict[str, int] = field(default_factory=dict)
    #: podlife.results.report.compare's comparison with the previous window, as a dict.
    changes: dict[str, Any] = field(default_factory=dict)

    @property
    def regressions(self) -> list[dict[str, Any]]:
        return [c for c in self.changes.get("verdict_changes", []) if c.get("regression")]


@dataclass
class Availability:
    """What the probers saw during one step (podlife.run.probe_api, probe_workload)."""

    #: The steady client loop: requests sent, how many failed, the longest time without
    #: an answer (from the step's start to its end, between answers).
    api_requests: int = 0
    api_failed: int = 0
    api_longest_gap_s: float = 0.0
    #: The probes of the Service from every node; 0 probes: no workload was probed.
    probes: int = 0
    probes_failed: int = 0
    #: The fewest ready replicas of the probed Deployment any answer showed (-1: none read),
    #: and the PodDisruptionBudget's minimum it must never go below.
    fewest_ready: int = -1
    budget_min: int = 0


@dataclass
class RollStep:
    """One step of a rolling upgrade: one control-plane instance, or one node."""

    kind: str  # "control plane" or "node"
    name: str
    seconds: float
    #: Cordon, evictions, pods gone (a node step); 0 for an instance.
    drain_s: float = 0.0
    evicted: list[str] = field(default_factory=list)
    #: After the step: each API server's release and each node's kubelet release, by name.
    apiservers: dict[str, str] = field(default_factory=dict)
    kubelets: dict[str, str] = field(default_factory=dict)
    availability: Availability = field(default_factory=Availability)
    #: What broke an availability promise (below the budget), naming the step.
    problems: list[str] = field(default_factory=list)


@dataclass
class Hop:
    """One minor: control plane, then node, each followed by a workload check and a run."""

    from_version: str
    to_version: str
    job: str
    control_plane_s: float = 0.0
    node_s: float = 0.0
    seconds: float = 0.0
    skew: Window | None = None
    after: Window | None = None
    skew_survival: Survival = field(default_factory=Survival)
    node_survival: Survival = field(default_factory=Survival)
    #: What the cluster did with native sidecars at each point (podlife.check.features' reason).
    native_sidecars: dict[str, str] = field(default_factory=dict)
    #: Workloads started at the end of this hop (e.g. the sidecar pod, once it can run).
    started: list[str] = field(default_factory=list)
    #: Checks that failed in the skew window only (podlife.results.hazards.Hazard as dicts).
    hazards: list[dict[str, Any]] = field(default_factory=list)
    #: The drain before the node step (cordon, evictions, pods gone); 0 with --no-drain.
    drain_s: float = 0.0
    #: Each instance, then each node, in the order they were upgraded.
    steps: list[RollStep] = field(default_factory=list)

    @property
    def survived(self) -> bool:
        return (self.skew_survival.survived and self.node_survival.survived
                and not any(s.problems for s in self.steps))


@dataclass
class ChainReport:
    from_version: str
    to_version: str
    skip_minors: bool
    suite_args: list[str]
    #: Whether the node was drained before each kubelet swap (upstream's procedure).
    drain: bool = True
    #: --allow-hazards: skew-window hazards are reported but do not make the run fail.
    hazards_allowed: bool = False
    baseline: Window | None = None
    hops: list[Hop] = field(default_factory=list)
    total_s: float = 0.0
    #: Workloads that could not start at the beginning, and why.
    notes: list[str] = field(default_factory=list)
    #: Set when the chain stopped early: what stopped it.
    aborted: str = ""
    #: The cluster's shape: control-plane instances + worker nodes.
    control_planes: int = 1
    worker_nodes: int = 0

    @property
    def survived(self) -> bool:
        return all(h.survived for h in self.hops)

    @property
    def hazards(self) -> list[tuple[Hop, dict[str, Any]]]:
        """Checks that failed in a hop's skew window and on neither side of it."""
        return [(h, c) for h in self.hops for c in h.hazards]

    @property
    def regressions(self) -> list[tuple[Hop, dict[str, Any]]]:
        """Checks that passed before a hop and not once it completed (compared with the
        end of the previous hop, not with the skew window)."""
        return [(h, c) for h in self.hops if h.after for c in h.after.regressions]

    @property
    def ok(self) -> bool:
        return (self.survived and (self.hazards_allowed or not self.hazards)
                and not self.regressions and not self.aborted)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(survived=self.survived, ok=self.ok, hazards=len(self.hazards),
                    regressions=len(self.regressions))
        for hop, raw in zip(self.hops, data["hops"], strict=True):
            raw["survived"] = hop.survived
        return data


def report_path(from_v: str, to_v: str, suffix: str = "json") -> Path:
    return paths.reports_dir() / "runs" / f"upgrade-{from_v}-{to_v}.{suffix}"
