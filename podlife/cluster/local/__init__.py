"""The local provider: Kubernetes built from source and booted as real processes on this
host, each cluster in network and mount namespaces and a cgroup tree of its own.

cluster.py is the order of things (boot, upgrade, down); beside it, one module per job:
configure writes what components read, launch starts them, supervise keeps their
processes, readiness says when the next step may go, host keeps the kernel tunables, lock
serialises commands per cluster, deviations says how this host makes a cluster differ.
"""
