"""Feature gates per component of a local cluster, and the gates a release has locked.

A real cluster's components do not always agree: during an upgrade the control plane is
new and the kubelets old, and a gate can be off on the kubelet only. `podlife cluster up`
reproduces that with gates per component, merged over the gates given to every component.
"""

from __future__ import annotations

from podlife.cluster.local.preflight import parse_gates
from podlife.core.errors import PodlifeError
from podlife.core.versions import KubeVersion

#: The CLI's short name of each component -> the component (its process and log name).
COMPONENTS = {
    "apiserver": "kube-apiserver",
    "controller-manager": "kube-controller-manager",
    "scheduler": "kube-scheduler",
    "kubelet": "kubelet",
    "proxy": "kube-proxy",
}

#: Gate -> (the first minor release where it is GA and locked, its locked value). A
#: component given another value refuses to start; podlife refuses first, in one line.
LOCKED = {"SidecarContainers": (33, True)}


def parse_component_gates(texts: dict[str, str | None]) -> dict[str, dict[str, bool]]:
    """{'kubelet': 'A=false'} (CLI short names) -> {'kubelet': {'A': False}}, by component."""
    out: dict[str, dict[str, bool]] = {}
    for short, text in texts.items():
        gates = parse_gates(text)
        if gates:
            out[COMPONENTS[short]] = gates
    return out


def merged(common: dict[str, bool], per_component: dict[str, dict[str, bool]],
           component: str) -> dict[str, bool]:
    """The gates one component starts with: its own over the common ones."""
    return {**common, **per_component.get(component, {})}


#: The node's components: on a mixed cluster they run the kubelet's release.
NODE_COMPONENTS = ("kubelet", "kube-proxy")


def refuse_locked(version: KubeVersion, common: dict[str, bool],
                  per_component: dict[str, dict[str, bool]],
                  node_version: KubeVersion | None = None) -> None:
    """Fail before booting when a gate is set against the value its component's release
    locked it to (the node's components run `node_version`, default `version`)."""
    for component in COMPONENTS.values():
        release = (node_version or version) if component in NODE_COMPONENTS else version
        for gate, value in merged(common, per_component, component).items():
            locked = LOCKED.get(gate)
            if locked and release.minor >= locked[0] and value != locked[1]:
                raise PodlifeError(
                    f"{gate}={str(value).lower()} ({component}) cannot be set on {release}: "
                    f"the gate is GA and locked to {str(locked[1]).lower()} since "
                    f"1.{locked[0]}",
                    f"drop the gate, or use a release before 1.{locked[0]} "
                    f"(e.g. --version 1.{locked[0] - 1})")


def describe(common: dict[str, bool], per_component: dict[str, dict[str, bool]]) -> str:
    """'all: A=false; kubelet: B=true' for `cluster status`; '-' when none were set."""
    def text(gates: dict[str, bool]) -> str:
        return ",".join(f"{k}={str(v).lower()}" for k, v in gates.items())

    parts = [f"all: {text(common)}"] if common else []
    parts += [f"{name}: {text(gates)}" for name, gates in per_component.items() if gates]
    return "; ".join(parts) or "-"
