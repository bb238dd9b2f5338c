"""The rules of the model: what each claims, where upstream says so, from which release.

A rule is data; the code that applies it lives in podlife.model.ordering (rules over the
timeline of container events) and podlife.model.status (rules over one status snapshot).
Sources name a documentation page and section, a KEP, or a kubelet file and function at
the releases the rule holds for (read at v1.28.15, v1.29.15, v1.30.14, v1.31.0, v1.36.5
and v1.37.2; releases between them were not read and are assumed to agree, since the
same code is at both ends).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    """One thing a correct cluster never does (a safety property of every pod)."""

    id: str
    claim: str
    source: str
    #: The first Kubernetes minor the rule holds for (as upstream shipped it by default).
    since: int = 28

    def holds_for(self, minor: int | None) -> bool:
        """True when the release has the behaviour (an unknown release: assume the newest)."""
        return minor is None or minor >= self.since


INIT_RUNS_TO_COMPLETION_FIRST = Rule(
    "init-completes-before-next",
    "a regular init container exits 0 before any container after it starts",
    "docs: concepts/workloads/pods/init-containers, 'Understanding init containers'; "
    "kubelet: kuberuntime_container.go computeInitContainerActions (1.29+), "
    "findNextInitContainerToRun (1.28)")
SIDECAR_STARTS_BEFORE_LATER = Rule(
    "sidecar-starts-before-later",
    "a restartable init container (native sidecar) starts before every container after it",
    "KEP-753 'Sidecar containers', init sequence; kubelet: kuberuntime_container.go "
    "computeInitContainerActions")
SIDECAR_STOPS_AFTER_APPS = Rule(
    "sidecar-stops-after-apps",
    "while the pod terminates, a native sidecar gets SIGTERM only after every app container "
    "has exited (until the grace period runs out)",
    "KEP-753, termination of sidecars; kubelet: kuberuntime_termination_order.go "
    "newTerminationOrdering / waitForTurn (from v1.29)", since=29)
SIDECARS_STOP_IN_REVERSE = Rule(
    "sidecars-stop-in-reverse",
    "while the pod terminates, a native sidecar gets SIGTERM only after every later native "
    "sidecar has exited (until the grace period runs out)",
    "KEP-753, termination of sidecars; kubelet: kuberuntime_termination_order.go "
    "newTerminationOrdering, the chain of previous sidecars (from v1.29)", since=29)
NO_RESTART_UNDER_NEVER = Rule(
    "no-restart-under-never",
    "under restartPolicy Never a regular container (init or app) runs at most once",
    "docs: concepts/workloads/pods/pod-lifecycle, 'Container restart policy'; kubelet: "
    "pkg/kubelet/container/helpers.go ShouldContainerBeRestarted")
NO_RESTART_AFTER_SUCCESS_UNDER_ON_FAILURE = Rule(
    "no-restart-after-success-under-onfailure",
    "under restartPolicy OnFailure a regular container that exited 0 is not started again",
    "docs: concepts/workloads/pods/pod-lifecycle, 'Container restart policy'; kubelet: "
    "pkg/kubelet/container/helpers.go ShouldContainerBeRestarted")
EXIT_CODE_AS_REPORTED = Rule(
    "exit-code-as-reported",
    "a terminated container's status carries the exit code its process exited with",
    "kubelet: kubelet_pods.go convertToAPIContainerStatuses (the runtime's exit code, "
    "passed through)")
SUCCEEDED_MEANS_APPS_SUCCEEDED = Rule(
    "succeeded-means-apps-exited-0",
    "a pod in phase Succeeded has every app container terminated with exit code 0",
    "docs: pod-lifecycle, 'Pod phase'; kubelet: kubelet_pods.go getPhase "
    "(stopped == succeeded)")
READY_MEANS_CONTAINERS_READY = Rule(
    "ready-means-containers-ready",
    "a pod (or its ContainersReady condition) is True only when every app container and "
    "every native sidecar is ready",
    "kubelet: pkg/kubelet/status/generate.go GenerateContainersReadyCondition and "
    "GeneratePodReadyCondition (native sidecars counted from v1.28)")
INITIALIZED_ONCE_APPS_STARTED = Rule(
    "initialized-once-apps-started",
    "once an app container has started, the pod's Initialized condition is True",
    "kubelet: pkg/kubelet/status/generate.go GeneratePodInitializedCondition "
    "(HasAnyRegularContainerStarted, v1.28+)")
RESTART_COUNT_COVERS_RUNS = Rule(
    "restart-count-covers-runs",
    "a container's restartCount is at least the number of its runs observed, minus one",
    "docs: pod-lifecycle, 'Container restarts'; kubelet: kubelet_pods.go "
    "convertToAPIContainerStatuses (RestartCount from the runtime's attempts)")

SIDECAR_STARTUP_GATES_LATER = Rule(
    "sidecar-startup-gates-later",
    "a container after a native sidecar with a startupProbe starts only once that probe can "
    "have succeeded (podlife's scripts report `startup-ready` just before it can)",
    "KEP-753, a sidecar's startupProbe gates the containers after it; docs: "
    "concepts/workloads/pods/sidecar-containers; kubelet: kuberuntime_container.go "
    "computeInitContainerActions, the startupManager check on restartable init containers "
    "(v1.28.15 to v1.37.2)", since=29)
DELETION_WITHIN_GRACE = Rule(
    "deletion-within-grace",
    "a deleted pod's containers have all exited by its deletionTimestamp (the request plus "
    "the grace period), but for the 2 s the kubelet grants a container whose turn to stop "
    "comes last",
    "docs: concepts/workloads/pods/pod-lifecycle, 'Termination of Pods'; API: "
    "ObjectMeta.deletionTimestamp; kubelet: kuberuntime_container.go killContainer and "
    "kuberuntime_manager.go minimumGracePeriodInSeconds = 2 (v1.28.15 to v1.37.2)")

SIDECAR_PRESTOP_AT_TERMINATION = Rule(
    "sidecar-prestop-at-termination",
    "while the pod terminates, a native sidecar's preStop hook starts before any app "
    "container that ran a preStop hook of its own gets SIGTERM (every hook starts when the "
    "termination does; a sidecar waits for its turn only after its hook)",
    "docs: concepts/workloads/pods/sidecar-containers, 'Sidecar containers and Pod "
    "lifecycle'; kubelet: kuberuntime_container.go killContainer, executePreStopHook before "
    "ordering.waitForTurn (v1.29.15 to v1.37.2)", since=29)

SCHEDULED_ONLY_IF_FITS = Rule(
    "scheduled-only-if-fits",
    "a pod is bound to a node only if its effective request (the larger of apps plus "
    "sidecars and of each init container plus the sidecars before it, plus the pod "
    "overhead) fits what the node has left; one that fits a node with nothing else on it "
    "is bound there",
    "docs: concepts/workloads/pods/sidecar-containers and init-containers, 'Resource "
    "sharing within containers', concepts/scheduling-eviction/pod-overhead; KEP-753; "
    "scheduler: noderesources fit.go computePodResourceRequest; PodRequests in "
    "pkg/api/v1/resource/helpers.go (v1.29.15, v1.31.0) and component-helpers "
    "resource/helpers.go (v0.35.8 to v0.37.2); sidecars count from 1.29, where the "
    "feature is on by default (generated pods have none on a cluster without it)")

RESTART_WAITS_FOR_BACKOFF = Rule(
    "restart-waits-for-backoff",
    "a container that exited on its own is started again no sooner than the kubelet's "
    "crash-loop back-off allows: its first restart at once, the next after the initial "
    "back-off (10 s by default), each later one after twice the one before, up to the "
    "maximum (300 s by default), all counted from its exit",
    "docs: concepts/workloads/pods/pod-lifecycle, 'Container restarts'; kubelet: "
    "kuberuntime_manager.go doBackOff (back-off from the last instance's finishedAt) and "
    "kubelet.go newCrashLoopBackOff (v1.28.15 to v1.37.2); client-go "
    "util/flowcontrol/backoff.go IsInBackOffSince and Next; the kubelet's own /configz "
    "for its maxContainerRestartPeriod and gates")

SANDBOX_READY_WHILE_RUNNING = Rule(
    "sandbox-ready-while-running",
    "while a container of the pod runs, its PodReadyToStartContainers condition, where the "
    "kubelet reports it, is True (the sandbox and its network exist)",
    "KEP-3085 'Pod readiness to start containers'; docs: concepts/workloads/pods/"
    "pod-lifecycle, 'Pod has sandbox and networking'; kubelet: status/generate.go "
    "GeneratePodReadyToStartContainersCondition (True unless a new sandbox is needed) and "
    "kubelet_pods.go generateAPIPodStatus (v1.29.15 to v1.37.2; beta and on by default "
    "from 1.29, alpha before)", since=29)
SANDBOX_CONDITION_REPORTED = Rule(
    "sandbox-condition-reported",
    "a pod with a running container reports the PodReadyToStartContainers condition",
    "kubelet: pkg/features/kube_features.go PodReadyToStartContainersCondition (GA and "
    "locked on from 1.37; from 1.29 to 1.36 the gate may be turned off) and kubelet_pods.go "
    "generateAPIPodStatus (v1.37.2)", since=37)

READY_ONLY_ONCE_PROBE_PASSES = Rule(
    "ready-only-once-probe-passes",
    "a container with a readinessProbe is ready only once the probe can have passed in its "
    "current run: never, when the probe can never pass (podlife's probe tests a file its "
    "script never makes); else only after the script reported making the file",
    "docs: concepts/workloads/pods/pod-lifecycle, 'Container probes' (readinessProbe: "
    "Failure until the first success); kubelet: prober/prober_manager.go UpdatePodStatus "
    "(ready on a readiness result of Success, or with no probe) and prober/worker.go "
    "(a readiness worker's initial result is Failure) (v1.28.15 to v1.37.2)")

SIGTERM_ONLY_WITH_A_CAUSE = Rule(
    "sigterm-only-with-a-cause",
    "a running container gets SIGTERM only when the pod is being deleted, when the pod has "
    "ended (a native sidecar once the apps are done for good: every one exited under "
    "Never, exited 0 under OnFailure; or a regular init container failed under Never), "
    "when the kubelet ended the pod itself (status.reason set: evicted, deadline), or when "
    "its own liveness or startup probe failed (podlife's liveness probe fails only after "
    "its script reported making the probe fail)",
    "docs: concepts/workloads/pods/pod-lifecycle, 'Container probes' and 'Termination of "
    "Pods'; concepts/workloads/pods/sidecar-containers; kubelet: kuberuntime_manager.go "
    "computePodActions (a running app is killed only when its definition changed, its "
    "liveness or startup probe failed, a resize needs a restart, or no app is kept or "
    "restarted: KillPod) and kuberuntime_container.go computeInitContainerActions (the "
    "same for restartable init containers) (v1.28.15 to v1.37.2)")

RESTART_FOLLOWS_OWN_POLICY = Rule(
    "restart-follows-own-policy",
    "a regular container with a restartPolicy of its own runs again only when that says "
    "so: after an exit, a matching restartPolicyRules entry with action Restart, else its "
    "own policy (Always; OnFailure after a non-zero code; Never not); after a kill by its "
    "own probe, unless its own policy is Never",
    "KEP-5307 'Container restart rules'; docs: concepts/workloads/pods/pod-lifecycle, "
    "'Container restart policy'; pkg/api/v1/pod/util.go ContainerShouldRestart and "
    "FindMatchingContainerRestartRule, kubelet: kuberuntime_manager.go computePodActions "
    "(v1.37.2); kube_features.go ContainerRestartRules (alpha 1.34, beta and on from 1.35)",
    since=35)

SIDECAR_RESTARTED_WHILE_NEEDED = Rule(
    "sidecar-restarted-while-needed",
    "a native sidecar that exited on its own, whatever its exit code and the pod's "
    "restartPolicy, is started again within 20 s while an app container of the pod still "
    "has to run or is running: its first restart is not held back by the crash-loop "
    "back-off",
    "KEP-753 'Sidecar containers' (a restartable init container is restarted until the "
    "pod terminates, whatever the pod's restartPolicy); docs: concepts/workloads/pods/"
    "sidecar-containers; kubelet: kuberuntime_container.go computeInitContainerActions "
    "(an exited restartable init container is started again; v1.29.15 to v1.37.2) and "
    "kuberuntime_manager.go doBackOff (no back-off before the first restart); upstream's "
    "TestComputePodActionsWithRestartableInitContainers, 'restart restartable init "
    "container if regular containers are running even if pod's RestartPolicy == Never'",
    since=29)

RULES: tuple[Rule, ...] = (
    INIT_RUNS_TO_COMPLETION_FIRST, SIDECAR_STARTS_BEFORE_LATER, SIDECAR_STOPS_AFTER_APPS,
    SIDECARS_STOP_IN_REVERSE, NO_RESTART_UNDER_NEVER, NO_RESTART_AFTER_SUCCESS_UNDER_ON_FAILURE,
    EXIT_CODE_AS_REPORTED, SUCCEEDED_MEANS_APPS_SUCCEEDED, READY_MEANS_CONTAINERS_READY,
    INITIALIZED_ONCE_APPS_STARTED, RESTART_COUNT_COVERS_RUNS, SIDECAR_STARTUP_GATES_LATER,
    DELETION_WITHIN_GRACE, SIDECAR_PRESTOP_AT_TERMINATION, SCHEDULED_ONLY_IF_FITS,
    RESTART_WAITS_FOR_BACKOFF, SANDBOX_READY_WHILE_RUNNING, SANDBOX_CONDITION_REPORTED,
    READY_ONLY_ONCE_PROBE_PASSES, SIGTERM_ONLY_WITH_A_CAUSE, RESTART_FOLLOWS_OWN_POLICY,
    SIDECAR_RESTARTED_WHILE_NEEDED,
)
