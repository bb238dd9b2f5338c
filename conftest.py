"""Root conftest: podlife's pytest plugins, for the conformance suites and podlife's own tests."""

pytest_plugins = ["podlife.pytest_results", "podlife.pytest_plugin"]
