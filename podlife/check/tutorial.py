"""Find the manifests inside the tutorial text, whose YAML has lost its indentation.

podlife's pattern files are reconstructions of these manifests. Without indentation the
tutorial cannot be parsed as YAML, but each line is still a complete `key: value`, list
item or comment, which is enough to locate every manifest, tell full objects from
fragments, and read the facts a reconstruction must keep: kind, name, and each
container's name, image and command. Everything here is pure: text in, values out.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ENV_VAR = "PODLIFE_TUTORIAL"
SEED_PATH: Path = (
    Path(__file__).resolve().parents[3] / "shared" / "seeds" / "000_685c27767bf53a6c.txt"
)

# A manifest line is a camelCase key (Kubernetes field names start lowercase, which keeps
# prose such as "Order: ..." out), a list item, or a comment.
_KEY = re.compile(r"^(?:- )?[a-z][A-Za-z0-9]*:(?:\s|$)")
_ITEM = re.compile(r"^- \S")
_FULL_START = re.compile(r"^apiVersion:\s*\S")
_FRAGMENT_STARTS = ("initContainers:", "containers:")
_CONTAINER_LISTS = ("initContainers", "containers")
_SENTENCE_END = tuple(".:!?\"'")
_MAX_HEADING = 80


@dataclass(frozen=True)
class TutorialContainer:
    """One container as the tutorial writes it; `list_name` says init or app container."""

    list_name: str
    name: str
    image: str | None
    command: tuple[str, ...] | None


@dataclass(frozen=True)
class TutorialManifest:
    """One manifest found in the tutorial.

    `first_line` is the 1-based line number where it starts in the text; `lines` are its
    lines as printed (flat, no indentation); `section` is the heading it appears under.
    Fragments (a bare `initContainers:`/`containers:` list) have no kind and no name.
    """

    kind: str | None
    name: str | None
    first_line: int
    is_fragment: bool
    lines: tuple[str, ...]
    section: str | None

    @property
    def containers(self) -> tuple[TutorialContainer, ...]:
        """Containers in order of appearance, with their image and command."""
        return _containers(self.lines)


def seed_path() -> Path:
    """Where the tutorial is read from: $PODLIFE_TUTORIAL if set, else SEED_PATH."""
    override = os.environ.get(ENV_VAR)
    return Path(override) if override else SEED_PATH


def read_tutorial(path: Path | None = None) -> str:
    """Tutorial text; a missing file names the env var that points at it."""
    target = path if path is not None else seed_path()
    if not target.is_file():
        raise FileNotFoundError(
            f"tutorial text not found at {target}; set {ENV_VAR} to the path of the "
            "'Init Containers and Sidecars' tutorial text"
        )
    return target.read_text(encoding="utf-8")


def find_manifests(text: str) -> list[TutorialManifest]:
    """Every manifest in the tutorial, in order: full objects and pod-spec fragments."""
    lines = [line.strip() for line in text.splitlines()]
    found: list[TutorialManifest] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        is_full = bool(_FULL_START.match(line))
        if not (is_full or line in _FRAGMENT_STARTS):
            index += 1
            continue
        end = _block_end(lines, index)
        block = tuple(lines[index:end])
        kind, name = _kind_and_name(block) if is_full else (None, None)
        found.append(
            TutorialManifest(
                kind=kind,
                name=name,
                first_line=index + 1,
                is_fragment=not is_full,
                lines=block,
                section=_section_before(lines, index),
            )
        )
        index = end
    return found


def _is_manifest_line(line: str, previous: str | None) -> bool:
    """Whether `line` continues a manifest whose last non-comment line was `previous`."""
    if line.startswith("#") or _KEY.match(line):
        return True
    if _ITEM.match(line) and previous is not None:
        # A bare `- value` only belongs to a block list (`command:`) or follows another
        # bare item; elsewhere it is a prose bullet after the manifest.
        return previous.endswith(":") or (_ITEM.match(previous) and not _KEY.match(previous))
    return False


def _block_end(lines: list[str], start: int) -> int:
    """Index just past the manifest starting at `start` (trailing comments excluded)."""
    previous: str | None = None
    end = start
    index = start
    while index < len(lines) and _is_manifest_line(lines[index], previous):
        if not lines[index].startswith("#"):
            previous = lines[index]
            end = index + 1
        index += 1
    return end


def _parse_line(line: str) -> Any:
    """One flat YAML line as data: `k: v` -> {k: v}, `- x` -> [x]; comments drop out."""
    return yaml.safe_load(line)


def _value(line: str) -> Any:
    """Value of a `key: value` or `- key: value` line."""
    data = _parse_line(line)
    if isinstance(data, list):
        data = data[0]
    return next(iter(data.values()))


def _kind_and_name(block: tuple[str, ...]) -> tuple[str | None, str | None]:
    """kind, and metadata.name: the first `name:` after `metadata:` (it precedes spec)."""
    kind: str | None = None
    name: str | None = None
    in_metadata = False
    for line in block:
        if line.startswith("kind:") and kind is None:
            kind = str(_value(line))
        elif line == "metadata:":
            in_metadata = True
        elif in_metadata and line.startswith("name:"):
            name = str(_value(line))
            break
        elif line == "spec:":
            break
    return kind, name


def _containers(block: tuple[str, ...]) -> tuple[TutorialContainer, ...]:
    """Containers in a flat block: a `- name:` directly followed by `image:` starts one.

    Volume, mount and env entries also begin with `- name:`, but never with `image:`
    next, which is what makes the flat text unambiguous here.
    """
    lines = [line for line in block if not line.startswith("#")]
    found: list[dict[str, Any]] = []
    list_name: str | None = None
    index = 0
    while index < len(lines):
        line = lines[index]
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if line.endswith(":") and line[:-1] in _CONTAINER_LISTS:
            list_name = line[:-1]
        elif list_name and line.startswith("- name:") and following.startswith("image:"):
            found.append(
                {
                    "list_name": list_name,
                    "name": str(_value(line)),
                    "image": str(_value(following)),
                    "command": None,
                }
            )
        elif found and line.startswith("command:") and found[-1]["command"] is None:
            found[-1]["command"] = _command(lines, index)
        index += 1
    return tuple(TutorialContainer(**entry) for entry in found)


def _command(lines: list[str], index: int) -> tuple[str, ...]:
    """A command written inline (`command: [...]`) or as a block list of `- item` lines."""
    inline = _value(lines[index])
    if inline is not None:
        return tuple(str(part) for part in inline)
    items: list[str] = []
    for line in lines[index + 1 :]:
        if not _ITEM.match(line) or _KEY.match(line):
            break
        items.append(str(_parse_line(line)[0]))
    return tuple(items)


def _section_before(lines: list[str], index: int) -> str | None:
    """Nearest heading above a manifest: a short line that is not a sentence or bullet."""
    for line in reversed(lines[:index]):
        if (
            line
            and len(line) <= _MAX_HEADING
            and not line.endswith(_SENTENCE_END)
            and not line.startswith(("-", "#", "|"))
            and not _KEY.match(line)
            and line[0].isalnum()
        ):
            return line
    return None
