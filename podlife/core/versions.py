"""Kubernetes and component versions: which releases podlife pins, and how to resolve a request.

Pinned patch releases keep runs reproducible and avoid asking the module proxy on
every run; a release that is not pinned is looked up on the Go module proxy.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from functools import total_ordering
from typing import Any

from podlife.core.errors import PodlifeError

#: The patch release of each minor that podlife builds: the newest whose modules (the
#: kubernetes module and every staging module it imports) the Go module proxy serves here.
PINNED: dict[str, str] = {
    "1.28": "1.28.15",
    "1.29": "1.29.15",
    "1.30": "1.30.14",
    "1.31": "1.31.0",
    "1.32": "1.32.2",
    "1.33": "1.33.13",
    "1.34": "1.34.4",
    "1.35": "1.35.8",
    "1.36": "1.36.5",
    "1.37": "1.37.2",
}

#: The newest release that boots here: what `podlife cluster up` starts without --version.
DEFAULT_VERSION = "1.37.2"

#: The versions `nox -s matrix` runs, oldest first: every pinned minor, so an upgrade path
#: of one minor at a time is covered from 1.28 to the newest.
MATRIX_VERSIONS = list(PINNED)

#: Go toolchain per Kubernetes minor: the one its release was built with (older minors
#: do not compile with a newer Go, whose linker rejects their dependencies' linknames).
#: Anything not listed uses the installed Go.
GO_TOOLCHAIN: dict[str, str] = {
    "1.28": "go1.22.12",
    "1.29": "go1.22.12",
    "1.30": "go1.22.12",
    "1.31": "go1.23.12",
    "1.32": "go1.23.12",
    "1.33": "go1.24.13",
    "1.34": "go1.24.13",
    "1.35": "go1.25.9",
}

#: The one Kubernetes version syntax: 'v1.30', '1.30.2', 'v1.30.0-rc.1', 'v1.29.3+k3s1'.
#: Releases (what podlife builds) have a patch and neither pre-release nor build part.
_VERSION_RE = re.compile(
    r"^v?(?P<major>\d+)\.(?P<minor>\d+)(?:\.(?P<patch>\d+))?"
    r"(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+(?P<build>[0-9A-Za-z.-]+))?$"
)


def _release_match(text: str) -> re.Match[str] | None:
    """A match for a release or a bare minor ('1.33', '1.33.5'), None for anything else."""
    match = _VERSION_RE.match(text.strip())
    if match is None or match["pre"] or match["build"]:
        return None
    return match


@total_ordering
@dataclass(frozen=True)
class KubeVersion:
    """A Kubernetes release, ordered semantically (1.9 < 1.28)."""

    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> KubeVersion:
        """Parse 'v1.33.5' or '1.33.5'; a missing patch is an error here (see resolve())."""
        match = _release_match(text)
        if not match or match["patch"] is None:
            raise PodlifeError(
                f"'{text}' is not a Kubernetes release version",
                "give one like 1.33 or 1.33.5",
            )
        return cls(int(match["major"]), int(match["minor"]), int(match["patch"]))

    @property
    def minor_key(self) -> str:
        return f"{self.major}.{self.minor}"

    @property
    def tag(self) -> str:
        """The release tag, as the Go module and `kubelet --version` spell it."""
        return f"v{self.major}.{self.minor}.{self.patch}"

    @property
    def staging_tag(self) -> str:
        """The matching tag of the k8s.io/* staging modules (v0.Y.Z for Kubernetes v1.Y.Z)."""
        return f"v0.{self.minor}.{self.patch}"

    def __str__(self) -> str:
        return self.tag

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, KubeVersion):
            return NotImplemented
        return (self.major, self.minor, self.patch) < (other.major, other.minor, other.patch)


def resolve(requested: str | None) -> KubeVersion:
    """Turn what the user typed (None, '1.33' or '1.33.5') into an exact release.

    A minor alone maps to its pinned patch, or to the newest patch the module proxy has.
    """
    if not requested:
        return KubeVersion.parse(DEFAULT_VERSION)
    match = _release_match(requested)
    if not match:
        raise PodlifeError(
            f"'{requested}' is not a Kubernetes version", "give one like 1.33 or 1.33.5"
        )
    if match["patch"] is not None:
        return KubeVersion.parse(requested)
    key = f"{match['major']}.{match['minor']}"
    if key in PINNED:
        return KubeVersion.parse(PINNED[key])
    found = [v for v in proxy_versions() if v.minor_key == key]
    if not found:
        raise PodlifeError(
            f"Kubernetes {key} has no release on the Go module proxy",
            f"pick one of {', '.join(sorted(PINNED))} or an exact release like {DEFAULT_VERSION}",
        )
    return max(found)


def proxy_versions() -> list[KubeVersion]:
    """Releases of k8s.io/kubernetes the module proxy lists (it may omit some patches)."""
    try:
        out = subprocess.run(
            ["go", "list", "-m", "-versions", "k8s.io/kubernetes"],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
    except FileNotFoundError as exc:
        raise PodlifeError("Go is not installed", "install Go 1.22 or newer") from exc
    except subprocess.CalledProcessError as exc:
        raise PodlifeError(
            f"the Go module proxy did not answer ({exc.stderr.strip().splitlines()[-1:]})",
            "check GOPROXY and the network, or pass an exact version that is already built",
        ) from exc
    versions = []
    for word in out.split()[1:]:
        if _release_match(word):
            versions.append(KubeVersion.parse(word))
    return versions


def toolchain_for(version: KubeVersion) -> str:
    """The GOTOOLCHAIN value for building this release ('local' = the installed Go)."""
    return GO_TOOLCHAIN.get(version.minor_key, "local")


# --- versions as clusters report them (results files, the matrix) ---------------------------


def is_kube_version(text: str) -> bool:
    """True for 'v1.30', 'v1.30.2', '1.30.2-rc.1', 'v1.29.3+k3s1'."""
    return bool(_VERSION_RE.match(text.strip()))


def normalize_version(text: str) -> str:
    """One spelling per version ('1.30.2' and 'v1.30.2' are the same matrix column)."""
    text = text.strip()
    return text if text.startswith("v") else f"v{text}"


def version_sort_key(text: str) -> tuple[Any, ...]:
    """Semantic order: v1.9 < v1.28, v1.30.0-rc.1 < v1.30.0; unparsable strings sort last."""
    match = _VERSION_RE.match(text.strip())
    if not match:
        return (1, text)
    release = KubeVersion(int(match["major"]), int(match["minor"]), int(match["patch"] or 0))
    pre = match["pre"]
    # A pre-release sorts before its release; its dot parts compare numbers as numbers.
    pre_key: tuple[Any, ...] = (1,)
    if pre:
        pre_key = (0, *((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")))
    return (0, release, pre_key, match["build"] or "")
