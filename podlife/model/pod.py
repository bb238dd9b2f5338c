"""What the model reads from a pod as the API returned it: its containers in order, with
their role, and each container's runs as its instrumented events show them."""

from __future__ import annotations

from dataclasses import dataclass, field

from podlife.core.timeline import MARKER, Event, Timeline, parse_timestamp
from podlife.model.backoff import BackOff
from podlife.model.restarts import RestartRule, rules_of

#: The default terminationGracePeriodSeconds (the API server fills it in when absent).
DEFAULT_GRACE_S = 30


@dataclass(frozen=True)
class Container:
    """One container of the spec: its place, its role, and what the model can know of it."""

    name: str
    index: int  # position among all containers: init containers first, in spec order
    kind: str  # "init", "sidecar" (restartable init) or "app"
    #: Runs a podlife script, so its starts, signals and exits are in the timeline.
    instrumented: bool
    #: Sets a restart policy (or rules) of its own, which overrides the pod's.
    own_restart_policy: bool
    #: Has a startupProbe (which, for a native sidecar, gates the containers after it).
    startup_probe: bool = False
    #: Its script reports `startup-ready` just before its startupProbe can first succeed.
    reports_startup: bool = False
    #: Has a preStop hook that reports `prestop` into the container's log as it starts.
    reports_prestop: bool = False
    #: Has podlife's readinessProbe (READY_FILE exists), and whether its script can make
    #: that file (reporting READY_FILE_MADE just before): if not, it is never ready.
    readiness_probe: bool = False
    reports_readiness: bool = False
    #: Has a livenessProbe, and whether it is podlife's (it fails only once the script has
    #: reported LIVENESS_FAILS and made NOT_LIVE_FILE): another one may fail at any time.
    liveness_probe: bool = False
    podlife_liveness: bool = False
    #: A regular container's own restartPolicy and restartPolicyRules (1.35+; None and
    #: () when it has none, and for a native sidecar, whose Always makes it one).
    restart_policy: str | None = None
    restart_rules: tuple[RestartRule, ...] = ()


@dataclass
class Run:
    """One run of a container (one instance), as its events show it."""

    events: list[Event] = field(default_factory=list)

    def first(self, event: str) -> Event | None:
        return next((e for e in self.events if e.event == event), None)

    @property
    def started(self) -> Event:
        return self.events[0]

    def started_in(self, started_at: str) -> bool:
        """It is the instance a status's `startedAt` (whole seconds) names: it reported its
        start within that second."""
        return 0 <= self.started.t - parse_timestamp(started_at) < 1.0

    @property
    def exited(self) -> Event | None:
        """The script's `exiting N` report, if it got that far."""
        return self.first("exiting")

    @property
    def exit_code(self) -> int | None:
        exited = self.exited
        if exited is None or not exited.detail.split()[:1]:
            return None
        word = exited.detail.split()[0]
        return int(word) if word.lstrip("-").isdigit() else None


@dataclass
class Pod:
    """A pod's spec facts, status and per-container runs: everything a rule reads."""

    name: str
    restart_policy: str
    grace_s: int
    containers: list[Container]
    status: dict
    runs: dict[str, list[Run]]
    #: Logs that could not be read: the runs they would show are missing, not absent.
    unreadable: list[str]
    #: metadata.deletionTimestamp (the deletion request plus its grace period), if deleted.
    deletion: str | None = None
    #: metadata.deletionGracePeriodSeconds, if deleted.
    deletion_grace_s: int | None = None
    #: The crash-loop back-off of the kubelet that ran it (None: its configuration could
    #: not be read, so the back-off rule does not judge it).
    backoff: BackOff | None = None

    def deletion_requested(self) -> float | None:
        """When the deletion was requested (whole seconds: the API keeps no finer time)."""
        if not self.deletion or self.deletion_grace_s is None:
            return None
        return parse_timestamp(self.deletion) - self.deletion_grace_s

    def of_kind(self, *kinds: str) -> list[Container]:
        return [c for c in self.containers if c.kind in kinds]

    def after(self, container: Container) -> list[Container]:
        return [c for c in self.containers if c.index > container.index]

    def container_status(self, name: str) -> dict | None:
        status = self.status or {}
        for entry in (status.get("initContainerStatuses") or []) + (
                status.get("containerStatuses") or []):
            if entry.get("name") == name:
                return entry
        return None

    def condition(self, kind: str) -> str | None:
        for entry in (self.status or {}).get("conditions") or []:
            if entry.get("type") == kind:
                return entry.get("status")
        return None

    def first_run_seen(self, container: Container) -> bool:
        """Its first run is in the timeline: at least restartCount + 1 runs were seen (the
        runtime keeps only the last instances' logs, so a container that restarted often
        may show its later runs only, and its first start or exit is then unknown)."""
        status = self.container_status(container.name) or {}
        return len(self.runs[container.name]) >= int(status.get("restartCount") or 0) + 1

    def run_offset(self, container: Container) -> int:
        """How many runs of the container came before the first one in the timeline: 0 when
        its first run was seen; else counted back from the status (restartCount is the
        number of the instance the status shows), when the last run seen is that instance
        (it started in the same second); else 0, which only undercounts."""
        runs = self.runs[container.name]
        if not runs or self.first_run_seen(container):
            return 0
        status = self.container_status(container.name) or {}
        state, last = status.get("state") or {}, status.get("lastState") or {}
        shown = state.get("running") or state.get("terminated") or (
            last.get("terminated") if "waiting" in state else None)
        started = (shown or {}).get("startedAt")
        if not started or not runs[-1].started_in(str(started)):
            return 0
        return max(0, int(status.get("restartCount") or 0) - (len(runs) - 1))

    def observed(self, container: Container) -> bool:
        """Its runs can be read: instrumented, and no log of it was unreadable."""
        return container.instrumented and not any(
            text.startswith(f"{container.name}:") for text in self.unreadable)


#: The event a podlife script reports just before its startupProbe can first succeed.
STARTUP_READY = "startup-ready"
#: The file podlife's readinessProbes test, and the event a script reports just before it
#: makes it (a script without that event never makes it: its probe never passes).
READY_FILE = "/tmp/podlife-ready"
READY_FILE_MADE = "ready-file"


#: The file whose presence fails podlife's livenessProbes, and the event a script reports
#: just before it makes it (so no liveness failure can come before that event).
NOT_LIVE_FILE = "/tmp/podlife-not-live"
LIVENESS_FAILS = "liveness-fails"
LIVENESS_COMMAND = ["test", "!", "-f", NOT_LIVE_FILE]


def _podlife_liveness(container: dict) -> bool:
    probe = (container.get("livenessProbe") or {}).get("exec") or {}
    return probe.get("command") == LIVENESS_COMMAND


def _readiness_probe(container: dict) -> bool:
    probe = (container.get("readinessProbe") or {}).get("exec") or {}
    return probe.get("command") == ["test", "-f", READY_FILE]


def _reports_readiness(container: dict) -> bool:
    return any(f"ev {READY_FILE_MADE}" in part for part in container.get("command") or [])


def _instrumented(container: dict) -> bool:
    return any(MARKER in part for part in container.get("command") or [])


def _reports_prestop(container: dict) -> bool:
    hook = ((container.get("lifecycle") or {}).get("preStop") or {}).get("exec") or {}
    return any(f"{MARKER} " in part and " prestop" in part for part in hook.get("command") or [])


def _reports_startup(container: dict) -> bool:
    return bool(container.get("startupProbe")) and any(
        f"ev {STARTUP_READY}" in part for part in container.get("command") or [])


def _container(c: dict, index: int, kind: str, own_restart_policy: bool) -> Container:
    own = None if kind == "sidecar" else c.get("restartPolicy")
    return Container(c["name"], index, kind, _instrumented(c),
                     restart_policy=own, restart_rules=rules_of(c),
                     own_restart_policy=own_restart_policy,
                     startup_probe=bool(c.get("startupProbe")),
                     reports_startup=_reports_startup(c),
                     reports_prestop=_reports_prestop(c),
                     readiness_probe=_readiness_probe(c),
                     reports_readiness=_reports_readiness(c),
                     liveness_probe=bool(c.get("livenessProbe")),
                     podlife_liveness=_podlife_liveness(c))


def from_api(pod: dict, timeline: Timeline, backoff: BackOff | None = None) -> Pod:
    """The model's view of a pod (a dict as the API returns it) and its timeline, with the
    crash-loop back-off of the kubelet that ran it when that is known."""
    spec = pod.get("spec") or {}
    containers: list[Container] = []
    for c in spec.get("initContainers") or []:
        kind = "sidecar" if c.get("restartPolicy") == "Always" else "init"
        own = bool(c.get("restartPolicyRules")) or c.get("restartPolicy") not in (None, "Always")
        containers.append(_container(c, len(containers), kind, own))
    for c in spec.get("containers") or []:
        own = bool(c.get("restartPolicy") or c.get("restartPolicyRules"))
        containers.append(_container(c, len(containers), "app", own))
    grace = spec.get("terminationGracePeriodSeconds")
    return Pod(
        name=(pod.get("metadata") or {}).get("name", timeline.pod),
        restart_policy=spec.get("restartPolicy", "Always"),
        grace_s=DEFAULT_GRACE_S if grace is None else int(grace),
        containers=containers,
        status=pod.get("status") or {},
        runs={c.name: runs_of(timeline, c.name) for c in containers},
        unreadable=list(timeline.unreadable),
        deletion=(pod.get("metadata") or {}).get("deletionTimestamp"),
        deletion_grace_s=(pod.get("metadata") or {}).get("deletionGracePeriodSeconds"),
        backoff=backoff,
    )


def runs_of(timeline: Timeline, container: str) -> list[Run]:
    """A container's runs: its events split at each `starting` (events before the first
    `starting` seen belong to a run whose start was not seen, and are dropped)."""
    runs: list[Run] = []
    for event in timeline.of(container):
        if event.event == "starting":
            runs.append(Run([event]))
        elif runs:
            runs[-1].events.append(event)
    return runs
