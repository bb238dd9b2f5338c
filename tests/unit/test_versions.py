"""The pinned releases: resolving a request, refusing nonsense, the Go toolchain per release."""

from __future__ import annotations

import pytest

from podlife.core import versions
from podlife.core.errors import PodlifeError


def test_versions_resolve_minor_to_pinned_patch() -> None:
    assert versions.resolve("1.28").tag == "v1.28.15"
    assert versions.resolve("v1.33.5").tag == "v1.33.5"
    assert versions.resolve(None).tag == f"v{versions.DEFAULT_VERSION}"
    assert versions.KubeVersion.parse("1.9.0") < versions.KubeVersion.parse("1.28.0")
    assert versions.resolve("1.33.5").staging_tag == "v0.33.5"


def test_versions_reject_nonsense() -> None:
    with pytest.raises(PodlifeError, match="banana"):
        versions.resolve("banana")


def test_toolchain_for_old_releases() -> None:
    assert versions.toolchain_for(versions.resolve("1.28")).startswith("go1.22")
    assert versions.toolchain_for(versions.resolve(None)) == "local"
