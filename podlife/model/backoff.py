"""The kubelet's crash-loop back-off: how long it must wait before starting a container that
exited again, as its configuration and release make it.

Facts (kubelet.go newCrashLoopBackOff and kuberuntime_manager.go doBackOff, read at v1.28.15,
v1.33.13, v1.35.8 and v1.37.2; client-go util/flowcontrol/backoff.go at v0.37.2):
- the back-off of a container starts from the `finishedAt` of its last exited instance;
- the first restart is not held back (no back-off entry exists yet); starting it records
  the initial back-off; each later restart waits for the current one, then doubles it, up
  to the maximum (no jitter: the kubelet's back-off has none);
- initial 10 s and maximum 300 s at every pinned release; with the alpha gate
  ReduceDefaultCrashLoopBackOffDecay (1.33+, off by default) 1 s and 60 s; with
  KubeletCrashLoopBackOffMax (alpha 1.32, beta and on by default from 1.35) the maximum is
  `crashLoopBackOff.maxContainerRestartPeriod`, and the initial one no larger than it;
- the back-off lives in the kubelet's memory: a restarted kubelet starts afresh.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

INITIAL_S = 10.0
MAX_S = 300.0
REDUCED_INITIAL_S = 1.0
REDUCED_MAX_S = 60.0
#: The first minor where KubeletCrashLoopBackOffMax is on by default.
CONFIGURABLE_MAX_SINCE = 35
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT_S = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


@dataclass(frozen=True)
class BackOff:
    """One kubelet's crash-loop back-off."""

    initial_s: float = INITIAL_S
    max_s: float = MAX_S

    def before_run(self, index: int) -> float:
        """The least time between a container's exit and its next start, when that start is
        its run number `index` (0: the first run, 1: the first restart, which is not held
        back; 2: the initial back-off; then doubling up to the maximum)."""
        if index < 2:
            return 0.0
        return min(self.initial_s * 2 ** (index - 2), self.max_s)

    def describe(self) -> str:
        return f"initial {self.initial_s:g} s, doubling to {self.max_s:g} s"


def go_duration_s(text: str) -> float | None:
    """A Go duration string ("5m0s", "1m30s", "500ms") in seconds; None if it is not one."""
    parts = _DURATION.findall(text.strip())
    if not parts or "".join(n + u for n, u in parts) != text.strip():
        return None
    return sum(float(number) * _UNIT_S[unit] for number, unit in parts)


def from_kubelet_config(config: dict, minor: int | None) -> BackOff:
    """The back-off a kubelet with this configuration (its /configz `kubeletconfig`) uses at
    Kubernetes 1.<minor>: the gates it sets explicitly, else the release's defaults."""
    gates = config.get("featureGates") or {}
    initial, maximum = INITIAL_S, MAX_S
    if gates.get("ReduceDefaultCrashLoopBackOffDecay") is True:
        initial, maximum = REDUCED_INITIAL_S, REDUCED_MAX_S
    default_on = minor is None or minor >= CONFIGURABLE_MAX_SINCE
    if gates.get("KubeletCrashLoopBackOffMax", default_on):
        period = ((config.get("crashLoopBackOff") or {}).get("maxContainerRestartPeriod"))
        configured = go_duration_s(str(period)) if period else None
        if configured is not None:
            maximum = configured
            initial = min(initial, maximum)
    return BackOff(initial, maximum)
