"""Upstream's test image names, read from test/utils/image/manifest.go of the exact release.

e2e.test asks for images by these names (registry.k8s.io/e2e-test-images/agnhost:2.66.1
...). podlife builds the few the pinned specs run and imports them under exactly these
names, so the kubelet finds them present and nothing is pulled.
"""

from __future__ import annotations

import re
from pathlib import Path

from podlife.core.errors import PodlifeError

MANIFEST_GO = Path("test") / "utils" / "image" / "manifest.go"

_REGISTRY = re.compile(r'^\s*(\w+Registry):\s*"([^"]+)",', re.MULTILINE)
_CONFIG = re.compile(
    r'^\s*configs\[(\w+)\]\s*=\s*Config\{\s*list\.(\w+),\s*"([^"]+)",\s*"([^"]+)"\s*\}',
    re.MULTILINE)

#: The upstream image ids (manifest.go's ImageID constants) podlife builds.
BUILT = ("Agnhost", "BusyBox", "Pause")


def image_names(source: str) -> dict[str, str]:
    """Every image id of a manifest.go text mapped to its full reference."""
    registries = dict(_REGISTRY.findall(source))
    names = {}
    for image_id, registry_field, name, tag in _CONFIG.findall(source):
        if registry_field not in registries:
            raise PodlifeError(f"manifest.go names registry list.{registry_field} for "
                               f"{image_id}, which its initRegistry does not define",
                               "report this release to the podlife maintainers")
        names[image_id] = f"{registries[registry_field]}/{name}:{tag}"
    return names


def built_images(kube_module_dir: Path) -> dict[str, str]:
    """The full reference of each image podlife builds, for one release's source tree."""
    path = kube_module_dir / MANIFEST_GO
    if not path.is_file():
        raise PodlifeError(f"{path} is missing", "run 'podlife build' for this release first")
    names = image_names(path.read_text())
    missing = [image_id for image_id in BUILT if image_id not in names]
    if missing:
        raise PodlifeError(f"{path} defines no {', '.join(missing)} image",
                           "report this release to the podlife maintainers")
    return {image_id: names[image_id] for image_id in BUILT}
