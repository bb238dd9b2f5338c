"""The shipped workflow's jobs, run here in order: the version job's nox session for one
version, then the merge job's session, give one merged report of that version's checks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from podlife.core import paths, versions
from tests.helpers import repo_copy


def nox_session(copy: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`nox --no-venv -s ARGS` in the copy, as a CI job runs it (but in this environment)."""
    env = {k: v for k, v in os.environ.items() if k != "PODLIFE_RUN_ID"}
    env["PYTHONPATH"] = str(copy)
    return subprocess.run([sys.executable, "-m", "nox", "--no-venv", "-s", *args], cwd=copy,
                          env=env, capture_output=True, text=True, timeout=1200)


def test_version_job_then_merge_job_give_one_report(tmp_path: Path) -> None:
    copy = repo_copy(tmp_path / "repo")
    shutil.copy(paths.repo_root() / "noxfile.py", copy)
    version = versions.DEFAULT_VERSION.rsplit(".", 1)[0]
    job = nox_session(copy, "matrix-version", "--", version, "-k", "init_ordering")
    assert job.returncode == 0, job.stdout[-3000:] + job.stderr[-3000:]
    assert "cache entries" in job.stdout, job.stdout[-2000:]  # what the job should cache
    results = copy / "reports" / "ci" / version / "results.json"
    run = json.loads(results.read_text())
    assert run["checks"] and {c["verdict"] for c in run["checks"]} == {"pass"}
    assert (results.parent / "pytest.log").exists()
    junit = results.parent / "report" / f"junit-{run['kubernetes_version']}.xml"
    assert junit.exists(), "the job's own JUnit (GitLab's test report) is missing"

    merged = nox_session(copy, "matrix-merge")
    assert merged.returncode == 0, merged.stdout[-3000:] + merged.stderr[-3000:]
    out = copy / "reports" / "merged"
    matrix = json.loads((out / "matrix.json").read_text())
    assert [c["version"] for c in matrix["columns"]] == [run["kubernetes_version"]]
    assert len(matrix["rows"]) == len(run["checks"])
    assert (out / "matrix.html").stat().st_size > 0
    assert (out / f"junit-{run['kubernetes_version']}.xml").exists()

