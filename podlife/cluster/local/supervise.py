"""The processes of one cluster: start each under a name, notice one that dies, stop them.

Every start records its pid in pids/<name>.pid, so a later command in another shell
(status, down, upgrade) finds what an earlier one started. A pid file is only a hint: a
pid is signalled only while its process is in the cluster's cgroup tree, so a stale file
(after a reboot, or a pid since reused) never makes podlife stop an unrelated process.
Teardown stops everything in that tree (components, shims, containers).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator

from podlife.cluster.local.components import Layout
from podlife.cluster.local.logcause import cause
from podlife.cluster.local.node import CgroupTree, NodeSandbox, kill_all
from podlife.core.errors import PodlifeError

#: What to do when a component exits during boot, where reading its log is not the fix.
EXIT_HINTS = {"api-forward": "the API port is taken: pick another with --api-port"}


class Supervisor:
    """Processes this command started (by name), and every process the cluster has."""

    def __init__(self, layout: Layout, sandbox: NodeSandbox, cgroups: CgroupTree) -> None:
        self.layout = layout
        self.sandbox = sandbox
        self.cgroups = cgroups
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, argv: list[str], *, env: dict[str, str] | None = None,
              inside: bool = True) -> None:
        """Start a component in the cluster's namespaces (or, inside=False, on the host)."""
        self.procs[name] = self.sandbox.spawn(name, argv, env=env, inside=inside)

    def check_alive(self) -> None:
        """Fail fast, naming the component and its log, if one died while booting."""
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                log = self.layout.logs / f"{name}.log"
                why, fix = "", ""
                with contextlib.suppress(OSError):
                    why, fix = cause(log.read_text(errors="replace"))
                hint = fix or EXIT_HINTS.get(name, "read its log; fix the cause and run up again")
                raise PodlifeError(f"{name} exited during boot (code {proc.returncode}): {why}",
                                   hint, log=str(log))

    def stop(self, name: str, grace: float = 15.0) -> None:
        """Stop one component (it may belong to another process: poll, don't wait())."""
        pid = dict(self._recorded()).get(name)
        if pid is None:
            return
        kill_all({pid}, member=self.cgroups.holds, grace=grace)
        self.procs.pop(name, None)

    def stop_everything(self) -> None:
        """Stop every process of the cluster, recorded or in its cgroups, and remove those."""
        for _ in range(20):
            pids = self.cgroups.pids()
            pids.discard(os.getpid())
            if not pids:
                break
            kill_all(pids, member=self.cgroups.holds, grace=3.0)
        self.cgroups.remove()
        for proc in self.procs.values():
            with contextlib.suppress(Exception):
                proc.wait(timeout=1)

    def health(self) -> dict[str, bool]:
        """Which recorded components are still running (as processes of this cluster)."""
        return {name: self.cgroups.holds(pid) for name, pid in self._recorded()}

    def pids(self) -> dict[str, int]:
        """Each recorded component's pid, if it is still in the cluster's cgroup tree."""
        return {name: pid for name, pid in self._recorded() if self.cgroups.holds(pid)}

    def _recorded(self) -> Iterator[tuple[str, int]]:
        """(component, pid) of each readable pid file, in name order."""
        for pid_file in sorted((self.layout.state / "pids").glob("*.pid")):
            with contextlib.suppress(OSError, ValueError):
                yield pid_file.stem, int(pid_file.read_text())
