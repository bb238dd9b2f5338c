"""The README's Layout names every package and module of podlife/, so it cannot drift: a
module added without a word there fails this test."""

from __future__ import annotations

import re
from pathlib import Path

from podlife.core import paths


def layout_block() -> str:
    readme = (paths.repo_root() / "README.md").read_text()
    return readme.split("## Layout\n", 1)[1].split("\n## ", 1)[0]


def test_every_package_and_module_is_in_the_readmes_layout() -> None:
    block = layout_block()
    named = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", block))
    missing = []
    for module in sorted(paths.PACKAGE.rglob("*.py")):
        folder = module.parent.relative_to(paths.PACKAGE)
        if folder.parts and f"{folder.parts[-1]}/" not in block:
            missing.append(f"{folder}/")
        if module.name != "__init__.py" and module.stem not in named:
            missing.append(str(module.relative_to(paths.PACKAGE)))
    assert not missing, f"README's Layout does not name: {sorted(set(missing))}"


def test_every_package_says_what_belongs_there() -> None:
    for init in paths.PACKAGE.rglob("__init__.py"):
        text = init.read_text().lstrip()
        assert text.startswith('"""') and len(text.split('"""')[1]) > 60, (
            f"{init.relative_to(paths.PACKAGE)} has no docstring saying what belongs there")


def test_the_top_of_the_package_is_a_few_entries() -> None:
    entries = [p.name for p in paths.PACKAGE.iterdir() if p.name != "__pycache__"]
    assert len(entries) <= 10, sorted(entries)
    assert Path(paths.PACKAGE / "core").is_dir()
