"""The rolling steps of one hop, in upstream's order (kubeadm's "Upgrading kubeadm
clusters"): each control-plane instance in turn, then each node in turn (cordon, drain
through the Eviction API, kubelet and kube-proxy, uncordon, Ready, workloads back).

Around every step the probers (podlife.run.probe_api, probe_workload) give its
availability figures, and the step records every API server's and kubelet's release once
it is done. A step that lets the probed workload fall below its PodDisruptionBudget's
minimum is a problem of that step, naming it. podlife.run.upgrade_chain runs the windows'
suites around these steps.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from podlife.cluster.local.state import ClusterInfo
from podlife.core.versions import KubeVersion
from podlife.results.upgrade_records import Availability, Hop, RollStep
from podlife.run import probe_api, probe_workload
from podlife.run.drain import drain, set_schedulable
from podlife.run.upgrade_workloads import wait_back

if TYPE_CHECKING:
    from podlife.run.upgrade_chain import Chain


class Probers:
    """The API loop, always; the probed workload on clusters of several nodes only."""

    def __init__(self, chain: Chain, *, timeout: float) -> None:
        info = ClusterInfo.load(chain.name)
        self.workload: probe_workload.WorkloadProber | None = None
        if info.workers:
            chain.step("starting the probed workload (3 replicas, a budget of 2, a prober "
                       "on every node)")
            f = chain.framework(probe_workload.NAMESPACE)
            self.workload = probe_workload.WorkloadProber(f).start(timeout)
        self.api = probe_api.ApiProber(info.kubeconfig, probe_workload.NAMESPACE,
                                       probe_workload.SELECTOR).start()

    def measure(self, start: float, end: float) -> Availability:
        figures = Availability()
        probe_api.figures(self.api.samples, start, end, figures)
        if self.workload is None:
            figures.fewest_ready = -1  # nothing probed: the loop's lists were empty
            return figures
        self.workload.read()
        probe_workload.count(self.workload.probes, start, end, figures)
        return figures

    def stop(self) -> None:
        self.api.stop()


def problems(kind: str, name: str, figures: Availability, *, several_apiservers: bool,
             probed: bool) -> list[str]:
    """What a step broke: the probed workload below its budget, a failed probe of its
    Service, or no probe read at all (missing evidence is not availability); and, with
    several API servers behind the balanced address, a failed API request. A single API
    server is down while it restarts: its gap is a figure, not a problem."""
    found = []
    if probed and figures.probes == 0:
        found.append(f"{kind} {name}: no probe of the workload was read for this step")
    if figures.probes_failed:
        found.append(f"{kind} {name}: {figures.probes_failed} of {figures.probes} probes of "
                     "the workload's Service failed")
    if figures.budget_min and 0 <= figures.fewest_ready < figures.budget_min:
        found.append(f"{kind} {name}: the probed workload had {figures.fewest_ready} ready "
                     f"replicas, below its PodDisruptionBudget's minimum of "
                     f"{figures.budget_min}")
    if several_apiservers and figures.api_failed:
        found.append(f"{kind} {name}: {figures.api_failed} of {figures.api_requests} API "
                     "requests failed behind the balanced address")
    return found


def _record(chain: Chain, probers: Probers, kind: str, name: str, began: float,
            since: float) -> RollStep:
    info = ClusterInfo.load(chain.name)
    step = RollStep(kind, name, round(time.monotonic() - began, 1))
    step.apiservers = {n: info.instance_versions.get(n, info.version)
                       for n in info.control_planes or [info.node_name]}
    step.kubelets = {info.node_name: info.node_version,
                     **dict(zip(info.workers, info.worker_versions, strict=True))}
    step.availability = figures = probers.measure(since, time.time())
    step.problems = problems(kind, name, figures, several_apiservers=len(step.apiservers) > 1,
                             probed=probers.workload is not None)
    chain.step(f"{kind} {name} done in {step.seconds:.1f}s: API {figures.api_failed}/"
               f"{figures.api_requests} requests failed, longest gap "
               f"{figures.api_longest_gap_s:.2f}s; workload {figures.probes_failed}/"
               f"{figures.probes} probes failed, fewest ready {figures.fewest_ready}")
    return step


def control_plane(chain: Chain, hop: Hop, target: KubeVersion, probers: Probers, *,
                  timeout: float, skip_minors: bool) -> None:
    """Every control-plane instance to `target`, one at a time."""
    info = ClusterInfo.load(chain.name)
    for name in info.control_planes or [info.node_name]:
        began, since = time.monotonic(), time.time()
        chain.cluster.upgrade_control_plane(target, step=chain.step, timeout=timeout,
                                            skip_minors=skip_minors, instance=name)
        hop.steps.append(_record(chain, probers, "control plane", name, began, since))
    hop.control_plane_s = round(sum(s.seconds for s in hop.steps
                                    if s.kind == "control plane"), 1)


def nodes(chain: Chain, hop: Hop, target: KubeVersion, probers: Probers, *,
          timeout: float) -> tuple[list[str], list[str]]:
    """Every node to `target`, one at a time, drained first unless --no-drain. Returns the
    pods the drains evicted and what did not come back after an uncordon."""
    info = ClusterInfo.load(chain.name)
    evicted: list[str] = []
    problems: list[str] = []
    for name in [info.node_name, *info.workers]:
        began, since = time.monotonic(), time.time()
        f = chain.framework()
        drained = drain(f.api, name, timeout=timeout, step=chain.step) if chain.drain else None
        swapped = chain.cluster.upgrade_node(target, step=chain.step, timeout=timeout,
                                             node_name=name)
        hop.node_s = round(hop.node_s + swapped, 1)
        if drained:
            f = chain.framework()
            set_schedulable(f.api, name, True)
            chain.step(f"uncordoned {name}; waiting for the workloads to come back")
            problems += wait_back(f, sidecar_pod=chain.sidecar_pod, job=hop.job,
                                  timeout=timeout)
            if probers.workload is not None:
                probers.workload.f.wait_deployment_available(
                    "probed", probe_workload.REPLICAS, timeout=timeout)
            hop.drain_s = round(hop.drain_s + drained.seconds, 1)
            evicted += drained.evicted
        step = _record(chain, probers, "node", name, began, since)
        if drained:
            step.drain_s, step.evicted = drained.seconds, drained.evicted
        hop.steps.append(step)
    return evicted, problems
