"""The pytest plugins that make the suites a podlife run.

checks: which cluster to test (from podlife.cluster's providers), a labelled namespace per
check, evidence on failure. recording: the session's results file. pytest loads both
through their pytest11 entry points, or the checkout's conftest.py.
"""
