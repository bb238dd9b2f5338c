"""nox sessions: what podlife's users (and its CI) run.

    nox -s unit                                    podlife's unit tests: no cluster, no root
    nox -s tests                                   podlife's own tests (boots real clusters)
    nox -s conformance -- --kube-version 1.33      the suite on one version (local cluster)
    nox -s matrix                                  the suite on every pinned version
    nox -s upgrade -- --from 1.36 --to 1.37        upgrade a cluster in place, check workloads
    nox -s report                                  render reports from saved results
    nox -s selftest                                every mutant cluster must fail a check
    nox -s selftest -- --mutant NAME -k EXPR       one mutant, some checks
    nox -s soak -- --runs 20                       failure rate of every check, run after run
    nox -s explore -- --budget 10m                 generated pods judged by podlife's model
    nox -s matrix-version -- 1.33                  one minor of the matrix, as one CI job runs it
    nox -s matrix-merge                            merge the version jobs' results into one report
    nox -s lint                                    ruff, the layers (import-linter), the workflow
    nox -s bench                                   build, boot, suite and matrix timings
    nox -s fidelity                                upstream's pod-lifecycle e2e specs
    nox -s fidelity -- --specs ci --version 1.31   the short list, on another release
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True

#: Where a CI version job leaves its results and evidence (its artifact), one dir per version.
CI_RESULTS = "reports/ci"
#: Where the merge job writes the one report of every version job.
CI_MERGED = "reports/merged"
#: actionlint, built from its Go module the first time `nox -s lint` needs it.
ACTIONLINT = "github.com/rhysd/actionlint/cmd/actionlint@v1.7.12"


def install(session: nox.Session) -> None:
    """podlife and its dev tools into the session's virtualenv. With `nox --no-venv` the
    session runs in the current environment, where podlife is already installed (podlife's
    own tests run the CI sessions that way), and nothing is installed."""
    if session.venv_backend == "none":
        return
    session.install("-e", ".[dev]")


@nox.session
def unit(session: nox.Session) -> None:
    """podlife's unit tests (tests/unit): pure logic and reports, no cluster and no root."""
    install(session)
    session.run("pytest", "tests/unit", "-p", "no:cacheprovider", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """podlife's own tests: pure logic, reports in a real browser, and real local clusters."""
    install(session)
    session.run("pytest", "tests", "-p", "no:cacheprovider", *session.posargs)


@nox.session
def conformance(session: nox.Session) -> None:
    """Every check on one cluster (default: a local cluster of the default version)."""
    install(session)
    session.run("podlife", "run", *session.posargs)


@nox.session
def matrix(session: nox.Session) -> None:
    """The suite on every version of the pinned list, merged into reports/matrix.html."""
    install(session)
    session.run("podlife", "matrix", *session.posargs)


@nox.session
def upgrade(session: nox.Session) -> None:
    """Boot the older version, start workloads, upgrade in place, check they survived."""
    install(session)
    session.run("podlife", "upgrade", *session.posargs)


@nox.session
def report(session: nox.Session) -> None:
    """Merge every saved result under reports/runs/ into the matrix reports."""
    install(session)
    session.run("podlife", "report", "--all", *session.posargs)


@nox.session
def selftest(session: nox.Session) -> None:
    """Clusters built with patches that each break one behaviour: every one must be caught."""
    install(session)
    session.run("podlife", "selftest", *session.posargs)


@nox.session
def explore(session: nox.Session) -> None:
    """Generated pods judged by podlife's model on a local cluster, for 10 minutes (or
    --budget); a disagreement is saved under reports/explore/ as a minimal manifest."""
    install(session)
    session.run("podlife", "explore", *session.posargs)


@nox.session
def soak(session: nox.Session) -> None:
    """The suite run after run on healthy clusters: each check's failure rate (flakes)."""
    install(session)
    session.run("podlife", "soak", *session.posargs)


@nox.session(name="matrix-version")
def matrix_version(session: nox.Session) -> None:
    """One minor of the version matrix, as one CI job runs it: build (or reuse) its binaries,
    then every check on a local cluster of that version; results, pytest's log, evidence and
    the version's own report (report/, with its JUnit) go to reports/ci/<version>/, the job's
    artifact. Further arguments go to podlife run."""
    if not session.posargs or session.posargs[0].startswith("-"):
        session.error("which version? e.g. nox -s matrix-version -- 1.33")
    version, *rest = session.posargs
    install(session)
    session.run("podlife", "build", "--version", version)  # prints what to cache, and sizes
    results = f"{CI_RESULTS}/{version}/results.json"
    try:
        session.run("podlife", "run", "--kube-version", version, "--no-render",
                    "--results", results, *rest)
    finally:
        # The job's own report and JUnit (for GitLab's test reports), also when checks
        # failed; the run above already wrote the GitHub job summary and annotations.
        if Path(results).exists():
            session.run("podlife", "report", results, "--out", f"{CI_RESULTS}/{version}/report",
                        env={"GITHUB_ACTIONS": "false"})


@nox.session(name="matrix-merge")
def matrix_merge(session: nox.Session) -> None:
    """Merge every version job's results into one matrix.html, matrix.json and JUnit in
    reports/merged/: reports/ci/<dir>/results.json, as `matrix-version` leaves them and as
    the merge job downloads the artifacts (one directory per artifact)."""
    files = sorted(glob.glob(f"{CI_RESULTS}/*/results.json"))
    if not files:
        session.error(f"no results.json under {CI_RESULTS}/: run nox -s matrix-version -- "
                      "VERSION first, or download the version jobs' artifacts there")
    install(session)
    session.run("podlife", "report", *files, "--out", CI_MERGED, *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff, import-linter's contracts for the layers (pyproject.toml), and actionlint on
    the shipped GitHub Actions workflow (built from its Go module into .nox/bin once)."""
    install(session)
    session.run("ruff", "check", ".")
    session.run("lint-imports")
    tools = Path(".nox", "bin").absolute()
    actionlint = tools / "actionlint"
    if not actionlint.exists():
        session.run("go", "install", ACTIONLINT, external=True,
                    env={"GOBIN": str(tools), "GOFLAGS": os.environ.get("GOFLAGS", "")})
    session.run(str(actionlint), *sorted(glob.glob(".github/workflows/*.yml")), external=True)


@nox.session
def bench(session: nox.Session) -> None:
    """Measured speed: cold builds, boot, teardown, peak memory, suite and matrix time."""
    install(session)
    session.run("python", "-m", "podlife.run.bench", *session.posargs)


@nox.session
def fidelity(session: nox.Session) -> None:
    """Upstream's own pod-lifecycle e2e specs (podlife/verify/specs.yaml) on a local cluster.

    Boots a cluster named 'fidelity' (--version picks the release), verifies, removes it;
    with --name N it verifies that running cluster instead. Default list: full."""
    install(session)
    args = list(session.posargs)
    if "--specs" not in args:
        args += ["--specs", "full"]
    if "--name" in args:
        session.run("podlife", "cluster", "verify", *args)
        return
    up = ["--name", "fidelity", "--timeout", "600"]
    if "--version" in args:
        at = args.index("--version")
        up += args[at:at + 2]
        del args[at:at + 2]
    session.run("podlife", "cluster", "up", *up)
    try:
        session.run("podlife", "cluster", "verify", "--name", "fidelity", *args)
    finally:
        session.run("podlife", "cluster", "down", "--name", "fidelity")
