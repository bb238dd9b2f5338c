"""A real Go build with its output going to a file, as in CI: the log shows when the build
started, a heartbeat while it compiles, and how long it took."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

SMALL_MODULE = ("github.com/cpuguy83/go-md2man/v2", "v2.0.7")
BUILD = f'''
from pathlib import Path
from podlife.cli.output import build_progress
from podlife.cluster import binary_cache, build

spec = build.GoBuild(key="md2man-progress-test", module="{SMALL_MODULE[0]}",
                     version="{SMALL_MODULE[1]}", binaries={{"go-md2man": "{SMALL_MODULE[0]}"}})
with build_progress() as progress:
    build.build(spec, cache=binary_cache.BinaryCache(Path("{{cache}}")), progress=progress)
'''


def test_a_build_logged_to_a_file_shows_a_heartbeat(tmp_path: Path) -> None:
    log = tmp_path / "build.log"
    # A Go build cache of its own, so the packages really compile (for seconds).
    env = {**os.environ, "GOCACHE": str(tmp_path / "gocache"),
           "PODLIFE_CACHE": str(tmp_path / "cache"), "PODLIFE_HEARTBEAT_S": "0.5",
           "PODLIFE_PROGRESS": "auto"}  # auto: plain, as the output is a file
    with log.open("w") as out:  # not a terminal: plain lines
        done = subprocess.run([sys.executable, "-c", BUILD.replace("{cache}",
                                                                   str(tmp_path / "bin"))],
                              stdout=out, stderr=subprocess.STDOUT, env=env, timeout=600)
    text = log.read_text()
    assert done.returncode == 0, text
    lines = text.splitlines()
    assert lines[0].startswith("build md2man-progress-test: started"), text
    beats = [ln for ln in lines if re.search(r"\d+(\.\d)?s elapsed", ln)]
    assert beats, f"no heartbeat in the log:\n{text}"
    assert re.fullmatch(r"build md2man-progress-test: done in [\dm.]+s", lines[-1]), text
