"""`nox -s bench`: measured speed of podlife's own steps, printed and saved to reports/bench.json.

Measures what users wait for: building components (cold, with --cold), booting a cluster
from cached binaries (to node Ready with DNS answering), tearing it down, the cluster's
peak memory, the whole suite on one version with the cluster up (per check too) and,
with --matrix, the matrix's wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from podlife import build, paths, versions
from podlife.local.cluster import LocalCluster
from podlife.options import ProviderOptions, pytest_args
from podlife.runner import run_suite

console = Console()


def cold_builds(version: versions.KubeVersion) -> dict[str, float]:
    """Build every component into an empty cache with an empty Go build cache.

    Go modules stay cached (downloads are the network's speed, not podlife's).
    """
    times = {}
    with tempfile.TemporaryDirectory(prefix="podlife-bench-") as tmp:
        env_backup = dict(os.environ)
        os.environ["PODLIFE_CACHE"] = str(Path(tmp) / "cache")
        os.environ["GOCACHE"] = str(Path(tmp) / "gocache")
        try:
            for spec in [build.kubernetes_build(version), *build.support_builds()]:
                started = time.monotonic()
                build.build(spec)
                times[spec.key] = round(time.monotonic() - started, 1)
                console.print(f"cold build {spec.key}: {times[spec.key]}s")
        finally:
            os.environ.clear()
            os.environ.update(env_backup)
    return times


def recorded_builds() -> dict[str, float]:
    """Build times recorded in the cache when each entry was first built on this machine."""
    out = {}
    for manifest in sorted((paths.cache_dir() / "bin").glob("*/podlife-build.json")):
        out[manifest.parent.name] = json.loads(manifest.read_text()).get("build_seconds")
    return out


def boots(version: versions.KubeVersion, count: int) -> tuple[list[float], list[float]]:
    """Boot and tear down `count` times; returns boot and teardown seconds."""
    boot_times, down_times = [], []
    for index in range(count):
        cluster = LocalCluster(f"bench{index}")
        cluster.down()
        info = cluster.up(version)
        boot_times.append(info.boot_seconds)
        started = time.monotonic()
        cluster.down()
        down_times.append(round(time.monotonic() - started, 2))
        console.print(f"boot {index + 1}: {info.boot_seconds}s, teardown {down_times[-1]}s")
    return boot_times, down_times


def suite(version: versions.KubeVersion, workers: int) -> dict:
    """The whole suite on one version with the cluster already up; per-check durations."""
    cluster = LocalCluster("bench-suite")
    cluster.down()
    cluster.up(version)
    try:
        outcome = run_suite(pytest_args(ProviderOptions(reuse_cluster="bench-suite")),
                            label=f"bench-{version.tag}", workers=workers, quiet=True)
        peak = cluster.cgroups.peak_memory_bytes()
    finally:
        cluster.down()
    checks = json.loads(outcome.results.read_text())["checks"]
    return {"seconds": round(outcome.seconds, 1), "workers": workers,
            "counts": outcome.counts(), "peak_memory_mib": round((peak or 0) / 2**20),
            "checks": {c["nodeid"]: [c["verdict"], c["duration_s"]] for c in checks}}


def matrix(list_: str, parallel: int) -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "podlife.cli", "matrix", "--versions", list_,
                    "--parallel", str(parallel)], check=False)
    return round(time.monotonic() - started, 1)


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="podlife.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--version", default=None, help="Kubernetes release to measure "
                        f"(default: {versions.DEFAULT_VERSION})")
    parser.add_argument("--boots", type=int, default=3,
                        help="boots and teardowns to time (default: 3)")
    parser.add_argument("--workers", type=int, default=4,
                        help="pytest-xdist workers for the suite (default: 4)")
    parser.add_argument("--cold", action="store_true",
                        help="measure cold builds, slow (default: off, recorded times only)")
    parser.add_argument("--no-suite", action="store_true",
                        help="skip timing the suite (default: off, it is timed)")
    parser.add_argument("--matrix", default=None, metavar="V,V,...",
                        help="versions to time as a matrix (default: none, no matrix)")
    parser.add_argument("--parallel", type=int, default=2,
                        help="the matrix's clusters at a time (default: 2)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    version = versions.resolve(args.version)
    result: dict = {"version": version.tag, "host_cpus": os.cpu_count()}
    result["builds_recorded_s"] = recorded_builds()
    if args.cold:
        result["builds_cold_s"] = cold_builds(version)
    boot_times, down_times = boots(version, args.boots)
    result["boot_s"] = {"median": statistics.median(boot_times), "all": boot_times}
    result["teardown_s"] = {"median": statistics.median(down_times), "all": down_times}
    if not args.no_suite:
        result["suite"] = suite(version, args.workers)
    if args.matrix:
        result["matrix_s"] = {"versions": args.matrix, "parallel": args.parallel,
                              "seconds": matrix(args.matrix, args.parallel)}
    out = paths.reports_dir() / "bench.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    table = Table("measure", "value")
    for key, value in result.items():
        if key == "suite":
            table.add_row("suite seconds", f"{value['seconds']} ({value['workers']} workers, "
                          f"{value['counts']})")
            table.add_row("cluster peak memory", f"{value['peak_memory_mib']} MiB")
            for nodeid, (verdict, secs) in sorted(value["checks"].items()):
                table.add_row(f"  {nodeid.split('::')[-1]}", f"{verdict} {secs:.1f}s")
        else:
            table.add_row(key, json.dumps(value))
    console.print(table)
    console.print(f"saved {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
