"""The `podlife` command's conventions, without a cluster: help texts with defaults, JSON
output for scripts, one-line errors with exit 2, and the summary printed after a run."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from podlife.cli import EXIT_USAGE, main, parser
from podlife.cluster import access
from podlife.core import versions
from podlife.core.errors import PodlifeError
from podlife.results.model import CheckResult, RunResult
from podlife.results.report.summary import parse_claim, run_summary
from podlife.results.results_file import write_run


def _subparsers(top: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [top]
    for action in top._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found += _subparsers(sub)
    return found


def test_every_option_has_help_with_its_default() -> None:
    for command in _subparsers(parser()):
        for action in command._actions:
            if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
                continue
            if not action.option_strings or action.required:
                assert action.help, f"{command.prog} {action.dest}: no help"
                continue
            assert action.help and "default" in action.help, (
                f"{command.prog} {action.option_strings[0]}: help must say the default")


def test_versions_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["versions", "--output", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["default"] == versions.DEFAULT_VERSION
    assert {row["minor"] for row in data["pinned"]} == set(versions.PINNED)


def test_providers_lists_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["providers", "--output", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == ["local", "kind", "kubeconfig"]
    assert [r["host_deviations_known"] for r in rows] == [True, False, False]
    assert main(["providers"]) == 0
    assert "local  " in capsys.readouterr().out


def test_version_without_cluster(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["version", "--output", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"podlife", "python", "kubernetes_client", "suites", "manifests"} <= set(data)
    assert "cluster" not in data


def _run(checks: list[CheckResult]) -> RunResult:
    return RunResult(run_id="r1", provider="kubeconfig", cluster="existing",
                     kubernetes_version="v1.37.2", started_at="2025-03-01T10:00:00Z",
                     finished_at="2025-03-01T10:01:00Z", host="h", checks=checks,
                     podlife_version="0.1.0", duration_s=61.2)


def _check(name: str, verdict: str, reason: str = "") -> CheckResult:
    return CheckResult(nodeid=f"suites/test_a.py::{name}", check_id=name, area="a",
                       title=name, verdict=verdict, duration_s=1.0, reason=reason)


ORDER = ("podlife.check.ordering.OrderError: order a:starting -> b:starting not observed: p: "
         "expected a:starting before b:starting, but b:starting came 0.5s earlier\n"
         "timeline of pod p:\n  +0.0s b starting")


def test_compare_as_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before, after = tmp_path / "before.json", tmp_path / "after.json"
    write_run(_run([_check("test_x", "pass")]), before)
    write_run(_run([_check("test_x", "fail", "broken")]), after)
    assert main(["compare", str(before), str(after), "--output", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["regressions"] == 1 and data["verdict_changes"][0]["after"] == "fail"


def test_missing_kubeconfig_is_one_line_and_exit_2(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "--provider", "kubeconfig", "--kubeconfig", str(tmp_path / "no")])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE
    assert err.startswith(f"error: kubeconfig {tmp_path / 'no'} does not exist. Fix: ")
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "reports").exists()


def test_invalid_and_unreachable_kubeconfigs(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.write_text("apiVersion: v1\nkind: Config\n")
    with pytest.raises(PodlifeError, match="cannot be used"):
        access.check_cluster(bad)
    closed = tmp_path / "closed"
    closed.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: x\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: x, context: {cluster: c, user: u}}]\n")
    with pytest.raises(PodlifeError, match=r"https://127.0.0.1:1 .* does not answer"):
        access.check_cluster(closed)


def test_ordering_claim_is_read_from_the_reason() -> None:
    claim = parse_claim(ORDER)
    assert claim is not None
    assert (claim.pod, claim.claim) == ("p", "a:starting before b:starting")
    assert claim.problem == "b:starting came 0.5s earlier"
    assert claim.order == [("a", "starting"), ("b", "starting")]
    assert parse_claim("AssertionError: something else") is None


def test_run_summary_lists_failures_with_their_claim() -> None:
    text = run_summary(_run([_check("test_ok", "pass"), _check("test_order", "fail", ORDER),
                             _check("test_new", "unsupported", "no sidecars")]),
                       results="r.json", report="m.html")
    lines = text.splitlines()
    assert lines[0] == ("podlife 0.1.0: 3 checks on Kubernetes v1.37.2 (provider kubeconfig, "
                        "cluster existing) in 61s: 1 pass, 1 fail, 1 unsupported")
    assert lines[1] == ("  FAIL        a/test_order: p: expected a:starting before b:starting, "
                        "but b:starting came 0.5s earlier")
    assert lines[2] == "  UNSUPPORTED a/test_new: no sidecars"
    assert lines[3:] == ["results: r.json", "report:  m.html"]
