"""The version-skew policy between the control plane and the node, and the upgrade path.

Kubernetes supports a kubelet (and kube-proxy) older than kube-apiserver, never newer: up
to three minors older from API server 1.28 on (KEP-3935), two before. The control plane
itself is upgraded one minor at a time. podlife refuses anything else before it starts a
component, so a mixed or upgraded cluster is always one Kubernetes supports; `--skip-minors`
lets an upgrade skip control-plane minors (unsupported upstream) while the kubelet's skew
still holds.

Columns of a mixed cluster in results and the matrix read `v1.29.15/kubelet-v1.28.15`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from podlife.core import versions
from podlife.core.errors import PodlifeError
from podlife.core.versions import KubeVersion

#: From this API server minor on, a kubelet may be three minors older (two before).
THREE_MINORS_FROM = 28
#: The column of a run whose kubelet differs from its API server: `<api>/kubelet-<kubelet>`.
KUBELET_MARK = "/kubelet-"
_COLUMN_RE = re.compile(r"^(?P<api>[^/]+)/kubelet-(?P<kubelet>[^/]+)$")


def max_kubelet_lag(apiserver: KubeVersion) -> int:
    """How many minors older than this API server a kubelet may be."""
    return 3 if apiserver.minor >= THREE_MINORS_FROM else 2


def skew_problem(apiserver: KubeVersion, kubelet: KubeVersion) -> str | None:
    """Why this pair is outside the policy, or None when Kubernetes supports it."""
    if apiserver.major != kubelet.major:
        return f"kubelet {kubelet} and kube-apiserver {apiserver} differ in major version"
    lag = apiserver.minor - kubelet.minor
    if lag < 0:
        return (f"kubelet {kubelet} is newer than kube-apiserver {apiserver}: a kubelet may "
                f"never be newer than the API server")
    allowed = max_kubelet_lag(apiserver)
    if lag > allowed:
        since = (f"from API server 1.{THREE_MINORS_FROM} on" if allowed == 3
                 else f"before API server 1.{THREE_MINORS_FROM}")
        return (f"kubelet {kubelet} is {lag} minors older than kube-apiserver {apiserver}: "
                f"the skew policy allows at most {allowed} ({since})")
    return None


def check_kubelet(apiserver: KubeVersion, kubelet: KubeVersion) -> None:
    """Refuse (one line) a kubelet the skew policy does not allow with this API server."""
    problem = skew_problem(apiserver, kubelet)
    if problem:
        oldest = max(apiserver.minor - max_kubelet_lag(apiserver), 0)
        raise PodlifeError(problem, f"use a kubelet from 1.{oldest} to 1.{apiserver.minor} "
                                    f"with kube-apiserver 1.{apiserver.minor}")


def check_hop(current: KubeVersion, target: KubeVersion, kubelet: KubeVersion, *,
              skip_minors: bool = False) -> None:
    """Refuse a control-plane upgrade the policy does not allow: one minor at a time
    (unless skip_minors), never down, and the running kubelet within skew of the target."""
    if not current < target:
        raise PodlifeError(f"cannot upgrade the control plane from {current} to {target}: "
                           f"{target} is not newer",
                           "give a newer release to upgrade to")
    jump = target.minor - current.minor
    if jump > 1 and not skip_minors:
        raise PodlifeError(
            f"upgrading the control plane from {current} to {target} skips "
            f"{jump - 1} minor{'s' if jump > 2 else ''}: the skew policy upgrades "
            f"kube-apiserver one minor at a time",
            f"upgrade hop by hop (podlife upgrade --from {current.minor_key} --to "
            f"{target.minor_key} does), or pass --skip-minors to test the skip anyway")
    check_kubelet(target, kubelet)


def hops(start: KubeVersion, end: KubeVersion, *, skip_minors: bool = False
         ) -> list[KubeVersion]:
    """The releases an upgrade from start to end passes through, end included: one per
    minor (each minor's pinned release), or just [end] with skip_minors."""
    if not start < end:
        raise PodlifeError(f"--from {start} is not older than --to {end}",
                           "give the older release to --from and the newer to --to")
    if skip_minors or end.minor - start.minor <= 1:
        return [end]
    between = [versions.resolve(f"{start.major}.{m}") for m in range(start.minor + 1,
                                                                        end.minor)]
    return [*between, end]


def column(apiserver: str, kubelet: str) -> str:
    """The matrix column of a run: the API server's version, with the kubelet's when it
    differs (`v1.29.15/kubelet-v1.28.15`)."""
    api = versions.normalize_version(apiserver)
    if not kubelet or versions.normalize_version(kubelet) == api:
        return api
    return f"{api}{KUBELET_MARK}{versions.normalize_version(kubelet)}"


def split_column(text: str) -> tuple[str, str | None]:
    """`1.33/kubelet-1.30` -> ('1.33', '1.30'); `1.33` -> ('1.33', None)."""
    match = _COLUMN_RE.match(text.strip())
    if match:
        return match["api"], match["kubelet"]
    return text.strip(), None


def is_skew_column(text: str) -> bool:
    return split_column(text)[1] is not None


def column_sort_key(text: str) -> tuple:
    """API server version first; skew columns of one API server before its own column, in
    kubelet order: v1.28, v1.29/kubelet-v1.28, v1.29 (the order an upgrade goes)."""
    api, kubelet = split_column(text)
    return (versions.version_sort_key(api),
            (0, versions.version_sort_key(kubelet)) if kubelet else (1,))


@dataclass(frozen=True)
class Target:
    """What one run boots: an API server release, and the kubelet's when it differs."""

    apiserver: KubeVersion
    kubelet: KubeVersion | None = None

    @property
    def node(self) -> KubeVersion:
        return self.kubelet or self.apiserver

    @property
    def label(self) -> str:
        """For run directories: `v1.33.13`, or `v1.33.13-kubelet-v1.30.14`."""
        if self.node == self.apiserver:
            return self.apiserver.tag
        return f"{self.apiserver.tag}-kubelet-{self.node.tag}"

    def run_args(self) -> list[str]:
        """The `podlife run` options that boot it."""
        extra = ["--kubelet-version", self.node.tag] if self.node != self.apiserver else []
        return ["--kube-version", self.apiserver.tag, *extra]


def parse_target(text: str) -> Target:
    """`1.33`, or `1.33/kubelet-1.30` (checked against the policy at once)."""
    api_text, kubelet_text = split_column(text)
    apiserver = versions.resolve(api_text)
    kubelet = versions.resolve(kubelet_text) if kubelet_text else None
    if kubelet:
        check_kubelet(apiserver, kubelet)
    return Target(apiserver, kubelet if kubelet != apiserver else None)
