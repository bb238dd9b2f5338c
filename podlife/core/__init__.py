"""The bottom layer: what every other part of podlife may use and which uses nothing of theirs.

Errors a user can fix, where podlife keeps things, locks, signals, the pinned Kubernetes
releases and their skew policy, strict reading of JSON-shaped records, a pod's timeline of
instrumented events, the map of image names, the host deviation record, and text made safe
to print. Nothing here talks to a cluster or knows which provider made one.
"""
