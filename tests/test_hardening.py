"""The local cluster's defences that need no booted cluster: input, paths, pids, locks, mounts.

Each test plays one attack or fault from a security review and asserts the outcome a
user sees: one clear line and a non-zero exit, and nothing else touched.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from podlife.errors import PodlifeError
from podlife.local.cluster import LocalCluster
from podlife.local.node import setup_script


def podlife(*args: str, env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "podlife.cli", *args], capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def one_clear_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit 2, no traceback, one `error: ... Fix: ...` line naming each word."""
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr, result.stderr
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "Fix:" in errors[0], result.stderr
    for word in words:
        assert word.lower() in errors[0].lower(), errors[0]


# ----- no shell built from strings -------------------------------------------------------

def test_state_path_with_a_command_is_refused_and_never_run(tmp_path: Path) -> None:
    """PODLIFE_STATE holding `$(touch ...)`: refused with one line; the command never runs."""
    marker = tmp_path / "pwned"
    state = f"{tmp_path}/x$(touch {marker})"
    for action in (["up"], ["down"]):
        result = podlife("cluster", *action, "--name", "r9-inject",
                         env={"PODLIFE_STATE": state})
        one_clear_line(result, "PODLIFE_STATE")
    assert not marker.exists()
    assert not Path(state).exists()


@pytest.mark.parametrize("odd", ["a b", "a,b", "a:b", "a!b", "a'b", 'a"b', "a;b", "a\nb"])
def test_state_paths_with_odd_characters_are_refused(odd: str, monkeypatch) -> None:
    monkeypatch.setenv("PODLIFE_STATE", f"/tmp/{odd}")
    with pytest.raises(PodlifeError, match="PODLIFE_STATE"):
        LocalCluster("r9-odd")


def test_state_path_too_long_for_a_socket_is_refused(monkeypatch) -> None:
    monkeypatch.setenv("PODLIFE_STATE", "/tmp/" + "d" * 90)
    with pytest.raises(PodlifeError, match="too long"):
        LocalCluster("r9-long")


def test_namespace_script_takes_the_state_dir_as_an_argument() -> None:
    """The setup script never contains the path: it reads "$1", always quoted."""
    cluster = LocalCluster("r9-script")
    script = setup_script(cluster.net)
    assert str(cluster.state) not in script
    assert "$state" in script
    unquoted = [ln for ln in script.splitlines() if "$state" in ln and '"$state' not in ln]
    assert unquoted == [], unquoted


def test_namespace_script_runs_a_hostile_path_as_data(tmp_path: Path) -> None:
    """Run the script's path-handling lines under sh with a hostile path: no command runs."""
    marker = tmp_path / "ran"
    hostile = tmp_path / "s$(touch ran)"  # relative: a path may not hold another '/'
    hostile.mkdir()
    lines = [ln for ln in setup_script(LocalCluster("r9-sh").net).splitlines()
             if ln.startswith(("set ", "state=", "mkdir", "echo ready"))]
    subprocess.run(["sh", "-c", "\n".join(lines), "sh", str(hostile)], check=True,
                   cwd=tmp_path)
    assert not marker.exists()
    assert (hostile / "namespace.ready").exists() and (hostile / "var-log").is_dir()


def test_cluster_names_with_odd_characters_are_refused() -> None:
    name = f"x{uuid.uuid4().hex[:4]}$(id)"
    one_clear_line(podlife("cluster", "down", "--name", name), "not a valid cluster name")
