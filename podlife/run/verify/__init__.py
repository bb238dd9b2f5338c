"""`podlife cluster verify`: upstream's own pod-lifecycle e2e specs, run against a cluster."""
