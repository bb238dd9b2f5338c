"""The availability figures of a rolling upgrade, from the probers' raw samples."""

from __future__ import annotations

from podlife.results.report.upgrade import step_lines
from podlife.results.upgrade_records import Availability, Hop, RollStep
from podlife.run import probe_api, probe_workload
from podlife.run.probe_api import Sample


def test_api_figures_count_failures_and_the_longest_gap_inside_the_step() -> None:
    samples = [Sample(9.0, True, 3),  # before the step: not counted
               Sample(10.1, True, 3), Sample(10.2, False), Sample(10.3, False),
               Sample(11.5, True, 2), Sample(11.6, True, 3),
               Sample(13.0, True, 1)]  # after the step
    into = Availability()
    probe_api.figures(samples, 10.0, 12.0, into)
    assert (into.api_requests, into.api_failed) == (5, 2)
    assert into.api_longest_gap_s == 1.4  # 10.1 answered, then nothing until 11.5
    assert into.fewest_ready == 2


def test_a_step_the_api_never_answered_in_is_one_gap_as_long_as_the_step() -> None:
    into = Availability()
    probe_api.figures([Sample(10.5, False), Sample(11.0, False)], 10.0, 13.0, into)
    assert (into.api_requests, into.api_failed, into.api_longest_gap_s) == (2, 2, 3.0)
    assert into.fewest_ready == -1  # no answer said how many replicas were ready


def test_ready_replicas_leaves_out_pods_being_deleted_as_a_budget_does() -> None:
    ready = {"conditions": [{"type": "Ready", "status": "True"}]}
    pods = [{"metadata": {}, "status": ready},
            {"metadata": {"deletionTimestamp": "x"}, "status": ready},
            {"metadata": {}, "status": {"conditions": [{"type": "Ready", "status": "False"}]}},
            {"metadata": {}}]
    assert probe_api.ready_replicas(pods) == 1


def test_probe_lines_are_read_with_containerds_time_stamps() -> None:
    parsed = probe_workload.parse_line("2026-12-07T09:50:00.123456789Z ok")
    assert parsed is not None and parsed[1] is True
    assert abs(parsed[0] - 1796637000.123456) < 1e-5
    assert probe_workload.parse_line("2026-12-07T09:50:01.5Z fail") == (1796637001.5, False)
    assert probe_workload.parse_line("2026-12-07T09:50:01Z wget: bad address") is None
    assert probe_workload.parse_line("garbage ok") is None


def test_probes_are_counted_per_step_across_every_prober() -> None:
    probes = {("a", 1.0): True, ("a", 2.0): False, ("b", 2.0): True, ("b", 5.0): False}
    into = Availability()
    probe_workload.count(probes, 1.5, 4.0, into)
    assert (into.probes, into.probes_failed, into.budget_min) == (2, 1, 2)


def test_each_rolling_step_is_one_line_with_its_figures_and_releases() -> None:
    hop = Hop("v1.36.5", "v1.37.2", job="j")
    hop.steps.append(RollStep(
        "node", "c-worker1", 12.3, drain_s=4.5, evicted=["ns/a", "ns/b"],
        apiservers={"c-node": "v1.37.2"}, kubelets={"c-node": "v1.37.2",
                                                     "c-worker1": "v1.37.2"},
        availability=Availability(api_requests=100, api_failed=0, api_longest_gap_s=0.21,
                                  probes=240, probes_failed=3, fewest_ready=1,
                                  budget_min=2),
        problems=["node c-worker1: the probed workload had 1 ready replicas, below ..."]))
    lines = step_lines(hop)
    assert lines[0] == ("    node c-worker1: 12.3s, drain 4.5s (2 evicted); API 0/100 requests "
                        "failed, longest gap 0.21s; workload 3/240 probes failed, fewest ready "
                        "1 (budget 2)")
    assert "kubelet c-node v1.37.2, c-worker1 v1.37.2" in lines[1]
    assert lines[2].startswith("      PROBLEM: node c-worker1")
    assert not hop.survived


def test_a_step_is_a_problem_when_the_workload_or_a_balanced_api_failed_it() -> None:
    from podlife.run.upgrade_roll import problems

    clean = Availability(api_requests=90, probes=200, fewest_ready=2, budget_min=2)
    assert problems("node", "w1", clean, several_apiservers=True, probed=True) == []
    broken = Availability(api_requests=90, api_failed=4, probes=200, probes_failed=7,
                          fewest_ready=1, budget_min=2)
    found = problems("node", "w1", broken, several_apiservers=True, probed=True)
    assert [p.split(": ", 1)[1].split(" ")[0] for p in found] == ["7", "the", "4"]
    assert all(p.startswith("node w1: ") for p in found)
    # One API server restarting is a gap, not a problem; no probe read is missing evidence.
    alone = Availability(api_requests=90, api_failed=40)
    assert problems("control plane", "n", alone, several_apiservers=False, probed=True) == [
        "control plane n: no probe of the workload was read for this step"]
    assert problems("control plane", "n", alone, several_apiservers=False, probed=False) == []
