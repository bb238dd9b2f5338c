"""The tutorial's manifests and their in-cluster stand-ins, as files under manifests/.

The YAML files are the tutorial's own objects, kept verbatim so a check can say which
tutorial example it exercised; deploy code substitutes images and commands on the dicts
returned here, never in the files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from podlife.core import paths

#: manifests/ of the checkout, or its copy inside an installed podlife (podlife.core.paths).
MANIFEST_DIR: Path = paths.manifests_dir()
SUPPORT_DIR: Path = MANIFEST_DIR / "support"

_SECTION_PREFIX = "# tutorial:"


def _section_of(path: Path) -> str | None:
    """The tutorial section named by a file's `# tutorial:` first line, else None."""
    with path.open(encoding="utf-8") as handle:
        first = handle.readline().strip()
    if not first.startswith(_SECTION_PREFIX):
        return None
    return first.removeprefix(_SECTION_PREFIX).strip()


def all_patterns() -> list[str]:
    """Every pattern: each manifest under MANIFEST_DIR whose first line names its tutorial
    section (`# tutorial: ...`), by file name. Adding a pattern is adding such a file."""
    return sorted(p.stem for p in MANIFEST_DIR.glob("*.yaml") if _section_of(p) is not None)


def pattern_path(pattern: str) -> Path:
    """File of one pattern; an unknown id fails loudly rather than loading nothing."""
    path = MANIFEST_DIR / f"{pattern}.yaml"
    if "/" in pattern or not path.is_file() or _section_of(path) is None:
        known = ", ".join(all_patterns())
        raise KeyError(f"unknown pattern {pattern!r}; known patterns: {known}")
    return path


def _load_file(path: Path) -> list[dict[str, Any]]:
    """Every object in a multi-document file; empty documents (stray `---`) are dropped."""
    with path.open(encoding="utf-8") as handle:
        return [doc for doc in yaml.safe_load_all(handle) if doc is not None]


def load(pattern: str) -> list[dict[str, Any]]:
    """Fresh objects of a pattern, safe for the caller to mutate (each call re-reads)."""
    return _load_file(pattern_path(pattern))


def load_one(pattern: str) -> dict[str, Any]:
    """The single object of a pattern; every tutorial pattern is exactly one object."""
    docs = load(pattern)
    if len(docs) != 1:
        raise ValueError(f"pattern {pattern!r} holds {len(docs)} objects, expected exactly 1")
    return docs[0]


def support(name: str) -> list[dict[str, Any]]:
    """Objects of a stand-in under manifests/support/ ("postgres" or "postgres.yaml")."""
    filename = name if name.endswith(".yaml") else f"{name}.yaml"
    path = SUPPORT_DIR / filename
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in SUPPORT_DIR.glob("*.yaml")))
        raise FileNotFoundError(f"no support manifest {filename!r} in {SUPPORT_DIR}; have: {known}")
    return _load_file(path)


def tutorial_section(pattern: str) -> str:
    """Tutorial section a pattern comes from, read from its `# tutorial:` header line."""
    section = _section_of(pattern_path(pattern))
    assert section is not None  # pattern_path only returns files with a header
    return section
