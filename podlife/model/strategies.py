"""Hypothesis strategies over the grammar of podlife.model.generated: 0-4 init containers
with 0-3 native sidecars anywhere among them, 1-3 app containers, each restart policy,
exit codes 0, 1 or 3 after a short time or serving until SIGTERM, every SIGTERM reaction,
a reporting preStop hook or none, serving containers with no readinessProbe, one that
passes after a delay, or one that never does, and no livenessProbe, one that always
passes, or one that fails after a delay (on sidecars, and on apps the policy restarts, in
pods left to settle, without a preStop hook), sidecars with or without a startupProbe
that passes after a delay, or that exit on their own, small CPU requests, a grace period of 1-4 s
(short, so the suite stays quick), and left alone until the pod settles or deleted at a
random point; one app in eight (bare pods, clusters with container restart rules) with a
restartPolicy of its own, two in three of those with a rule restarting it on its own exit
code or on another.
One pod in five is a Job's template instead (OnFailure or Never, apps that
exit, sidecars that serve, backoffLimit 0 or 1, under Never half with a podFailurePolicy
that fails the Job on exit code 3). One other pod in four asks for widgets (an extended
resource of its own: 0-4 per init container, so that an init container with the sidecars
before it often decides, 0-2 per other container, and 0-2 of pod overhead), on a node
advertising exactly its effective request or one less."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import strategies as st

from podlife.model.generated import (
    LIVES,
    NEVER,
    ON_TERM,
    Behaviour,
    GenContainer,
    GenPod,
    JobSpec,
)

RESTART_POLICIES = ("Always", "OnFailure", "Never")
#: A Job's pods may not restart Always.
JOB_RESTART_POLICIES = ("OnFailure", "Never")
#: A bare pod's grace period: mostly short (the suite stays quick); 4 s leaves the rules,
#: which stop judging the termination order 2 s before the grace period ends, 2 s to see
#: an app that works on 1 s after its SIGTERM exit before the sidecars are signalled.
GRACE_S = (1, 2, 3, 4)
#: Draws per fixed example (see fixed_examples): with readiness probes in the grammar, 25
#: drew no two serving sidecars left to stop (stop:sidecars-in-reverse); 50 draw 6.
SPREAD = 50
short = st.sampled_from((0.0, 0.3, 1.0))
#: A serving container's readinessProbe: none (mostly), passing after a delay, or never.
READINESS = (None, None, None, 0.5, 1.0, NEVER)
#: A serving container's livenessProbe: none (mostly), one that passes, or one its script
#: makes fail after a delay (see _liveness_that_can_fail for where that is kept).
LIVENESS = (None, None, None, None, LIVES, LIVES, 0.5, 1.0)
#: Seconds after the first container's start at which a pod is deleted (None: not before
#: it settles); three in five pods are left to settle, as the phase predictions need.
DELETE_AFTER = (None, None, None, 0.5, 2.0)


def behaviours(kind: str, job: bool = False) -> st.SearchStrategy[Behaviour]:
    """A container's behaviour; in a Job's template the apps all exit and the sidecars
    serve (a Job waits for its apps; a crashing sidecar's restarts count against its
    backoffLimit, which the model does not predict)."""
    readiness = st.none() if job else st.sampled_from(READINESS)
    liveness = st.none() if job else st.sampled_from(LIVENESS)
    serve = st.builds(Behaviour, st.none(), short, st.sampled_from(ON_TERM),
                      prestop=st.booleans(), readiness=readiness, liveness=liveness)
    if kind == "sidecar":
        serving = st.builds(Behaviour, st.none(), short, st.sampled_from(ON_TERM),
                            st.sampled_from((None, None, 1.0, 2.0)), st.booleans(),
                            readiness, liveness)
        if job:
            return serving
        # One sidecar in four exits on its own (0 or 1) and must be started again.
        crashing = st.builds(Behaviour, st.sampled_from((0, 1)), st.sampled_from((0.3, 1.0)))
        return st.one_of(serving, serving, serving, crashing)
    exits = st.builds(Behaviour, st.sampled_from((0, 0, 0, 1, 3)), short)
    return exits if kind == "init" or job else st.one_of(exits, serve)


def _liveness_that_can_fail(pod: GenPod) -> GenPod:
    """A failing livenessProbe is kept only where the model predicts what follows: on a
    sidecar, or an app the policy restarts (not under Never), in a pod left to settle (a
    kill racing the deletion would blur which signal was the deletion's), and without a
    preStop hook (the hook runs on a liveness kill too, which the termination rules would
    read as the pod's); elsewhere it becomes one that passes."""
    def kept(c: GenContainer) -> bool:
        return (pod.delete_after_s is None and not c.behaviour.prestop
                and (c.kind == "sidecar" or pod.policy_of(c) != "Never"))
    return replace(pod, containers=tuple(
        c if not c.behaviour.fails_liveness or kept(c)
        else replace(c, behaviour=replace(c.behaviour, liveness=LIVES))
        for c in pod.containers))


def job_specs(restart_policy: str) -> st.SearchStrategy[JobSpec]:
    """backoffLimit 0 or 1; under Never, half the Jobs fail at once on exit code 3."""
    fail_on = st.sampled_from((None, 3)) if restart_policy == "Never" else st.none()
    return st.builds(JobSpec, st.integers(0, 1), fail_on)


@st.composite
def own_restart_policies(draw: st.DrawFn, app: GenContainer) -> GenContainer:
    """One app in eight gets a restartPolicy of its own (few, so that the fixed set keeps
    most of its pods on clusters without container restart rules), Never as often as the
    two others together; then two in three of those a rule that restarts it on an exit
    code: its own one (so the rule decides) or another (so it does not match)."""
    policy = draw(st.sampled_from((None,) * 28 + ("Always", "OnFailure", "Never", "Never")))
    if policy is None:
        return app
    own = app.behaviour.exits_with
    codes = draw(st.sampled_from(((), (own if own is not None else 0,), (3 if own != 3 else 1,))))
    return replace(app, restart_policy=policy, restart_on=codes)


@st.composite
def gen_pods(draw: st.DrawFn, sidecars: bool = True, widgets: bool = True,
             jobs: bool = True, container_restarts: bool = True) -> GenPod:
    """A pod of the grammar; without `sidecars` (a cluster lacking them) no native ones,
    without `widgets` (no leave to change a node) none of those, without
    `container_restarts` (a cluster before 1.35, or with the gate off) no app with a
    restart policy of its own. With `jobs`, one pod in five is a Job's template (left
    alone until the Job ends: no deletion, no widgets, no policy of an app's own)."""
    roles = ("init", "sidecar") if sidecars else ("init",)
    kinds = draw(st.lists(st.sampled_from(roles), max_size=4).filter(
        lambda k: k.count("sidecar") <= 3))
    kinds += ["app"] * draw(st.integers(1, 3))
    job = jobs and draw(st.sampled_from((False, False, False, False, True)))
    asks = widgets and not job and draw(st.sampled_from((False, False, False, True)))
    containers = tuple(
        GenContainer(f"{kind[0]}{index}", kind, draw(behaviours(kind, job)),
                     draw(st.sampled_from((10, 20, 50))),
                     draw(st.integers(0, 4 if kind == "init" else 2)) if asks else 0)
        for index, kind in enumerate(kinds))
    if job:
        policy = draw(st.sampled_from(JOB_RESTART_POLICIES))
        return GenPod(containers, policy, draw(st.integers(1, 3)),
                      job=draw(job_specs(policy)))
    if container_restarts:
        containers = tuple(draw(own_restart_policies(c)) if c.kind == "app" else c
                           for c in containers)
    pod = _liveness_that_can_fail(GenPod(
        containers, draw(st.sampled_from(RESTART_POLICIES)), draw(st.sampled_from(GRACE_S)),
        draw(st.sampled_from(DELETE_AFTER))))
    if not asks:
        return pod
    pod = replace(pod, overhead=draw(st.sampled_from((0, 0, 1, 2))))
    # At the boundary: the node has exactly the effective request, or one widget less.
    capacity = max(0, pod.effective_widgets() - draw(st.sampled_from((0, 1))))
    pod = replace(pod, capacity=capacity)
    # A pod that cannot be scheduled never starts: it is not deleted at a point of its run.
    return pod if pod.fits() else replace(pod, delete_after_s=None)


def fixed_examples(count: int) -> list[GenPod]:
    """`count` distinct examples, the same on every machine and in every xdist worker
    (derandomized: hypothesis draws them from a fixed seed), for the suite's fixed set.

    SPREAD times as many are drawn, and `count` chosen among the distinct ones so that every
    behaviour the model tags is covered (podlife.model.coverage): at random, 40 pods
    missed whole behaviours."""
    from hypothesis import HealthCheck, Phase, given, settings

    from podlife.model.coverage import covering

    found: dict[GenPod, None] = {}  # distinct, in the order drawn

    @settings(database=None, max_examples=count * SPREAD, derandomize=True, deadline=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(gen_pods())
    def collect(pod: GenPod) -> None:
        found.setdefault(pod)

    collect()
    return covering(found, count)
