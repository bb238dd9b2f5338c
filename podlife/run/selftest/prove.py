"""Each mutant breaks what it claims: upstream's own unit tests of the patched package say so.

The package's tests run twice, from the mutant's build module: against the real module
cache and against the mutant's shadow cache. The tests that pass healthy and fail patched
are the proof: the tests of the behaviour the patch breaks. A test that fails healthy too
(one that needs what this host lacks) proves nothing either way and is listed apart.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

from podlife.cluster import build
from podlife.core import paths, versions
from podlife.core.errors import PodlifeError
from podlife.run.selftest.mutants import Mutant
from podlife.run.selftest.run import Step, mutant_build

_TIMEOUT_S = 1800


@dataclass
class Proof:
    mutant: str
    package: str
    healthy_failed: list[str] = field(default_factory=list)
    mutant_failed: list[str] = field(default_factory=list)
    passed: int = 0
    seconds: float = 0.0

    @property
    def broken_by_patch(self) -> list[str]:
        """Failing only with the patch: what the mutant breaks, in upstream's words."""
        return sorted(set(self.mutant_failed) - set(self.healthy_failed))

    @property
    def proven(self) -> bool:
        return bool(self.broken_by_patch)


def go_test(package: str, spec: build.GoBuild, *, shadow: bool) -> dict[str, str]:
    """Top-level test name -> 'pass' or 'fail' for one `go test` of the package."""
    workdir = paths.cache_dir() / "work" / spec.key
    env = {**os.environ, "GOFLAGS": "-mod=mod", "GOTOOLCHAIN": spec.toolchain}
    if shadow:
        env["GOMODCACHE"] = spec.gomodcache
    # -trimpath, as the builds use: the shadow cache's paths then hash like the real ones,
    # so only what the patch changes is recompiled.
    # "package -run REGEX" in a mutant's header narrows a large package to the tests of the
    # patched function (pkg/kubelet's whole test run takes many minutes).
    package, *narrow = package.split()
    # Upstream's tests leave dirs in TMPDIR (test-kuberc*): a dir of podlife's own takes them.
    with tempfile.TemporaryDirectory(prefix="go-test-", dir=paths.cache_dir() / "work",
                                     ignore_cleanup_errors=True) as tmp:
        proc = subprocess.run(["go", "test", "-trimpath", "-json", "-count=1", *narrow, package],
                              cwd=workdir, env={**env, "TMPDIR": tmp}, capture_output=True,
                              text=True, timeout=_TIMEOUT_S, check=False)
    outcomes: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        test = event.get("Test") or ""
        if test and "/" not in test and event.get("Action") in ("pass", "fail"):
            outcomes[test] = event["Action"]
    if not outcomes:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise PodlifeError(f"go test {package} ran no test: {' | '.join(tail)}",
                           f"run it by hand in {workdir} to see why")
    return outcomes


def prove(mutant: Mutant, version: versions.KubeVersion) -> Proof:
    spec = mutant_build(mutant, version)
    build.build(spec)  # its module files (and its binaries, cached for the selftest)
    started = time.monotonic()
    healthy = go_test(mutant.unit_tests, spec, shadow=False)
    patched = go_test(mutant.unit_tests, spec, shadow=True)
    return Proof(mutant.name, mutant.unit_tests,
                 healthy_failed=sorted(t for t, r in healthy.items() if r == "fail"),
                 mutant_failed=sorted(t for t, r in patched.items() if r == "fail"),
                 passed=sum(r == "pass" for r in patched.values()),
                 seconds=round(time.monotonic() - started, 1))


def prove_all(chosen: list[Mutant], version: versions.KubeVersion, *, step: Step) -> int:
    """Prove each mutant; print what failed; exit status 1 if any is not proven."""
    proofs = []
    for mutant in chosen:
        step(f"{mutant.name}: upstream tests of {mutant.unit_tests}, healthy and patched")
        proof = prove(mutant, version)
        proofs.append(proof)
        step(f"{mutant.name}: {'proven' if proof.proven else 'NOT PROVEN'}: only the patched "
             f"build fails {proof.broken_by_patch or 'nothing'}; failing either way "
             f"(host) {proof.healthy_failed or 'nothing'}; {proof.passed} tests pass "
             f"patched; {proof.seconds}s")
    out = paths.reports_dir() / "selftest-proofs.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps([{**p.__dict__, "broken_by_patch": p.broken_by_patch,
                                "proven": p.proven} for p in proofs],
                              indent=2) + "\n")
    step(f"proofs: {out}")
    return 0 if all(p.proven for p in proofs) else 1
