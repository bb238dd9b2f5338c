"""What a generated pod exercises, as tags, so the suite's fixed set can be chosen to
cover every one of them: drawn at random, 40 pods missed whole behaviours (after the
grammar grew, none of them had a failing init container under Never left to settle)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

from podlife.model.generated import LIVES, GenPod, Prediction, predict
from podlife.model.jobs import predict_job

#: How many fixed pods each tag should have, where the draws offer that many.
WANTED = 2


def _serving(pod: GenPod, kind: str, *, hooked: bool = False) -> list[str]:
    return [c.name for c in pod.of_kind(kind) if c.behaviour.exits_with is None
            and (c.behaviour.prestop or not hooked)]


def _scheduling_tags(pod: GenPod) -> set[str]:
    """Which term of the effective request keeps a pod off the node."""
    tags = {"unschedulable"}
    if pod.overhead and pod.effective_widgets() - pod.overhead <= (pod.capacity or 0):
        tags.add("unschedulable-by-overhead")
    sidecars = sum(c.widgets for c in pod.of_kind("sidecar"))
    apps = sum(c.widgets for c in pod.of_kind("app")) + sidecars
    alone = max([c.widgets for c in pod.of_kind("init", "sidecar")] + [apps])
    if alone + pod.overhead <= (pod.capacity or 0):
        tags.add("unschedulable-by-init-after-sidecars")
    return tags


def _own_policy_tags(pod: GenPod, prediction: Prediction) -> set[str]:
    """Apps with a restart policy of their own that start and exit: restarted or not by
    it, where it decides (the pod's policy alone would do otherwise) or not; by a rule that
    decides (it restarts what the policy alone would not) or one that
    does not match; a pod under Always that completes anyway."""
    found: set[str] = set()
    if pod.delete_after_s is not None:
        return found  # deleted before its apps may have exited: nothing decided
    for app in pod.of_kind("app"):
        code = app.behaviour.exits_with
        if app.restart_policy is None or code is None or app.name not in prediction.starts:
            continue
        restarts = pod.restarts(app, code)
        found.add(f"own-policy:{'restarts' if restarts else 'stops'}")
        if restarts != pod.restarts(replace(app, restart_policy=None, restart_on=()), code):
            # Its own policy (or rule) decides: the pod's policy alone would do otherwise.
            found.add(f"own-policy:decides-{'restart' if restarts else 'stop'}")
        if app.restart_on and code not in app.restart_on:
            found.add("restart-rule:misses")
        elif app.restart_on and not pod.restarts(replace(app, restart_on=()), code):
            found.add("restart-rule:decides")
    if found and pod.restart_policy == "Always" and prediction.phase in ("Succeeded", "Failed"):
        found.add("own-policy:always-pod-completes")
    return found


def tags(pod: GenPod) -> frozenset[str]:
    """The behaviours a correct cluster shows with this pod, by the model's prediction."""
    if not pod.fits():
        return frozenset(_scheduling_tags(pod))
    if pod.job is not None:
        return _job_tags(pod)
    prediction = predict(pod)
    found = {f"policy:{pod.restart_policy}"}
    if pod.capacity is not None:
        found.add("widgets-fit" + ("-with-overhead" if pod.overhead else ""))
    if any(c.behaviour.startup_s is not None for c in pod.of_kind("sidecar")):
        found.add("sidecar-startup-probe")
    if prediction.never_ready and pod.delete_after_s is None:
        found.add("readiness-never-passes")
    if pod.delete_after_s is None and any(
            isinstance(c.behaviour.readiness, float) for c in pod.containers
            if c.name in prediction.ready):
        found.add("readiness-passes-late")
    found |= _own_policy_tags(pod, prediction)
    if (pod.delete_after_s is None and prediction.phase is not None
            and _serving(pod, "app") and any(a.behaviour.exits_with not in (None, 0)
                                             for a in pod.of_kind("app"))):
        # The others run on, whatever happens to the failed one (a pod under Never is not
        # stopped: it ends only when every app has).
        found.add(f"app-fails-beside-a-server:{pod.restart_policy}")
    kinds = {c.name: c.kind for c in pod.containers}
    found |= {f"liveness-fails:{kinds[name]}" for name in prediction.killed_by_liveness}
    if prediction.phase == "Running" and any(c.behaviour.liveness == LIVES
                                             for c in pod.containers):
        found.add("liveness-passes")
    if pod.delete_after_s is not None:
        found.add("deleted-while-starting")
    elif prediction.phase is None:
        found.add(f"crashing-sidecar-before-later:{pod.restart_policy}")
        gate = prediction.crashing_gates[0]
        after = [c for c in pod.containers[[c.name for c in pod.containers].index(gate) + 1:]
                 if c.kind == "init"]
        if after and all(c.behaviour.exits_with == 0 for c in after):
            # The init containers after it run while it is restarted: none runs twice.
            found.add(f"crashing-sidecar-then-init:{pod.restart_policy}")
        if prediction.stays:
            # It stays (Pending, or Running on its serving app): the sidecar must be
            # restarted, whatever the restart policy. Its exit code is a tag of its own:
            # from 1.35 the kubelet reaches a sidecar that failed through its restart
            # policy (Always), and one that exited 0 through another path.
            code = next(c for c in pod.containers if c.name == gate).behaviour.exits_with
            found.add(f"crashing-sidecar-in-a-staying-pod:{pod.restart_policy}:"
                      f"exits-{'0' if code == 0 else 'non-0'}")
    else:
        found.add(f"settles:{prediction.phase}:{pod.restart_policy}")
        found |= {f"init-fails:{pod.restart_policy}" for name, code in prediction.exits
                  if code and name in {c.name for c in pod.of_kind("init")}}
        found |= {f"app-exits-{'0' if code == 0 else 'non-0'}:{pod.restart_policy}"
                  for name, code in prediction.exits
                  if name in {c.name for c in pod.of_kind("app")}}
        if prediction.phase == "Failed" and (0 in {code for _, code in prediction.exits}):
            found.add("failed-although-one-exited-0")
        if prediction.phase == "Succeeded" and any(
                c.behaviour.on_term in ("fail", "ignore") for c in pod.of_kind("sidecar")
                if c.behaviour.exits_with is None):
            found.add("succeeded-with-a-sidecar-stopping-non-0")
    # Termination is exercised cleanly by a pod left to settle Running with every app
    # serving (nothing restarting, so every container's whole log is there), then
    # deleted: a Pending pod's apps never started, and a pod deleted at its random point
    # may be deleted before they do.
    running = (pod.delete_after_s is None and prediction.phase == "Running"
               and not prediction.killed_by_liveness
               and all(a.behaviour.exits_with is None for a in pod.of_kind("app")))
    if running and prediction.starts:
        if len(_serving(pod, "sidecar")) >= 2:
            found.add("stop:sidecars-in-reverse")
        if _serving(pod, "sidecar") and _serving(pod, "app"):
            found.add("stop:sidecar-after-app")
            if pod.grace_s >= 4 and any(c.behaviour.on_term == 1.0
                                        for c in pod.of_kind("app")
                                        if c.behaviour.exits_with is None):
                # An app that works on for 1 s after its SIGTERM and reports its exit,
                # in a grace period long enough for the rules to judge the order (they
                # stop GRACE_MARGIN_S, 2 s, before its end): a sidecar signalled with the
                # app, not after it, shows as signalled before the app's logged exit.
                found.add("stop:sidecar-after-slow-app")
        if _serving(pod, "sidecar", hooked=True) and _serving(pod, "app", hooked=True):
            found.add("stop:hooked-sidecar-and-app")
        if any(c.behaviour.on_term == "ignore" for c in pod.containers
               if c.behaviour.exits_with is None):
            found.add("stop:sigterm-ignored")
    return frozenset(found)


def _job_tags(pod: GenPod) -> frozenset[str]:
    """How the Job ends, and why; with sidecars, retried, or failed by an init container."""
    outcome = predict_job(pod)
    found = {f"job:{outcome.condition}:{outcome.reason or 'done'}:{pod.restart_policy}"}
    if pod.of_kind("sidecar"):
        found.add(f"job-with-sidecars:{outcome.condition}")
    if outcome.pods > 1:
        found.add("job-pod-replaced")
    inits = {c.name for c in pod.of_kind("init")}
    if any(code and name in inits for name, code in predict(pod).exits):
        found.add(f"job-init-fails:{pod.restart_policy}")
    return frozenset(found)


def covering(pods: Sequence[GenPod], count: int) -> list[GenPod]:
    """`count` of `pods`, chosen greedily so that every tag is covered once, then
    WANTED times, where the pods allow; the rest evenly spread over what is left.
    Deterministic, in the pods' order."""
    pods = list(pods)
    chosen: list[int] = []
    have: Counter[str] = Counter()
    labels = [tags(p) for p in pods]
    for wanted in range(1, WANTED + 1):
        while len(chosen) < count:
            left = [i for i in range(len(pods)) if i not in chosen]
            gains = {i: sum(1 for tag in labels[i] if have[tag] < wanted) for i in left}
            best = max(left, key=lambda i: (gains[i], -i), default=None)
            if best is None or gains[best] == 0:
                break
            chosen.append(best)
            have.update(labels[best])
    left = [i for i in range(len(pods)) if i not in chosen]
    missing = count - len(chosen)
    if missing > 0 and left:
        step = max(1, len(left) // missing)
        chosen += left[::step][:missing]
    return [pods[i] for i in sorted(chosen)]
