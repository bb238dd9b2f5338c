"""`podlife cluster verify`: build upstream's e2e.test for the cluster's release, import the
test images it needs, run the pinned pod-lifecycle specs, and say per spec what happened.

Upstream's specs are the reference podlife's own checks are measured against: if they
fail on a podlife cluster, the cluster (or the host) differs from what upstream tests.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path

from podlife.cluster import build
from podlife.core import paths
from podlife.core.errors import PodlifeError
from podlife.core.versions import KubeVersion
from podlife.run.verify import e2e, junit, manifest, specs
from podlife.run.verify.builds import agnhost_build, e2e_build
from podlife.run.verify.causes import KNOWN, cluster_deviations, deviation_for

Say = Callable[[str], None]


@dataclass
class Outcome:
    """One spec of the list, as verify reports it."""

    area: str
    entry: str
    name: str
    status: str  # passed, failed (or timedout, panicked...), skipped, error, absent
    seconds: float
    message: str = ""
    deviation: str = ""


def _build(spec: build.GoBuild, progress: build.Progress | None,
           timings: dict[str, float]) -> Path:
    cached = build.BinaryCache().is_complete(spec.key)
    started = time.monotonic()
    entry = build.build(spec, progress=progress)
    timings[spec.key] = 0.0 if cached else round(time.monotonic() - started, 1)
    return entry


def prepare(name: str, version: KubeVersion, say: Say, progress: build.Progress | None,
            timings: dict[str, float]) -> Path:
    """Build e2e.test and the images, import them into the cluster; returns e2e.test."""
    from podlife.cluster.kube_source import kube_module_dir
    from podlife.cluster.local.cluster import LocalCluster
    from podlife.run.verify import images

    say(f"building e2e.test and agnhost for {version} (cached after the first time)")
    e2e_dir = _build(e2e_build(version), progress, timings)
    agnhost_dir = _build(agnhost_build(version), progress, timings)
    module_dir = kube_module_dir(version)
    names = manifest.built_images(module_dir)
    archives = images.archives(version.tag, names, agnhost_dir / "agnhost", module_dir,
                               timings)
    ctr = build.build(next(s for s in build.support_builds() if "ctr" in s.binaries)) / "ctr"
    cluster = LocalCluster(name)
    for ref, archive in archives.items():
        say(f"importing {ref}")
        result = cluster.sandbox.run([str(ctr), "--address",
                                      str(cluster.layout.containerd_socket), "-n", "k8s.io",
                                      "images", "import", str(archive)], timeout=300)
        if result.returncode != 0:
            raise PodlifeError(f"importing {ref} into cluster '{name}' failed: "
                               f"{result.stderr.strip()[-300:]}",
                               f"delete {archive} so it is rebuilt, then retry")
    return e2e_dir / "e2e.test"


def select(entries: list[specs.Entry], listed: list[str]) -> tuple[list[tuple[specs.Entry, str]],
                                                                    list[specs.Entry]]:
    """(entry, spec name) for every listed spec an entry matches, and the absent entries."""
    chosen: list[tuple[specs.Entry, str]] = []
    seen: set[str] = set()
    absent = []
    for entry in entries:
        found = ([entry.spec] if entry.spec in listed else
                 [name for name in listed if entry.matches(name)])
        if not found:
            absent.append(entry)
        for name in found:
            if name not in seen:
                seen.add(name)
                chosen.append((entry, name))
    return chosen, absent


def outcomes(chosen: list[tuple[specs.Entry, str]], absent: list[specs.Entry],
             results: list[junit.SpecResult], tag: str,
             deviations: set[str] | frozenset[str] = frozenset()) -> list[Outcome]:
    """Per entry: each spec's result, labelled with the cluster's deviation that explains a
    failure; then the absent entries."""
    by_name = {r.name: r for r in results}
    out = []
    for entry, name in chosen:
        result = by_name[name]
        failed = result.status not in ("passed", "skipped")
        out.append(Outcome(area=entry.area, entry=entry.label, name=name,
                           status=result.status, seconds=result.seconds,
                           message=result.message,
                           deviation=deviation_for(result.message, set(deviations))
                           if failed else ""))
    out += [Outcome(area=entry.area, entry=entry.label, name=entry.label, status="absent",
                    seconds=0.0, message=f"the e2e.test of {tag} has no spec matching this "
                    "entry") for entry in absent]
    return out


def headline(outcome: Outcome) -> str:
    """The message line to show: the one naming the deviation's marker, else the first."""
    lines = [line.strip() for line in outcome.message.splitlines() if line.strip()]
    markers = KNOWN.get(outcome.deviation, ())
    return next((line for line in lines if any(m in line for m in markers)),
                lines[0] if lines else "")


def report(results: list[Outcome], wall: float, say: Say) -> None:
    """Per spec: status, seconds, name (and the deviation that explains a failure); plain
    lines on stdout, so logs and scripts see whole spec names."""
    for o in results:
        why = f"  [explained by host deviation {o.deviation}]" if o.deviation else ""
        say(f"{o.status.upper():8} {o.seconds:7.1f}s  {o.name}{why}")
        if o.status != "passed" and o.message:
            say(f"{'':18}{headline(o)[:200]}")
    counts: dict[str, int] = {}
    for o in results:
        counts[o.status] = counts.get(o.status, 0) + 1
    explained = sum(bool(o.deviation) for o in results)
    parts = [f"{n} {status}" for status, n in sorted(counts.items())]
    say(f"{len(results)} specs in {wall:.0f}s: {', '.join(parts)}"
        + (f" ({explained} failure(s) explained by a known host deviation)" if explained
           else ""))


def verify(name: str, which: str, *, shards: int, timeout_s: float, say: Say, show: Say,
           progress_bar: Callable[[], AbstractContextManager[build.Progress]] | None = None,
           ) -> int:
    """The whole command; returns 0 when every spec that ran passed, else 1.

    say tells progress (steps), show prints the results."""
    from podlife.cluster.local.state import ClusterInfo

    entries = specs.load(which)
    info = ClusterInfo.load(name)
    version = KubeVersion.parse(info.version)
    timings: dict[str, float] = {}
    with (progress_bar or nullcontext)() as progress:  # the bar only while building
        binary = prepare(name, version, say, progress, timings)
    out_dir = paths.reports_dir() / "verify" / name
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    listed = e2e.list_specs(binary, out_dir)
    chosen, absent = select(entries, listed)
    names = [spec_name for _, spec_name in chosen]
    if not names:
        raise PodlifeError(f"no spec of the {which} list is in the e2e.test of {version} "
                           f"({len(absent)} entries absent)",
                           "check podlife/run/verify/specs.yaml against "
                           f"'{binary} --list-tests'")
    groups = e2e.shards_of(names, shards) if names else []
    say(f"running {len(names)} upstream specs ({which} list) on '{name}' ({version}) in "
        f"{len(groups)} e2e.test process(es); logs in {out_dir}")
    started = time.monotonic()
    results = e2e.run_shards(binary, info.kubeconfig,
                             [e2e.Shard(group, out_dir / f"shard-{i}")
                              for i, group in enumerate(groups)], timeout_s)
    wall = time.monotonic() - started
    done = outcomes(chosen, absent, results, version.tag,
                    cluster_deviations(info.host_deviations))
    junit.write(out_dir / "junit.xml", f"podlife verify {which} {version.tag}",
                [junit.SpecResult(o.name, o.status, o.seconds, o.message) for o in done], wall)
    (out_dir / "verify.json").write_text(json.dumps({
        "cluster": name, "kubernetes_version": version.tag, "list": which,
        "wall_seconds": round(wall, 1), "build_seconds": timings,
        "specs": [asdict(o) for o in done]}, indent=2))
    report(done, wall, show)
    show(f"JUnit: {out_dir / 'junit.xml'}")
    return 0 if all(o.status in ("passed", "skipped", "absent") for o in done) else 1
