"""Adding a provider takes one module and one line in podlife.cluster.registry.

In a temporary copy of the repository, a throwaway provider is added exactly as
CONTRIBUTING.md says: it hands out a local cluster that is already up, and records its
release. `podlife run --provider throwaway` then runs a check through it, the results name
the provider, and the provider releases the cluster it gave.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from podlife.cluster.local.cluster import ClusterInfo
from tests.helpers import local_cluster, repo_copy, run_in_copy

CLUSTER = "ci-newprovider"
PROVIDER = '''"""A provider added by a test: a local cluster that is already up."""

from pathlib import Path

from podlife.cluster.local.state import ClusterInfo
from podlife.cluster.provider import ClusterHandle


class ThrowawayProvider:
    name = "throwaway"
    knows_host_deviations = False

    def describe(self):
        return "the local cluster {cluster}, handed out as if it were new"

    def preflight(self, opts, progress):
        return "throwaway"

    def acquire(self, opts, run_id):
        info = ClusterInfo.load("{cluster}")
        return ClusterHandle("{cluster}", self.name, str(info.kubeconfig),
                             image_set="local", created_by_run=True)

    def release(self, handle):
        Path("{released}").write_text(handle.name)

    def host_deviations(self, handle):
        return None
'''
CHECK = "test_init_containers_run_in_order"


@pytest.fixture(scope="module")
def cluster() -> Iterator[ClusterInfo]:
    with local_cluster(CLUSTER) as info:
        yield info


def test_a_new_provider_runs_a_check_and_releases_its_cluster(cluster: ClusterInfo,
                                                             tmp_path: Path) -> None:
    copy = repo_copy(tmp_path / "repo")
    released = tmp_path / "released"
    (copy / "podlife" / "cluster" / "throwaway.py").write_text(
        PROVIDER.format(cluster=CLUSTER, released=released))
    registry = copy / "podlife" / "cluster" / "registry.py"
    registry.write_text(registry.read_text() + (
        "\nfrom podlife.cluster.throwaway import ThrowawayProvider  # noqa: E402\n\n"
        "register(ThrowawayProvider())\n"))
    results = tmp_path / "out" / "results.json"
    ran = run_in_copy(copy, "-m", "podlife.cli", "run", "--provider", "throwaway",
                      "--results", str(results), "--no-render", "--workers", "1",
                      "--", "-k", CHECK)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-2000:]
    written = json.loads(results.read_text())
    assert (written["provider"], written["cluster"]) == ("throwaway", CLUSTER)
    assert [(c["check_id"], c["verdict"]) for c in written["checks"]] == [(CHECK, "pass")]
    assert written["host_deviations"] is None  # the provider does not know them
    assert released.read_text() == CLUSTER

    unknown = run_in_copy(copy, "-m", "podlife.cli", "run", "--provider", "nope")
    assert unknown.returncode == 2 and "throwaway" in unknown.stderr  # listed as a choice
