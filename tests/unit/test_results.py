"""The results model and file: round trips, strict validation, schema versions, the merge."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from podlife.core.deviation import Deviation
from podlife.core.errors import PodlifeError
from podlife.core.schema import ResultsError, Where
from podlife.core.timeline import ContainerSpan, Event, Timeline
from podlife.core.versions import normalize_version, version_sort_key
from podlife.results.matrix import Column, Matrix, Row, merge
from podlife.results.model import SCHEMA_VERSION, CheckResult, RunResult
from podlife.results.results_file import load_run, parse_run, run_to_json, write_run
from tests.builders import check, run


def timeline_dict(pod: str = "pod-a") -> dict[str, Any]:
    return {
        "pod": pod,
        "events": [
            {"t": 10.0, "container": "init-db", "event": "Started", "detail": "", "ns": 0},
            {
                "t": 12.5,
                "container": "app",
                "event": "Started",
                "detail": "image pulled",
                "ns": 12_500_000_001,
            },
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


def timeline(pod: str = "pod-a") -> Timeline:
    return Timeline.from_dict(timeline_dict(pod))


def write(tmp_path: Path, name: str, result: RunResult) -> Path:
    path = tmp_path / name
    write_run(result, path)
    return path


# --- schema ---------------------------------------------------------------------------------


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    original = run(
        checks=[
            check(timelines=[timeline("a"), timeline("b")]),
            check(
                "test_dies",
                verdict="fail",
                reason="exit 137",
                dumps=["dumps/x.yaml"],
                pattern="native-sidecar",
                dump_errors=["PermissionError: evidence/"],
            ),
        ]
    )
    path = write(tmp_path, "r.json", original)
    loaded = load_run(path)
    assert loaded == original
    assert loaded.to_dict() == original.to_dict()  # also what == ignores (Event.ns)
    assert loaded.source == str(path)
    assert isinstance(loaded.checks[0].timelines[0], Timeline)
    assert loaded.checks[0].timelines[0].events[1].ns == 12_500_000_001
    data = json.loads(path.read_text())
    assert next(iter(data)) == "schema_version"
    assert data["schema_version"] == SCHEMA_VERSION == 4
    assert data["checks"][1]["pattern"] == "native-sidecar"
    assert data["checks"][1]["dump_errors"] == ["PermissionError: evidence/"]
    assert "source" not in data


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (Event, Event(1.5, "app", "exiting", "0", ns=1_500_000_007)),
        (ContainerSpan, ContainerSpan("proxy", "sidecar", 1.0, None, None, 3)),
        (Timeline, timeline()),
        (CheckResult, check(timelines=[timeline()], pattern="p", dump_errors=["e"])),
        (RunResult, run(checks=[check(timelines=[timeline()])])),
        (Column, Column("v1.30.2", None, "r", "kind", "c", "h", "2025-01-01T00:00:00Z",
                        "2025-01-01T00:00:01Z", ["old.json"])),
        (Row, Row("area", "test_x", "Title", "native-sidecar", {"v1.30.2": check()})),
        (Matrix, merge([run(checks=[check(pattern="p")]), run("v1.31.0")])),
    ],
)
def test_every_type_round_trips_through_its_dict(kind: Any, value: Any) -> None:
    data = json.loads(json.dumps(value.to_dict()))
    again = kind.from_dict(data)
    assert again == value
    assert again.to_dict() == value.to_dict()


def test_version_1_file_still_loads(tmp_path: Path) -> None:
    data = json.loads(run_to_json(run(checks=[check(timelines=[timeline()])])))
    data["schema_version"] = 1
    del data["host_deviations"]
    for item in data["checks"]:
        del item["pattern"], item["dump_errors"]
    # Version 1 tolerated extra keys inside timelines.
    data["checks"][0]["timelines"][0]["node"] = "worker-1"
    path = tmp_path / "v1.json"
    path.write_text(json.dumps(data))
    loaded = load_run(path)
    assert loaded.checks[0].pattern == ""
    assert loaded.checks[0].dump_errors == []
    assert loaded.checks[0].timelines == [timeline()]
    # Written again, it is a file of the current version.
    assert json.loads(run_to_json(loaded))["schema_version"] == 4
    assert loaded.host_deviations is None
    assert "pattern" in json.loads(run_to_json(loaded))["checks"][0]


def test_version_1_file_rejects_version_2_fields() -> None:
    data = run().to_dict() | {"schema_version": 1}
    del data["host_deviations"]
    with pytest.raises(ResultsError) as info:
        parse_run(json.dumps(data), "old.json")
    assert info.value.field == "checks[0].dump_errors"
    assert "is not part of schema version 1" in str(info.value)


def test_error_verdict_needs_version_3() -> None:
    """Version 3 added the verdict "error"; a version 2 file cannot hold it."""
    data = run(checks=[check(verdict="error", reason="403 Forbidden")]).to_dict()
    assert parse_run(json.dumps(data), "new.json").checks[0].verdict == "error"
    del data["host_deviations"]
    with pytest.raises(ResultsError) as info:
        parse_run(json.dumps(data | {"schema_version": 2}), "old.json")
    assert info.value.field == "checks[0].verdict"


def test_version_2_file_still_loads() -> None:
    data = run(checks=[check(verdict="unsupported")]).to_dict() | {"schema_version": 2}
    del data["host_deviations"]
    assert parse_run(json.dumps(data), "v2.json").checks[0].verdict == "unsupported"


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
        (lambda d: d.update(schema_version=5), "schema_version", "schema versions 1, 2, 3, 4"),
        (lambda d: d.update(schema_version=True), "schema_version",
         "schema versions 1, 2, 3, 4"),
        (lambda d: d["checks"][0].pop("pattern"), "checks[0].pattern", "is missing"),
        (lambda d: d["checks"][0].update(dump_errors="x"), "checks[0].dump_errors", "a list"),
        (
            lambda d: d["checks"][0]["timelines"][0].update(node="w"),
            "checks[0].timelines[0].node",
            "not part of schema version 4",
        ),
        (
            lambda d: d["checks"][0]["timelines"][0]["events"][1].update(ns=1.5),
            "checks[0].timelines[0].events[1].ns",
            "integer",
        ),
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
        parse_run(_bad(mutate), source="runs/v1.30.json")
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
        parse_run("{nope", source="r.json")


def test_top_level_must_be_an_object() -> None:
    with pytest.raises(ResultsError, match="must be an object, got a list"):
        parse_run("[]", source="r.json")


def test_timeline_errors_name_where() -> None:
    with pytest.raises(ResultsError) as info:
        Timeline.from_dict({"pod": 1, "events": [], "containers": []}, Where("timeline"))
    assert (info.value.source, info.value.field) == ("timeline", "pod")


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


def test_merge_groups_rows_by_pattern_then_area() -> None:
    checks_old = [
        check("test_z", area="api_acceptance"),
        check("test_b", area="native_sidecars", pattern="native-sidecar"),
        check("test_a", area="jobs", pattern="job-sidecar"),
        check("test_c", area="init_containers", pattern="native-sidecar"),
        check("test_y", area="init_containers"),
    ]
    # The newest version's pattern wins, as its title does; an empty one does not erase.
    checks_new = [
        check("test_y", area="init_containers", pattern="init-order"),
        check("test_b", area="native_sidecars"),
    ]
    matrix = merge([run("v1.28.0", checks=checks_old), run("v1.31.0", checks=checks_new)])
    assert [(r.pattern, r.key) for r in matrix.rows] == [
        ("init-order", "init_containers/test_y"),
        ("job-sidecar", "jobs/test_a"),
        ("native-sidecar", "init_containers/test_c"),
        ("native-sidecar", "native_sidecars/test_b"),
        ("", "api_acceptance/test_z"),
    ]
    groups = [
        (p, [(a, [r.check_id for r in rows]) for a, rows in areas])
        for p, areas in matrix.groups()
    ]
    assert groups == [
        ("init-order", [("init_containers", ["test_y"])]),
        ("job-sidecar", [("jobs", ["test_a"])]),
        ("native-sidecar", [("init_containers", ["test_c"]), ("native_sidecars", ["test_b"])]),
        ("", [("api_acceptance", ["test_z"])]),
    ]
    data = json.loads(matrix.to_json())
    assert data["schema_version"] == 4
    assert [(r["pattern"], r["area"]) for r in data["rows"]][-1] == ("", "api_acceptance")
    assert Matrix.from_dict(data) == matrix


# --- host deviations (schema version 4) -----------------------------------------------------

DEVIATION = Deviation("no-cap-sys-resource", "OOM scores restricted", "CapBnd lacks bit 24",
                      ("resource_scheduling/*",))


@pytest.mark.parametrize("deviations", [None, [], [DEVIATION]],
                         ids=["unknown", "none", "one"])
def test_host_deviations_round_trip(tmp_path: Path, deviations: Any) -> None:
    """Not known (null), none ([]) and some stay apart through the file."""
    original = run(host_deviations=deviations)
    loaded = load_run(write(tmp_path, "r.json", original))
    assert loaded.host_deviations == deviations
    assert loaded == original
    written = json.loads((tmp_path / "r.json").read_text())["host_deviations"]
    assert written == (None if deviations is None else [d.to_dict() for d in deviations])


def test_version_3_file_loads_with_deviations_unknown() -> None:
    data = run(checks=[check(verdict="error")]).to_dict() | {"schema_version": 3}
    del data["host_deviations"]
    loaded = parse_run(json.dumps(data), "v3.json")
    assert loaded.host_deviations is None
    assert loaded.checks[0].verdict == "error"
    with pytest.raises(ResultsError) as info:  # version 3 could not hold them
        parse_run(json.dumps(data | {"host_deviations": []}), "v3.json")
    assert info.value.field == "host_deviations"


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.pop("host_deviations"), "host_deviations"),
        (lambda d: d.update(host_deviations="none"), "host_deviations"),
        (lambda d: d["host_deviations"][0].pop("cause"), "host_deviations[0].cause"),
        (lambda d: d["host_deviations"][0].update(id=""), "host_deviations[0].id"),
        (lambda d: d["host_deviations"][0].update(checks=[1]), "host_deviations[0].checks[0]"),
    ],
)
def test_bad_host_deviations_name_the_field(mutate: Any, field: str) -> None:
    data = run(host_deviations=[DEVIATION]).to_dict()
    mutate(data)
    with pytest.raises(ResultsError) as info:
        parse_run(json.dumps(data), "bad.json")
    assert info.value.field == field


def test_matrix_column_carries_the_runs_deviations() -> None:
    matrix = merge([run("v1.30.2", host_deviations=[DEVIATION]), run("v1.31.0")])
    assert [c.host_deviations for c in matrix.columns] == [[DEVIATION], None]
    assert Matrix.from_dict(json.loads(matrix.to_json())) == matrix


def test_judged_pods_round_trip_and_older_files_load_without_them(tmp_path: Path) -> None:
    """The model's counts per check are optional fields: files without them load empty."""
    judged = check("test_a", judged_pods=["web"], unjudged_pods=["db: it runs no podlife "
                                                                 "script"])
    path = tmp_path / "results.json"
    write_run(run(checks=[judged]), path)
    loaded = load_run(path).checks[0]
    assert loaded.judged_pods == ["web"] and loaded.unjudged_pods[0].startswith("db:")
    data = json.loads(path.read_text())
    for entry in data["checks"]:
        del entry["judged_pods"], entry["unjudged_pods"]
    assert parse_run(json.dumps(data)).checks[0].judged_pods == []
    data["checks"][0]["judged_pods"] = "web"
    with pytest.raises(ResultsError, match="judged_pods"):
        parse_run(json.dumps(data))
