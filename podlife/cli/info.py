"""`podlife version`, `versions` and `providers`: what is installed, and what podlife can run
and where."""

from __future__ import annotations

import argparse

from podlife.cli.output import add_output_option, print_json
from podlife.core import about, paths, versions


def cluster_version(args: argparse.Namespace) -> str | None:
    """The server version of the cluster named by --kubeconfig or --reuse-cluster, if any."""
    from podlife.cluster import access

    if args.reuse_cluster:
        from podlife.cluster.local.cluster import ClusterInfo

        kubeconfig = str(ClusterInfo.load(args.reuse_cluster).kubeconfig)
    elif args.kubeconfig:
        kubeconfig = args.kubeconfig
    else:
        return None
    return access.server_version(access.load_client(kubeconfig), kubeconfig)


def cmd_version(args: argparse.Namespace) -> int:
    found = about.local_versions()
    server = cluster_version(args)
    if server is not None:
        found["cluster"] = server
    found["suites"] = str(paths.suites_dir())
    found["manifests"] = str(paths.manifests_dir())
    if args.output == "json":
        print_json(found)
    else:
        width = max(map(len, found))
        for name, value in found.items():
            print(f"{name.replace('_', ' '):<{width}}  {value}")
    return 0


def cmd_versions(args: argparse.Namespace) -> int:
    """The Kubernetes releases podlife pins (builds and boots), and what the matrix runs."""
    rows = [{"minor": minor, "release": f"v{release}",
             "go_toolchain": versions.GO_TOOLCHAIN.get(minor, "installed Go"),
             "default": release == versions.DEFAULT_VERSION,
             "in_matrix": minor in versions.MATRIX_VERSIONS}
            for minor, release in versions.PINNED.items()]
    if args.output == "json":
        print_json({"default": versions.DEFAULT_VERSION, "matrix": versions.MATRIX_VERSIONS,
                    "pinned": rows})
        return 0
    print(f"{'minor':<6} {'release':<10} {'go toolchain':<13} notes")
    for row in rows:
        notes = [n for n, on in (("default", row["default"]), ("matrix", row["in_matrix"])) if on]
        print(f"{row['minor']:<6} {row['release']:<10} {row['go_toolchain']:<13} "
              f"{', '.join(notes)}")
    return 0


def cmd_providers(args: argparse.Namespace) -> int:
    """Every provider --provider takes (podlife.cluster.registry), and what each gives."""
    from podlife.cluster import registry

    rows = [{"name": p.name, "host_deviations_known": p.knows_host_deviations,
             "gives": p.describe()} for p in registry.PROVIDERS.values()]
    if args.output == "json":
        print_json(rows)
        return 0
    width = max(len(row["name"]) for row in rows)
    for row in rows:
        print(f"{row['name']:<{width}}  {row['gives']}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `version` and `versions` to the top parser."""
    v = sub.add_parser("version", help="podlife, Python and client versions, and a cluster's "
                       "when one is named")
    v.add_argument("--kubeconfig", default=None, metavar="PATH",
                   help="also ask this cluster's API server its version (default: no cluster)")
    v.add_argument("--reuse-cluster", default=None, metavar="NAME",
                   help="also ask this local cluster its version (default: no cluster)")
    add_output_option(v)
    v.set_defaults(func=cmd_version)
    vs = sub.add_parser("versions", help="the Kubernetes releases podlife pins and runs")
    add_output_option(vs)
    vs.set_defaults(func=cmd_versions)
    pr = sub.add_parser("providers", help="where podlife can get a cluster under test "
                        "(the --provider values)")
    add_output_option(pr)
    pr.set_defaults(func=cmd_providers)
