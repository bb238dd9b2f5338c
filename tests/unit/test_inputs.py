"""Bad input gets one clear line: ports, component names, hanging binaries, hostile results
files; and what podlife writes from a results file is always valid (XML) and never markup."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from podlife.cluster import build, kube_source
from podlife.core.errors import PodlifeError
from podlife.core.schema import ResultsError
from podlife.results.matrix import merge
from podlife.results.report.compare import compare, format_text
from podlife.results.report.junit import build_junit
from podlife.results.results_file import MAX_DEPTH, parse_run, run_to_json
from tests.builders import check, run
from tests.helpers import one_clear_line, podlife


def test_api_port_out_of_range_is_one_line() -> None:
    for port in ("70000", "0", "-1"):
        one_clear_line(podlife("cluster", "up", "--name", "r9-port", "--api-port", port),
                       "--api-port", "65535")


def test_logs_reads_only_known_components_of_valid_names() -> None:
    """`cluster logs ../../../../tmp/x y` and `cluster logs NAME ../x` read nothing."""
    one_clear_line(podlife("cluster", "logs", "../../../../tmp/x", "kubelet"),
                   "not a valid cluster name")
    one_clear_line(podlife("cluster", "logs", "r9-any", "../../../etc/x"),
                   "not a component", "kubelet")
    one_clear_line(podlife("cluster", "kubeconfig", "--name", "../x"), "not a valid")


def test_a_kubelet_whose_version_probe_hangs_is_one_line(tmp_path: Path, monkeypatch) -> None:
    """A --kube-bin-dir whose `kubelet --version` never answers: refused after the timeout,
    and the hung probe (and anything it started) is killed."""
    marker = tmp_path / "probe.pid"
    for name in build.KUBE_BINARIES:
        path = tmp_path / name
        path.write_text(f"#!/bin/sh\necho $$ > {marker}\nsleep 300 &\nwait\n")
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(kube_source, "VERSION_PROBE_TIMEOUT", 1.0)
    started = time.monotonic()
    with pytest.raises(PodlifeError, match="did not answer"):
        kube_source.kube_binaries_from_dir(tmp_path)
    assert time.monotonic() - started < 10
    session = int(marker.read_text())
    assert not Path(f"/proc/{session}").exists()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and session_members(session):
        time.sleep(0.1)  # a killed orphan is reaped by init a moment later
    assert session_members(session) == [], "the probe's children outlived it"


def session_members(session: int) -> list[int]:
    """Live (not zombie) processes of a session."""
    out = subprocess.run(["ps", "-o", "pid=,stat=", "-s", str(session)], capture_output=True,
                         text=True).stdout
    return [int(line.split()[0]) for line in out.splitlines() if "Z" not in line.split()[1]]


# ----- results files ------------------------------------------------------------------------

def good_text() -> str:
    return run_to_json(run())


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_results_with_nan_or_infinity_are_one_line(constant: str) -> None:
    text = good_text().replace('"duration_s": 4.0', f'"duration_s": {constant}')
    assert constant in text
    with pytest.raises(ResultsError, match=constant.lstrip("-")):
        parse_run(text, "bad.json")


def test_deeply_nested_results_are_one_line() -> None:
    with pytest.raises(ResultsError, match="nests deeper"):
        parse_run("[" * 200_000 + "]" * 200_000, "deep.json")
    data = json.loads(good_text())
    data["checks"][0]["reason"] = [[[[]]]] * 1
    nested: list = []
    for _ in range(MAX_DEPTH + 1):
        nested = [nested]
    data["extra"] = nested
    with pytest.raises(ResultsError, match="nests deeper"):
        parse_run(json.dumps(data), "deep.json")


def test_huge_results_file_is_refused_before_reading(tmp_path: Path, monkeypatch) -> None:
    import podlife.results.results_file as results_file

    monkeypatch.setattr(results_file, "MAX_BYTES", 1000)
    path = tmp_path / "big.json"
    path.write_text(good_text() + " " * 2000)
    with pytest.raises(PodlifeError, match="larger than"):
        results_file.load_run(path)


def test_compare_cli_on_hostile_files_is_one_line(tmp_path: Path) -> None:
    """The CLI: one line, exit 2, and no half-written output."""
    good = tmp_path / "good.json"
    good.write_text(good_text())
    bad = tmp_path / "bad.json"
    bad.write_text(good_text().replace('"duration_s": 4.0', '"duration_s": NaN'))
    result = subprocess.run([sys.executable, "-m", "podlife.cli", "compare", str(good),
                             str(bad)], capture_output=True, text=True,
                            env={**os.environ, "COLUMNS": "200"})
    one_clear_line(result, "NaN")
    assert result.stdout == ""


# ----- what podlife writes from a results file ------------------------------------------------

HOSTILE = "bad \x00\x01\x08\x0b\x1b[31m\ud800 [/bold] [link=https://example.invalid]x[/link]\ufffe"


def test_junit_is_valid_xml_whatever_a_reason_holds() -> None:
    hostile = run(checks=[check(verdict="fail", reason=HOSTILE), check(
        check_id="test_other", verdict="skipped", reason=HOSTILE)])
    matrix = merge([hostile])
    tree = build_junit(matrix, matrix.columns[0])
    text = ET.tostring(tree.getroot(), encoding="unicode")
    parsed = ET.fromstring(text.encode("utf-8"))  # strict: a lone surrogate would fail
    failure = parsed.find(".//failure")
    assert failure is not None and "[/bold]" in (failure.text or "")
    assert "\x00" not in text and "\x1b" not in text


def test_compare_prints_reasons_as_text_never_markup() -> None:
    """A reason holding `[/bold]` does not crash compare; `[link=...]` is shown, not linked."""
    before = run(checks=[check(verdict="pass")])
    after = run(checks=[check(verdict="fail", reason="oops [/bold] [link=https://x.invalid]y"
                                                     "[/link]")])
    text = format_text(compare(before, after), width=200)
    assert "[/bold]" in text and "[link=https://x.invalid]y[/link]" in text


def test_durations_take_units_and_refuse_the_rest() -> None:
    import argparse

    import pytest

    from podlife.core.argtypes import duration

    assert [duration(t) for t in ("600", "90s", "10m", "1h", "0.5m")] == [
        600, 90, 600, 3600, 30]
    for bad in ("5x", "m", "-1m", "nan", "infm", "0s"):
        with pytest.raises(argparse.ArgumentTypeError, match="is not a"):
            duration(bad)
