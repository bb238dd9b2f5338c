"""Host deviations: detection from what the host shows, and the configs that follow from it.

Pure logic, fed with /proc texts of both kinds of host (this machine's root lacks
CAP_SYS_RESOURCE; a usual root has it), so both branches run everywhere.
tests/cluster/test_local_cluster.py checks a real boot records and applies them.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
import yaml

from podlife.cluster.local import deviations as dev
from podlife.cluster.local.components import Layout, kubelet_config
from podlife.cluster.local.node import Network
from podlife.cluster.local.runtime import containerd_config
from podlife.cluster.local.state import ClusterInfo
from podlife.cluster.local.status import recorded_deviations
from podlife.cluster.providers import ClusterHandle, host_deviations
from podlife.core import deviation as record
from podlife.core import paths, versions

#: /proc/self/status of a root whose bounding set lacks CAP_SYS_RESOURCE (this CI's).
STATUS_WITHOUT = """Name:\tcat
Uid:\t0\t0\t0\t0
CapInh:\t0000000000000000
CapPrm:\t000001fffeffffff
CapEff:\t000001fffeffffff
CapBnd:\t000001fffeffffff
CapAmb:\t0000000000000000
NoNewPrivs:\t0
"""
#: A usual root: every capability.
STATUS_WITH = STATUS_WITHOUT.replace("000001fffeffffff", "000001ffffffffff")
#: Kept in the bounding set but dropped from the effective one.
STATUS_NOT_EFFECTIVE = STATUS_WITH.replace("CapEff:\t000001ffffffffff",
                                           "CapEff:\t000001fffeffffff")
NO_SWAP = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
SWAP = NO_SWAP + "/swapfile                               file\t\t2097148\t\t0\t\t-2\n"


def facts(status: str = STATUS_WITH, swaps: str = NO_SWAP, cgroup_v1: bool = False,
          tunables: dict[str, str] | None = None) -> dev.HostFacts:
    return dev.HostFacts(status, swaps, cgroup_v1,
                         dict(dev.KUBELET_TUNABLES) if tunables is None else tunables)


def ids(found: list[record.Deviation]) -> list[str]:
    return [d.id for d in found]


def test_capability_sets_are_read_as_hex_masks() -> None:
    sets = dev.capability_sets(STATUS_WITHOUT)
    assert sets["CapEff"] == sets["CapBnd"] == 0x1fffeffffff
    assert sets["CapInh"] == 0
    assert not sets["CapBnd"] & (1 << dev.CAP_SYS_RESOURCE)
    assert dev.capability_sets(STATUS_WITH)["CapBnd"] & (1 << dev.CAP_SYS_RESOURCE)


@pytest.mark.parametrize(("status", "has"), [
    (STATUS_WITH, True),
    (STATUS_WITHOUT, False),
    (STATUS_NOT_EFFECTIVE, False),
    ("Name:\tcat\n", False),  # no Cap lines at all: not assumed to be there
])
def test_cap_sys_resource_needs_the_effective_and_bounding_sets(status: str, has: bool) -> None:
    assert dev.has_cap_sys_resource(status) is has


def test_swap_devices_skip_the_header() -> None:
    assert dev.swap_devices(NO_SWAP) == []
    assert dev.swap_devices(SWAP) == ["/swapfile"]


def test_a_usual_host_deviates_only_in_what_podlife_always_sets() -> None:
    assert ids(dev.detect(facts())) == [dev.CONNTRACK_UNTOUCHED, dev.DISK_EVICTION_LOWERED]


def test_each_host_fact_is_its_own_deviation() -> None:
    found = dev.detect(facts(STATUS_WITHOUT, SWAP, cgroup_v1=True,
                             tunables={**dev.KUBELET_TUNABLES, "vm/overcommit_memory": "0"}))
    assert ids(found)[:4] == [dev.NO_CAP_SYS_RESOURCE, dev.CGROUP_V1, dev.SWAP_ON,
                              dev.KERNEL_TUNABLES_KEPT]
    by_id = {d.id: d for d in found}
    assert "000001fffeffffff" in by_id[dev.NO_CAP_SYS_RESOURCE].cause
    assert "/swapfile" in by_id[dev.SWAP_ON].cause
    tunables = by_id[dev.KERNEL_TUNABLES_KEPT].what
    assert "vm.overcommit_memory=0 (kubelet: 1)" in tunables
    assert "kernel.panic=" not in tunables  # the same as the kubelet's: no deviation


def test_checks_are_matched_by_pattern() -> None:
    deviation = record.Deviation("x", "w", "c", ("resource_scheduling/*",))
    assert deviation.affects("resource_scheduling/test_a[case-1]")
    assert not deviation.affects("webapp/test_webapp_rollout")
    assert record.affecting([deviation], "resource_scheduling/test_a") == [deviation]
    assert record.affecting(None, "resource_scheduling/test_a") == []


def test_no_current_check_is_declared_dependent() -> None:
    """The module's docstring says why; a check that comes to depend on one is added."""
    assert all(not d.checks for d in dev.detect(facts(STATUS_WITHOUT, SWAP, True, {})))


@pytest.mark.parametrize("restrict", [True, False])
def test_containerd_restricts_oom_scores_only_when_asked(tmp_path: Path, restrict: bool) -> None:
    config = tomllib.loads(containerd_config(Layout(tmp_path), restrict_oom_score_adj=restrict))
    runtime = config["plugins"]["io.containerd.cri.v1.runtime"]
    assert runtime["restrict_oom_score_adj"] is restrict


@pytest.mark.parametrize("swap_on", [True, False])
def test_kubelet_fails_on_swap_unless_the_host_has_it(tmp_path: Path, swap_on: bool) -> None:
    config = yaml.safe_load(kubelet_config(Layout(tmp_path), Network(),
                                           versions.resolve("1.37"), "/x", True, {},
                                           swap_on=swap_on))
    # Absent means the kubelet's default, failSwapOn: true.
    assert config.get("failSwapOn", True) is not swap_on


def test_status_says_what_cluster_json_records() -> None:
    found = dev.detect(facts(STATUS_WITHOUT))
    assert recorded_deviations({"host_deviations": record.records(found)}) == (
        "no-cap-sys-resource, conntrack-untouched, disk-eviction-lowered")
    assert recorded_deviations({"host_deviations": []}) == "none"
    assert recorded_deviations({}).startswith("not recorded")
    assert recorded_deviations({"host_deviations": [{"id": "x"}]}).startswith("unreadable")


def _cluster_json(name: str, **extra: object) -> None:
    state = paths.cluster_dir(name)
    state.mkdir(parents=True)
    (state / "cluster.json").write_text(json.dumps({
        "name": name, "version": "v1.31.0", "api_port": 1, "state_dir": str(state),
        "node_name": f"{name}-node", "booted_at": 1.0, **extra}))


def test_old_cluster_json_still_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cluster booted before deviations were recorded: loads, with them unknown."""
    monkeypatch.setenv("PODLIFE_STATE", str(tmp_path))
    _cluster_json("old")
    assert ClusterInfo.load("old").host_deviations is None


def test_a_runs_deviations_come_from_the_local_clusters_record(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Local: what its cluster.json says; kubeconfig and kind: not known, never none."""
    monkeypatch.setenv("PODLIFE_STATE", str(tmp_path))
    recorded = record.records(dev.detect(facts(STATUS_WITHOUT)))
    _cluster_json("new", host_deviations=recorded)
    assert host_deviations(ClusterHandle("new", "local", "k")) == recorded
    for provider in ("kubeconfig", "kind"):
        assert host_deviations(ClusterHandle("new", provider, "k")) is None
