"""How a cluster under test comes to be, and how podlife may use it.

The options that choose a cluster, the providers (a local cluster built and booted by
podlife in local/, kind in kind/, or an existing cluster's kubeconfig), the access checks
made before any check runs, the Go builds and their verified cache, the OCI images podlife
builds without a registry, and what the providers share about the host. local/ and kind/
do not import each other.
"""
