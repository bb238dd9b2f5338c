"""Reports from constructed results: JUnit, matrix.json, matrix.html structure, compare, CLI."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from podlife.core.deviation import Deviation
from podlife.core.errors import PodlifeError
from podlife.core.timeline import Timeline
from podlife.results.matrix import merge
from podlife.results.model import CheckResult, RunResult
from podlife.results.report.cli import compare_files, render_reports
from podlife.results.report.compare import compare, format_text
from podlife.results.report.html import build_timeline, format_duration, render_html
from podlife.results.report.junit import build_junit
from podlife.results.results_file import write_run
from tests.builders import check

START = "2025-03-01T10:00:00Z"


def timeline() -> Timeline:
    return Timeline.from_dict(_TIMELINE)


_TIMELINE: dict[str, Any] = {
    "pod": "web-0",
    "events": [
        {"t": 99.0, "container": "", "event": "Scheduled", "detail": "node kind-worker"},
        {"t": 100.0, "container": "init-db", "event": "Started", "detail": ""},
        {"t": 101.2, "container": "proxy", "event": "Started", "detail": ""},
        {"t": 102.0, "container": "app", "event": "Started", "detail": "<b>hi</b>"},
        {"t": 109.0, "container": "app", "event": "Terminated", "detail": "exit 0"},
    ],
    "containers": [
        {
            "name": "init-db",
            "kind": "init",
            "started": 100.0,
            "finished": 101.0,
            "exit_code": 0,
            "restarts": 0,
        },
        {
            "name": "proxy",
            "kind": "sidecar",
            "started": 101.2,
            "finished": None,
            "exit_code": None,
            "restarts": 2,
        },
        {
            "name": "app",
            "kind": "app",
            "started": 102.0,
            "finished": 109.0,
            "exit_code": 0,
            "restarts": 0,
        },
        {
            "name": "late",
            "kind": "app",
            "started": None,
            "finished": None,
            "exit_code": None,
            "restarts": 0,
        },
    ],
}


def run(version: str, checks: list[CheckResult], started: str = START) -> RunResult:
    return RunResult(
        run_id=f"run-{version}",
        provider="kind",
        cluster=f"podlife-{version}",
        kubernetes_version=version,
        started_at=started,
        finished_at="2025-03-01T11:00:00Z",
        host="ci-1",
        checks=checks,
    )


def standard_checks(fail_reason: str = "sidecar still running after main exited") -> list:
    return [
        check("test_sidecar_first", timelines=[timeline()]),
        check(
            "test_sidecar_stops",
            "fail",
            12.0,
            reason=fail_reason,
            dumps=["dumps/test_sidecar_stops/pod.yaml", "dumps/test_sidecar_stops/events.txt"],
            timelines=[timeline()],
        ),
        check("test_feature_gate", "unsupported", 0.1, reason="SidecarContainers is off"),
        check("test_two_nodes", "skipped", 0.0, reason="needs two nodes", area="init_order"),
    ]


# --- JUnit ------------------------------------------------------------------------------------


def test_junit_one_testcase_per_check_with_verdicts() -> None:
    matrix = merge([run("v1.30.2", standard_checks())])
    root = build_junit(matrix, matrix.columns[0]).getroot()
    assert root.tag == "testsuite"
    assert root.attrib["name"] == "podlife v1.30.2"
    counts = {k: root.attrib[k] for k in ("tests", "failures", "errors", "skipped")}
    assert counts == {"tests": "4", "failures": "1", "errors": "0", "skipped": "2"}
    props = {p.attrib["name"]: p.attrib["value"] for p in root.iter("property")}
    assert props["kubernetes_version"] == "v1.30.2"
    assert props["provider"] == "kind"
    cases = {c.attrib["name"]: c for c in root.iter("testcase")}
    assert set(cases) == {
        "test_sidecar_first",
        "test_sidecar_stops",
        "test_feature_gate",
        "test_two_nodes",
    }
    assert cases["test_sidecar_first"].attrib["classname"] == "suites.test_native_sidecars"
    assert list(cases["test_sidecar_first"]) == []
    failure = cases["test_sidecar_stops"].find("failure")
    assert failure is not None
    assert failure.attrib["message"] == "sidecar still running after main exited"
    assert "dump: dumps/test_sidecar_stops/pod.yaml" in (failure.text or "")
    assert cases["test_sidecar_stops"].attrib["time"] == "12.000"
    unsupported = cases["test_feature_gate"].find("skipped")
    assert unsupported is not None
    assert unsupported.attrib["message"] == "unsupported: SidecarContainers is off"
    skipped = cases["test_two_nodes"].find("skipped")
    assert skipped is not None
    assert skipped.attrib["message"] == "needs two nodes"


def test_junit_files_per_version_only_hold_that_versions_checks(tmp_path: Path) -> None:
    files = [
        _write(tmp_path, "a.json", run("v1.28.0", [check("test_old")])),
        _write(tmp_path, "b.json", run("v1.31.1", standard_checks())),
    ]
    render_reports(files, tmp_path / "out")
    old = ET.parse(tmp_path / "out/junit-v1.28.0.xml").getroot()
    new = ET.parse(tmp_path / "out/junit-v1.31.1.xml").getroot()
    assert [c.attrib["name"] for c in old.iter("testcase")] == ["test_old"]
    assert len(list(new.iter("testcase"))) == 4
    assert (tmp_path / "out/junit-v1.28.0.xml").read_text().startswith("<?xml")


# --- matrix.json and matrix.html --------------------------------------------------------------


def _write(tmp_path: Path, name: str, result: RunResult) -> Path:
    path = tmp_path / name
    write_run(result, path)
    return path


def test_render_reports_writes_all_outputs(tmp_path: Path) -> None:
    files = [
        _write(tmp_path, "runs/v1.30.json", run("v1.30.2", standard_checks())),
        _write(tmp_path, "runs/v1.9.json", run("v1.9.11", [check("test_sidecar_first")])),
    ]
    out = tmp_path / "report"
    html = render_reports(files, out)
    assert html == out / "matrix.html"
    assert sorted(p.name for p in out.iterdir()) == [
        "junit-v1.30.2.xml",
        "junit-v1.9.11.xml",
        "matrix.html",
        "matrix.json",
    ]
    data = json.loads((out / "matrix.json").read_text())
    assert data["kind"] == "podlife-matrix"
    assert data["versions"] == ["v1.9.11", "v1.30.2"]
    assert [c["source"] for c in data["columns"]] == [str(files[1]), str(files[0])]
    assert [(r["area"], r["check_id"]) for r in data["rows"]][:1] == [
        ("init_order", "test_two_nodes")
    ]


def test_render_reports_prints_a_summary_when_given_a_console(tmp_path: Path) -> None:
    files = [_write(tmp_path, "r.json", run("v1.30.2", standard_checks()))]
    buffer = io.StringIO()
    render_reports(files, tmp_path / "out", console=Console(file=buffer, width=160))
    text = buffer.getvalue()
    assert "v1.30.2" in text
    assert "matrix.html" in text


def test_html_has_cells_evidence_and_nothing_external(tmp_path: Path) -> None:
    results = _write(tmp_path, "runs/r.json", run("v1.30.2", standard_checks("<script>x</script>")))
    html = render_reports([results], tmp_path / "out").read_text()
    assert html.count('<td class="cell v-') == 4
    assert 'data-key="test_sidecar_stops/v1.30.2"' in html
    assert html.count("<template id=") == 4
    assert html.count('<svg class="timeline"') == 2
    for kind in ("init", "sidecar", "app"):
        assert f"bar bar-{kind}" in html
    assert "open-end" in html  # the sidecar had not finished
    # Reasons and details are escaped, never interpreted.
    assert "<script>x</script>" not in html
    assert "&lt;b&gt;hi&lt;/b&gt;" in html
    # Self-contained: no external scripts, styles, fonts or images.
    assert not re.search(r"<(link|img|iframe)\b|\bsrc=|@import|url\(", html)
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", html)
    # Dumps are linked relative to the report, from the run's own directory.
    assert 'href="../runs/dumps/test_sidecar_stops/pod.yaml"' in html


def test_html_groups_by_pattern_then_area_and_shows_dump_errors() -> None:
    checks = [
        check("test_plain", area="api_acceptance"),
        check("test_b", pattern="native-sidecar", area="native_sidecars"),
        check("test_a", pattern="native-sidecar", area="init_containers"),
        check("test_j", "fail", pattern="job-sidecar", area="jobs",
              dump_errors=["PermissionError: <evidence>"]),
    ]
    html = render_html(merge([run("v1.30.2", checks)]), Path("."))
    headings = re.findall(r'<tr class="(pattern|area)"[^>]*><th[^>]*>([^<]+)</th>', html)
    assert headings == [
        ("pattern", "pattern: job-sidecar"),
        ("area", "jobs"),
        ("pattern", "pattern: native-sidecar"),
        ("area", "init_containers"),
        ("area", "native_sidecars"),
        ("pattern", "checks without a pattern"),
        ("area", "api_acceptance"),
    ]
    assert "Saving the evidence failed" in html
    assert "PermissionError: &lt;evidence&gt;" in html
    assert "<dt>pattern</dt><dd>job-sidecar</dd>" in html


def test_html_without_patterns_has_no_pattern_headings() -> None:
    html = render_html(merge([run("v1.30.2", standard_checks())]), Path("."))
    assert '<tr class="pattern"' not in html
    assert html.count('<tr class="area"') == 2


def test_junit_lists_dump_errors() -> None:
    failing = check("test_x", "fail", reason="boom", dump_errors=["disk full"])
    matrix = merge([run("v1.30.2", [failing])])
    failure = build_junit(matrix, matrix.columns[0]).getroot().find("testcase/failure")
    assert failure is not None
    assert "dump failed: disk full" in (failure.text or "")


def test_junit_reports_an_error_verdict_as_an_error() -> None:
    matrix = merge([run("v1.30.2", [check("test_x", "error", reason="403 Forbidden\nmore")])])
    root = build_junit(matrix, matrix.columns[0]).getroot()
    assert root.attrib["errors"] == "1" and root.attrib["failures"] == "0"
    error = root.find("testcase/error")
    assert error is not None and error.attrib["message"] == "403 Forbidden"


def test_html_marks_missing_cells() -> None:
    matrix = merge([run("v1.28.0", [check("test_a")]), run("v1.29.0", [check("test_b")])])
    html = render_html(matrix, Path("."))
    assert html.count('class="cell missing"') == 2


def test_timeline_geometry_shows_ordering() -> None:
    view = build_timeline(timeline())
    lanes = {lane.name: lane for lane in view.lanes}
    # Events not tied to a container get their own lane on top.
    assert view.lanes[0].name == "(pod)"
    assert [t.event for t in view.lanes[0].ticks] == ["Scheduled"]
    init, proxy, app = lanes["init-db"].bar, lanes["proxy"].bar, lanes["app"].bar
    assert init and proxy and app
    assert init.x + init.width <= proxy.x < app.x
    assert proxy.open_end and not app.open_end
    assert proxy.x + proxy.width == pytest.approx(view.plot_right)  # runs to the end
    assert lanes["late"].bar is None
    assert lanes["late"].note == "never started"
    assert lanes["proxy"].note == "↻2"
    assert lanes["app"].note == "exit 0"
    ys = [lane.y for lane in view.lanes]
    assert ys == sorted(ys)
    assert view.axis[0].label == "0s"
    assert view.axis[0].x == view.plot_left
    tick = lanes["app"].ticks[0]
    assert tick.tooltip == "+3.00s app: Started — <b>hi</b>"


def test_timeline_without_times_does_not_divide_by_zero() -> None:
    view = build_timeline(Timeline("p"))
    assert view.lanes == []
    assert view.axis[0].label == "0s"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.423, "0.42s"), (12.34, "12.3s"), (125, "2m05s"), (3725, "1h02m")],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


# --- compare ----------------------------------------------------------------------------------


def _pair() -> tuple[RunResult, RunResult]:
    before = run(
        "v1.30.2",
        [
            check("test_ok"),
            check("test_breaks"),
            check("test_fixed", "fail"),
            check("test_gone"),
            check("test_slower", duration=10.0),
            check("test_jitter", duration=0.2),
            check("test_now_skipped", duration=3.0),
        ],
    )
    after = run(
        "v1.31.0",
        [
            check("test_ok", duration=5.4),
            check("test_breaks", "fail", reason="init container restarted"),
            check("test_fixed"),
            check("test_new"),
            check("test_slower", duration=16.0),
            check("test_jitter", duration=0.9),
            check("test_now_skipped", "unsupported", 0.0),
        ],
    )
    return before, after


def test_compare_lists_changes() -> None:
    result = compare(*_pair())
    changes = {c.check.split("/")[1]: (c.before, c.after) for c in result.verdict_changes}
    assert changes == {
        "test_breaks": ("pass", "fail"),
        "test_fixed": ("fail", "pass"),
        "test_now_skipped": ("pass", "unsupported"),
    }
    assert [c.check for c in result.regressions] == [
        "native_sidecars/test_breaks", "native_sidecars/test_now_skipped"]
    assert result.added == ["native_sidecars/test_new"]
    assert result.removed == ["native_sidecars/test_gone"]
    # 10s -> 16s is +60%; 0.2s -> 0.9s is big relatively but under a second; 5.0 -> 5.4 small.
    assert [(d.check, d.change) for d in result.duration_changes] == [
        ("native_sidecars/test_slower", pytest.approx(0.6))
    ]


def test_compare_duration_threshold_is_strictly_beyond_half() -> None:
    before = run("v1.30.2", [check("test_a", duration=10.0), check("test_b", duration=10.0)])
    after = run("v1.30.2", [check("test_a", duration=15.0), check("test_b", duration=4.0)])
    result = compare(before, after)
    assert [d.check for d in result.duration_changes] == ["native_sidecars/test_b"]


def test_compare_text_and_json() -> None:
    result = compare(*_pair())
    text = format_text(result)
    assert "Verdict changes" in text
    assert "test_breaks" in text
    assert "New checks" in text and "test_new" in text
    assert "Removed checks" in text and "test_gone" in text
    assert "+60%" in text
    assert "2 regressions (pass -> anything else)" in text
    data = json.loads(result.to_json())
    assert data["regressions"] == 2
    assert data["before"]["kubernetes_version"] == "v1.30.2"
    assert data["added"] == ["native_sidecars/test_new"]
    breaks = next(c for c in data["verdict_changes"] if c["check"].endswith("test_breaks"))
    assert breaks["regression"] is True
    assert breaks["reason"] == "init container restarted"
    assert data["duration_changes"][0]["change"] == 0.6


def test_compare_identical_runs() -> None:
    before, _ = _pair()
    result = compare(before, before)
    assert result.unchanged
    assert "No changes." in format_text(result)


def test_compare_files_exit_codes(tmp_path: Path) -> None:
    before, after = _pair()
    b = _write(tmp_path, "before.json", before)
    a = _write(tmp_path, "after.json", after)
    quiet = Console(file=io.StringIO())
    assert compare_files(b, a, console=quiet, json_out=tmp_path / "cmp/diff.json") == 1
    assert json.loads((tmp_path / "cmp/diff.json").read_text())["regressions"] == 2
    assert compare_files(b, b, console=quiet) == 0
    # Pass -> unsupported is a regression unless allowed; unsupported -> pass and added or
    # removed checks are changes, not regressions.
    off = _write(tmp_path, "off.json", run("v1.31.0", [check("test_ok", "unsupported")]))
    on = _write(tmp_path, "on.json", run("v1.30.2", [check("test_ok"), check("test_x")]))
    assert compare_files(on, off, console=quiet) == 1
    assert compare_files(on, off, console=quiet, allow=["pass-to-unsupported"]) == 0
    assert compare_files(off, on, console=quiet) == 0


# --- bad input --------------------------------------------------------------------------------


def test_cli_bad_input_is_a_podlife_error(tmp_path: Path) -> None:
    good = _write(tmp_path, "good.json", run("v1.30.2", [check("test_a")]))
    not_json = tmp_path / "notes.txt"
    not_json.write_text("this is not json")
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"schema_version": 1, "run_id": "x"}))
    out = tmp_path / "out"
    cases = [
        ([tmp_path / "missing.json"], "missing.json does not exist"),
        ([good, not_json], "notes.txt is not JSON"),
        ([wrong], "wrong.json: field 'provider' is missing"),
        ([], "no results files were given"),
    ]
    for files, cause in cases:
        with pytest.raises(PodlifeError) as info:
            render_reports(files, out)
        assert cause in str(info.value)
        assert "Fix:" in str(info.value)
    with pytest.raises(PodlifeError, match=r"wrong\.json"):
        compare_files(good, wrong, console=Console(file=io.StringIO()))
    assert not out.exists()  # nothing half-written


def test_html_header_shows_host_deviations_and_marks_dependent_verdicts() -> None:
    """Each deviation in the header with its versions; a verdict that could depend on one
    is marked on its cell only; not known (kubeconfig) and none are said apart."""
    oom = Deviation("no-cap-sys-resource", "OOM scores restricted", "CapBnd lacks bit 24",
                    ("native_sidecars/test_sidecar_first",))
    local = replace(run("v1.30.2", standard_checks()), provider="local", host_deviations=[oom])
    existing = replace(run("v1.31.0", standard_checks()), provider="kubeconfig")
    clean = replace(run("v1.32.0", standard_checks()), provider="local", host_deviations=[])
    html = render_html(merge([local, existing, clean]), Path("."))
    header = html.split("</header>")[0]
    assert '<li data-deviation="no-cap-sys-resource">' in header
    assert "(v1.30.2): OOM scores restricted" in header
    assert "1 verdict could depend on it" in header
    assert "Not known on v1.31.0: not recorded for this kubeconfig cluster" in header
    assert "None detected on v1.32.0." in header
    marked = re.findall(r'data-key="([^"]+)"[^>]*data-deviations="([^"]+)"', html)
    assert marked == [("test_sidecar_first/v1.30.2", "no-cap-sys-resource")]
    assert html.count('class="dev-mark" title="could depend on host deviation: '
                      'no-cap-sys-resource (OOM scores restricted)"') == 1
    versions = re.findall(r'<td class="deviations-of">([^<]*)</td>', html)
    assert versions == ["no-cap-sys-resource", "not known", "none"]
