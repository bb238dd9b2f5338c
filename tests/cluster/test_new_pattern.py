"""Adding a tutorial pattern takes one manifest and one test file, nothing else.

In a temporary copy of the repository, a throwaway pattern is added exactly as
CONTRIBUTING.md says; the copy's suite then collects it, runs it on a real local cluster,
records its pattern in the results file, and the matrix report groups it under it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import local_cluster, repo_copy, run_in_copy

pytestmark = pytest.mark.cluster

CLUSTER = "ci-newpattern"
PATTERN = "throwaway-pattern"
MANIFEST = """# tutorial: Throwaway Pattern (added by podlife's own test)
apiVersion: v1
kind: Pod
metadata:
  name: throwaway
spec:
  initContainers:
  - name: prepare
    image: busybox
  containers:
  - name: app
    image: myapp:v1
"""
CHECK = f'''"""A pattern added by tests/cluster/test_new_pattern.py."""

import pytest

from podlife.check import manifests
from podlife.check.instrument import instrument
from podlife.check.ordering import one_after_another


@pytest.mark.pattern("{PATTERN}")
def test_prepare_exits_before_app_starts(f):
    """The throwaway pattern's init container exits before its app starts."""
    f.create(instrument(manifests.load_one("{PATTERN}"), {{}}, f.images))
    timeline = f.wait_reported("throwaway", "app")
    one_after_another(timeline, "prepare", "app")
'''


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    with local_cluster(CLUSTER):
        yield CLUSTER


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """The repository, plus the new pattern's two files."""
    repo_copy(tmp_path)
    (tmp_path / "manifests" / f"{PATTERN}.yaml").write_text(MANIFEST)
    (tmp_path / "suites" / "test_throwaway.py").write_text(CHECK)
    return tmp_path


def test_a_new_pattern_is_collected_grouped_and_reported(cluster: str, copy: Path) -> None:
    listed = run_in_copy(copy, "-c", "from podlife.check import manifests; "
                         "print(manifests.all_patterns())")
    assert PATTERN in listed.stdout, listed.stderr
    collected = run_in_copy(copy, "-m", "pytest", "suites", "--collect-only", "-q",
                    "-p", "no:cacheprovider")
    assert "suites/test_throwaway.py::test_prepare_exits_before_app_starts" in (
        collected.stdout), collected.stdout[-2000:]
    # The API-acceptance checks pick the new manifest up on their own.
    assert f"test_manifest_accepted_unchanged[{PATTERN}-Pod-throwaway]" in collected.stdout

    results = copy / "out" / "results.json"
    acceptance = ("suites/test_api_acceptance.py::test_manifest_accepted_unchanged"
                  f"[{PATTERN}-Pod-throwaway]")
    ran = run_in_copy(copy, "-m", "pytest", "suites/test_throwaway.py", acceptance,
              "-p", "no:cacheprovider", "--reuse-cluster", cluster,
              f"--podlife-results={results}")
    assert ran.returncode == 0, ran.stdout[-3000:]
    checks = {c["check_id"]: c for c in json.loads(results.read_text())["checks"]}
    check = checks["test_prepare_exits_before_app_starts"]
    assert (check["verdict"], check["pattern"], check["area"]) == ("pass", PATTERN, "throwaway")
    assert check["title"] == "The throwaway pattern's init container exits before its app starts."

    report = run_in_copy(copy, "-m", "podlife.cli", "report", str(results), "--out",
                         str(copy / "rep"))
    assert report.returncode == 0, report.stderr
    rows = json.loads((copy / "rep" / "matrix.json").read_text())["rows"]
    assert sorted((r["pattern"], r["area"], r["check_id"]) for r in rows) == [
        (PATTERN, "api_acceptance", f"test_manifest_accepted_unchanged[{PATTERN}-Pod-throwaway]"),
        (PATTERN, "throwaway", "test_prepare_exits_before_app_starts")]
    assert PATTERN in (copy / "rep" / "matrix.html").read_text()
