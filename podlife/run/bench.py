"""`nox -s bench`: measured speed of podlife's own steps, printed and saved to reports/bench.json.

Measures what users wait for: building components (cold, with --cold), booting a cluster
from cached binaries (to node Ready with DNS answering, and each boot step's share; and as
new `podlife cluster up` processes, with the command's whole time),
tearing it down, the cluster's peak memory, the whole suite on one version with the
cluster up (per check, and the CPU it took against the time its checks spent waiting)
and, with --matrix, the matrix's wall time against one version's run of the same path,
with how busy the machine's CPUs were meanwhile (is the matrix CPU-bound?).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from podlife.cluster import build
from podlife.cluster.local import node
from podlife.cluster.local.cluster import ClusterInfo, LocalCluster
from podlife.cluster.options import ProviderOptions, pytest_args
from podlife.core import paths, versions
from podlife.run.runner import MATRIX_PARALLEL, MATRIX_WORKERS, run_suite

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


class StepClock:
    """A boot's `step` callback that keeps when each step began, to split its time."""

    def __init__(self) -> None:
        self.marks: list[tuple[str, float]] = []

    def __call__(self, message: str) -> None:
        self.marks.append((message, time.monotonic()))

    def durations(self, end: float) -> dict[str, float]:
        if not self.marks:
            return {}
        ends = [at for _, at in self.marks[1:]] + [end]
        return {name: round(stop - at, 2) for (name, at), stop in
                zip(self.marks, ends, strict=True)}


def boots(version: versions.KubeVersion, count: int,
          phases: list[dict[str, float]] | None = None) -> tuple[list[float], list[float]]:
    """Boot and tear down `count` times; returns boot and teardown seconds (and appends
    each boot's step durations to `phases`)."""
    boot_times, down_times = [], []
    for index in range(count):
        cluster = LocalCluster(f"bench{index}")
        cluster.down()
        clock = StepClock()
        info = cluster.up(version, step=clock)
        if phases is not None:
            phases.append(clock.durations(time.monotonic()))
        boot_times.append(info.boot_seconds)
        started = time.monotonic()
        cluster.down()
        down_times.append(round(time.monotonic() - started, 2))
        console.print(f"boot {index + 1}: {info.boot_seconds}s, teardown {down_times[-1]}s")
    return boot_times, down_times


def fresh_boots(version: versions.KubeVersion, count: int) -> dict:
    """`podlife cluster up` in a new process each time, as a user runs it: the boot the
    command reports, and the command's whole wall time (interpreter, imports, checks)."""
    boot_times, walls = [], []
    for index in range(count):
        name = f"bench-fresh{index}"
        LocalCluster(name).down()
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "podlife.cli", "cluster", "up", "--name", name,
                        "--version", version.tag], check=True, capture_output=True)
        walls.append(round(time.monotonic() - started, 2))
        boot_times.append(ClusterInfo.load(name).boot_seconds)
        LocalCluster(name).down()
        console.print(f"fresh boot {index + 1}: {boot_times[-1]}s (command {walls[-1]}s)")
    return {"median": round(statistics.median(boot_times), 2), "all": boot_times,
            "command_median": round(statistics.median(walls), 2), "command_all": walls}


def suite(version: versions.KubeVersion, workers: int, *, leave_namespaces: bool = True) -> dict:
    """The whole suite on one version with the cluster already up; per-check durations.

    The cluster is booted here (so its CPU can be read) and torn down after, as `podlife
    run` does with its own: by default the checks leave their namespaces as they do there.
    """
    cluster = LocalCluster("bench-suite")
    cluster.down()
    cluster.up(version)
    try:
        cluster_cpu = cpu_seconds_of(cluster.cgroups.name)
        components = process_cpu_seconds(cluster.supervisor.pids())
        pytest_cpu = children_cpu_seconds()
        opts = ProviderOptions(reuse_cluster="bench-suite", leave_namespaces=leave_namespaces)
        outcome = run_suite(pytest_args(opts),
                            label=f"bench-{version.tag}", workers=workers, quiet=True)
        cluster_cpu = cpu_seconds_of(cluster.cgroups.name) - cluster_cpu
        pytest_cpu = children_cpu_seconds() - pytest_cpu
        after = process_cpu_seconds(cluster.supervisor.pids())
        components = {name: round(after[name] - components[name], 1)
                      for name in sorted(after, key=after.get, reverse=True)
                      if name in components}
        peak = cluster.cgroups.peak_memory_bytes()
    finally:
        cluster.down()
    checks = json.loads(outcome.results.read_text())["checks"]
    durations = [c["duration_s"] for c in checks]
    return {"seconds": round(outcome.seconds, 1), "workers": workers,
            "namespaces": "left" if leave_namespaces else "deleted",
            "counts": outcome.counts(), "peak_memory_mib": round((peak or 0) / 2**20),
            "cpu_s": {"cluster": round(cluster_cpu, 1), "pytest": round(pytest_cpu, 1),
                      "components": components},
            "checks_sum_s": round(sum(durations), 1),
            "longest_check_s": round(max(durations, default=0), 1),
            "checks": {c["nodeid"]: [c["verdict"], c["duration_s"]] for c in checks}}


def cpu_seconds_of(cgroup: str) -> float:
    """CPU time of every process in a cluster's cgroup tree since it was made (cgroup v1
    cpuacct, or v2 cpu.stat)."""
    v1 = node.CGROUP_ROOT / "cpuacct" / cgroup / "cpuacct.usage"
    if v1.exists():
        return int(v1.read_text()) / 1e9
    stat = (node.CGROUP_ROOT / cgroup / "cpu.stat").read_text().split()
    return int(stat[stat.index("usage_usec") + 1]) / 1e6


def process_cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """CPU time (user + system) of each named live process so far: which component the
    suite's CPU goes to. Short-lived helpers (shims, CNI plugins, runc) are in the cgroup
    total only."""
    tick = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for name, pid in pids.items():
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            seconds[name] = (int(fields[11]) + int(fields[12])) / tick
    return seconds


def children_cpu_seconds() -> float:
    """CPU time of this process's finished children (the pytest runs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def busy_cpu_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine so far, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def matrix(list_: str, parallel: int, workers: int) -> dict:
    """Wall time of `podlife matrix` over `list_`, and how busy the CPUs were meanwhile."""
    busy, total = busy_cpu_ticks()
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "podlife.cli", "matrix", "--versions", list_,
                    "--parallel", str(parallel), "--workers", str(workers)], check=False)
    seconds = round(time.monotonic() - started, 1)
    busy_after, total_after = busy_cpu_ticks()
    return {"versions": list_, "parallel": parallel, "workers": workers, "seconds": seconds,
            "cpu_busy_percent": round(100 * (busy_after - busy) / (total_after - total), 1)}


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="podlife.run.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--version", default=None, help="Kubernetes release to measure "
                        f"(default: {versions.DEFAULT_VERSION})")
    parser.add_argument("--boots", type=int, default=3,
                        help="boots and teardowns to time in this process, with each step's "
                        "share (default: 3)")
    parser.add_argument("--fresh-boots", type=int, default=5,
                        help="boots to time as new 'podlife cluster up' processes (default: 5)")
    parser.add_argument("--workers", type=int, default=4,
                        help="pytest-xdist workers for the suite (default: 4)")
    parser.add_argument("--cold", action="store_true",
                        help="measure cold builds, slow (default: off, recorded times only)")
    parser.add_argument("--no-suite", action="store_true",
                        help="skip timing the suite (default: off, it is timed)")
    parser.add_argument("--delete-namespaces", action="store_true",
                        help="the suite deletes each check's namespace, as on a kept or "
                        "existing cluster (default: off, they go with the cluster)")
    parser.add_argument("--shapes", default=None, metavar="M+N,...",
                        help="also boot clusters of these shapes in turns, M control planes "
                             "+ N workers (e.g. 1+0,1+2,3+2): boot time and peak memory per "
                             "node by shape (default: off)")
    parser.add_argument("--matrix", default=None, metavar="V,V,...",
                        help="versions to time as a matrix (default: none, no matrix)")
    parser.add_argument("--parallel", type=int, default=MATRIX_PARALLEL,
                        help=f"the matrix's clusters at a time (default: {MATRIX_PARALLEL})")
    parser.add_argument("--matrix-workers", type=int, default=MATRIX_WORKERS,
                        help="pytest-xdist workers per version in the matrix "
                        f"(default: {MATRIX_WORKERS})")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    version = versions.resolve(args.version)
    result: dict = {"version": version.tag, "host_cpus": os.cpu_count()}
    result["builds_recorded_s"] = recorded_builds()
    if args.cold:
        result["builds_cold_s"] = cold_builds(version)
    phases: list[dict[str, float]] = []
    boot_times, down_times = boots(version, args.boots, phases)
    result["boot_s"] = {"median": round(statistics.median(boot_times), 2), "all": boot_times,
                        "steps_median": {step: round(statistics.median(p[step] for p in phases), 2)
                                         for step in phases[0]} if phases else {}}
    result["teardown_s"] = {"median": round(statistics.median(down_times), 2), "all": down_times}
    if args.shapes:
        from podlife.run.bench_shapes import shape_boots

        result["shapes"] = shape_boots(version, args.shapes.split(","), args.boots,
                                       console.print)
    if args.fresh_boots:
        result["fresh_boot_s"] = fresh_boots(version, args.fresh_boots)
    if not args.no_suite:
        result["suite"] = suite(version, args.workers,
                                leave_namespaces=not args.delete_namespaces)
    if args.matrix:
        one = matrix(version.tag, 1, args.matrix_workers)
        every = matrix(args.matrix, args.parallel, args.matrix_workers)
        result["matrix_s"] = {"one_version": one, "matrix": every,
                              "times_one_version": round(every["seconds"] / one["seconds"], 2)}
    out = paths.reports_dir() / "bench.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    table = Table("measure", "value")
    for key, value in result.items():
        if key == "suite":
            table.add_row("suite seconds", f"{value['seconds']} ({value['workers']} workers, "
                          f"namespaces {value['namespaces']}, {value['counts']})")
            table.add_row("cluster peak memory", f"{value['peak_memory_mib']} MiB")
            table.add_row("suite CPU", json.dumps(value["cpu_s"]))
            for nodeid, (verdict, secs) in sorted(value["checks"].items()):
                table.add_row(f"  {nodeid.split('::')[-1]}", f"{verdict} {secs:.1f}s")
        else:
            table.add_row(key, json.dumps(value))
    console.print(table)
    console.print(f"saved {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
