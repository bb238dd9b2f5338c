"""tests/cluster: tests that need more than Python. They boot real local (or kind)
clusters, or act on the real host as root (cgroups, sysctls, network namespaces, locks
across namespaces), so every test here is marked `cluster`. `nox -s unit` leaves them out;
`nox -s tests` (what CI runs) runs them with the unit tests."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = __file__.rsplit("/", 1)[0]
    for item in items:
        if str(item.path).startswith(here + "/"):
            item.add_marker(pytest.mark.cluster)
