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
    nox -s lint                                    ruff, and the layers (import-linter)
    nox -s bench                                   build, boot, suite and matrix timings
    nox -s fidelity                                upstream's pod-lifecycle e2e specs
    nox -s fidelity -- --specs ci --version 1.31   the short list, on another release
"""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True


def install(session: nox.Session) -> None:
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
def soak(session: nox.Session) -> None:
    """The suite run after run on healthy clusters: each check's failure rate (flakes)."""
    install(session)
    session.run("podlife", "soak", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff, and import-linter's contracts for the layers (pyproject.toml)."""
    install(session)
    session.run("ruff", "check", ".")
    session.run("lint-imports")


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
