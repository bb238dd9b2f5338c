"""podlife: end-to-end conformance checks for pod lifecycle (init containers, sidecars)."""

__version__ = "0.1.0"
