"""Widgets: an extended resource only one check (or generated pod) uses, advertised on one
node, so the scheduler's verdict on an effective request depends on nothing else running
there (cpu and memory are shared with every other pod). A RuntimeClass of the check's own
adds pod overhead in widgets. Both are removed afterwards, whatever happened."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from podlife.check.namespaces import MANAGED_BY
from podlife.check.nodes import usable_nodes
from podlife.check.outcomes import unsupported
from podlife.check.waits import watch_until

if TYPE_CHECKING:
    from podlife.check.framework import Framework

#: The runtime handler every containerd (and CRI-O) node has; the pod runs on it as usual.
HANDLER = "runc"


def schedulable_node(f: Framework) -> str:
    """The first node that takes pods (podlife.check.nodes)."""
    for node in sorted(usable_nodes(f.core), key=lambda n: n.metadata.name):
        return node.metadata.name
    unsupported("no Ready, schedulable, untainted node to advertise an extended resource on")


def wait_node(f: Framework, name: str, until: Callable[[dict], bool], *, timeout: float,
              what: str) -> dict:
    """Watch a node until until(node) holds; the error shows its allocatable resources."""
    return watch_until(f.core.list_node, api=f.api, name=name, until=until, timeout=timeout,
                       what=what,
                       describe=lambda n: f"allocatable {n['status'].get('allocatable')}")


def resource_name(f: Framework) -> str:
    """The widget resource of this check: the namespace's suffix makes it its own, so
    checks running in parallel each count their own widgets."""
    return f"podlife.dev/widget-{f.namespace.rsplit('-', 1)[-1]}"


@contextlib.contextmanager
def advertised(f: Framework, quantity: int,
               node: str | None = None) -> Iterator[tuple[str, str]]:
    """Advertise `quantity` of this check's widget resource on one node (`node`, or the
    first that takes pods), until the kubelet has copied it into allocatable; yields the
    node and the resource name."""
    node = node or schedulable_node(f)
    resource = resource_name(f)
    f.core.patch_node_status(node, {"status": {"capacity": {resource: str(quantity)}}})
    try:
        wait_node(f, node, lambda n: n["status"].get("allocatable", {}).get(resource)
                  == str(quantity),
                  timeout=60, what=f"allocatable {resource}={quantity}")
        yield node, resource
    finally:
        remove_resource(f, node, resource)


def remove_resource(f: Framework, node: str, resource: str) -> None:
    """JSON-patch the resource out of the node's capacity (and allocatable, if the kubelet
    copied it there already)."""
    key = resource.replace("~", "~0").replace("/", "~1")
    status = f.core.read_node(node).status
    ops = [{"op": "remove", "path": f"/status/{part}/{key}"}
           for part in ("capacity", "allocatable")
           if resource in (getattr(status, part) or {})]
    if ops:
        f.core.patch_node_status(node, ops)


def runtime_class_name(f: Framework) -> str:
    return f"podlife-{f.namespace}"


@contextlib.contextmanager
def runtime_class(f: Framework, resource: str, overhead: int) -> Iterator[str]:
    """A RuntimeClass of this check's own, whose pod overhead is `overhead` widgets; yields
    its name. It is cluster-wide (the namespace does not hold it), so it is deleted here."""
    node = k8s.NodeV1Api(f.api)
    name = runtime_class_name(f)
    node.create_runtime_class({"metadata": {"name": name, "labels": MANAGED_BY},
                               "handler": HANDLER,
                               "overhead": {"podFixed": {resource: str(overhead)}}})
    try:
        yield name
    finally:
        with contextlib.suppress(ApiException):
            node.delete_runtime_class(name)
