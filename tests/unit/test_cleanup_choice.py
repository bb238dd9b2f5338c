"""Whether a check's namespace is deleted or left for the cluster's teardown."""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from kubernetes import client as k8s

from podlife.check.namespaces import HOLD_FINALIZER, new_namespace, stop_workloads
from podlife.cluster.local.cluster import ClusterInfo, LocalCluster, api_client
from podlife.core import versions
from podlife.core.images import ImageMap
from podlife.plugin.checks import clean_up, discards_cluster


def test_a_cluster_goes_next_if_this_run_booted_and_does_not_keep_it_or_the_user_says() -> None:
    def config(**given: bool) -> SimpleNamespace:
        return SimpleNamespace(getoption=lambda name, default=None: given.get(name, default))

    booted = SimpleNamespace(created_by_run=True)
    existing = SimpleNamespace(created_by_run=False)
    assert discards_cluster(config(), booted)
    assert not discards_cluster(config(keep_cluster=True), booted)
    assert not discards_cluster(config(), existing)
    assert discards_cluster(config(leave_namespaces=True), existing)
