"""Root conftest: podlife's pytest plugins, for the conformance suites and podlife's own tests.

An installed podlife (editable or not) already loads them through its `pytest11` entry
points, which carry these module names, so pytest then skips them here. Listing them still
matters when podlife is only on PYTHONPATH, or with PYTEST_DISABLE_PLUGIN_AUTOLOAD=1.
"""

pytest_plugins = ["podlife.plugin.recording", "podlife.plugin.checks",
                  "podlife.plugin.invariants", "podlife.plugin.termination"]
