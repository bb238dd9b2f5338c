"""The Go builds verify needs: upstream's e2e.test and agnhost, at the cluster's exact release.

Both compile from the k8s.io/kubernetes module with the module set shipped in
podlife/gobuild/e2e-<release>/ (or resolved once for other releases), with the Go toolchain
the release was built with, and land in the binary cache like the cluster's own builds.
"""

from __future__ import annotations

from podlife.build import GoBuild, kubernetes_build
from podlife.versions import KubeVersion, toolchain_for

E2E_PACKAGE = "k8s.io/kubernetes/test/e2e"
AGNHOST_PACKAGE = "k8s.io/kubernetes/test/images/agnhost"


def e2e_key(version: KubeVersion) -> str:
    return f"e2e-{version.tag}"


def e2e_build(version: KubeVersion) -> GoBuild:
    """e2e.test (`go test -c`), stamped with the release like upstream's own build."""
    return GoBuild(key=e2e_key(version), module="k8s.io/kubernetes", version=version.tag,
                   binaries={"e2e.test": E2E_PACKAGE},
                   ldflags=kubernetes_build(version).ldflags,
                   toolchain=toolchain_for(version), test=True)


def agnhost_build(version: KubeVersion) -> GoBuild:
    """agnhost from the same tree: the '+agnhost' key shares e2e.test's module set."""
    return GoBuild(key=f"{e2e_key(version)}+agnhost", module="k8s.io/kubernetes",
                   version=version.tag, binaries={"agnhost": AGNHOST_PACKAGE},
                   toolchain=toolchain_for(version))
