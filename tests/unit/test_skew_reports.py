"""Mixed-version runs in results files, the matrix and its hazards section, compare over
three runs, and the chained upgrade's report: from made-up results, no cluster."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from podlife.check.sidecar_probe import skew_note
from podlife.cli import main
from podlife.results.hazards import matrix_hazards
from podlife.results.matrix import Matrix, merge
from podlife.results.model import CheckResult, RunResult
from podlife.results.report.html import render_html
from podlife.results.report.upgrade import format_text
from podlife.results.report.upgrade import render_html as render_upgrade
from podlife.results.results_file import load_run, write_run
from podlife.results.upgrade_records import ChainReport, Hop, Survival, Window

SIDECAR_REASON = ("the kubelet on node n (v1.28.15) rejects pods with restartPolicy: Always "
                  "init containers")


def _run(api: str, kubelet: str = "", started: str = "10", **verdicts: str) -> RunResult:
    checks = [CheckResult(nodeid=f"suites/test_native_sidecars.py::{name}", check_id=name,
                          area="native_sidecars", title=name, verdict=verdict, duration_s=1.0,
                          reason=SIDECAR_REASON if verdict == "fail" else "")
              for name, verdict in verdicts.items()]
    return RunResult(run_id=f"{api}-{kubelet}", provider="local", cluster="c",
                     kubernetes_version=api, kubelet_version=kubelet,
                     started_at=f"2025-03-01T{started}:00:00+00:00",
                     finished_at=f"2025-03-01T{started}:30:00+00:00", host="h", checks=checks)


def test_results_file_keeps_kubelet_version_and_old_files_load(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    write_run(_run("v1.29.15", "v1.28.15", test_a="pass"), path)
    loaded = load_run(path)
    assert loaded.kubelet_version == "v1.28.15"
    assert loaded.column == "v1.29.15/kubelet-v1.28.15"
    data = json.loads(path.read_text())
    del data["kubelet_version"]  # written before the field existed
    path.write_text(json.dumps(data))
    assert load_run(path).kubelet_version == ""
    assert load_run(path).column == "v1.29.15"


def test_skew_run_is_its_own_column_before_its_api_server() -> None:
    matrix = merge([_run("v1.29.15", "v1.29.15", "12", test_a="pass"),
                    _run("v1.28.15", "v1.28.15", "10", test_a="unsupported"),
                    _run("v1.29.15", "v1.28.15", "11", test_a="fail")])
    assert matrix.versions == ["v1.28.15", "v1.29.15/kubelet-v1.28.15", "v1.29.15"]
    assert [c.skew for c in matrix.columns] == [False, True, False]
    again = Matrix.from_dict(json.loads(matrix.to_json()))
    assert again.columns[1].kubelet_version == "v1.28.15"


def test_hazards_are_failures_only_in_a_skew_column() -> None:
    matrix = merge([
        _run("v1.28.15", "v1.28.15", "10", test_a="unsupported", test_b="pass", test_c="fail"),
        _run("v1.29.15", "v1.28.15", "11", test_a="fail", test_b="pass", test_c="fail"),
        _run("v1.29.15", "", "12", test_a="pass", test_b="pass", test_c="fail"),
    ])
    cells = {v: {r.key: c for r, c in matrix.cells_of(v)} for v in matrix.versions}
    found = matrix_hazards(cells)
    # test_c fails everywhere: a plain failure, not a hazard of the skew window.
    assert [(h.column, h.check) for h in found] == [
        ("v1.29.15/kubelet-v1.28.15", "native_sidecars/test_a")]
    assert dict(found[0].elsewhere) == {"v1.28.15": "unsupported", "v1.29.15": "pass"}
    html = render_html(matrix, Path("."))
    section = html[html.index('id="hazards"'):html.index("</section>", html.index(
        'id="hazards"'))]
    assert "test_a" in section and "test_c" not in section
    assert "upgrade the kubelets (every node) before deploying" in section
    assert "#open=test_a/v1.29.15/kubelet-v1.28.15" in section.replace("%2F", "/")


def test_no_hazards_section_without_skew_columns() -> None:
    matrix = merge([_run("v1.29.15", "", test_a="fail"), _run("v1.30.14", "", test_a="pass")])
    assert 'id="hazards"' not in render_html(matrix, Path("."))


def _write(tmp_path: Path, name: str, run: RunResult) -> str:
    write_run(run, tmp_path / name)
    return str(tmp_path / name)


def test_compare_three_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = [_write(tmp_path, "before.json", _run("v1.28.15", "", "10", test_a="pass")),
             _write(tmp_path, "cp.json", _run("v1.29.15", "v1.28.15", "11", test_a="fail")),
             _write(tmp_path, "after.json", _run("v1.29.15", "", "12", test_a="pass"))]
    assert main(["compare", *files, "--output", "json"]) == 1  # the middle one regressed
    data = json.loads(capsys.readouterr().out)
    pairs = [(c["before"]["kubernetes_version"], c["after"]["kubernetes_version"],
              c["regressions"]) for c in data["comparisons"]]
    assert pairs == [("v1.28.15", "v1.29.15", 1), ("v1.29.15", "v1.29.15", 0),
                     ("v1.28.15", "v1.29.15", 0)]
    assert main(["compare", files[0], files[2]]) == 0  # two files: as before
    assert main(["compare", *files]) == 1
    assert "first -> last" in capsys.readouterr().out


def test_skew_note_names_the_old_kubelet() -> None:
    assert "older than the feature" in skew_note("v1.28.15", "v1.29.15")
    assert "gate is off" in skew_note("v1.30.14", "v1.31.0")
    assert skew_note("v1.31.0", "v1.31.0") == ""
    assert skew_note("v1.28.15", "") == ""


def _chain() -> ChainReport:
    window = Window("v1.29.15/kubelet-v1.28.15", "/r/skew.json", 1, 40.0,
                    {"pass": 3, "fail": 2}, {"verdict_changes": [
                        {"check": "native_sidecars/test_a", "before": "unsupported",
                         "after": "fail", "reason": SIDECAR_REASON, "regression": False}]})
    after = Window("v1.29.15", "/r/after.json", 0, 30.0, {"pass": 5}, {})
    hop = Hop("v1.28.15", "v1.29.15", "in-flight-1", 12.5, 9.1, 120.0, window, after,
              node_survival=Survival(problems=["in-flight-1/app was restarted"],
                                     causes=["x: Container app definition changed, will be "
                                             "restarted"]),
              native_sidecars={"skew": f"fail: {SIDECAR_REASON}", "after": "supported"},
              hazards=[{"column": window.column, "check": "native_sidecars/test_a",
                        "title": "test_a", "verdict": "fail", "reason": SIDECAR_REASON,
                        "elsewhere": [["v1.29.15", "pass"]]}])
    return ChainReport("v1.28.15", "v1.29.15", False, ["-k", "sidecar"],
                       baseline=Window("v1.28.15", "/r/b.json", 0, 50.0, {"pass": 3}),
                       hops=[hop], total_s=300.0)


def test_chain_report_text_html_json() -> None:
    report = _chain()
    assert not report.survived and not report.ok and len(report.hazards) == 1
    text = format_text(report)
    for expected in ("hop v1.28.15 -> v1.29.15: 120s (control plane 12.5s, node 9.1s",
                     "skew window v1.29.15/kubelet-v1.28.15", "SURVIVAL PROBLEMS",
                     "definition changed", "HAZARDS (fail in the skew window only): 1",
                     "native_sidecars/test_a: unsupported -> fail", "DID NOT survive"):
        assert expected in text, expected
    html = render_upgrade(report)
    assert 'id="hop-times"' in html and "12.5 s" in html and "definition changed" in html
    assert "Upgrade hazards" in html and "-k sidecar" in html
    data = json.loads(json.dumps(report.to_dict()))
    assert data["hazards"] == 1 and data["survived"] is False
    assert data["hops"][0]["control_plane_s"] == 12.5


def test_allowed_hazards_do_not_fail_a_chain_whose_workloads_survived() -> None:
    report = _chain()
    report.hops[0].node_survival.problems.clear()
    assert report.survived and not report.ok  # the hazard alone fails it
    report.hazards_allowed = True
    assert report.ok
    assert format_text(report).startswith(
        "podlife upgrade v1.28.15 -> v1.29.15: 1 hop(s), 300s in all: OK (1 hazards allowed")
    assert "HAZARDS (fail in the skew window only): 1" in format_text(report)
