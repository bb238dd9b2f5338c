"""`podlife kind-image` and `podlife kind up/down`: kind's node image built offline, and
kind clusters on podlife's own Docker engine."""

from __future__ import annotations

import argparse
import json

from podlife.cli.output import console
from podlife.core import versions

DEFAULT_NAME = "podlife-kind"


def _say(text: str) -> None:
    console.print(f"\\[kind] {text}")


def cmd_kind_image(args: argparse.Namespace) -> int:
    from podlife.cluster.kind import engine, node_image

    version = versions.resolve(args.version)
    with engine.locked():
        engine.start()
        try:
            name = node_image.ensure(version, _say, force=args.force)
        finally:
            engine.stop_if_unused()
    console.print(name)
    return 0


def cmd_kind_up(args: argparse.Namespace) -> int:
    from podlife.cluster.kind import cluster
    from podlife.cluster.local.workers import check_count

    check_count(args.workers)
    boot = cluster.up(args.name, versions.resolve(args.version), _say, workers=args.workers)
    console.print(json.dumps({"name": args.name, "kubeconfig": str(cluster.kubeconfig(args.name)),
                              **boot.__dict__}))
    return 0


def cmd_kind_down(args: argparse.Namespace) -> int:
    from podlife.cluster.kind import cluster

    cluster.delete(args.name)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    img = sub.add_parser("kind-image", help="build kind's node image of a release offline, "
                         "from podlife's own builds")
    img.add_argument("--version", default=None, help="Kubernetes release, e.g. 1.33 "
                     f"(default: {versions.DEFAULT_VERSION})")
    img.add_argument("--force", action="store_true",
                     help="rebuild even if the image exists (default: off, reused)")
    img.set_defaults(func=cmd_kind_image)
    k = sub.add_parser("kind", help="kind clusters on podlife's own Docker engine")
    ksub = k.add_subparsers(dest="action", required=True)
    up = ksub.add_parser("up", help="create a kind cluster; prints its boot times")
    up.add_argument("--version", default=None, help="Kubernetes release "
                    f"(default: {versions.DEFAULT_VERSION})")
    up.add_argument("--workers", type=int, default=0, metavar="N",
                    help="worker nodes beside the control plane, 0-5, their pod network "
                    "wired by podlife (no kindnetd offline) (default: 0)")
    up.add_argument("--name", default=DEFAULT_NAME,
                    help=f"the kind cluster's name (default: {DEFAULT_NAME})")
    up.set_defaults(func=cmd_kind_up)
    down = ksub.add_parser("down", help="delete a kind cluster (and stop the engine when "
                           "it was the last)")
    down.add_argument("--name", default=DEFAULT_NAME,
                      help=f"the kind cluster's name (default: {DEFAULT_NAME})")
    down.set_defaults(func=cmd_kind_down)
