"""pytest wiring: which cluster to test, a namespace per check, and evidence on failure.

The run's cluster is obtained once (the first xdist worker to need it boots it, the others
wait for it) and torn down by the controller at the end, also after Ctrl-C. Each check
gets a `Framework` bound to a fresh labelled namespace. Afterwards the namespace is
deleted; on a cluster the run booted and tears down, only what runs in it is stopped.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from podlife.check import evidence
from podlife.check.features import NEEDS
from podlife.check.framework import Framework
from podlife.check.namespaces import delete_namespace, new_namespace, stop_workloads
from podlife.cluster import providers
from podlife.cluster.options import ProviderOptions
from podlife.cluster.provider import ClusterHandle
from podlife.core import paths
from podlife.core.errors import PodlifeError
from podlife.plugin.recording import record_cluster

RUN_ID_ENV = "PODLIFE_RUN_ID"
#: pytest's exit status when no cluster can be had: podlife's "usage or environment error".
ENVIRONMENT_ERROR = 2


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    """The cluster options, declared once in podlife.cluster.options (shared with `podlife
    run`); those pytest-kind defines too exist whether or not it is loaded."""
    from podlife.cluster import registry
    from podlife.cluster.options import add_to_pytest

    add_to_pytest(parser, pluginmanager, registry.names())


def _options(config: pytest.Config) -> ProviderOptions:
    return ProviderOptions.from_pytest(config)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "needs(*features): what a check needs of the cluster "
                            f"({', '.join(NEEDS)}); it ends unsupported (or skipped) with "
                            "the reason when the cluster lacks it")
    if not hasattr(config, "workerinput"):
        # Workers inherit the environment: they all find the same run id, so one cluster,
        # recorded as released by this process (podlife.cluster.providers.reap_abandoned).
        os.environ.setdefault(RUN_ID_ENV, uuid.uuid4().hex)
        os.environ[providers.OWNER_ENV] = providers.this_process()


def pytest_unconfigure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or RUN_ID_ENV not in os.environ:
        return
    providers.release(_options(config), os.environ[RUN_ID_ENV])


def run_dir(config: pytest.Config) -> Path:
    """Where this run's evidence goes: beside its results file, else ./reports/last-run/."""
    results = config.getoption("podlife_results", None)
    if results:
        return Path(config.invocation_params.dir, results).parent
    return paths.reports_dir() / "last-run"


@pytest.fixture(scope="session")
def cluster(pytestconfig: pytest.Config) -> ClusterHandle:
    """The cluster under test, ready (booted by this run, reused, kind or existing)."""
    opts = _options(pytestconfig)
    try:
        handle = providers.acquire(opts, os.environ[RUN_ID_ENV])
        deviations = providers.host_deviations(handle)
    except PodlifeError as exc:
        pytest.exit(f"podlife could not get a cluster: {exc}", returncode=ENVIRONMENT_ERROR)
    record_cluster(pytestconfig, handle.provider, handle.version, handle.name,
                   handle.kubelet_version, host_deviations=deviations)
    return handle


@pytest.fixture(scope="session")
def api(cluster: ClusterHandle) -> Any:
    return cluster.api_client()


def needs_of(item: pytest.Item) -> list[str]:
    """The item's needs, in podlife.check.features.NEEDS order; unknown names refused."""
    wanted = {name for mark in item.iter_markers("needs") for name in mark.args}
    unknown = wanted - set(NEEDS)
    if unknown:
        raise pytest.UsageError(f"{item.nodeid}: needs {', '.join(sorted(unknown))}, which "
                                f"podlife does not know. Fix: use one of {', '.join(NEEDS)}")
    return [name for name in NEEDS if name in wanted]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        needs_of(item)  # an unknown need stops the run at collection, in one line


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    """A check's needs are asked in its call, before its body: the verdict of a missing
    feature is the check's own (unsupported, skipped, fail or error), never a setup error."""
    framework = getattr(item, "funcargs", {}).get("f")
    for name in needs_of(item):
        if framework is None:
            raise pytest.UsageError(f"{item.nodeid} needs {name} but takes no `f` fixture")
        NEEDS[name](framework)


#: Set on a check's item when its call failed, so the fixture saves the evidence.
FAILED = pytest.StashKey[bool]()


@pytest.fixture
def f(request: pytest.FixtureRequest, cluster: ClusterHandle,
      api: Any) -> Generator[Framework, None, None]:
    """A Framework in a fresh namespace, cleaned up afterwards whatever happens."""
    from kubernetes import client as k8s

    core = k8s.CoreV1Api(api)
    namespace = new_namespace(core, request.node.name, os.environ[RUN_ID_ENV])
    from podlife.plugin.invariants import release_minor

    framework = Framework(api=api, namespace=namespace, images=cluster.images(),
                          may_change_nodes=cluster.may_change_nodes,
                          release_minor=release_minor(cluster.kubelet_version
                                                      or cluster.version))
    try:
        yield framework
    finally:
        for timeline in framework.timelines:
            request.node.user_properties.append(("podlife_timeline", timeline.to_dict()))
        if request.node.stash.get(FAILED, False):
            save_evidence(request, api, namespace, framework)
        with contextlib.suppress(Exception):
            clean_up(core, namespace, discards_cluster(request.config, cluster))


def clean_up(core: Any, namespace: str, cluster_goes_next: bool) -> None:
    """Stop what the check left running; delete its namespace unless the cluster goes next
    (and also when stopping the workloads alone fails)."""
    if cluster_goes_next:
        try:
            stop_workloads(core.api_client, namespace)
            return
        except Exception:  # the namespace deletion below is the fallback
            pass
    delete_namespace(core, namespace)


def discards_cluster(config: pytest.Config, cluster: ClusterHandle) -> bool:
    """True when the cluster goes after the run: this run booted it and tears it down (no
    --keep-cluster), or the user says so (--leave-namespaces). Its namespaces go with it,
    so the checks need not delete them one by one."""
    opts = _options(config)
    return opts.leave_namespaces or (cluster.created_by_run and not opts.keep_cluster)


def save_evidence(request: pytest.FixtureRequest, api: Any, namespace: str,
                  framework: Framework) -> None:
    """Dump the failed check's namespace; a dump that fails is reported, not swallowed."""
    out = run_dir(request.config) / "evidence" / evidence.safe_name(request.node.nodeid)
    try:
        evidence.dump_namespace(api, namespace, out)
        evidence.dump_finished(framework.finished, out)
        (out / "timelines.json").write_text(json.dumps(
            [t.to_dict() for t in framework.timelines], indent=1))
    except Exception as exc:  # any failure: the evidence is incomplete and must say so
        request.node.user_properties.append(
            ("podlife_dump_error", f"saving evidence to {out} failed: "
                                   f"{type(exc).__name__}: {exc}"))
    if out.is_dir():
        request.node.user_properties.append(
            ("podlife_dump", str(out.relative_to(run_dir(request.config)))))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item,
                              call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    """Mark failed checks, so the namespace fixture saves their evidence before cleanup."""
    report = yield
    if report.when == "call" and report.failed:
        item.stash[FAILED] = True
    return report
