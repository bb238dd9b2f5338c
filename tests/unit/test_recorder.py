"""The results recorder plugin, run in real pytest sessions (pytester), with and without xdist."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from podlife.core.timeline import Timeline
from podlife.results.model import CheckResult, RunResult
from podlife.results.results_file import load_run

pytest_plugins = ["pytester"]

TIMELINE = Timeline.from_dict({
    "pod": "web-0",
    "events": [{"t": 10.0, "container": "app", "event": "starting", "detail": "", "ns": 7}],
    "containers": [{"name": "app", "kind": "app", "started": 10.0, "finished": None,
                    "exit_code": None, "restarts": 0}],
})

CONFTEST = """
import pytest
from podlife.check.outcomes import unsupported
from podlife.plugin.recording import record_cluster

@pytest.fixture(scope="session")
def cluster(request):
    record_cluster(request.config, "local", "v1.37.2", "r7-results-x", host_deviations=[
        {"id": "no-cap-sys-resource", "what": "w", "cause": "c", "checks": ["x/*"]}])
    return "cluster"

@pytest.fixture
def needs_gate():
    unsupported("the SidecarContainers feature gate is off")

@pytest.fixture
def broken_setup():
    raise RuntimeError("namespace not created")

@pytest.fixture
def broken_teardown():
    yield
    raise RuntimeError("namespace not deleted")
"""

SUITE = f"""
import pytest
from podlife.check.outcomes import error, unsupported

TIMELINE = {TIMELINE.to_dict()!r}

@pytest.mark.pattern("native-sidecar")
def test_sidecar_first(cluster, request):
    '''Sidecars start before the app container.

    More detail that is not part of the title.
    '''
    request.node.user_properties.append(("podlife_timeline", TIMELINE))
    request.node.user_properties.append(("podlife_timeline", {{"pod": 1}}))

@pytest.mark.pattern("native-sidecar")
def test_sidecar_outlives(cluster, request):
    request.node.user_properties.append(("podlife_dump", "evidence/outlives"))
    request.node.user_properties.append(("podlife_dump_error", "PermissionError: evidence/"))
    assert 1 == 2, "sidecar outlived main"

def test_no_api(cluster):
    unsupported("no batch/v1 Jobs")

def test_gate_in_fixture(cluster, needs_gate):
    pass

def test_plain_skip(cluster):
    pytest.skip("needs two nodes")

def test_skip_that_only_says_unsupported(cluster):
    pytest.skip("unsupported: a plain skip, whatever its text")

def test_setup_error(cluster, broken_setup):
    pass

def test_teardown_error(cluster, broken_teardown):
    pass

@pytest.mark.xfail(reason="known kubelet bug")
def test_known_bug(cluster):
    assert False

@pytest.mark.parametrize("n", [1, 2])
def test_param(cluster, n):
    pass

def test_policy_denied(cluster):
    error("403 Forbidden from a policy")

def test_error_then_teardown_fails(cluster, broken_teardown):
    error("webhook denied")
"""

ARGS = ("-p", "podlife.plugin.recording", "-p", "no:cacheprovider",
        "--podlife-results", "out/results.json")


def _suite(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.mkdir("suites")
    pytester.path.joinpath("suites/test_native_sidecars.py").write_text(SUITE)


def _recorded(pytester: pytest.Pytester) -> tuple[RunResult, dict[str, CheckResult]]:
    run = load_run(pytester.path / "out/results.json")
    return run, {c.check_id: c for c in run.checks}


def _assert_recorded(result: pytest.RunResult, pytester: pytest.Pytester) -> None:
    run, checks = _recorded(pytester)
    assert (run.provider, run.kubernetes_version, run.cluster) == (
        "local", "v1.37.2", "r7-results-x")
    # The cluster's deviations reach the file, from an xdist worker too.
    assert [(d.id, d.checks) for d in run.host_deviations or []] == [
        ("no-cap-sys-resource", ("x/*",))]
    assert {k: c.verdict for k, c in checks.items()} == {
        "test_sidecar_first": "pass",
        "test_sidecar_outlives": "fail",
        "test_no_api": "unsupported",
        "test_gate_in_fixture": "unsupported",
        "test_plain_skip": "skipped",
        "test_skip_that_only_says_unsupported": "skipped",  # typed, not by text
        "test_setup_error": "fail",
        "test_teardown_error": "fail",
        "test_known_bug": "skipped",
        "test_param[1]": "pass",
        "test_param[2]": "pass",
        "test_policy_denied": "error",
        "test_error_then_teardown_fails": "fail",  # a real failure wins over an error
    }
    first = checks["test_sidecar_first"]
    assert first.title == "Sidecars start before the app container."
    assert (first.area, first.pattern) == ("native_sidecars", "native-sidecar")
    assert first.nodeid == "suites/test_native_sidecars.py::test_sidecar_first"
    assert first.timelines == [TIMELINE]  # the malformed one was dropped, with a warning
    assert first.timelines[0].events[0].ns == 7
    outlives = checks["test_sidecar_outlives"]
    assert outlives.pattern == "native-sidecar"
    assert "sidecar outlived main" in outlives.reason
    assert outlives.dumps == ["evidence/outlives"]
    assert outlives.dump_errors == ["PermissionError: evidence/"]
    assert {c.pattern for k, c in checks.items() if "sidecar" not in k} == {""}
    reasons = {k: c.reason for k, c in checks.items()}
    assert reasons["test_no_api"] == "no batch/v1 Jobs"
    assert reasons["test_gate_in_fixture"] == "the SidecarContainers feature gate is off"
    assert reasons["test_plain_skip"] == "needs two nodes"
    assert reasons["test_known_bug"] == "expected failure: known kubelet bug"
    assert reasons["test_setup_error"].startswith("setup: ")
    assert "namespace not created" in reasons["test_setup_error"]
    assert reasons["test_teardown_error"].startswith("teardown: ")
    assert reasons["test_policy_denied"] == "403 Forbidden from a policy"
    assert reasons["test_error_then_teardown_fails"].startswith("webhook denied\nteardown: ")
    assert all(c.duration_s >= 0 for c in checks.values())
    result.stdout.fnmatch_lines([
        "*podlife: suites/test_native_sidecars.py::test_sidecar_first: timeline dropped*",
        "*podlife: suites/test_native_sidecars.py::test_sidecar_outlives: saving the evidence "
        "failed: PermissionError: evidence/",
        "podlife: results written to *results.json",
    ])
    # pytest's own summary still says what kind of skip it was.
    result.stdout.fnmatch_lines(["SKIPPED * unsupported: no batch/v1 Jobs"])


def test_records_verdicts_patterns_and_evidence(pytester: pytest.Pytester) -> None:
    _suite(pytester)
    result = pytester.runpytest(*ARGS, "-rs", "suites")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    _assert_recorded(result, pytester)
    written = json.loads((pytester.path / "out/results.json").read_text())
    assert written["schema_version"] == 4


def test_records_on_the_xdist_controller(pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    _suite(pytester)
    result = pytester.runpytest_subprocess(*ARGS, "-rs", "-n", "2", "suites")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*2 workers*"])
    _assert_recorded(result, pytester)


def test_pattern_marker_is_registered(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import pytest

        @pytest.mark.pattern("init-order")
        def test_x():
            pass
    """)
    result = pytester.runpytest("-p", "podlife.plugin.recording", "--strict-markers")
    assert result.ret == pytest.ExitCode.OK
    markers = pytester.runpytest("-p", "podlife.plugin.recording", "--markers")
    markers.stdout.fnmatch_lines(["*pattern(name): the tutorial pattern a check exercises*"])


def test_malformed_pattern_marker_stops_the_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import pytest

        @pytest.mark.pattern
        def test_x():
            pass
    """)
    result = pytester.runpytest("-p", "podlife.plugin.recording")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*test_x: @pytest.mark.pattern takes one pattern name*"])


def test_without_the_option_nothing_is_written(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x():\n    pass\n")
    result = pytester.runpytest("-p", "podlife.plugin.recording")
    assert result.ret == pytest.ExitCode.OK
    assert not list(Path(pytester.path).rglob("*.json"))


def test_no_cluster_recorded_is_warned(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x():\n    pass\n")
    result = pytester.runpytest(*ARGS)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*no cluster was recorded*"])
    run, checks = _recorded(pytester)
    assert run.kubernetes_version == ""
    assert checks["test_x"].verdict == "pass"
