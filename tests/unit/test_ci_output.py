"""CI output: the job summary's Markdown, annotations on the check's own line, and that
`podlife report` and `podlife compare` write them only inside GitHub Actions."""

from __future__ import annotations

import io
import re
from pathlib import Path

from podlife.core import paths
from podlife.results.report import ci
from podlife.results.results_file import write_run
from tests.builders import check, run
from tests.helpers import podlife

ESC = "\x1b"


def failing_runs() -> list:
    return [
        run("v1.36.5", checks=[check("test_a"), check("test_b", "fail", reason=(
            "web: expected proxy:started before app:started, but app:started came first\n"
            "timeline..."))]),
        run("v1.37.2", checks=[check("test_a"), check("test_b"), check(
            "test_c", "unsupported", reason="native sidecars need 1.28 or later")]),
    ]


def test_summary_counts_each_version_and_lists_failures_with_their_claim() -> None:
    text = ci.step_summary(failing_runs(), report="reports/matrix.html")
    assert "| v1.36.5 | kind | 2 | 1 | **1** | 0 |" in text
    assert "| v1.37.2 | kind | 3 | 2 | 0 | 1 |" in text
    assert "### Failing checks (1)" in text
    assert ("- **native_sidecars/test_b** on v1.36.5 (fail): web: expected proxy:started "
            "before app:started, but app:started came first") in text
    assert "### Unsupported checks (1)" in text
    assert "native sidecars need 1.28 or later" in text
    assert "Report: `reports/matrix.html`" in text


def test_summary_counts_the_pods_the_model_judged() -> None:
    runs = [run(checks=[check("test_a", judged_pods=["p", "q"], unjudged_pods=["r: x"])])]
    assert "Pods judged by podlife's model: 2 (not judged: 1)." in ci.step_summary(runs)
    assert "judged" not in ci.step_summary(failing_runs())


def test_summary_shows_hostile_text_inert() -> None:
    bad = run(checks=[check("test_x", "fail", reason=f"<script>alert(1)</script> a|b {ESC}[2J")])
    text = ci.step_summary([bad])
    assert "<script>" not in text and ESC not in text
    assert "&lt;script&gt;" in text and "a\\|b" in text and "\\x1b[2J" in text


def test_summary_of_no_runs_says_so() -> None:
    assert "No results." in ci.step_summary([])


def suite_file(root: Path) -> None:
    (root / "suites").mkdir()
    (root / "suites" / "test_native_sidecars.py").write_text(
        '"""doc"""\n\n\ndef helper():\n    pass\n\n\ndef test_b(f):\n    pass\n\n\n'
        "class TestGroup:\n    def test_inner(self):\n        pass\n")


def test_location_is_the_checks_def_line(tmp_path: Path) -> None:
    suite_file(tmp_path)
    file = "suites/test_native_sidecars.py"
    assert ci.check_location(f"{file}::test_b", [tmp_path]) == ci.Location(file, 8)
    assert ci.check_location(f"{file}::test_b[1.37]", [tmp_path]) == ci.Location(file, 8)
    assert ci.check_location(f"{file}::TestGroup::test_inner", [tmp_path]).line == 13
    assert ci.check_location(f"{file}::test_gone", [tmp_path]) == ci.Location(file, None)
    assert ci.check_location(f"{file}::test_b", [tmp_path / "elsewhere"]) is None
    assert ci.check_location("not-a-node-id", [tmp_path]) is None


def test_annotation_encodes_what_would_end_or_split_the_command() -> None:
    bad = check("test_b", "fail", reason="50% done: a, b\nsecond line")
    line = ci.annotation(bad, "v1.37.2", ci.Location("suites/x.py", 8))
    assert line == ("::error file=suites/x.py,line=8,title=native_sidecars/test_b on "
                    "v1.37.2::50%25 done: a, b")
    no_line = ci.annotation(bad, "v1.36.5/kubelet-v1.35.0", None)
    assert no_line.startswith("::error title=native_sidecars/test_b on v1.36.5/kubelet-v1.35.0::")
    title = ci.annotation(check("a:b,c", "fail", reason="r"), "v1", None)
    assert "title=native_sidecars/a%3Ab%2Cc on v1::r" in title


def test_annotations_cover_failures_and_errors_only() -> None:
    runs = [run(checks=[check("test_a"), check("test_b", "fail", reason="x"),
                        check("test_c", "error", reason="y"),
                        check("test_d", "unsupported", reason="z")])]
    lines = ci.annotations(runs, [])
    assert [re.search(r"title=native_sidecars/(\w+)", line)[1] for line in lines] == [
        "test_b", "test_c"]


def test_publish_does_nothing_outside_github_actions(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    out = io.StringIO()
    env = {"GITHUB_STEP_SUMMARY": str(summary)}
    assert ci.publish("text", ["::error ::x"], stream=out, env=env) is None
    assert out.getvalue() == "" and not summary.exists()


def test_publish_appends_the_summary_and_prints_the_annotations(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    out = io.StringIO()
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    assert ci.publish("## podlife", ["::error ::x"], stream=out, env=env) == summary
    assert summary.read_text() == "earlier step\n## podlife\n"
    assert out.getvalue() == "::error ::x\n"


def results_files(tmp_path: Path) -> list[Path]:
    files = []
    for index, one in enumerate(failing_runs()):
        for c in one.checks:  # real checks of this checkout, so their lines can be found
            c.nodeid = f"suites/test_native_sidecars.py::{c.check_id}"
        one.checks[-1].nodeid = ("suites/test_native_sidecars.py::"
                                 "test_sidecar_starts_before_main_containers")
        path = tmp_path / f"r{index}" / "results.json"
        path.parent.mkdir()
        write_run(one, path)
        files.append(path)
    return files


def def_line(name: str) -> int:
    text = (paths.suites_dir() / "test_native_sidecars.py").read_text().splitlines()
    return next(i for i, line in enumerate(text, 1) if line.startswith(f"def {name}("))


def test_report_in_github_actions_writes_summary_and_annotation(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    files = results_files(tmp_path)
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    result = podlife("report", *map(str, files), "--out", str(tmp_path / "out"), env=env)
    assert result.returncode == 0, result.stderr
    line = def_line("test_sidecar_starts_before_main_containers")
    assert (f"::error file=suites/test_native_sidecars.py,line={line},"
            "title=native_sidecars/test_b on v1.36.5::"
            "web: expected proxy:started before app:started") in result.stdout
    text = summary.read_text()
    assert "| v1.36.5 | kind | 2 | 1 | **1** | 0 |" in text
    assert f"Report: `{tmp_path / 'out' / 'matrix.html'}`" in text


def test_report_outside_github_actions_writes_neither(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    files = results_files(tmp_path)
    result = podlife("report", *map(str, files), "--out", str(tmp_path / "out"),
                     env={"GITHUB_ACTIONS": "", "GITHUB_STEP_SUMMARY": str(summary)})
    assert result.returncode == 0, result.stderr
    assert "::error" not in result.stdout and not summary.exists()


def test_compare_in_github_actions_annotates_the_regression(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    before, after = results_files(tmp_path)[::-1]  # v1.37.2 all pass, then v1.36.5 fails
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    result = podlife("compare", str(before), str(after), env=env)
    assert result.returncode == 1, result.stderr
    annotated = [line for line in result.stdout.splitlines() if line.startswith("::error")]
    assert len(annotated) == 1 and "native_sidecars/test_b on v1.36.5" in annotated[0]
    text = summary.read_text()
    assert "## podlife compare" in text
    assert "**regression** native_sidecars/test_b: pass → fail (v1.37.2 → v1.36.5)" in text
