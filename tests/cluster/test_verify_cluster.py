"""`podlife cluster verify --specs ci` on a booted local cluster: upstream's e2e.test, built
for the cluster's release, runs the short list and every spec passes.

Selected with `-m fidelity` only (it builds e2e.test, minutes when cold): CI runs the same
through `nox -s fidelity -- --specs ci` in .ci/run, so `nox -s tests` leaves it out.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from podlife.cluster.local.cluster import LocalCluster
from podlife.core import versions
from podlife.run.verify import specs

pytestmark = [pytest.mark.cluster, pytest.mark.fidelity]
NAME = "vf-ci"  # a name of its own: CI and users keep theirs


@pytest.fixture(scope="module")
def cluster(request: pytest.FixtureRequest) -> Iterator[str]:
    if "fidelity" not in (request.config.getoption("-m") or ""):
        pytest.skip("builds upstream's e2e.test: select it with -m fidelity")
    local = LocalCluster(NAME)
    local.down()
    local.up(versions.resolve(None), timeout=600)
    yield NAME
    local.down()


def test_ci_list_passes_and_is_reported_per_spec(cluster: str, tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "podlife.cli", "cluster", "verify", "--name",
                           cluster, "--specs", "ci"], capture_output=True, text=True,
                          timeout=3600, cwd=tmp_path,
                          env={**os.environ, "PODLIFE_REPORTS": str(tmp_path / "reports")})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    out_dir = tmp_path / "reports" / "verify" / cluster
    record = json.loads((out_dir / "verify.json").read_text())
    wanted = specs.load("ci")
    assert record["kubernetes_version"] == versions.resolve(None).tag
    assert {s["entry"] for s in record["specs"]} == {e.label for e in wanted}
    assert all(s["status"] == "passed" and s["seconds"] > 0 for s in record["specs"])
    lines = proc.stdout.splitlines()
    for spec in record["specs"]:
        assert any(line.startswith("PASSED") and line.endswith(spec["name"]) for line in lines)
    cases = ET.parse(out_dir / "junit.xml").getroot().iter("testcase")
    assert sorted(c.get("name", "")[5:] for c in cases) == sorted(s["name"]
                                                                  for s in record["specs"])
