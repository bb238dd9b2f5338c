"""matrix.html in a real browser: it opens on its summary, folds the API-acceptance checks,
and a #open= link opens a cell's evidence (an ordering failure's expected order included).

Headless Chromium has no driver here, so the page's own script is exercised through the
URL fragment and the DOM that Chromium dumps after running it.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from podlife.core.timeline import Timeline
from podlife.results.model import CheckResult, RunResult
from podlife.results.report.cli import render_reports
from podlife.results.results_file import write_run

CHROMIUM = Path("/usr/bin/chromium")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _timeline(pod: str, offset: float) -> Timeline:
    t = 1_700_000_000.0 + offset

    def box(name: str, kind: str, start: float, end: float | None) -> dict[str, Any]:
        return {
            "name": name,
            "kind": kind,
            "started": t + start,
            "finished": None if end is None else t + end,
            "exit_code": None if end is None else 0,
            "restarts": 0,
        }

    return Timeline.from_dict({
        "pod": pod,
        "events": [
            {"t": t, "container": "", "event": "Scheduled", "detail": "kind-worker"},
            {"t": t + 1, "container": "init-config", "event": "Started", "detail": ""},
            {"t": t + 3, "container": "log-shipper", "event": "Started", "detail": ""},
            {"t": t + 5, "container": "web", "event": "Started", "detail": ""},
            {"t": t + 14, "container": "web", "event": "Terminated", "detail": "exit 0"},
        ],
        "containers": [
            box("init-config", "init", 1, 2.5),
            box("log-shipper", "sidecar", 3, 15),
            box("web", "app", 5, 14),
        ],
    })


def _check(check_id: str, verdict: str, area: str = "native_sidecars", **kw: Any) -> CheckResult:
    return CheckResult(
        nodeid=f"suites/test_{area}.py::{check_id}",
        check_id=check_id,
        area=area,
        title=f"{check_id.removeprefix('test_').replace('_', ' ').capitalize()}.",
        verdict=verdict,
        duration_s=kw.pop("duration", 8.5),
        **kw,
    )


def _run(version: str, checks: list[CheckResult]) -> RunResult:
    return RunResult(
        run_id=f"run-{version}",
        provider="kind",
        cluster=f"podlife-{version}",
        kubernetes_version=version,
        started_at="2025-03-01T10:00:00Z",
        finished_at="2025-03-01T10:20:00Z",
        host="ci-1",
        checks=checks,
    )


ORDER_FAILURE = (
    "podlife.check.ordering.OrderError: order log-shipper:Started -> web:Started -> "
    "init-config:Started not observed: web-0: expected web:Started before init-config:Started, "
    "but init-config:Started came 4.000000000s earlier\ntimeline of pod web-0:\n"
    "  +0.000000000s  init-config  Started"
)


def _accepted(name: str, verdict: str, **kw: Any) -> CheckResult:
    return _check(f"test_manifest_accepted_unchanged[native-sidecar-Pod-{name}]", verdict,
                  area="api_acceptance", pattern="native-sidecar", **kw)


@pytest.fixture
def report(tmp_path: Path) -> Path:
    runs = {
        "v1.28.15": [
            _check("test_sidecars_start_before_main", "unsupported", reason="no restartPolicy"),
            _check("test_sidecars_stop_after_main", "unsupported", reason="no restartPolicy"),
            _check("test_init_runs_in_order", "pass", area="init_containers"),
            _accepted("a", "unsupported", reason="no restartPolicy"),
            _accepted("b", "pass"),
        ],
        "v1.30.14": [
            _check(
                "test_sidecars_start_before_main",
                "pass",
                timelines=[_timeline("web-0", 0)],
                pattern="native-sidecar",
            ),
            _check(
                "test_sidecars_stop_after_main",
                "fail",
                duration=31.0,
                reason="log-shipper still running 30s after web exited",
                timelines=[_timeline("web-0", 0), _timeline("web-1", 2)],
                dumps=["dumps/stop_after_main/pod.yaml"],
                dump_errors=["OSError: no space left on device"],
                pattern="native-sidecar",
            ),
            _check("test_sidecar_order", "fail", reason=ORDER_FAILURE,
                   timelines=[_timeline("web-0", 0)], pattern="native-sidecar"),
            _check("test_init_runs_in_order", "pass", area="init_containers"),
            _accepted("a", "pass"),
            _accepted("b", "pass"),
        ],
        "v1.9.11": [_check("test_init_runs_in_order", "skipped", area="init_containers")],
    }
    files = []
    for version, checks in runs.items():
        path = tmp_path / "runs" / f"{version}.json"
        write_run(_run(version, checks), path)
        files.append(path)
    return render_reports(files, tmp_path / "out")


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser test needs Debian's Chromium "
            "(apt-get install chromium)"
        )
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    profile.mkdir()
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1400,1000",
        *args,
    ]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def _open_url(report: Path, key: str | None = None) -> str:
    url = report.resolve().as_uri()
    return f"{url}#open={key}" if key else url


def test_screenshot_renders(report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "matrix.png"
    _chromium(
        tmp_path,
        f"--screenshot={shot}",
        _open_url(report, "test_sidecars_stop_after_main/v1.30.14"),
    )
    data = shot.read_bytes()
    assert data.startswith(PNG_MAGIC)
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1400, 1000)
    # A blank page compresses to a few kilobytes; a rendered matrix does not.
    assert len(data) > 20_000


def test_dom_has_matrix_cells_in_version_order(report: Path, tmp_path: Path) -> None:
    dom = _chromium(tmp_path, "--dump-dom", _open_url(report)).stdout
    versions = re.findall(r'<th class="version" data-version="([^"]+)"', dom)
    assert versions == ["v1.9.11", "v1.28.15", "v1.30.14"]
    cells = re.findall(r'<td class="cell ([a-z-]+)" data-key="([^"]+)"', dom)
    assert len(cells) == 6 * 3
    verdicts = dict((key, cls) for cls, key in cells)
    assert verdicts["test_sidecars_stop_after_main/v1.30.14"] == "v-fail"
    assert verdicts["test_init_runs_in_order/v1.9.11"] == "v-skipped"
    assert verdicts["test_sidecars_stop_after_main/v1.9.11"] == "missing"
    # Checks of a pattern come first, under its heading; the rest after.
    headings = re.findall(r'<tr class="(pattern|area)"[^>]*><th[^>]*>([^<]+)</th>', dom)
    assert headings == [
        ("pattern", "pattern: native-sidecar"),
        ("area", "native_sidecars"),
        ("area", "api_acceptance"),
        ("pattern", "checks without a pattern"),
        ("area", "init_containers"),
    ]
    # Without a fragment the panel stays closed and empty.
    assert re.search(r'<aside id="panel" hidden=""', dom)
    assert '<div id="panel-body"></div>' in dom


def _panel(dom: str) -> str:
    match = re.search(r'<aside id="panel"([^>]*)>(.*?)</aside>', dom, re.S)
    assert match, "no evidence panel in the DOM"
    assert "hidden" not in match.group(1), "the evidence panel is still hidden"
    return match.group(2)


def test_fragment_opens_evidence_with_timelines(report: Path, tmp_path: Path) -> None:
    key = "test_sidecars_stop_after_main/v1.30.14"
    dom = _chromium(tmp_path, "--dump-dom", _open_url(report, key)).stdout
    panel = _panel(dom)
    assert f'data-key="{key}"' in panel
    assert "log-shipper still running 30s after web exited" in panel
    assert panel.count('<svg class="timeline"') == 2
    for kind in ("init", "sidecar", "app"):
        assert f'class="bar bar-{kind}' in panel
    assert panel.count('<g class="tick"') == 2 * 5
    assert "<title>+14.00s web: Terminated — exit 0</title>" in panel
    assert 'href="../runs/dumps/stop_after_main/pod.yaml"' in panel
    assert "OSError: no space left on device" in panel
    # The clicked cell is marked, so the panel and the matrix agree.
    assert re.search(rf'<td class="cell v-fail selected" data-key="{re.escape(key)}"', dom)


def test_fragment_for_a_cell_without_timeline(report: Path, tmp_path: Path) -> None:
    dom = _chromium(
        tmp_path, "--dump-dom", _open_url(report, "test_init_runs_in_order/v1.9.11")
    ).stdout
    panel = _panel(dom)
    assert "No timeline was recorded" in panel
    assert "<svg" not in panel


def _table(dom: str, ident: str) -> list[list[str]]:
    """The text of each row of one table (cells stripped of markup)."""
    match = re.search(rf'<table class="summary-table" id="{ident}">(.*?)</table>', dom, re.S)
    assert match, f"no table {ident}"
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", match.group(1), re.S)
    return [[re.sub(r"<[^>]+>", "", c).strip()
             for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)] for row in rows]


def test_page_opens_on_the_summary(report: Path, tmp_path: Path) -> None:
    """Counts per version, then failures, unsupported, per pattern and per area, before the
    matrix; groups with failures come first."""
    dom = _chromium(tmp_path, "--dump-dom", _open_url(report)).stdout
    assert dom.index('id="summary"') < dom.index('id="matrix"')
    versions = _table(dom, "summary-versions")
    assert versions[0][:6] == ["version", "pass", "fail", "unsupported", "skipped", "error"]
    assert [r[:6] for r in versions[1:]] == [["v1.9.11", "0", "0", "0", "1", "0"],
                                            ["v1.28.15", "2", "0", "3", "0", "0"],
                                            ["v1.30.14", "4", "2", "0", "0", "0"]]
    assert versions[1][6:8] == ["kind", "podlife-v1.9.11"]  # provider, cluster
    failing = re.search(r'id="summary-failing">(.*?)</div>', dom, re.S).group(1)
    assert failing.count("<li>") == 2
    assert 'href="#open=test_sidecar_order/v1.30.14"' in failing
    assert ("web-0: expected web:Started before init-config:Started, but init-config:Started "
            "came 4.000000000s earlier") in failing
    unsupported = re.search(r'id="summary-unsupported">(.*?)</div>', dom, re.S).group(1)
    assert "3 checks: no restartPolicy" in unsupported
    patterns = _table(dom, "summary-patterns")
    assert [r[0] for r in patterns[1:]] == ["native-sidecar", "(no pattern)"]
    assert patterns[1][1:] == ["—", "1 pass, 3 unsupported", "3 pass, 2 fail"]
    areas = _table(dom, "summary-areas")
    assert [r[0] for r in areas[1:]] == ["native_sidecars", "api_acceptance", "init_containers"]


def test_acceptance_checks_fold_into_one_row(report: Path, tmp_path: Path) -> None:
    """One row per pattern shows the worst verdict per version; its checks stay hidden."""
    dom = _chromium(tmp_path, "--dump-dom", _open_url(report)).stdout
    folds = re.findall(r'<tr class="fold" data-fold="([^"]+)">(.*?)</tr>', dom, re.S)
    assert len(folds) == 1
    fold_id, row = folds[0]
    assert re.findall(r'<td class="fold-cell ([a-z-]+)"', row) == [
        "missing", "v-unsupported", "v-pass"]
    members = re.findall(rf'<tr class="check member"[^>]*data-parent="{fold_id}"([^>]*)>', dom)
    assert len(members) == 2 and all("hidden" in m for m in members)


def test_link_to_a_folded_check_unfolds_it(report: Path, tmp_path: Path) -> None:
    key = "test_manifest_accepted_unchanged[native-sidecar-Pod-a]/v1.28.15"
    dom = _chromium(tmp_path, "--dump-dom", _open_url(report, key)).stdout
    assert f'data-key="{key}"' in _panel(dom)
    members = re.findall(r'<tr class="check member"[^>]*>', dom)
    assert members and not any("hidden" in m for m in members)
    assert 'aria-expanded="true"' in dom


def test_ordering_failure_shows_expected_order_beside_timeline(report: Path,
                                                               tmp_path: Path) -> None:
    dom = _chromium(tmp_path, "--dump-dom",
                    _open_url(report, "test_sidecar_order/v1.30.14")).stdout
    panel = _panel(dom)
    claim = re.search(r'<div class="expected">([^<]+)</div>', panel)
    assert claim and claim.group(1) == "Expected web:Started before init-config:Started"
    steps = re.findall(r'<li class="([a-z-]+)">([^<]+)<span class="muted">([^<]+)</span>', panel)
    assert [(s, p.strip(), seen) for s, p, seen in steps] == [
        ("ok", "log-shipper:Started", "+3.000s"),
        ("ok", "web:Started", "+5.000s"),
        ("out-of-order", "init-config:Started", "+1.000s (out of order)"),
    ]
    versus = re.search(r'<div class="versus">(.*?)</table>', panel, re.S)
    assert versus and "Observed timeline" in versus.group(1)
    assert "<td>+5.00s</td><td>web</td><td>Started</td>" in versus.group(1)
