"""The results format, its validation, merging runs into a matrix, and the recording plugin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from podlife.errors import PodlifeError
from podlife.results import (
    CheckResult,
    ResultsError,
    RunResult,
    load_run,
    merge,
    normalize_version,
    validate_timeline,
    version_sort_key,
)

REPO = Path(__file__).resolve().parent.parent


def timeline(pod: str = "pod-a") -> dict[str, Any]:
    return {
        "pod": pod,
        "events": [
            {"t": 10.0, "container": "init-db", "event": "Started", "detail": ""},
            {"t": 12.5, "container": "app", "event": "Started", "detail": "image pulled"},
        ],
        "containers": [
            {
                "name": "init-db",
                "kind": "init",
                "started": 10.0,
                "finished": 11.0,
                "exit_code": 0,
                "restarts": 0,
            },
            {
                "name": "app",
                "kind": "app",
                "started": 12.5,
                "finished": None,
                "exit_code": None,
                "restarts": 0,
            },
        ],
    }


def check(
    check_id: str = "test_sidecar_starts_first",
    area: str = "native_sidecars",
    verdict: str = "pass",
    duration: float = 4.0,
    **kw: Any,
) -> CheckResult:
    return CheckResult(
        nodeid=f"suites/test_{area}.py::{check_id}",
        check_id=check_id,
        area=area,
        title=kw.pop("title", f"Title of {check_id}"),
        verdict=verdict,
        duration_s=duration,
        **kw,
    )


def run(version: str = "v1.30.2", started: str = "2025-03-01T10:00:00Z", **kw: Any) -> RunResult:
    return RunResult(
        run_id=kw.pop("run_id", f"run-{version}-{started}"),
        provider="kind",
        cluster=f"podlife-{version}",
        kubernetes_version=version,
        started_at=started,
        finished_at=kw.pop("finished", started.replace("10:", "11:")),
        host="ci-1",
        checks=kw.pop("checks", [check()]),
        **kw,
    )


def write(tmp_path: Path, name: str, result: RunResult) -> Path:
    path = tmp_path / name
    result.write(path)
    return path


# --- schema ---------------------------------------------------------------------------------


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    original = run(
        checks=[
            check(timelines=[timeline("a"), timeline("b")]),
            check("test_dies", verdict="fail", reason="exit 137", dumps=["dumps/x.yaml"]),
        ]
    )
    path = write(tmp_path, "r.json", original)
    loaded = load_run(path)
    assert loaded == original
    assert loaded.source == str(path)
    data = json.loads(path.read_text())
    assert next(iter(data)) == "schema_version"
    assert data["schema_version"] == 1
    assert "source" not in data


def test_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    write(tmp_path, "deep/dir/r.json", run())
    assert [p.name for p in (tmp_path / "deep/dir").iterdir()] == ["r.json"]


def _bad(mutate: Any) -> str:
    data = run(checks=[check(timelines=[timeline()])]).to_dict()
    mutate(data)
    return json.dumps(data)


@pytest.mark.parametrize(
    ("mutate", "field", "words"),
    [
        (lambda d: d["checks"][0].update(verdict="ok"), "checks[0].verdict", "must be one of"),
        (lambda d: d.pop("host"), "host", "is missing"),
        (lambda d: d.update(schema_version=2), "schema_version", "schema version 1"),
        (lambda d: d.update(kubernetes_version="latest"), "kubernetes_version", "v1.30.2"),
        (lambda d: d.update(started_at="yesterday"), "started_at", "ISO 8601"),
        (lambda d: d.update(started_at="2025-03-01T10:00:00"), "started_at", "UTC offset"),
        (lambda d: d["checks"][0].update(duration_s="4s"), "checks[0].duration_s", "number"),
        (lambda d: d["checks"][0].update(duration_s=-1), "checks[0].duration_s", "negative"),
        (lambda d: d["checks"][0].update(extra=1), "checks[0].extra", "not part of"),
        (lambda d: d["checks"][0].update(dumps=[""]), "checks[0].dumps[0]", "empty"),
        (lambda d: d.update(checks={}), "checks", "must be a list"),
        (
            lambda d: d["checks"][0]["timelines"][0]["containers"][1].update(kind="main"),
            "checks[0].timelines[0].containers[1].kind",
            "init, sidecar, app",
        ),
        (
            lambda d: d["checks"][0]["timelines"][0]["events"][0].pop("t"),
            "checks[0].timelines[0].events[0].t",
            "is missing",
        ),
        (
            lambda d: d["checks"][0]["timelines"][0]["containers"][0].update(restarts=True),
            "checks[0].timelines[0].containers[0].restarts",
            "integer",
        ),
        (lambda d: d["checks"].append(d["checks"][0]), "checks[1]", "repeats check"),
    ],
)
def test_validation_names_file_and_field(mutate: Any, field: str, words: str) -> None:
    with pytest.raises(ResultsError) as info:
        RunResult.from_json(_bad(mutate), source="runs/v1.30.json")
    error = info.value
    assert error.field == field
    assert error.source == "runs/v1.30.json"
    text = str(error)
    assert text.startswith(f"runs/v1.30.json: field '{field}' ")
    assert words in text
    assert ". Fix: " in text


def test_validation_error_is_a_podlife_error() -> None:
    assert issubclass(ResultsError, PodlifeError)


def test_not_json_names_the_file() -> None:
    with pytest.raises(ResultsError, match=r"^r\.json is not JSON \(line 1"):
        RunResult.from_json("{nope", source="r.json")


def test_top_level_must_be_an_object() -> None:
    with pytest.raises(ResultsError, match="must be an object, got a list"):
        RunResult.from_json("[]", source="r.json")


def test_timeline_may_carry_extra_keys() -> None:
    data = timeline() | {"node": "worker-1"}
    assert validate_timeline(data)["node"] == "worker-1"


def test_empty_version_loads_but_cannot_be_merged(tmp_path: Path) -> None:
    path = write(tmp_path, "nocluster.json", run(version=""))
    loaded = load_run(path)
    with pytest.raises(PodlifeError, match=r"nocluster\.json: the run recorded no Kubernetes"):
        merge([loaded])


@pytest.mark.parametrize(
    ("setup", "cause"),
    [
        (lambda p: None, "does not exist"),
        (lambda p: p.mkdir(), "is a directory"),
        (lambda p: p.write_bytes(b"\xff\xfe\x00"), "cannot be read"),
    ],
)
def test_load_run_bad_files(tmp_path: Path, setup: Any, cause: str) -> None:
    path = tmp_path / "r.json"
    setup(path)
    with pytest.raises(PodlifeError, match=cause) as info:
        load_run(path)
    assert str(path) in str(info.value)
    assert "Fix:" in str(info.value)


# --- versions and merge -----------------------------------------------------------------------


def test_versions_sort_semantically() -> None:
    versions = ["v1.28.0", "v1.9.11", "v1.30.0", "v1.30.0-rc.1", "v1.30.0-alpha.2", "v1.10"]
    assert sorted(versions, key=version_sort_key) == [
        "v1.9.11",
        "v1.10",
        "v1.28.0",
        "v1.30.0-alpha.2",
        "v1.30.0-rc.1",
        "v1.30.0",
    ]
    assert version_sort_key("v1.29.3+k3s1") < version_sort_key("v1.30.0")
    assert normalize_version("1.30.2") == "v1.30.2"


def test_merge_builds_rows_and_sorted_columns(tmp_path: Path) -> None:
    files = [
        write(tmp_path, "a.json", run("v1.28.3", checks=[check(), check("test_b", area="init")])),
        write(tmp_path, "b.json", run("v1.9.11", checks=[check(verdict="unsupported")])),
        write(tmp_path, "c.json", run("1.30.2", checks=[check("test_a", area="init")])),
    ]
    matrix = merge(load_run(f) for f in files)
    assert matrix.versions == ["v1.9.11", "v1.28.3", "v1.30.2"]
    assert [c.source for c in matrix.columns] == [str(files[1]), str(files[0]), str(files[2])]
    # Rows sorted by area, then check id.
    assert [r.key for r in matrix.rows] == [
        "init/test_a",
        "init/test_b",
        "native_sidecars/test_sidecar_starts_first",
    ]
    sidecar = matrix.rows[2]
    assert sidecar.cells["v1.9.11"].verdict == "unsupported"
    assert sidecar.cells["v1.28.3"].verdict == "pass"
    assert "v1.30.2" not in sidecar.cells  # did not run there: no cell
    assert set(matrix.rows[0].cells) == {"v1.30.2"}


def test_merge_later_run_of_same_version_wins(tmp_path: Path) -> None:
    early = write(
        tmp_path,
        "early.json",
        run("v1.30.2", "2025-03-01T10:00:00Z", checks=[check(verdict="fail", reason="flake")]),
    )
    late = write(
        tmp_path,
        "late.json",
        run("v1.30.2", "2025-03-02T10:00:00+00:00", checks=[check(duration=2.5)]),
    )
    # Given in either order, the run that started later provides the column.
    for order in ([early, late], [late, early]):
        matrix = merge(load_run(f) for f in order)
        assert matrix.versions == ["v1.30.2"]
        column = matrix.columns[0]
        assert column.source == str(late)
        assert column.superseded == [str(early)]
        cell = matrix.rows[0].cells["v1.30.2"]
        assert (cell.verdict, cell.duration_s, cell.reason) == ("pass", 2.5, "")


def test_merge_same_start_time_keeps_the_last_file_given() -> None:
    first = run(run_id="first", checks=[check(verdict="fail")])
    second = run(run_id="second", checks=[check(verdict="pass")])
    assert merge([first, second]).columns[0].run_id == "second"
    assert merge([second, first]).columns[0].run_id == "first"


def test_merge_keeps_evidence_and_newest_title() -> None:
    old = run("v1.28.0", checks=[check(title="Old title", timelines=[timeline()])])
    new = run("v1.31.0", checks=[check(title="New title", dumps=["d/1.txt"])])
    matrix = merge([new, old])
    row = matrix.rows[0]
    assert row.title == "New title"
    assert row.cells["v1.28.0"].timelines == [timeline()]
    assert row.cells["v1.31.0"].dumps == ["d/1.txt"]
    data = json.loads(matrix.to_json())
    assert data["versions"] == ["v1.28.0", "v1.31.0"]
    assert data["rows"][0]["cells"]["v1.31.0"]["dumps"] == ["d/1.txt"]


# --- the recording plugin, in a real pytest session ------------------------------------------

CONFTEST = """
import pytest
from podlife.pytest_results import record_cluster

@pytest.fixture(scope="session")
def cluster(request):
    record_cluster(request.config, "kind", "v1.30.2", "podlife-130")
    return "cluster"

@pytest.fixture
def broken_setup():
    raise RuntimeError("namespace not created")

@pytest.fixture
def broken_teardown():
    yield
    raise RuntimeError("namespace not deleted")
"""

SUITE = """
import pytest

TIMELINE = {timeline!r}

def test_sidecar_first(cluster, request):
    '''Sidecars start before the app container.

    More detail that is not part of the title.
    '''
    request.node.user_properties.append(("podlife_timeline", TIMELINE))
    request.node.user_properties.append(("podlife_timeline", {{"pod": 1}}))

def test_sidecar_outlives(cluster, request):
    request.node.user_properties.append(("podlife_dump", "dumps/outlives.txt"))
    assert 1 == 2, "sidecar outlived main"

def test_feature_missing(cluster):
    pytest.skip("unsupported: SidecarContainers feature gate is off")

def test_plain_skip(cluster):
    pytest.skip("needs two nodes")

def test_setup_error(cluster, broken_setup):
    pass

def test_teardown_error(cluster, broken_teardown):
    pass

@pytest.mark.parametrize("n", [1, 2])
def test_param(cluster, n):
    pass
"""


def _pythonpath() -> str:
    """The child pytest imports podlife from this checkout, installed or not."""
    return os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)


def _run_suite(tmp_path: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "suites").mkdir()
    (tmp_path / "suites/test_native_sidecars.py").write_text(
        textwrap.dedent(SUITE.format(timeline=timeline()))
    )
    env = {**os.environ, "PYTHONPATH": _pythonpath()}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "podlife.pytest_results",
            "-p",
            "no:cacheprovider",
            "--podlife-results",
            "out/results.json",
            "suites",
            *extra,
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    path = tmp_path / "out/results.json"
    assert path.exists(), proc.stdout + proc.stderr
    return proc, {c.check_id: c for c in load_run(path).checks} | {"_run": load_run(path)}


def _assert_recorded(proc: subprocess.CompletedProcess[str], checks: dict) -> None:
    run_result = checks.pop("_run")
    assert (run_result.provider, run_result.kubernetes_version, run_result.cluster) == (
        "kind",
        "v1.30.2",
        "podlife-130",
    )
    verdicts = {k: c.verdict for k, c in checks.items()}
    assert verdicts == {
        "test_sidecar_first": "pass",
        "test_sidecar_outlives": "fail",
        "test_feature_missing": "unsupported",
        "test_plain_skip": "skipped",
        "test_setup_error": "fail",
        "test_teardown_error": "fail",
        "test_param[1]": "pass",
        "test_param[2]": "pass",
    }
    first = checks["test_sidecar_first"]
    assert first.title == "Sidecars start before the app container."
    assert first.area == "native_sidecars"
    assert first.nodeid == "suites/test_native_sidecars.py::test_sidecar_first"
    assert first.timelines == [timeline()]  # the malformed one was dropped, with a warning
    assert "timeline dropped" in proc.stdout
    outlives = checks["test_sidecar_outlives"]
    assert "sidecar outlived main" in outlives.reason
    assert outlives.dumps == ["dumps/outlives.txt"]
    assert checks["test_feature_missing"].reason == "SidecarContainers feature gate is off"
    assert checks["test_plain_skip"].reason == "needs two nodes"
    assert checks["test_setup_error"].reason.startswith("setup: ")
    assert "namespace not created" in checks["test_setup_error"].reason
    assert checks["test_teardown_error"].reason.startswith("teardown: ")
    assert all(c.duration_s >= 0 for c in checks.values())


def test_plugin_records_verdicts_and_evidence(tmp_path: Path) -> None:
    proc, checks = _run_suite(tmp_path)
    assert proc.returncode == 1, proc.stdout
    _assert_recorded(proc, checks)


def test_plugin_records_on_the_xdist_controller(tmp_path: Path) -> None:
    pytest.importorskip("xdist")
    proc, checks = _run_suite(tmp_path, "-n", "2")
    assert proc.returncode == 1, proc.stdout
    assert "created: 2/2 workers" in proc.stdout or "2 workers" in proc.stdout
    _assert_recorded(proc, checks)


def test_plugin_without_option_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "test_x.py").write_text("def test_x():\n    pass\n")
    env = {**os.environ, "PYTHONPATH": _pythonpath()}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "podlife.pytest_results", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".json") == []
