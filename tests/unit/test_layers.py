"""The layers are enforced: import-linter's contracts (pyproject.toml) hold for podlife as
it is, and an upward import added to a copy of it breaks them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from podlife.core import paths

LINT = Path(sys.executable).parent / "lint-imports"


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT), "--config", str(root / "pyproject.toml"), "--no-cache"],
                          capture_output=True, text=True, cwd=root, timeout=120,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """podlife's package and its pyproject.toml, in a directory of their own."""
    shutil.copytree(paths.PACKAGE, tmp_path / "podlife",
                    ignore=shutil.ignore_patterns("__pycache__", "gobuild"))
    shutil.copy(paths.repo_root() / "pyproject.toml", tmp_path)
    return tmp_path


def test_the_layers_hold(copy: Path) -> None:
    result = lint(copy)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(("module", "upward"), [
    ("core/errors.py", "from podlife.check import pods"),          # core reaches up
    ("results/model.py", "from podlife.cluster import providers"),  # sibling layers
    ("cluster/kind/boot.py", "from podlife.cluster.local import state"),  # two providers
    ("run/runner.py", "from podlife.cli import output"),            # run reaches the CLI
])
def test_an_upward_import_breaks_lint(copy: Path, module: str, upward: str) -> None:
    target = copy / "podlife" / module
    target.write_text(target.read_text() + f"\n{upward}  # noqa\n")
    result = lint(copy)
    assert result.returncode != 0, result.stdout[-3000:]
    assert "BROKEN" in result.stdout

