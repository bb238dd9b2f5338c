"""A pod's effective resource request, computed the way the Kubernetes scheduler does.

The tutorial says the effective request is "the max of the sum of app containers and the
largest init container". Native sidecars (init containers with `restartPolicy: Always`)
refine that: they keep running, so they add to the app containers, and every regular init
container runs next to the sidecars declared before it. Per resource:

    effective = max( sum(app containers) + sum(sidecars),
                     max over init container i of (i + sidecars declared before i) )
                + pod overhead

Sources: docs concepts/workloads/pods/init-containers, 'Resource sharing within
containers', and sidecar-containers, 'Resource sharing within containers'; KEP-753; the
helper the scheduler and the kubelet share, PodRequests: kubernetes
pkg/api/v1/resource/helpers.go at v1.29.15 and v1.31.0, k8s.io/component-helpers
resource/helpers.go at v0.35.8 to v0.37.2.

Everything here is pure (dicts in, numbers out): the scheduling checks state which
request they mean to create before they ask the scheduler for its verdict, and the model
predicts from it where a generated pod can be scheduled. Quantities are
parsed with `decimal` so "0.1" + "0.2" is exactly "0.3", and rounded up to whole
millicores / bytes / units only once the pod's total is known, as the scheduler does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import ROUND_CEILING, Decimal
from typing import Any

#: Resources the scheduler counts in thousandths (millicores); every other one in units.
MILLI_RESOURCES = frozenset({"cpu"})

_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15,
            "E": 18}
_QUANTITY = re.compile(r"^(?P<number>[+-]?(?:\d+\.?\d*|\.\d+))"
                       r"(?:(?P<exp>[eE][+-]?\d+)|(?P<suffix>[KMGTPE]i|[numkMGTPE])?)$")

Quantity = str | int | float | Decimal


def parse_quantity(value: Quantity) -> Decimal:
    """A Kubernetes quantity ("500m", "1Gi", "1.5", "2e3", 4) as an exact Decimal.

    Floats (from unquoted YAML like `cpu: 0.5`) go through their shortest repr, so 0.1
    stays 0.1 rather than 0.1000000000000000055...
    """
    if isinstance(value, bool):
        raise ValueError(f"not a quantity: {value!r}")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    text = str(value).strip()
    match = _QUANTITY.match(text)
    if not match:
        raise ValueError(f"not a Kubernetes quantity: {value!r}")
    number = Decimal(match.group("number"))
    if match.group("exp"):
        return number.scaleb(int(match.group("exp")[1:]))
    suffix = match.group("suffix") or ""
    if suffix in _BINARY:
        return number * (Decimal(1024) ** _BINARY[suffix])
    return number.scaleb(_DECIMAL[suffix])


def to_units(resource: str, amount: Decimal) -> int:
    """The integer the scheduler compares: millicores for cpu, else bytes/units (rounded up)."""
    if resource in MILLI_RESOURCES:
        amount = amount * 1000
    return int(amount.to_integral_value(rounding=ROUND_CEILING))


def quantity_units(resource: str, value: Quantity) -> int:
    """parse_quantity then to_units: "500m" cpu -> 500, "1Gi" memory -> 1073741824."""
    return to_units(resource, parse_quantity(value))


def container_requests(container: Mapping[str, Any]) -> dict[str, Decimal]:
    """A container's requests after API defaulting: a limit with no request is the request."""
    resources = container.get("resources") or {}
    merged = dict(resources.get("limits") or {})
    merged.update(resources.get("requests") or {})
    return {name: parse_quantity(value) for name, value in merged.items()}


def is_native_sidecar(container: Mapping[str, Any]) -> bool:
    """An init container that keeps running: restartPolicy Always makes it a sidecar."""
    return container.get("restartPolicy") == "Always"


def _spec(pod: Mapping[str, Any]) -> Mapping[str, Any]:
    """Accept a pod spec, a Pod, or any object with a pod template (Deployment, Job...)."""
    if "kind" in pod:
        if pod["kind"] == "Pod":
            return pod.get("spec") or {}
        return pod["spec"]["template"]["spec"]
    return pod


def _add(total: dict[str, Decimal], more: Mapping[str, Decimal]) -> None:
    for name, amount in more.items():
        total[name] = total.get(name, Decimal(0)) + amount


def _max(total: dict[str, Decimal], other: Mapping[str, Decimal]) -> None:
    for name, amount in other.items():
        total[name] = max(total.get(name, Decimal(0)), amount)


def exact_requests(pod: Mapping[str, Any]) -> dict[str, Decimal]:
    """The effective request per resource as exact quantities (cpu in cores, memory bytes).

    Pod-level `spec.resources.requests` (the PodLevelResources feature), where given for
    cpu, memory or hugepages, replaces the containers' aggregate for that resource;
    overhead (set from the RuntimeClass at admission) is added last.
    """
    spec = _spec(pod)
    running: dict[str, Decimal] = {}  # what runs once the pod is up: apps + sidecars
    for container in spec.get("containers") or []:
        _add(running, container_requests(container))
    sidecars_so_far: dict[str, Decimal] = {}
    init_peak: dict[str, Decimal] = {}
    for container in spec.get("initContainers") or []:
        own = container_requests(container)
        if is_native_sidecar(container):
            _add(running, own)
            _add(sidecars_so_far, own)
            # A starting sidecar runs beside the sidecars before it: never above `running`.
            _max(init_peak, sidecars_so_far)
        else:
            during = dict(sidecars_so_far)
            _add(during, own)
            _max(init_peak, during)
    effective = dict(running)
    _max(effective, init_peak)
    pod_level = (spec.get("resources") or {}).get("requests") or {}
    for name, value in pod_level.items():
        if name in ("cpu", "memory") or name.startswith("hugepages-"):
            effective[name] = parse_quantity(value)
    _add(effective, {name: parse_quantity(v) for name, v in (spec.get("overhead") or {}).items()})
    return effective


def effective_requests(pod: Mapping[str, Any]) -> dict[str, int]:
    """The effective request per resource as the scheduler compares it with a node's
    allocatable: cpu in millicores, memory and storage in bytes, others in units."""
    return {name: to_units(name, amount) for name, amount in exact_requests(pod).items()}


def effective_request(pod: Mapping[str, Any], resource: str) -> int:
    """One resource of effective_requests (0 when nothing requests it)."""
    return effective_requests(pod).get(resource, 0)


def sum_requests(containers: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Plain sum of containers' requests, in scheduler units (what the tutorial adds up)."""
    total: dict[str, Decimal] = {}
    for container in containers:
        _add(total, container_requests(container))
    return {name: to_units(name, amount) for name, amount in total.items()}
