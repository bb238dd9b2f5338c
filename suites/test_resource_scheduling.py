"""The scheduler reserves a pod's *effective* request, exactly at the boundary.

The tutorial: "the pod's effective resource request is the max of the sum of all app
container requests and the max of any single init container request". Native sidecars
refine it (they keep running, so they add to the app containers and to every init
container declared after them). cpu and memory are shared with whatever else runs on the
node, so the boundary is tested with an extended resource only this check uses: the node
advertises exactly 10 widgets, and pods whose effective request is 10 schedule while pods
needing 11 stay Pending with "Insufficient". podlife.model.requests states the request each
case means to create before the scheduler gives its verdict.
"""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass

import pytest

from podlife.check import manifests
from podlife.check.framework import Framework
from podlife.check.instrument import Script, instrument, run, serve
from podlife.check.pod_state import scheduled
from podlife.check.widgets import advertised, runtime_class, runtime_class_name
from podlife.model.requests import effective_request

CAPACITY = 10
POD = "init-resources"


@dataclass(frozen=True)
class Case:
    """One pod: widgets per container, and the effective request it is meant to have."""

    id: str
    setup: int
    apps: tuple[int, ...]
    sidecars: tuple[int, ...] = ()  # native sidecars, declared before `setup`...
    setup_first: bool = False  # ... or after it, when this is set
    overhead: int = 0  # pod overhead, from a RuntimeClass
    effective: int = CAPACITY

    @property
    def fits(self) -> bool:
        return self.effective <= CAPACITY


CASES = [
    # (a) the largest init container dominates
    Case("init-dominates-fits", setup=10, apps=(2,), effective=10),
    Case("init-dominates-exceeds", setup=11, apps=(2,), effective=11),
    # (b) the sum of the app containers dominates
    Case("app-sum-fits", setup=1, apps=(6, 4), effective=10),
    Case("app-sum-exceeds", setup=1, apps=(6, 5), effective=11),
    # (c) native sidecars add to the app containers, all of them summed...
    Case("sidecar-plus-app-fits", sidecars=(4,), setup=1, apps=(6,), effective=10),
    Case("sidecar-plus-app-exceeds", sidecars=(4,), setup=1, apps=(7,), effective=11),
    Case("two-sidecars-plus-app-fits", sidecars=(3, 3), setup=1, apps=(4,), effective=10),
    Case("two-sidecars-plus-app-exceeds", sidecars=(3, 3), setup=1, apps=(5,), effective=11),
    # ... and to an init container declared after them...
    Case("init-after-sidecar-fits", sidecars=(4,), setup=6, apps=(1,), effective=10),
    Case("init-after-sidecar-exceeds", sidecars=(4,), setup=7, apps=(1,), effective=11),
    Case("init-after-two-sidecars-fits", sidecars=(3, 3), setup=4, apps=(1,), effective=10),
    Case("init-after-two-sidecars-exceeds", sidecars=(3, 3), setup=5, apps=(1,),
         effective=11),
    # ... but not to one declared before them (it has finished before they start)
    Case("init-before-sidecar-fits", sidecars=(4,), setup_first=True, setup=10, apps=(1,),
         effective=10),
    Case("init-before-sidecar-exceeds", sidecars=(4,), setup_first=True, setup=11,
         apps=(1,), effective=11),
    # (d) a RuntimeClass's pod overhead comes on top of everything
    Case("overhead-fits", overhead=2, setup=1, apps=(8,), effective=10),
    Case("overhead-exceeds", overhead=2, setup=1, apps=(9,), effective=11),
]


def sidecar_names(case: Case) -> list[str]:
    return [f"sidecar-{i}" for i in range(1, len(case.sidecars) + 1)]


def widget_pod(f: Framework, resource: str, case: Case) -> dict:
    """The tutorial's init-resources pod, asking for widgets as the case says.

    Extended resources are requested with requests == limits. The tutorial's cpu/memory
    requests are scaled down tenfold (same shape), so on a busy 2-core node nothing but
    the widgets can decide the verdict. A second app container is a copy of `app`; the
    sidecars are native ones (restartPolicy Always) declared before `setup`, or after it
    with setup_first. Pod overhead is written into the pod as the RuntimeClass states it
    (admission refuses a pod whose overhead differs from its RuntimeClass's).
    """
    pod = manifests.load_one(POD)
    spec = pod["spec"]
    spec["terminationGracePeriodSeconds"] = 1
    setup = spec["initContainers"][0]
    setup["resources"] = {"requests": {"memory": "100Mi", "cpu": "50m"},
                          "limits": {"memory": "200Mi", "cpu": "100m"}}
    app = spec["containers"][0]
    app["resources"] = {"requests": {"memory": "25Mi", "cpu": "10m"}}
    for extra in range(2, len(case.apps) + 1):
        spec["containers"].append({**copy.deepcopy(app), "name": f"app-{extra}"})
    sidecars = [{"name": name, "image": "fluent/fluent-bit", "restartPolicy": "Always",
                 "resources": {}} for name in sidecar_names(case)]
    spec["initContainers"] = ([setup, *sidecars] if case.setup_first else [*sidecars, setup])
    widgets = {"setup": case.setup} | dict(zip(sidecar_names(case), case.sidecars, strict=True))
    widgets |= {c["name"]: n for c, n in zip(spec["containers"], case.apps, strict=True)}
    for container in spec["initContainers"] + spec["containers"]:
        resources = container.setdefault("resources", {})
        for part in ("requests", "limits"):
            resources.setdefault(part, {})[resource] = str(widgets[container["name"]])
    scripts: dict[str, Script] = {"setup": run()}
    scripts |= {c["name"]: serve() for c in spec["containers"]}
    scripts |= {name: serve() for name in sidecar_names(case)}
    if case.overhead:
        spec["runtimeClassName"] = runtime_class_name(f)
        spec["overhead"] = {resource: str(case.overhead)}
    return instrument(pod, scripts, f.images)


def wait_scheduled(f: Framework, what: str) -> dict:
    """The pod once bound; a timeout says what the scheduler said (FailedScheduling)."""
    try:
        return f.wait_pod(POD, scheduled, timeout=60, what=what)
    except AssertionError as exc:
        said = [e.get("message") for e in f.events_for(POD)
                if e.get("reason") == "FailedScheduling"]
        raise AssertionError(f"{exc}; scheduler said: {said}") from None


def tutorial_formula(case: Case) -> int:
    """What the tutorial's two-line rule (sidecars and overhead unknown) would say."""
    return max(sum(case.apps), case.setup, *case.sidecars)


@pytest.mark.pattern("init-resources")
@pytest.mark.needs("node-changes")
@pytest.mark.parametrize("case", [
    pytest.param(c, id=c.id, marks=[pytest.mark.needs("native-sidecars")] if c.sidecars else [])
    for c in CASES])
def test_effective_request_decides_scheduling(f: Framework, case: Case) -> None:
    """A pod is scheduled exactly when its effective request (max of the app+sidecar sum
    and each init container with the sidecars before it) fits the node."""
    with contextlib.ExitStack() as stack:
        node, resource = stack.enter_context(advertised(f, CAPACITY))
        if case.overhead:
            stack.enter_context(runtime_class(f, resource, case.overhead))
        pod = widget_pod(f, resource, case)
        computed = effective_request(pod, resource)
        assert computed == case.effective, (
            f"podlife.model.requests says this pod requests {computed} widgets, the case meant "
            f"{case.effective}: the pod or the formula is wrong")
        stored = f.create(pod)
        assert (stored["spec"].get("overhead") or {}).get(resource) == (
            str(case.overhead) if case.overhead else None), (
            f"the API stored overhead {stored['spec'].get('overhead')}")
        if case.fits:
            seen = wait_scheduled(f, f"PodScheduled=True with effective request {computed} "
                                     f"of {CAPACITY} {resource}")
            assert seen["spec"].get("nodeName") == node, (
                f"scheduled on {seen['spec'].get('nodeName')}, the only node with "
                f"{resource} is {node}")
            # The kubelet admits it too (its own fit check) and every container comes up.
            f.wait_ready(POD, timeout=90)
        else:
            try:
                event = f.wait_event(POD, "FailedScheduling",
                                     contains=f"Insufficient {resource}", timeout=60)
            except AssertionError as exc:
                bound = f.pod(POD)["spec"].get("nodeName")
                raise AssertionError(
                    f"{exc}; pod needing {computed} of {CAPACITY} {resource} bound to "
                    f"{bound!r} (the tutorial's formula, which ignores sidecars and "
                    f"overhead, gives {tutorial_formula(case)})") from None
            current = f.pod(POD)
            assert not current["spec"].get("nodeName"), (
                f"pod needing {computed} of {CAPACITY} {resource} was bound to "
                f"{current['spec']['nodeName']}")
            assert current["status"].get("phase") == "Pending"
            assert not scheduled(current), f"PodScheduled is True: {event.get('message')}"
