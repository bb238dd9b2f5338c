"""The selftest: podlife proves its own power by failing on clusters that break a behaviour.

For each mutant: build the patched binaries through the normal build pipeline (only they
are recompiled; the Go build cache keeps the rest), boot a local cluster with them in place
of the release's, run the suite, and record which checks failed. A mutant that no check
catches is a selftest failure: the suite could not tell that cluster from a healthy one.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from podlife.cluster import build
from podlife.core import paths, versions
from podlife.core.errors import PodlifeError
from podlife.results.results_file import load_run
from podlife.run.selftest.mutants import Mutant, shadow_module_cache

Step = Callable[[str], None]

#: What may catch a mutant: "all" (the whole suite, each check judged by the model too),
#: "model" (only the model: the fixed generated pods, then exploring), or "hand" (only the
#: hand-written checks' own assertions, the model off).
ORACLES = ("all", "model", "hand")


def stages(oracle: str, explore_budget_s: float) -> list[list[str]]:
    """The pytest argument lists run one after another on the mutant's cluster until one
    catches it."""
    if oracle == "hand":
        return [["--no-invariants", "-k", "not generated_pods"]]
    if oracle == "model":
        found = [["-k", "test_generated_pod"]]
        if explore_budget_s > 0:
            found.append(["--explore", "--explore-budget", str(explore_budget_s)])
        return found
    return [[]]


@dataclass
class MutantResult:
    """What the suite made of one mutant cluster."""

    mutant: str
    description: str
    caught_by: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)
    passed: int = 0
    build_s: float = 0.0
    suite_s: float = 0.0
    results: str = ""
    oracle: str = "all"
    #: Generated pods explored before it was caught (or the budget ran out).
    explored: int = 0

    @property
    def caught(self) -> bool:
        return bool(self.caught_by)


def mutant_build(mutant: Mutant, version: versions.KubeVersion) -> build.GoBuild:
    """The release's build (its shipped go.mod and go.sum), restricted to the mutant's
    binaries, compiled against a module cache in which the patched files replace upstream's."""
    base = build.kubernetes_build(version)
    key = f"{base.key}+{mutant.build_key}"
    binaries = {name: pkg for name, pkg in base.binaries.items() if name in mutant.binaries}
    source = paths.cache_dir() / "selftest" / "src" / key
    return build.GoBuild(**{**base.__dict__, "key": key, "binaries": binaries,
                            "gomodcache": str(shadow_module_cache(mutant, source))})


def bin_dir(mutant: Mutant, version: versions.KubeVersion,
            progress: build.Progress | None = None) -> Path:
    """A directory of the release's five binaries with the mutant's in place (symlinks)."""
    release = build.build(build.kubernetes_build(version), progress=progress)
    patched = build.build(mutant_build(mutant, version), progress=progress)
    out = paths.cache_dir() / "selftest" / f"{version.tag}+{mutant.name}"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name in build.KUBE_BINARIES:
        source = patched if name in mutant.binaries else release
        (out / name).symlink_to(source / name)
    return out


def run_mutant(mutant: Mutant, version: versions.KubeVersion, *, workers: int,
               pytest_args: list[str], step: Step,
               progress: build.Progress | None = None, oracle: str = "all",
               explore_budget_s: float = 0.0, worker_nodes: int = 0) -> MutantResult:
    """Build, boot (with `worker_nodes` worker nodes: the multi-node checks run only
    there), run the suite (or the oracle's stages until one catches it), tear down; the
    cluster is gone whatever happens."""
    import os

    from podlife.cluster.local.cluster import LocalCluster
    from podlife.run.runner import run_suite

    result = MutantResult(mutant.name, mutant.description, oracle=oracle)
    started = time.monotonic()
    step(f"{mutant.name}: building {', '.join(mutant.binaries)} with the patch")
    binaries = bin_dir(mutant, version, progress)
    result.build_s = round(time.monotonic() - started, 1)
    cluster = LocalCluster(f"st-{mutant.name}"[:30].rstrip("-"))
    cluster.down()
    try:
        step(f"{mutant.name}: booting a cluster with the patched binaries")
        cluster.up(version, kube_bin_dir=binaries, workers=worker_nodes)
        started = time.monotonic()
        os.environ["PODLIFE_EXPLORE_SHARDS"] = str(workers)
        os.environ["PODLIFE_EXPLORE_OUT"] = str(paths.reports_dir() / "explore" / mutant.name)
        for index, args in enumerate(stages(oracle, explore_budget_s)):
            step(f"{mutant.name}: running the suite ({oracle} oracle"
                 f"{', exploring' if '--explore' in args else ''})")
            outcome = run_suite(["--reuse-cluster", cluster.name, *args, *pytest_args],
                                label=f"selftest-{mutant.name}-{oracle}-{index}",
                                workers=workers, quiet=True)
            _collect(result, outcome.results)
            if result.caught:
                break
        result.suite_s = round(time.monotonic() - started, 1)
    finally:
        cluster.down()
    return result


def _collect(result: MutantResult, results: Path) -> None:
    run = load_run(results)
    result.results = str(results)
    for check in run.checks:
        result.explored += check.explored
        if check.verdict == "fail":
            result.caught_by.append(check.key)
            result.reasons[check.key] = check.reason.splitlines()[0] if check.reason else ""
        elif check.verdict == "pass":
            result.passed += 1


def write_report(results: list[MutantResult], out: Path | None = None) -> Path:
    oracle = results[0].oracle if results else "all"
    name = "selftest.json" if oracle == "all" else f"selftest-{oracle}.json"
    out = out or paths.reports_dir() / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps([{**asdict(r), "caught": r.caught} for r in results],
                              indent=2) + "\n")
    return out


def require_default(version: versions.KubeVersion) -> None:
    """The patches are written against the default release's source."""
    if version.tag != versions.resolve(None).tag:
        raise PodlifeError(f"the mutants patch {versions.resolve(None).tag}, not {version.tag}",
                           "run the selftest on the default version")
