"""The Go builds verify needs: upstream's e2e.test and agnhost, at the cluster's exact release.

Both compile from the k8s.io/kubernetes module with the module set shipped in
podlife/cluster/gobuild/e2e-<release>/ (or resolved once for other releases), with the Go toolchain
the release was built with, and land in the binary cache like the cluster's own builds.
"""

from __future__ import annotations

from podlife.cluster.build import GoBuild, kubernetes_build
from podlife.core.versions import KubeVersion, toolchain_for

E2E_PACKAGE = "k8s.io/kubernetes/test/e2e"
#: Releases whose e2e module set (go.mod, go.sum) ships in podlife/cluster/gobuild/e2e-<release>/;
#: others are resolved once with `go mod tidy`. 1.30.14 and 1.33.13 cannot be: the module
#: proxy serves no k8s.io/sample-apiserver v0.30.14 / v0.33.13, which test/e2e imports.
E2E_SHIPPED = ("1.28.15", "1.29.15", "1.31.0", "1.32.2", "1.34.4", "1.35.8", "1.36.5", "1.37.2")
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
