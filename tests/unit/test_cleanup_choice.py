"""Whether a check's namespace is deleted or left for the cluster's teardown."""

from __future__ import annotations

from types import SimpleNamespace

from podlife.plugin.checks import discards_cluster


def test_a_cluster_goes_next_if_this_run_booted_and_does_not_keep_it_or_the_user_says() -> None:
    def config(**given: bool) -> SimpleNamespace:
        return SimpleNamespace(getoption=lambda name, default=None: given.get(name, default))

    booted = SimpleNamespace(created_by_run=True)
    existing = SimpleNamespace(created_by_run=False)
    assert discards_cluster(config(), booted)
    assert not discards_cluster(config(keep_cluster=True), booted)
    assert not discards_cluster(config(), existing)
    assert discards_cluster(config(leave_namespaces=True), existing)
