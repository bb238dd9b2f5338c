"""The pinned list of upstream specs verify runs: loaded from specs.yaml, checked, matched.

Each entry names one upstream spec exactly (`spec:`, its full ginkgo text) or a family of
specs (`focus:`, a regular expression over the full text). Entries marked `ci: true` form
the short list CI runs. An entry that matches nothing in the built e2e.test is reported
as absent, never dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from podlife.core.errors import PodlifeError

SPECS_FILE = Path(__file__).with_name("specs.yaml")
LISTS = ("full", "ci")

#: Characters that are special in Go's regexp syntax (RE2), escaped for an exact name.
_GO_SPECIAL = set(r"\.+*?()|[]{}^$")


def go_escape(text: str) -> str:
    """Quote text for a Go regexp (Python's re.escape also escapes characters Go rejects)."""
    return "".join("\\" + ch if ch in _GO_SPECIAL else ch for ch in text)


_TAG = re.compile(r"\s*\[[^\]]*\]")


def untagged(name: str) -> str:
    """A spec name without its [tags], spaces collapsed."""
    return " ".join(_TAG.sub(" ", name).split())


@dataclass(frozen=True)
class Entry:
    """One line of the list: an exact spec name or a focus regex, its area, why it is here."""

    area: str
    spec: str = ""
    focus: str = ""
    ci: bool = False

    @property
    def label(self) -> str:
        return self.spec or f"/{self.focus}/"

    def matches(self, full_text: str) -> bool:
        """An exact name matches its spec in any release: tags ([Conformance], [sig-node],
        [NodeConformance]...) move between a spec's containers and its leaf across
        releases, so names are compared without them when not equal as written."""
        if self.spec:
            return full_text == self.spec or untagged(full_text) == untagged(self.spec)
        return re.search(self.focus, full_text) is not None


def parse(data: object, source: str = "specs.yaml") -> list[Entry]:
    """Entries from the YAML document, every field checked (errors name the entry)."""
    if not isinstance(data, dict) or not isinstance(data.get("specs"), list):
        raise PodlifeError(f"{source} has no 'specs:' list", "see podlife/run/verify/specs.yaml")
    entries = []
    for index, item in enumerate(data["specs"]):
        where = f"{source}: specs[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("area"), str):
            raise PodlifeError(f"{where} needs an 'area'", "add area: <behaviour>")
        unknown = set(item) - {"area", "spec", "focus", "ci", "why"}
        if unknown:
            raise PodlifeError(f"{where} has unknown keys {sorted(unknown)}",
                               "use area, spec or focus, ci, why")
        spec, focus = item.get("spec", ""), item.get("focus", "")
        if bool(spec) == bool(focus) or not isinstance(spec or focus, str):
            raise PodlifeError(f"{where} needs exactly one of 'spec' or 'focus' (a string)",
                               "name the spec exactly, or give a focus regex")
        if focus:
            try:
                re.compile(focus)
            except re.error as exc:
                raise PodlifeError(f"{where} focus is not a regex: {exc}",
                                   "fix the expression") from None
        entries.append(Entry(area=item["area"], spec=spec, focus=focus,
                             ci=bool(item.get("ci", False))))
    labels = [entry.label for entry in entries]
    duplicates = sorted({label for label in labels if labels.count(label) > 1})
    if duplicates:
        raise PodlifeError(f"{source} lists {duplicates[0]!r} twice", "keep one entry")
    return entries


def load(which: str, path: Path = SPECS_FILE) -> list[Entry]:
    """The `full` list (every entry) or the `ci` list (entries marked ci: true)."""
    if which not in LISTS:
        raise PodlifeError(f"no spec list named '{which}'", f"use one of {', '.join(LISTS)}")
    entries = parse(yaml.safe_load(path.read_text()), path.name)
    return [entry for entry in entries if which == "full" or entry.ci]
