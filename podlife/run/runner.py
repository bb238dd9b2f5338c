"""Run the conformance suite on one cluster, or on a matrix of versions, and render reports.

Each run lands in reports/runs/<run>/ (results.json, JUnit, evidence), under ./reports or
--reports-dir; the matrix reports there are re-rendered from every saved run, the latest
run per version winning.
Whoever starts a run chooses its results path and passes it down (`podlife run --results`,
pytest's `--podlife-results`): nothing learns it back from a child's output.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from podlife.core import paths, versions
from podlife.core.errors import PodlifeError
from podlife.core.skew import Target

PYTEST_NO_TESTS = 5
PYTEST_USAGE_ERROR = 4
#: podlife's exit status for a usage or environment error (also argparse's).
EXIT_USAGE = 2
RESULTS_FILE = "results.json"
#: 4 clusters of 4 workers keep 2 cores busy (94%); 2 of 3 left a third idle and took 37% longer.
MATRIX_WORKERS = 4
MATRIX_PARALLEL = 4


@dataclass
class RunOutcome:
    version: str
    exit_code: int
    results: Path
    seconds: float

    def counts(self) -> dict[str, int]:
        """Verdict counts from the results file (empty if the run wrote none)."""
        try:
            checks = json.loads(self.results.read_text())["checks"]
        except (OSError, ValueError, KeyError):
            return {}
        counts: dict[str, int] = {}
        for check in checks:
            counts[check["verdict"]] = counts.get(check["verdict"], 0) + 1
        return counts


def new_run_dir(label: str) -> Path:
    """A fresh directory under reports/runs/, named by UTC time and label (e.g. the version)."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    run = paths.reports_dir() / "runs" / f"{stamp}-{label}"
    run.mkdir(parents=True, exist_ok=True)
    return run


def suite_command(results: Path, pytest_args: list[str], workers: int) -> list[str]:
    """pytest on the suites, wherever they are (see podlife.core.paths).

    From an installed package, pytest gets an empty config and the package as rootdir: no
    pytest.ini or pyproject.toml around the user's directory or the virtualenv changes the
    run, and check ids read `suites/test_x.py::...` as in a checkout.
    """
    suites = paths.suites_dir()
    isolated = [] if paths.in_checkout() else ["-c", os.devnull, f"--rootdir={suites.parent}"]
    return [sys.executable, "-m", "pytest", str(suites), *isolated, "-p", "no:cacheprovider",
            "-n", str(workers), f"--podlife-results={results}", *pytest_args]


def child_env() -> dict[str, str]:
    """The environment of a suite run: this one, minus bytecode caches when installed.

    pytest rewrites the asserts of the suites and of podlife (a plugin) and would cache
    them next to the code: into site-packages, which a run must leave untouched.
    """
    env = dict(os.environ)
    if not paths.in_checkout():
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def pytest_exit_code(code: int) -> int:
    """pytest's exit status as podlife's (README, "Exit codes"); 5 is handled by the caller."""
    return {PYTEST_USAGE_ERROR: EXIT_USAGE}.get(code, code)


def run_suite(pytest_args: list[str], *, label: str, workers: int = 4,
              quiet: bool = False, results: Path | None = None) -> RunOutcome:
    """One pytest run of the suites; exit 5 (nothing collected) is an error, not a pass.

    The results file goes to `results` (pytest's log and evidence beside it), by default
    into a new run directory. pytest runs in the current directory, so relative paths given
    to podlife (a kubeconfig, -k files) mean what they meant to the user.
    """
    results = (results or new_run_dir(label) / RESULTS_FILE).absolute()
    results.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with (results.parent / "pytest.log").open("w") as log:
        proc = subprocess.Popen(suite_command(results, pytest_args, workers),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env=child_env())
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                log.write(line)
                if not quiet:
                    sys.stdout.write(line)
            code = proc.wait()
        except BaseException:  # Ctrl-C, or SIGTERM turned into one: pytest cleans up first
            stop_child(proc)
            raise
    if code == PYTEST_NO_TESTS:
        raise PodlifeError("pytest collected no checks", "check the -k/-m filters you passed")
    if code == PYTEST_USAGE_ERROR:
        raise PodlifeError(f"pytest refused the arguments: {_usage_error(results.parent)}",
                           "fix or drop the extra arguments passed on to pytest")
    return RunOutcome(label, pytest_exit_code(code), results, time.monotonic() - started)


def _usage_error(run_dir: Path) -> str:
    """pytest's own complaint (its last `error:` line), from the run's log."""
    try:
        lines = (run_dir / "pytest.log").read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    found = [line.split("error:", 1)[1].strip() for line in lines if "error:" in line]
    return found[-1] if found else (lines[-1].strip() if lines else "(empty log)")


def render_all(out: Path | None = None) -> Path | None:
    """Re-render reports/ from every saved run's results."""
    from podlife.results.report.cli import render_reports

    usable = saved_results()
    if not usable:
        return None
    return render_reports(usable, out or paths.reports_dir())


def saved_results() -> list[Path]:
    """Every saved run's results file under the reports directory that names a version."""
    files = sorted((paths.reports_dir() / "runs").glob(f"*/{RESULTS_FILE}"))
    return [f for f in files if _has_version(f)]


def _has_version(results: Path) -> bool:
    try:
        return bool(json.loads(results.read_text()).get("kubernetes_version"))
    except (OSError, ValueError):
        return False


def build_versions(wanted: list[versions.KubeVersion], progress) -> None:
    """Build every version first, so the matrix runs only boot (and failures show early)."""
    from podlife.cluster import build

    for version in wanted:
        build.build(build.kubernetes_build(version), progress=progress)
    for spec in build.support_builds():
        build.build(spec, progress=progress)


def matrix_run_command(version: versions.KubeVersion | Target, results: Path, *,
                       workers: int, extra: list[str]) -> list[str]:
    """The `podlife run` of one matrix version, told where to write its results."""
    target = version if isinstance(version, Target) else Target(version)
    return [sys.executable, "-m", "podlife.cli", "run", *target.run_args(),
            "--results", str(results), "--workers", str(workers), "--no-render", "--quiet",
            *extra]


def run_matrix(wanted: list[versions.KubeVersion] | list[Target], *, parallel: int,
               workers: int, extra: list[str],
               on_done: Callable[[RunOutcome], None]) -> list[RunOutcome]:
    """The suite on each version (or API server and kubelet pair), `parallel` local
    clusters at a time, each its own run.

    Each run's directory is chosen here; the child's own output goes to run.log in it.
    """
    pending = [w if isinstance(w, Target) else Target(w) for w in wanted]
    running: list[tuple[Target, Path, subprocess.Popen[bytes], float]] = []
    outcomes: list[RunOutcome] = []
    try:
        while pending or running:
            while pending and len(running) < parallel:
                version = pending.pop(0)
                run = new_run_dir(version.label)
                cmd = matrix_run_command(version, run / RESULTS_FILE, workers=workers,
                                         extra=extra)
                with (run / "run.log").open("wb") as log:
                    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                            env=child_env())
                running.append((version, run, proc, time.monotonic()))
            for item in list(running):
                version, run, proc, started = item
                if proc.poll() is None:
                    continue
                running.remove(item)
                outcome = RunOutcome(version.label, proc.returncode, run / RESULTS_FILE,
                                     time.monotonic() - started)
                outcomes.append(outcome)
                on_done(outcome)
            time.sleep(0.5)  # polling child processes, not waiting for a cluster state
    finally:
        for _, _, proc, _ in running:
            stop_child(proc)
    return outcomes


#: How long a child run gets to clean up (namespaces, its local cluster) after an interrupt.
CHILD_CLEANUP_S = 120.0


def stop_child(proc: subprocess.Popen) -> None:
    """Interrupt a child run as Ctrl-C would, so its own cleanup runs; kill it only if that
    takes longer than CHILD_CLEANUP_S."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=CHILD_CLEANUP_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
