"""Whether a container that stopped is started again: the pod's restartPolicy, or, where the
release has them (beta and on by default from 1.35, KEP-5307), the container's own
restartPolicy and restartPolicyRules.

Sources: docs concepts/workloads/pods/pod-lifecycle, 'Container restart policy' and
'Container restart rules'; pkg/api/v1/pod/util.go ContainerShouldRestart and
FindMatchingContainerRestartRule (v1.37.2): a matching rule's Restart action restarts it,
else the container's own policy decides (Always; OnFailure on a non-zero code; Never),
else the pod's. A container stopped by its failed probe is restarted unless its own policy,
else the pod's, is Never; its rules are not read (computePodActions, v1.37.2).
"""

from __future__ import annotations

from dataclasses import dataclass

#: The first minor where container restart rules are on by default (ContainerRestartRules:
#: alpha in 1.34, beta and on from 1.35, kube_features.go v1.37.2).
CONTAINER_RULES_SINCE = 35


@dataclass(frozen=True)
class RestartRule:
    """One restartPolicyRules entry: `action` when the exit code is (operator In) or is
    not (NotIn) among `values`."""

    action: str
    operator: str
    values: tuple[int, ...]

    def describe(self) -> str:
        return f"{self.action} on exit codes {self.operator} {list(self.values)}"

    def matches(self, exit_code: int) -> bool:
        inside = exit_code in self.values
        return inside if self.operator == "In" else not inside


def rules_of(container: dict) -> tuple[RestartRule, ...]:
    """A container's restartPolicyRules, as the API returned them."""
    found = []
    for entry in container.get("restartPolicyRules") or []:
        codes = entry.get("exitCodes") or {}
        found.append(RestartRule(str(entry.get("action", "")), str(codes.get("operator", "In")),
                                 tuple(int(v) for v in codes.get("values") or [])))
    return tuple(found)


def restarts_after_exit(pod_policy: str, own_policy: str | None,
                        rules: tuple[RestartRule, ...], exit_code: int) -> bool:
    """True when a regular container that exited with `exit_code` is started again."""
    if own_policy is not None:
        for rule in rules:
            if rule.matches(exit_code):
                if rule.action == "Restart":
                    return True
                break  # another action (RestartAllContainers: alpha, off): the policy decides
        if own_policy in ("Always", "OnFailure", "Never"):
            return own_policy == "Always" or (own_policy == "OnFailure" and exit_code != 0)
    return pod_policy == "Always" or (pod_policy == "OnFailure" and exit_code != 0)


def restarts_after_kill(pod_policy: str, own_policy: str | None) -> bool:
    """True when a container stopped by its own failed probe is started again."""
    return (own_policy or pod_policy) != "Never"
