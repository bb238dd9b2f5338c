"""The kind provider: kind (built from its Go module) through pytest-kind, on podlife's own
Docker engine, with node images assembled offline from podlife's builds.

engine runs and undoes dockerd, base_image and node_image(s) make the images, config and
binary prepare kind, cluster creates and deletes clusters, boot checks a node runs pods.
"""
