"""Any move away from pass is a regression unless the user allows that move by name."""

from __future__ import annotations

import pytest

from podlife.core.errors import PodlifeError
from podlife.results.model import VERDICTS, CheckResult, RunResult
from podlife.results.report.compare import ALLOWABLE, compare, format_text, parse_allowed


def _run(version: str, **verdicts: str) -> RunResult:
    checks = [CheckResult(nodeid=f"suites/test_native_sidecars.py::{name}", check_id=name,
                          area="native_sidecars", title=name, verdict=verdict, duration_s=1.0)
              for name, verdict in verdicts.items()]
    return RunResult(run_id=version, provider="local", cluster="c", kubernetes_version=version,
                     started_at="2025-03-01T10:00:00+00:00",
                     finished_at="2025-03-01T10:01:00+00:00", host="h", checks=checks)


@pytest.mark.parametrize("after", [v for v in VERDICTS if v != "pass"])
def test_every_move_away_from_pass_is_a_regression(after: str) -> None:
    result = compare(_run("v1.30.2", test_a="pass"), _run("v1.31.0", test_a=after))
    assert [(c.before, c.after) for c in result.regressions] == [("pass", after)]
    assert result.to_dict()["verdict_changes"][0]["regression"] is True


@pytest.mark.parametrize("before", [v for v in VERDICTS if v != "pass"])
def test_moves_between_other_verdicts_or_to_pass_are_not(before: str) -> None:
    others = [v for v in VERDICTS if v not in ("pass", before)]
    for after in ["pass", *others]:
        assert not compare(_run("a", t=before), _run("b", t=after)).regressions


def test_an_allowed_move_is_shown_but_not_counted() -> None:
    before = _run("v1.30.2", test_a="pass", test_b="pass")
    after = _run("v1.31.0", test_a="unsupported", test_b="skipped")
    result = compare(before, after, allow=parse_allowed(["pass-to-unsupported"]))
    assert [c.check for c in result.regressions] == ["native_sidecars/test_b"]
    allowed = next(c for c in result.verdict_changes if c.check.endswith("test_a"))
    assert allowed.allowed and not allowed.regression
    assert "unsupported (allowed)" in format_text(result)
    assert result.to_dict()["verdict_changes"][0]["allowed"] is True


def test_allow_names_only_moves_away_from_pass() -> None:
    assert set(ALLOWABLE) == {"pass-to-fail", "pass-to-unsupported", "pass-to-skipped",
                              "pass-to-error"}
    with pytest.raises(PodlifeError) as info:
        parse_allowed(["pass-to-unsupported", "fail-to-pass"])
    assert "fail-to-pass" in str(info.value) and "pass-to-skipped" in str(info.value)
