"""One map of every image podlife's pods run, by logical name, for every provider.

Checks never name an image directly: they ask the image map, so the same checks run on a
local cluster (podlife's own archives, podlife.cluster.oci_images), on kind, or on an
existing cluster with public images or a mirror.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from podlife.core.errors import PodlifeError


@dataclass(frozen=True)
class ImageRef:
    """One logical image: what the local cluster imports, and its public equivalent."""

    local: str
    public: str


#: Every image podlife's own pods run, by logical name.
IMAGES: dict[str, ImageRef] = {
    "busybox": ImageRef(local="podlife.local/busybox:podlife-1", public="busybox:1.36.1"),
    "pause": ImageRef(local="podlife.local/pause:podlife-1", public="registry.k8s.io/pause:3.10"),
}


class ImageMap:
    """Resolves logical image names for one provider (local archives, or a registry)."""

    def __init__(self, provider: str, registry: str | None = None) -> None:
        self.provider = provider
        self.registry = registry.rstrip("/") if registry else None

    def ref(self, logical: str) -> str:
        try:
            image = IMAGES[logical]
        except KeyError:
            raise PodlifeError(f"no image named '{logical}' in podlife's image map",
                               f"use one of {', '.join(IMAGES)}") from None
        if self.provider == "local":
            return image.local
        if self.registry:
            return f"{self.registry}/{image.public.rsplit('/', 1)[-1]}"
        return image.public


_BARE_NC_PROBE = re.compile(r"(?<![/\w-])(?<!busybox )nc -z")


def adapt_command(command: list[str], provider: str) -> list[str]:
    """A manifest's own command, adjusted to the image it will run on.

    Debian's static busybox shell runs its built-in small `nc` in preference to anything on
    PATH, so the tutorial's `nc -z host port` would never reach the image's -z-capable
    /bin/nc. On the local image (only) a bare `nc -z` is therefore called by its path. The
    public busybox image understands `nc -z` as written, so other providers run it unchanged.
    """
    if provider != "local":
        return list(command)
    return [_BARE_NC_PROBE.sub("/bin/nc -z", arg) for arg in command]
