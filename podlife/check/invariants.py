"""Every pod a check created, judged by podlife's model of the pod lifecycle.

After a check's own assertions pass, each pod in its namespace (and each pod it deleted
and watched to the end) is judged by every rule of podlife.model that holds for the
cluster's release. A broken rule fails the check: one line per violation (the rule, its
source, expected, observed), then the pod's whole timeline. A pod the model cannot
judge (a container without a podlife script, a log that could not be read) is counted
as not judged, never as passed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from podlife.check import logs, pods
from podlife.check.kubelet_backoff import backoff_of
from podlife.check.ordering import describe
from podlife.core.timeline import Timeline
from podlife.model.judge import judge
from podlife.model.verdict import Judgement


class InvariantBroken(AssertionError):
    """A pod did what no correct cluster does; the text names the rule and shows the pod."""


@dataclass
class NamespaceJudgement:
    """The judgements of every pod of one check."""

    judgements: list[Judgement] = field(default_factory=list)
    timelines: dict[str, Timeline] = field(default_factory=dict)

    @property
    def judged(self) -> list[str]:
        return [j.pod for j in self.judgements if j.judged]

    @property
    def not_judged(self) -> list[str]:
        return [f"{j.pod}: {'; '.join(j.not_judged)}" for j in self.judgements if not j.judged]

    def violation_lines(self) -> list[str]:
        """One line per broken rule (the rule, its source, expected, observed)."""
        return [v.line() for j in self.judgements for v in j.violations]

    def broken_timelines(self) -> list[str]:
        """The whole timeline of each pod that broke a rule."""
        return [describe(self.timelines[j.pod]) for j in self.judgements if j.violations]

    def failure(self) -> str | None:
        """The failure message: every violation's line first, then the pods' timelines."""
        lines = self.violation_lines()
        return "\n".join(lines + self.broken_timelines()) if lines else None


def judge_namespace(api: Any, namespace: str, finished: dict[str, tuple[dict, Timeline]],
                    minor: int | None) -> NamespaceJudgement:
    """Judge the pods a check deleted (`finished`: as last seen, with the timeline followed
    while they stopped) and every pod still in its namespace."""
    result = NamespaceJudgement()
    for pod, timeline in finished.values():
        _add(result, pod, timeline, minor, api)
    for listed in k8s.CoreV1Api(api).list_namespaced_pod(namespace).items:
        name = listed.metadata.name
        if name in finished:
            continue
        try:
            timeline = logs.pod_timeline(api, namespace, name)
            pod = pods.read(api, namespace, name)  # after the logs: see podlife.model.status
        except ApiException as exc:
            if exc.status != 404:
                raise
            result.judgements.append(Judgement(name, not_judged=["gone before it was read"]))
            continue
        _add(result, pod, timeline, minor, api)
    return result


def _add(result: NamespaceJudgement, pod: dict, timeline: Timeline, minor: int | None,
         api: Any) -> None:
    """Judge one pod, with the back-off of the kubelet on its node."""
    node = (pod.get("spec") or {}).get("nodeName")
    judgement = judge(pod, timeline, minor, backoff_of(api, node, minor))
    result.judgements.append(judgement)
    result.timelines[judgement.pod] = timeline
