"""Orchestration: runs made of pytest sessions, clusters and upgrades.

One suite on one cluster, a version matrix, a soak, the upgrade chain with its drains and
long-running workloads, the benchmarks, the selftest of mutants (selftest/) and upstream's
own e2e specs (verify/). The CLI calls these; they call everything below them.
"""
