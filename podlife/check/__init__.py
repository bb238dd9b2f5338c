"""What a conformance check works with, and nothing else.

A Framework owns the clients and the check's namespace; beside it sit the small tools a
check is written in: apply objects, wait for pods and workloads (one watch-based wait with
named wrappers), read logs as evidence, instrument a tutorial manifest, name an ordering
claim, compute an effective resource request, detect a feature from the cluster's
behaviour, and say "unsupported" only for a documented absence. Checks in suites/ import
from here and from podlife.core only.
"""
