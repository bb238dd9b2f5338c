"""`podlife upgrade`: a local cluster upgraded in place, hop by hop, one minor at a time.

Boot the oldest release, start the long-running workloads (podlife.run.upgrade_workloads), run the
suite. Then per hop: a Job of its own goes in flight; the control plane moves to the next
minor while the kubelet stays (the skew window, its own matrix column such as
`v1.29.15/kubelet-v1.28.15`); the workloads are checked and the suite runs there; then
the node is drained (podlife.run.drain; upstream supports a minor kubelet upgrade only on a
drained node, --no-drain swaps it under running containers), the kubelet and kube-proxy
follow, the node is uncordoned, the workloads are checked again (the hop's Job must
complete) and the suite runs once more. The report says per hop what changed in both
windows, how the workloads fared and how long each step took.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from podlife.check.framework import Framework
from podlife.core import skew
from podlife.core.images import ImageMap
from podlife.core.versions import KubeVersion
from podlife.results.upgrade_records import ChainReport, Hop, Window
from podlife.run import probe_workload, upgrade_roll
from podlife.run.upgrade_workloads import (
    NAMESPACE,
    SIDECAR_POD,
    check_step,
    finish_job,
    recheck,
    snapshot,
    start_job,
    start_sidecar_pod,
    start_webapp,
    wait_job_running,
)

Step = Callable[[str], None]
PROBE_NAMESPACE = "podlife-upgrade-probe"


class Chain:
    """The state of one chained upgrade while it runs."""

    def __init__(self, name: str, *, workers: int, suite_args: list[str], step: Step,
                 allow: frozenset[str], drain: bool) -> None:
        from podlife.cluster.local.cluster import LocalCluster

        self.name, self.workers, self.suite_args = name, workers, suite_args
        self.step, self.allow, self.drain = step, allow, drain
        self.cluster = LocalCluster(name)
        self.previous: Window | None = None
        self.sidecar_pod = False

    def framework(self, namespace: str = NAMESPACE) -> Framework:
        from podlife.cluster.local.cluster import api_client

        api = api_client(self.cluster.state / "kubeconfig" / "admin.kubeconfig")
        return Framework(api=api, namespace=namespace, images=ImageMap("local"),
                         may_change_nodes=True)

    def native_sidecars(self) -> str:
        """'supported', or the verdict and reason: asked afresh, the cluster just changed."""
        from podlife.check.features import native_sidecar_support_now

        found = native_sidecar_support_now(self.framework(PROBE_NAMESPACE))
        return found.verdict if found.verdict == "supported" else (
            f"{found.verdict}: {found.reason}")

    def suite(self, label: str) -> Window:
        from podlife.results.report.compare import compare
        from podlife.results.results_file import load_run
        from podlife.run.runner import RunOutcome, run_suite

        outcome: RunOutcome = run_suite(["--reuse-cluster", self.name, *self.suite_args],
                                        label=label, workers=self.workers, quiet=True)
        run = load_run(outcome.results)
        changes = (compare(load_run(Path(self.previous.results)), run, allow=self.allow)
                   .to_dict() if self.previous else {})
        window = Window(run.column, str(outcome.results), outcome.exit_code,
                        round(outcome.seconds, 1), outcome.counts(), changes)
        self.step(f"{window.column}: {window.counts} in {window.suite_s:.0f}s")
        return window


def _hazards(before: Window | None, during: Window, after: Window) -> list[dict[str, Any]]:
    from podlife.results.hazards import skew_only
    from podlife.results.results_file import load_run

    def cells(window: Window) -> dict:
        return {c.key: c for c in load_run(Path(window.results)).checks}

    around = {w.column: cells(w) for w in (before, after) if w is not None}
    return [asdict(h) for h in skew_only(during.column, cells(during), around)]


def _namespace(f: Framework, name: str) -> None:
    f.core.create_namespace({"metadata": {"name": name, "labels": {
        "app.kubernetes.io/managed-by": "podlife"}}})


def run_chain(from_v: KubeVersion, to_v: KubeVersion, *, name: str, workers: int, step: Step,
              allow: frozenset[str] = frozenset(), skip_minors: bool = False,
              suite_args: list[str] | None = None, timeout: float = 300.0,
              drain: bool = True, worker_nodes: int = 0,
              control_planes: int = 1) -> ChainReport:
    """The whole flow, on a cluster of `control_planes` instances and `worker_nodes`
    workers beside the first node; the cluster is torn down at the end whatever happens."""
    targets = skew.hops(from_v, to_v, skip_minors=skip_minors)
    chain = Chain(name, workers=workers, suite_args=suite_args or [], step=step, allow=allow,
                  drain=drain)
    report = ChainReport(from_v.tag, to_v.tag, skip_minors, chain.suite_args, drain,
                         control_planes=control_planes, worker_nodes=worker_nodes)
    started = time.monotonic()
    chain.cluster.down()
    shape = (f" ({control_planes} control planes + {worker_nodes} workers)"
             if worker_nodes or control_planes > 1 else "")
    step(f"booting {from_v}{shape}; then {' -> '.join(t.tag for t in targets)}")
    chain.cluster.up(from_v, step=step, timeout=timeout, workers=worker_nodes,
                     control_planes=control_planes)
    probers: upgrade_roll.Probers | None = None
    try:
        f = chain.framework()
        _namespace(f, NAMESPACE)
        _namespace(f, PROBE_NAMESPACE)
        step("starting long-running workloads")
        start_webapp(f)
        _start_sidecar_pod(chain, f, report.notes, from_v.tag)
        f.wait_deployment_available("webapp", 3, timeout=timeout)
        _namespace(f, probe_workload.NAMESPACE)
        probers = upgrade_roll.Probers(chain, timeout=timeout)
        step(f"running the suite on {from_v}")
        report.baseline = chain.previous = chain.suite(f"upgrade-{from_v.tag}")
        current = from_v
        for index, target in enumerate(targets, start=1):
            hop = Hop(current.tag, target.tag, job=f"in-flight-{index}")
            report.hops.append(hop)
            _hop(chain, hop, current, target, probers, timeout=timeout,
                 skip_minors=skip_minors)
            current = target
    except Exception as exc:
        report.aborted = f"{type(exc).__name__}: {exc}"
        step(f"the chain stopped: {report.aborted}")
    finally:
        if probers is not None:
            probers.stop()
        report.total_s = round(time.monotonic() - started, 1)
        chain.cluster.down()
    return report


def _start_sidecar_pod(chain: Chain, f: Framework, notes: list[str], where: str) -> bool:
    """Start the native-sidecar pod once the cluster runs native sidecars end to end."""
    if chain.sidecar_pod:
        return False
    support = chain.native_sidecars()
    if support != "supported":
        notes.append(f"{where}: the native-sidecar pod waits for a cluster that runs native "
                     f"sidecars ({support})")
        return False
    start_sidecar_pod(f)
    f.wait_deployment_available(SIDECAR_POD, 1, timeout=180)
    chain.sidecar_pod = True
    return True


def _hop(chain: Chain, hop: Hop, current: KubeVersion, target: KubeVersion,
         probers: upgrade_roll.Probers, *, timeout: float, skip_minors: bool) -> None:
    step, f = chain.step, chain.framework()
    started = time.monotonic()
    native = chain.native_sidecars() == "supported"
    start_job(f, hop.job, native_sidecar=native)
    wait_job_running(f, hop.job)
    before, since = snapshot(f), time.time()
    upgrade_roll.control_plane(chain, hop, target, probers, timeout=timeout,
                               skip_minors=skip_minors)
    f = chain.framework()
    step(f"checking the workloads (control plane {target}, kubelets {current})")
    hop.skew_survival = check_step(f, before, sidecar_pod=chain.sidecar_pod, since=since)
    hop.native_sidecars["skew"] = chain.native_sidecars()
    hop.skew = chain.suite(f"upgrade-{target.tag}-kubelet-{current.tag}")
    recheck(chain.framework(), hop.skew_survival, sidecar_pod=chain.sidecar_pod, since=since)
    before, since = snapshot(f), time.time()
    evicted, back = upgrade_roll.nodes(chain, hop, target, probers, timeout=timeout)
    f = chain.framework()
    step(f"checking the workloads (kubelets {target}); releasing Job {hop.job}")
    hop.node_survival = check_step(f, before, sidecar_pod=chain.sidecar_pod, since=since,
                                   evicted=evicted)
    hop.node_survival.problems[:0] = back
    finish_job(f, hop.job, hop.node_survival)
    hop.native_sidecars["after"] = chain.native_sidecars()
    if _start_sidecar_pod(chain, f, [], target.tag):
        hop.started.append(SIDECAR_POD)
    # The end of this hop is compared with the end of the last, not with its skew window.
    hop.after = chain.suite(f"upgrade-{target.tag}")
    recheck(chain.framework(), hop.node_survival, sidecar_pod=chain.sidecar_pod, since=since)
    hop.hazards = _hazards(chain.previous, hop.skew, hop.after)
    chain.previous = hop.after
    hop.seconds = round(time.monotonic() - started, 1)
    for problem in (hop.skew_survival.problems + hop.node_survival.problems
                    + [p for s in hop.steps for p in s.problems]):
        step(f"  survival problem: {problem}")
