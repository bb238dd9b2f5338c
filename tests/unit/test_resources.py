"""The effective-request arithmetic the scheduling checks rely on (pure: no cluster).

The scheduling suite states the effective request it means to create with
podlife.model.requests before asking the scheduler; if this arithmetic were wrong, the suite
would test the wrong boundary, so it is pinned here against the tutorial's own numbers
and hand-worked native-sidecar cases.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from podlife.check import manifests
from podlife.model.requests import (
    container_requests,
    effective_request,
    effective_requests,
    exact_requests,
    parse_quantity,
    quantity_units,
    sum_requests,
    to_units,
)

MI = 1024**2
GI = 1024**3


def box(name: str, *, sidecar: bool = False, **requests: Any) -> dict:
    """A container requesting `requests` (resource name -> quantity)."""
    container: dict[str, Any] = {"name": name, "image": "busybox"}
    if requests:
        container["resources"] = {"requests": dict(requests)}
    if sidecar:
        container["restartPolicy"] = "Always"
    return container


def spec(init: list[dict] | None = None, apps: list[dict] | None = None, **extra: Any) -> dict:
    return {"initContainers": init or [], "containers": apps or [box("app")], **extra}


# ----- quantities ---------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("500m", Decimal("0.5")),
    ("1", Decimal(1)),
    ("1.5", Decimal("1.5")),
    ("0.1", Decimal("0.1")),
    (".5", Decimal("0.5")),
    ("1Gi", Decimal(GI)),
    ("256Mi", Decimal(256 * MI)),
    ("2Ki", Decimal(2048)),
    ("1k", Decimal(1000)),
    ("1M", Decimal(10**6)),
    ("1G", Decimal(10**9)),
    ("1E", Decimal(10**18)),
    ("1e3", Decimal(1000)),
    ("1E3", Decimal(1000)),
    ("12e-3", Decimal("0.012")),
    ("100n", Decimal("0.0000001")),
    ("5u", Decimal("0.000005")),
    ("+3", Decimal(3)),
    (7, Decimal(7)),
    (0.1, Decimal("0.1")),
    ("1.5Gi", Decimal(3 * GI // 2)),
])
def test_parse_quantity_is_exact(text: Any, expected: Decimal) -> None:
    """Quantities in every Kubernetes notation parse to the exact value."""
    assert parse_quantity(text) == expected


@pytest.mark.parametrize("text", ["", "abc", "1.2.3", "1Gb", "1 Gi", "m", "1e", "1ki", "--1"])
def test_parse_quantity_rejects_garbage(text: str) -> None:
    """Strings that are not quantities fail loudly instead of counting as zero."""
    with pytest.raises(ValueError):
        parse_quantity(text)


def test_parse_quantity_rejects_bool() -> None:
    """A YAML `true` where a quantity belongs is an error, not 1."""
    with pytest.raises(ValueError):
        parse_quantity(True)


@pytest.mark.parametrize(("resource", "text", "expected"), [
    ("cpu", "500m", 500),
    ("cpu", "1", 1000),
    ("cpu", "1.5", 1500),
    ("cpu", "0.0001", 1),  # the scheduler rounds a fraction of a millicore up
    ("memory", "1Gi", GI),
    ("memory", "256Mi", 256 * MI),
    ("memory", "1.5", 2),  # fractions of a byte round up too
    ("podlife.dev/widget", "10", 10),
    ("podlife.dev/widget", 4, 4),
])
def test_quantity_units(resource: str, text: str, expected: int) -> None:
    """Scheduler units: millicores for cpu, bytes or units otherwise, rounded up."""
    assert quantity_units(resource, text) == expected


def test_no_float_rounding_error() -> None:
    """0.1 + 0.2 cores is exactly 300m (floats would make it 300.00000000000006)."""
    pod = spec(apps=[box("a", cpu="0.1"), box("b", cpu="0.2")])
    assert exact_requests(pod)["cpu"] == Decimal("0.3")
    assert effective_request(pod, "cpu") == 300
    assert to_units("cpu", Decimal("0.1") + Decimal("0.2")) == 300


def test_rounding_happens_after_summing() -> None:
    """Three containers of 0.5 bytes request 2 bytes (1.5 rounded up), not 3."""
    pod = spec(apps=[box(n, memory="0.5") for n in "abc"])
    assert effective_request(pod, "memory") == 2


# ----- the tutorial's pods --------------------------------------------------------------

def test_tutorial_init_resources_fragment() -> None:
    """The tutorial's init-resources fragment: the 1Gi/500m init container dominates."""
    pod = manifests.load_one("init-resources")
    assert effective_requests(pod) == {"cpu": 500, "memory": GI}


def test_tutorial_init_resources_limits_do_not_count() -> None:
    """The setup container's 2Gi/1 limits do not raise the request (requests are given)."""
    setup = manifests.load_one("init-resources")["spec"]["initContainers"][0]
    assert container_requests(setup) == {"memory": Decimal(GI), "cpu": Decimal("0.5")}


def test_tutorial_webapp_is_the_plain_sum() -> None:
    """The webapp's init containers request nothing: its request is the sum, 275m/352Mi."""
    webapp = manifests.load_one("webapp-deployment")
    expected = {"cpu": 275, "memory": 352 * MI}
    assert effective_requests(webapp) == expected
    assert effective_requests(webapp["spec"]["template"]["spec"]) == expected
    assert sum_requests(webapp["spec"]["template"]["spec"]["containers"]) == expected


def test_patterns_without_requests_request_nothing() -> None:
    """Patterns that set no resources have an empty effective request."""
    for pattern in ("wait-for-db", "multiple-init-containers", "native-sidecar"):
        assert effective_requests(manifests.load_one(pattern)) == {}, pattern


# ----- init containers vs app containers -------------------------------------------------

def test_largest_init_container_dominates() -> None:
    """The largest init container wins over a smaller app sum (init 10 + app 2 -> 10)."""
    pod = spec(init=[box("small", widget=3), box("big", widget=10)],
               apps=[box("app", widget=2)])
    assert effective_request(pod, "widget") == 10


def test_app_sum_dominates() -> None:
    """The sum of app containers wins over a smaller init container (6+5 -> 11)."""
    pod = spec(init=[box("init", widget=1)], apps=[box("a", widget=6), box("b", widget=5)])
    assert effective_request(pod, "widget") == 11


def test_init_containers_do_not_add_up() -> None:
    """Regular init containers run one at a time: 4, 4, 4 need 4, not 12."""
    pod = spec(init=[box(f"i{n}", widget=4) for n in range(3)])
    assert effective_request(pod, "widget") == 4


def test_each_resource_is_taken_separately() -> None:
    """The max is per resource: cpu from the init container, memory from the apps."""
    pod = spec(init=[box("init", cpu="2", memory="64Mi")],
               apps=[box("a", cpu="100m", memory="1Gi"), box("b", cpu="100m", memory="1Gi")])
    assert effective_requests(pod) == {"cpu": 2000, "memory": 2 * GI}


def test_limit_without_request_is_the_request() -> None:
    """As the API server defaults it, a limit with no request counts as the request."""
    container = {"name": "x", "resources": {"limits": {"podlife.dev/widget": "3",
                                                       "cpu": "1"},
                                            "requests": {"cpu": "200m"}}}
    pod = spec(apps=[container])
    assert effective_requests(pod) == {"podlife.dev/widget": 3, "cpu": 200}


def test_overhead_is_added_on_top() -> None:
    """Pod overhead (from the RuntimeClass) adds to the effective request."""
    pod = spec(init=[box("init", cpu="1")], apps=[box("app", cpu="250m")],
               overhead={"cpu": "120m", "memory": "100Mi"})
    assert effective_requests(pod) == {"cpu": 1120, "memory": 100 * MI}


def test_pod_level_requests_replace_container_aggregate() -> None:
    """Pod-level requests (PodLevelResources) replace the aggregate for cpu/memory only."""
    pod = spec(init=[box("init", cpu="1", widget=5)], apps=[box("app", cpu="100m", widget=2)],
               resources={"requests": {"cpu": "300m"}})
    assert effective_requests(pod) == {"cpu": 300, "widget": 5}


def test_full_objects_are_accepted() -> None:
    """A Pod, a Deployment or a bare spec give the same answer."""
    pod_spec = spec(init=[box("init", widget=7)], apps=[box("app", widget=2)])
    pod = {"kind": "Pod", "spec": pod_spec}
    deployment = {"kind": "Deployment", "spec": {"template": {"spec": pod_spec}}}
    assert effective_requests(pod) == effective_requests(deployment) == effective_requests(
        pod_spec) == {"widget": 7}


# ----- native sidecars -------------------------------------------------------------------

def test_native_sidecar_adds_to_app_containers() -> None:
    """A sidecar keeps running, so it adds to the apps: sidecar 4 + app 6 -> 10."""
    pod = spec(init=[box("sidecar", sidecar=True, widget=4)], apps=[box("app", widget=6)])
    assert effective_request(pod, "widget") == 10
    pod["containers"][0]["resources"]["requests"]["widget"] = 7
    assert effective_request(pod, "widget") == 11


def test_init_after_sidecar_runs_beside_it() -> None:
    """An init container declared after a sidecar runs with it: sidecar 4, init 7 -> 11."""
    pod = spec(init=[box("sidecar", sidecar=True, widget=4), box("init", widget=7)],
               apps=[box("app", widget=1)])
    assert effective_request(pod, "widget") == 11


def test_init_before_sidecar_runs_alone() -> None:
    """An init container declared before the sidecar does not share with it: init 7 -> 7."""
    pod = spec(init=[box("init", widget=7), box("sidecar", sidecar=True, widget=4)],
               apps=[box("app", widget=1)])
    assert effective_request(pod, "widget") == 7  # max(7, 4 + 1)


def test_only_sidecars_declared_before_count() -> None:
    """Init i adds only the sidecars above it: s1=2, init=5, s2=3, app=1 -> max(7, 6) = 7."""
    pod = spec(init=[box("s1", sidecar=True, widget=2), box("init", widget=5),
                     box("s2", sidecar=True, widget=3)],
               apps=[box("app", widget=1)])
    assert effective_request(pod, "widget") == 7


def test_sidecars_accumulate_for_later_inits() -> None:
    """Two sidecars before an init container both run beside it: 2 + 3 + 6 -> 11."""
    pod = spec(init=[box("s1", sidecar=True, widget=2), box("s2", sidecar=True, widget=3),
                     box("init", widget=6)],
               apps=[box("app", widget=1)])
    assert effective_request(pod, "widget") == 11


def test_sidecar_with_no_app_requests() -> None:
    """Sidecars count even when the app containers request nothing."""
    pod = spec(init=[box("s", sidecar=True, cpu="150m", memory="64Mi")])
    assert effective_requests(pod) == {"cpu": 150, "memory": 64 * MI}


def test_restart_policy_other_than_always_is_a_regular_init() -> None:
    """Only restartPolicy Always makes a sidecar; anything else is a regular init container."""
    never = box("init", widget=4)
    never["restartPolicy"] = "Never"
    pod = spec(init=[never], apps=[box("app", widget=6)])
    assert effective_request(pod, "widget") == 6


def test_tutorial_native_sidecar_with_requests() -> None:
    """The tutorial's native-sidecar pod, given requests: the sidecar adds to the app."""
    pod = manifests.load_one("native-sidecar")
    pod["spec"]["initContainers"][0]["resources"] = {"requests": {"memory": "64Mi",
                                                                  "cpu": "50m"}}
    pod["spec"]["containers"][0]["resources"] = {"requests": {"memory": "256Mi",
                                                              "cpu": "200m"}}
    assert effective_requests(pod) == {"cpu": 250, "memory": 320 * MI}
