"""Running upstream's e2e.test: list its specs, run a group of them, in parallel shards.

e2e.test runs specs one after another; parallelism is the ginkgo CLI's, which podlife does
not ship. So the selected specs are dealt to a few e2e.test processes (shards), each with
an exact --ginkgo.focus and a report dir of its own, started together.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from podlife.core.errors import PodlifeError
from podlife.run.verify import junit
from podlife.run.verify.specs import go_escape

#: `e2e.test --list-tests` prints "    <file>:<line>: <full spec name>" per spec.
_LISTED = re.compile(r"^ {4}\S+:\d+: (.+)$")


def parse_listing(text: str) -> list[str]:
    """Full spec names from `e2e.test --list-tests` output."""
    return [m.group(1).rstrip() for line in text.splitlines() if (m := _LISTED.match(line))]


def list_specs(binary: Path, workdir: Path) -> list[str]:
    # Its test-kuberc* dir goes to a TMPDIR removed afterwards (see run_shards).
    with tempfile.TemporaryDirectory(prefix="e2e-list-") as scratch:
        proc = subprocess.run([str(binary), "--list-tests"], capture_output=True, text=True,
                              cwd=workdir, timeout=300, env={**os.environ, "TMPDIR": scratch})
    names = parse_listing(proc.stdout)
    if proc.returncode != 0 or not names:
        raise PodlifeError(f"{binary} --list-tests listed no specs (exit {proc.returncode}): "
                           f"{(proc.stderr or proc.stdout).strip()[-200:]}",
                           "delete its cache entry so it is rebuilt")
    return names


#: ginkgo matches --focus against the suite's description, a space, then the spec's full name.
SUITE = "Kubernetes e2e suite"


def exact_focus(names: list[str]) -> str:
    """A --ginkgo.focus that selects exactly these specs."""
    return f"^{SUITE} (?:" + "|".join(go_escape(name) for name in names) + ")$"


def shards_of(names: list[str], count: int) -> list[list[str]]:
    """Deal the specs round-robin (the list groups slow areas together: spread them)."""
    count = max(1, min(count, len(names)))
    return [names[i::count] for i in range(count)]


@dataclass
class Shard:
    """One e2e.test process: its specs, its report dir and log."""

    names: list[str]
    dir: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def junit_path(self) -> Path:
        return self.dir / "junit_01.xml"


def e2e_args(kubeconfig: Path, shard: Shard, timeout_s: float) -> list[str]:
    """Flags for a single-node cluster without a cloud, registry or SSH."""
    return [
        f"--kubeconfig={kubeconfig}", "--provider=local", f"--report-dir={shard.dir}",
        f"--ginkgo.focus={exact_focus(shard.names)}", f"--ginkgo.timeout={int(timeout_s)}s",
        "--ginkgo.no-color", "--ginkgo.v",
        # podlife's cluster has no kube-system pods to wait for beyond CoreDNS, no node logs
        # to gather over SSH, and its images are imported, not pulled.
        "--minStartupPods=0", "--disable-log-dump", "--prepull-images=false",
        "--allowed-not-ready-nodes=0", "--node-os-distro=debian",
    ]


def _scratch(shard: Shard) -> Path:
    return shard.dir / "tmp"


def run_shards(binary: Path, kubeconfig: Path, shards: list[Shard],
               timeout_s: float) -> list[junit.SpecResult]:
    """Start every shard, wait for all, and return each listed spec's result.

    A spec a shard did not report (e2e.test crashed, or the suite timed out before it)
    is an error, so nothing in the list goes missing from the results.
    """
    try:
        for shard in shards:
            shard.dir.mkdir(parents=True, exist_ok=True)
            # e2e.test writes kubeconfig copies (test-kuberc*, with credentials) to TMPDIR
            # and leaves them: a dir of the shard's own takes them, removed below.
            _scratch(shard).mkdir(exist_ok=True)
            log = (shard.dir / "e2e.log").open("wb")
            shard.proc = subprocess.Popen([str(binary), *e2e_args(kubeconfig, shard, timeout_s)],
                                          stdout=log, stderr=subprocess.STDOUT, cwd=shard.dir,
                                          env={**os.environ, "TMPDIR": str(_scratch(shard))},
                                          start_new_session=True)
            log.close()
        for shard in shards:
            assert shard.proc is not None
            shard.proc.wait()
    finally:
        for shard in shards:
            if shard.proc is not None and shard.proc.poll() is None:
                os.killpg(shard.proc.pid, signal.SIGKILL)
                shard.proc.wait()
            shutil.rmtree(_scratch(shard), ignore_errors=True)
    results = []
    for shard in shards:
        reported = ({r.name: r for r in junit.read(shard.junit_path)}
                    if shard.junit_path.is_file() else {})
        for name in shard.names:
            result = reported.get(name)
            if result is None or (result.status == "skipped" and result.message == "skipped"):
                # Not run at all (a skip at run time says why: "skipped - <reason>").
                result = junit.SpecResult(
                    name=name, status="error", seconds=0.0,
                    message=f"e2e.test (exit {shard.proc.returncode if shard.proc else '?'}) "
                            f"did not run it; see {shard.dir / 'e2e.log'}")
            results.append(result)
    return results
