"""The shipped GitHub Actions workflow stays in step with podlife: one job per pinned minor,
nox sessions only (what CI runs is what a user runs), caches keyed by version and the
shipped go.sum files, and a merge job that reads what the version jobs upload."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from podlife.core import paths, versions

WORKFLOW = paths.repo_root() / ".github" / "workflows" / "podlife.yml"
NOXFILE = paths.repo_root() / "noxfile.py"


def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def steps(job: str) -> list[dict]:
    return workflow()["jobs"][job]["steps"]


def test_one_version_job_per_pinned_minor() -> None:
    matrix = workflow()["jobs"]["version"]["strategy"]["matrix"]["version"]
    assert matrix == list(versions.MATRIX_VERSIONS)


def test_podlife_runs_only_through_nox_sessions_that_exist() -> None:
    sessions = set(re.findall(r'@nox\.session(?:\(name="([\w-]+)"\))?\ndef (\w+)',
                              NOXFILE.read_text()))
    names = {named or func for named, func in sessions}
    used = set()
    for job in workflow()["jobs"].values():
        for step in job["steps"]:
            command = step.get("run", "")
            assert not re.search(r"(^|\s)(podlife|pytest)\s", command), (
                f"call a nox session instead: {command}")
            used |= set(re.findall(r"nox -s ([\w-]+)", command))
    assert used == {"lint", "tests", "matrix-version", "upgrade", "matrix-merge"}
    assert used <= names, f"sessions the workflow calls but noxfile.py lacks: {used - names}"


def test_version_cache_is_keyed_by_version_and_the_shipped_go_sums() -> None:
    cache = next(s for s in steps("version") if s.get("uses", "").startswith("actions/cache"))
    key = cache["with"]["key"]
    assert "${{ matrix.version }}" in key and "podlife/cluster/gobuild/**/go.sum" in key
    assert ".cache/podlife/bin" in cache["with"]["path"]
    assert list(Path(paths.repo_root(), "podlife/cluster/gobuild").glob("*/go.sum"))


def test_merge_job_downloads_what_the_version_jobs_upload() -> None:
    upload = next(s for s in steps("version")
                  if s.get("uses", "").startswith("actions/upload-artifact"))
    download = next(s for s in steps("merge")
                    if s.get("uses", "").startswith("actions/download-artifact"))
    assert upload["with"]["name"] == "results-${{ matrix.version }}"
    assert download["with"]["pattern"] == "results-*"
    assert download["with"]["path"] == "reports/ci"
    merge = workflow()["jobs"]["merge"]
    assert merge["needs"] == ["version"] and merge["if"] == "always()"


def nox_in(tmp_path: Path, session: str) -> subprocess.CompletedProcess[str]:
    """A CI session run in an empty directory beside a copy of the noxfile."""
    shutil.copy(NOXFILE, tmp_path)
    return subprocess.run([sys.executable, "-m", "nox", "--no-venv", "-s", session],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)


def test_merge_session_without_results_says_what_to_run(tmp_path: Path) -> None:
    merged = nox_in(tmp_path, "matrix-merge")
    assert merged.returncode != 0
    assert "no results.json under reports/ci/: run nox -s matrix-version" in merged.stderr


def test_version_session_without_a_version_says_which_to_give(tmp_path: Path) -> None:
    job = nox_in(tmp_path, "matrix-version")
    assert job.returncode != 0
    assert "which version? e.g. nox -s matrix-version -- 1.33" in job.stderr
