"""The vocabulary of feature detection: which release brought native sidecars, and a
verdict with its reason. Shared by the API-server side (podlife.check.features) and the kubelet
side (podlife.check.sidecar_probe).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NoReturn

import pytest

from podlife.check.outcomes import error, unsupported

#: Native sidecars went GA (the SidecarContainers gate locked on) in 1.33.
GA_MINOR = 33
#: The first release that knows the field at all (alpha, off by default).
ALPHA_MINOR = 28
GATE = "SidecarContainers"


@dataclass(frozen=True)
class Support:
    """What the cluster does with native sidecars: a verdict and the reason for it."""

    verdict: str  # "supported", "unsupported", "fail" or "error"
    reason: str = ""

    def enforce(self) -> None:
        """End the check as this verdict says (nothing when supported)."""
        if self.verdict == "unsupported":
            unsupported(self.reason)
        if self.verdict == "fail":
            _fail(self.reason)
        if self.verdict == "error":
            error(self.reason)


SUPPORTED = Support("supported")


def _fail(reason: str) -> NoReturn:
    pytest.fail(reason, pytrace=False)


def minor_of(git_version: str) -> int | None:
    """'v1.31.4' (or 'v1.31.4+k3s1') -> 31; None when it does not look like a version."""
    found = re.match(r"v?1\.(\d+)", git_version or "")
    return int(found.group(1)) if found else None
