"""Pods described by a small grammar, and what the model predicts a correct cluster does
with each: the examples `podlife explore` generates (podlife.model.strategies) and the
fixed set in the suite are built from these."""

from __future__ import annotations

from dataclasses import dataclass

from podlife.model.requests import effective_request
from podlife.model.restarts import RestartRule, restarts_after_exit

#: The resource name the model counts widgets in (the cluster's is unique per pod).
WIDGET = "widgets"
#: What a serving container does on SIGTERM: exit 0, exit 143, ignore it, or work on (s).
ON_TERM = ("exit", "fail", "ignore", 1.0)
#: A readinessProbe that can never pass (its file is never made).
NEVER = "never"
#: A livenessProbe that always passes (its script never makes it fail).
LIVES = "lives"


@dataclass(frozen=True)
class Behaviour:
    """What one container's script does: run `after_s`, then exit with `exits_with`, or
    (exits_with None) report ready and serve until SIGTERM, reacting as `on_term` says."""

    exits_with: int | None
    after_s: float
    on_term: str | float = "exit"
    #: A serving container's startupProbe passes this many seconds after `after_s`
    #: (None: it has no startupProbe).
    startup_s: float | None = None
    #: A serving container has a preStop hook that reports `prestop` and works 1 s.
    prestop: bool = False
    #: A serving container's readinessProbe passes this many seconds after its start (and
    #: startup), or NEVER; None: it has no readinessProbe.
    readiness: float | str | None = None
    #: A serving container's livenessProbe: LIVES (it always passes), a number of seconds
    #: after its start at which its script makes it fail (the kubelet then kills it, and
    #: restarts it as the policy says), or None: it has no livenessProbe.
    liveness: float | str | None = None

    @property
    def fails_liveness(self) -> bool:
        return isinstance(self.liveness, float)


@dataclass(frozen=True)
class GenContainer:
    name: str
    kind: str  # "init", "sidecar" or "app"
    behaviour: Behaviour
    cpu_m: int = 10
    #: Widgets it asks for: an extended resource of the pod's own (requests == limits).
    widgets: int = 0
    #: An app's own restartPolicy (where the cluster has container restart rules), and
    #: the exit codes on which its one restartPolicyRules entry restarts it.
    restart_policy: str | None = None
    restart_on: tuple[int, ...] = ()

    def rules(self) -> tuple[RestartRule, ...]:
        return (RestartRule("Restart", "In", self.restart_on),) if self.restart_on else ()


@dataclass(frozen=True)
class JobSpec:
    """A Job owning the generated pod: its backoffLimit, and the exit code on which its
    podFailurePolicy fails the Job at once (None: no policy; Never pods only)."""

    backoff_limit: int
    fail_job_on: int | None = None

    def describe(self) -> str:
        policy = ("" if self.fail_job_on is None
                  else f", podFailurePolicy FailJob on exit {self.fail_job_on}")
        return f"a Job (backoffLimit {self.backoff_limit}{policy})"


@dataclass(frozen=True)
class GenPod:
    """A generated pod, bare or a Job's template: init containers (sidecars among them)
    in order, then apps."""

    containers: tuple[GenContainer, ...]
    restart_policy: str
    grace_s: int
    #: Deleted this many seconds after its first container started (None: left alone
    #: until it settles, then deleted). A deleted pod is judged by the rules alone.
    delete_after_s: float | None = None
    #: Widgets one node advertises for this pod alone (None: the pod asks for none), so
    #: whether it can be scheduled depends on its effective request and nothing else.
    capacity: int | None = None
    #: Pod overhead in widgets, from a RuntimeClass of the pod's own.
    overhead: int = 0
    #: The Job whose template it is (None: a bare pod); see podlife.model.jobs.
    job: JobSpec | None = None

    def effective_widgets(self) -> int:
        """The effective request in widgets (podlife.model.requests, the scheduler's rule)."""
        def spec(c: GenContainer) -> dict:
            out: dict = {"resources": {"requests": {WIDGET: str(c.widgets)}}}
            return out | ({"restartPolicy": "Always"} if c.kind == "sidecar" else {})
        return effective_request(
            {"initContainers": [spec(c) for c in self.of_kind("init", "sidecar")],
             "containers": [spec(c) for c in self.of_kind("app")],
             "overhead": {WIDGET: str(self.overhead)}}, WIDGET)

    def fits(self) -> bool:
        """True unless its effective request exceeds the widgets advertised for it."""
        return self.capacity is None or self.effective_widgets() <= self.capacity

    def of_kind(self, *kinds: str) -> list[GenContainer]:
        return [c for c in self.containers if c.kind in kinds]

    def restarts(self, container: GenContainer, exit_code: int) -> bool:
        """Whether the container, exited with the code, is started again (an init
        container only when it failed and the pod's policy is not Never)."""
        if container.kind == "init":
            return exit_code != 0 and self.restart_policy != "Never"
        return restarts_after_exit(self.restart_policy, container.restart_policy,
                                   container.rules(), exit_code)

    def policy_of(self, container: GenContainer) -> str:
        """The restart policy that applies to the container: its own, else the pod's."""
        return container.restart_policy or self.restart_policy

    def describe(self) -> str:
        """One line: the shape a human reads in a failure (and a shrunk example)."""
        parts = []
        for c in self.containers:
            b = c.behaviour
            does = "serves" if b.exits_with is None else f"exits {b.exits_with}"
            probe = "" if b.startup_s is None else f", startupProbe passes after {b.startup_s:g}s"
            probe += ", preStop hook" if b.prestop else ""
            if b.readiness is not None:
                probe += (", readinessProbe never passes" if b.readiness == NEVER
                          else f", readinessProbe passes after {b.readiness:g}s")
            if b.liveness is not None:
                probe += (", livenessProbe passes" if b.liveness == LIVES
                          else f", livenessProbe fails after {b.liveness:g}s")
            widgets = "" if self.capacity is None else f", {c.widgets} widgets"
            if c.restart_policy is not None:
                widgets += f", own restartPolicy {c.restart_policy}"
                widgets += "".join(f", restarts on exit {code}" for code in c.restart_on)
            parts.append(f"{c.kind}:{c.name}({does} after {b.after_s:g}s{probe}, "
                         f"on SIGTERM {b.on_term}{widgets})")
        deleted = ("" if self.delete_after_s is None
                   else f", deleted {self.delete_after_s:g}s after its first start")
        widgets = ("" if self.capacity is None else
                   f", effective request {self.effective_widgets()} widgets (overhead "
                   f"{self.overhead}) where the node advertises {self.capacity}")
        owner = "" if self.job is None else f"{self.job.describe()}, "
        return (f"{owner}restartPolicy {self.restart_policy}, grace {self.grace_s}s{deleted}"
                f"{widgets}: " + ", ".join(parts))


@dataclass(frozen=True)
class Prediction:
    """Where the pod settles, by the model: its phase then (a terminal phase, or Pending /
    Running for a pod that stays; None when it is not known), which containers start, and
    which never do."""

    phase: str | None
    starts: tuple[str, ...]
    never_starts: tuple[str, ...]
    #: Containers whose first run ends with this exit code (the status's last state or
    #: state, whichever holds the first run's end when the pod settles).
    exits: tuple[tuple[str, int], ...]
    #: Containers that run exactly once: an init container that exits 0, or any regular
    #: container under Never, or one that exits 0 under OnFailure.
    runs_once: tuple[str, ...] = ()
    #: False when its effective request exceeds what any node has: it stays Pending,
    #: Unschedulable, and none of its containers starts.
    scheduled: bool = True
    #: Sidecars that exit on their own before later containers: the kubelet starts what
    #: follows one only after it has seen it running, which a sidecar living 0.3 s may
    #: never be; the pod settles (as far as the model knows) once each was restarted (an
    #: exited sidecar is, whatever the restart policy), or at a terminal phase.
    crashing_gates: tuple[str, ...] = ()
    #: With a crashing gate: an app serves and no regular init container can fail the pod
    #: (none fails, or the policy retries it), so it never reaches a terminal phase.
    stays: bool = False
    #: App containers that exit on their own again after their first restart (which is
    #: not held back), so the kubelet must hold the next one back
    #: (rules.RESTART_WAITS_FOR_BACKOFF): the pod settles only once each is seen held back
    #: (waiting, CrashLoopBackOff) or started a third time (which the rule then judges).
    #: Not sidecars: one held back shows only as terminated (seen on v1.37.2), so telling
    #: it from one about to be restarted at once would take a wait; nor init containers:
    #: the pod worker retries their pod only on its next sync, about 10 s later.
    backs_off: tuple[str, ...] = ()
    #: Serving containers that are ready once the pod settles (their readinessProbe, if
    #: any, passes), and those never ready (a readinessProbe that never passes); the pod
    #: is Ready only when every app and sidecar is among the first.
    ready: tuple[str, ...] = ()
    never_ready: tuple[str, ...] = ()
    #: Serving containers whose livenessProbe fails (in a pod that stays): the kubelet
    #: kills and restarts each (a sidecar whatever the policy; an app under Always or
    #: OnFailure), so the pod settles only once each was restarted, and none is counted
    #: ready or never ready (docs: pod-lifecycle, 'Container probes'; kubelet:
    #: computePodActions, a liveness Failure kills, restarting unless the policy is Never).
    killed_by_liveness: tuple[str, ...] = ()


def _runs_once(pod: GenPod, exits: list[tuple[str, int | None]]) -> tuple[str, ...]:
    by_name = {c.name: c for c in pod.containers}
    return tuple(name for name, code in exits
                 if code is not None and not pod.restarts(by_name[name], code))


def predict(pod: GenPod) -> Prediction:
    """What a correct kubelet does with the pod, left alone until it settles.

    Sources: docs concepts/workloads/pods/init-containers (a failing init container is
    retried unless restartPolicy is Never, when the pod fails) and pod-lifecycle (restart
    policy, phase); KEP-753 (sidecars start in order, are restarted whenever they exit,
    do not keep a pod from completing); kubelet kubelet_pods.go getPhase and
    kuberuntime_container.go computeInitContainerActions (an exited restartable init
    container is started again); podlife.model.requests and rules.SCHEDULED_ONLY_IF_FITS
    (a pod whose effective request exceeds the node's allocatable is not scheduled).
    """
    if not pod.fits():
        return Prediction("Pending", (), tuple(c.name for c in pod.containers), (),
                          scheduled=False)
    started: list[str] = []
    exits: list[tuple[str, int]] = []
    for index, container in enumerate(pod.of_kind("init", "sidecar")):
        started.append(container.name)
        code = container.behaviour.exits_with
        if container.kind == "sidecar" and code is not None:
            # Seen on v1.32.2 (a sidecar exiting after 0.3 s, restarted three times, the
            # init container after it never started): computeInitContainerActions starts
            # the next container only from a sync that finds this one Running (the same
            # code from v1.29.15 to v1.37.2). What follows is not predicted.
            fails = pod.restart_policy == "Never" and any(
                c.behaviour.exits_with not in (None, 0) for c in pod.of_kind("init"))
            serves = any(a.behaviour.exits_with is None for a in pod.of_kind("app"))
            # Whether or not what follows starts, a regular container of it that does
            # still runs once where the policy says so.
            later = [(c.name, c.behaviour.exits_with) for c in pod.containers[
                pod.containers.index(container) + 1:] if c.kind != "sidecar"]
            return Prediction(None, tuple(started), (), tuple(exits),
                              _runs_once(pod, [*exits, *later]),
                              crashing_gates=(container.name,), stays=serves and not fails)
        if container.kind == "init" and code not in (None, 0):
            later = tuple(c.name for c in pod.containers[index + 1:])
            exits.append((container.name, code))
            phase = "Failed" if pod.restart_policy == "Never" else "Pending"
            # Retried too, but not waited for (see Prediction.backs_off).
            return Prediction(phase, tuple(started), later, tuple(exits),
                              _runs_once(pod, exits))
        if container.kind == "init":
            exits.append((container.name, 0))
    apps = pod.of_kind("app")
    started += [a.name for a in apps]
    exits += [(a.name, a.behaviour.exits_with) for a in apps
              if a.behaviour.exits_with is not None]
    serving = any(a.behaviour.exits_with is None for a in apps)
    failed = any(a.behaviour.exits_with not in (None, 0) for a in apps)
    # Restarted, with back-off, for ever: by the pod's policy, or the app's own (getPhase:
    # an app stopped but restartable keeps the pod Running, v1.37.2).
    retried = tuple(a.name for a in apps if a.behaviour.exits_with is not None
                    and pod.restarts(a, a.behaviour.exits_with))
    phase = "Running" if serving or retried else "Failed" if failed else "Succeeded"
    # Serving containers of a pod that stays Running: ready as their readiness
    # probes say (docs: pod-lifecycle, 'Container probes'; kubelet: prober_manager.go
    # UpdatePodStatus, ready only on a readiness result of Success, or with no probe).
    servers = [c for c in pod.containers if phase == "Running"
               and c.kind != "init" and c.behaviour.exits_with is None]
    killed = tuple(c.name for c in servers if c.behaviour.fails_liveness)
    steady = [c for c in servers if c.name not in killed]
    return Prediction(phase, tuple(started), (), tuple(exits), _runs_once(pod, exits),
                      backs_off=retried,
                      ready=tuple(c.name for c in steady if c.behaviour.readiness != NEVER),
                      never_ready=tuple(c.name for c in steady
                                        if c.behaviour.readiness == NEVER),
                      killed_by_liveness=killed)
