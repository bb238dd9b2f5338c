"""The options that choose the cluster under test, declared once.

`podlife run` (and, where they make sense, `podlife matrix`) and pytest both register them
from OPTIONS, so a flag has one name, one default and one help text wherever it is typed.
ProviderOptions is what either side parses them into, and `pytest_args` turns it back into
the command line that `podlife run` hands to pytest.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from podlife.core import versions

if TYPE_CHECKING:
    import pytest

IMAGE_SETS = ("local", "public")


@dataclass(frozen=True)
class Option:
    """One cluster option: its flag, the ProviderOptions field it fills, and how to parse it.

    `for_matrix` marks those that `podlife matrix` accepts and hands to every version's run.
    """

    flag: str
    help: str
    default: str | bool | None = None
    choices: tuple[str, ...] | None = None
    metavar: str | None = None
    for_matrix: bool = False
    field: str | None = None

    @property
    def dest(self) -> str:
        """The ProviderOptions field, also the argparse/pytest dest: one name everywhere."""
        return self.field or self.flag.removeprefix("--").replace("-", "_")

    @property
    def is_switch(self) -> bool:
        return isinstance(self.default, bool)

    def add_to(self, add: Callable[..., Any], providers: tuple[str, ...] = ()) -> None:
        """Register on argparse (`add_argument`) or pytest (`addoption`): same signature.
        `providers` are the --provider choices."""
        if self.flag == "--provider":
            add(self.flag, dest=self.dest, default=self.default, choices=providers,
                help=self.help)
        elif self.is_switch:
            add(self.flag, dest=self.dest, action="store_true", help=self.help)
        else:
            add(self.flag, dest=self.dest, default=self.default, choices=self.choices,
                metavar=self.metavar, help=self.help)


OPTIONS: tuple[Option, ...] = (
    # Its choices are the registry's names (podlife.cluster.registry, which imports the
    # providers, which import this module): given by whoever registers the options.
    Option("--provider", default="local",
           help="where the cluster under test comes from: a booted local cluster, kind, or "
                "an existing cluster's kubeconfig (default: local)"),
    Option("--kube-version", metavar="VERSION",
           help="Kubernetes version of a booted local or kind cluster, e.g. 1.33 or 1.33.5 "
                f"(default: {versions.DEFAULT_VERSION})"),
    Option("--kubelet-version", metavar="VERSION",
           help="local clusters: run the kubelet and kube-proxy of this release under the "
                "--kube-version control plane, e.g. 1.30 under 1.33, within the skew policy "
                "(default: the same release)"),
    Option("--worker-nodes", metavar="N", for_matrix=True,
           help="local clusters: worker nodes beside the control plane's node, 0-5, each "
                "with its own namespaces, containerd, kubelet and kube-proxy, as `cluster up "
                "--workers N` (default: 0, one node; --workers is pytest's)"),
    Option("--control-planes", metavar="M", for_matrix=True,
           help="local clusters: control-plane instances, 1 or 3, as `cluster up "
                "--control-planes` (default: 1)"),
    Option("--reuse-cluster", metavar="NAME",
           help="use this local (or kind) cluster, already up, instead of booting one "
                "(default: boot a new one)"),
    Option("--keep-cluster", default=False, for_matrix=True,
           help="leave the cluster this run booted running afterwards (default: off, it is "
                "torn down)"),
    Option("--leave-namespaces", default=False, for_matrix=True,
           help="after each check stop what it runs but leave its namespace, for a cluster "
                "you delete afterwards (default: on for a cluster this run boots and tears "
                "down, off elsewhere: the namespaces are deleted)"),
    Option("--feature-gates", metavar="K=V,...", for_matrix=True,
           help="feature gates for every component of a booted local cluster "
                "(default: the release's own defaults)"),
    Option("--kubeconfig", metavar="PATH",
           help="--provider kubeconfig: the existing cluster's kubeconfig "
                "(default: $KUBECONFIG)"),
    Option("--allow-node-changes", default=False,
           help="existing clusters: allow the check that adds an extended resource to a "
                "node and creates a RuntimeClass of its own, removing both afterwards "
                "(default: off, that check is skipped)"),
    Option("--images", choices=IMAGE_SETS, field="image_set",
           help="existing clusters: 'local' if podlife's own images are imported there "
                "(e.g. a podlife local cluster), else 'public' (default: local on local "
                "clusters, public elsewhere)"),
    Option("--image-registry", metavar="HOST",
           help="existing clusters: pull podlife's images from this registry mirror "
                "(default: the images' public registries)"),
)


@dataclass
class ProviderOptions:
    """The parsed cluster options, whichever command line they came from."""

    provider: str = "local"
    kube_version: str | None = None
    kubelet_version: str | None = None
    worker_nodes: str | None = None
    control_planes: str | None = None
    reuse_cluster: str | None = None
    keep_cluster: bool = False
    leave_namespaces: bool = False
    feature_gates: str | None = None
    kubeconfig: str | None = None
    allow_node_changes: bool = False
    image_registry: str | None = None
    image_set: str | None = None

    @classmethod
    def from_values(cls, get: Callable[[str, Any], Any]) -> ProviderOptions:
        """Build from any lookup of option values by dest (argparse or pytest)."""
        return cls(**{o.dest: get(o.dest, o.default) for o in OPTIONS})

    @classmethod
    def from_namespace(cls, args: argparse.Namespace) -> ProviderOptions:
        return cls.from_values(lambda dest, default: getattr(args, dest, default))

    @classmethod
    def from_pytest(cls, config: pytest.Config) -> ProviderOptions:
        return cls.from_values(config.getoption)


def _check_fields_match() -> None:
    """Fail at import if OPTIONS and ProviderOptions drift apart (names or defaults)."""
    declared = {(o.dest, o.default) for o in OPTIONS}
    held = {(f.name, f.default) for f in fields(ProviderOptions)}
    if declared != held:
        raise AssertionError(f"options.OPTIONS and ProviderOptions differ: {declared ^ held}")


_check_fields_match()


def add_to_argparse(parser: argparse.ArgumentParser, providers: tuple[str, ...], *,
                    matrix: bool = False) -> None:
    """Register the options on `podlife run` (all), or `podlife matrix` (those it passes on)."""
    title = "cluster options (passed on to each version's run)" if matrix else "cluster options"
    group = parser.add_argument_group(title)
    for option in OPTIONS:
        if option.for_matrix or not matrix:
            option.add_to(group.add_argument, providers)


#: Flags pytest-kind (a dependency, the kind provider's cluster fixture) defines on pytest,
#: with the same meaning and dests as podlife's.
PYTEST_KIND = "pytest-kind"  # its pytest11 entry point: `-p no:pytest-kind` turns it off
PYTEST_KIND_FLAGS = frozenset({"--kubeconfig", "--keep-cluster"})


def add_to_pytest(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager,
                  providers: tuple[str, ...]) -> None:
    """Register the options on pytest. A flag that pytest-kind defines is left to it when
    it is loaded (its registration would fail on a second one), and registered by podlife
    when it is not (`-p no:pytest-kind`, PYTEST_DISABLE_PLUGIN_AUTOLOAD): they always exist."""
    group = parser.getgroup("podlife cluster")
    taken = _pytest_flags(parser)
    if _pytest_kind_loads(pluginmanager):
        taken |= PYTEST_KIND_FLAGS
    for option in OPTIONS:
        if option.flag not in taken:
            option.add_to(group.addoption, providers)


def _pytest_kind_loads(pluginmanager: pytest.PytestPluginManager) -> bool:
    import os
    from importlib import metadata

    if pluginmanager.has_plugin(PYTEST_KIND):
        return True
    if pluginmanager.is_blocked(PYTEST_KIND) or os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        return False
    return any(ep.name == PYTEST_KIND for ep in metadata.entry_points(group="pytest11"))


def _pytest_flags(parser: pytest.Parser) -> set[str]:
    """Every flag registered on pytest so far, in any group (pytest has no public lookup)."""
    groups = [parser._anonymous, *parser._groups]
    return {name for group in groups for opt in group.options for name in opt.names()}


def pytest_args(opts: ProviderOptions, only: Iterable[Option] = OPTIONS) -> list[str]:
    """The pytest command line that selects the same cluster: only what differs from default."""
    out: list[str] = []
    for option in only:
        value = getattr(opts, option.dest)
        if value == option.default:
            continue
        out += [option.flag] if option.is_switch else [option.flag, str(value)]
    return out


def matrix_args(args: argparse.Namespace) -> list[str]:
    """The cluster options `podlife matrix` passes on to each version's `podlife run`."""
    return pytest_args(ProviderOptions.from_namespace(args),
                       [o for o in OPTIONS if o.for_matrix])


def worker_count(opts: ProviderOptions) -> int:
    """--worker-nodes as a number; one line for anything that is not 0-5."""
    from podlife.core.errors import PodlifeError

    if opts.worker_nodes is None:
        return 0
    try:
        count = int(opts.worker_nodes)
    except ValueError:
        raise PodlifeError(f"--worker-nodes {opts.worker_nodes!r} is not a number",
                           "give 0 (one node, the default) to 5 worker nodes") from None
    if not 0 <= count <= 5:
        raise PodlifeError(f"--worker-nodes {count} is outside 0-5",
                           "give 0 (one node, the default) to 5 worker nodes")
    return count


def control_plane_count(opts: ProviderOptions) -> int:
    """--control-planes as a number: 1 or 3, else one line."""
    from podlife.core.errors import PodlifeError

    if opts.control_planes is None:
        return 1
    if opts.control_planes not in ("1", "3"):
        raise PodlifeError(f"--control-planes {opts.control_planes!r}: podlife runs 1 or 3 "
                           "(etcd needs an odd number of members)",
                           "give --control-planes 1 (the default) or 3")
    return int(opts.control_planes)


def local_only_given(opts: ProviderOptions) -> list[str]:
    """The options only a local cluster the run boots can honour, among those given."""
    given = {"--kubelet-version": opts.kubelet_version is not None,
             "--worker-nodes": opts.worker_nodes not in (None, "0"),
             "--control-planes": opts.control_planes not in (None, "1")}
    return [flag for flag, set_ in given.items() if set_]
