"""Every provider podlife knows, by name: the one place that lists them.

Nothing else branches on a provider's name: the CLI, the pytest plugin and the run records
ask this registry for the provider and then only call its protocol
(podlife.cluster.provider.Provider). Adding a provider is one module and one line here.
"""

from __future__ import annotations

from podlife.cluster.existing import KubeconfigProvider
from podlife.cluster.kind.provider import KindProvider
from podlife.cluster.local.provider import LocalProvider
from podlife.cluster.provider import Provider
from podlife.core.errors import PodlifeError

PROVIDERS: dict[str, Provider] = {}


def register(provider: Provider) -> Provider:
    PROVIDERS[provider.name] = provider
    return provider


def get(name: str) -> Provider:
    try:
        return PROVIDERS[name]
    except KeyError:
        raise PodlifeError(f"unknown provider '{name}'",
                           f"use one of: {', '.join(PROVIDERS)}") from None


def names() -> tuple[str, ...]:
    return tuple(PROVIDERS)


register(LocalProvider())
register(KindProvider())
register(KubeconfigProvider())
