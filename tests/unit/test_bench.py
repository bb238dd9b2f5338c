"""The benchmark's own arithmetic: how a boot's time is split into its steps, and how busy
the machine's CPUs were. The timings themselves come from real boots in `nox -s bench`."""

from __future__ import annotations

from podlife.run import bench


def test_each_step_lasts_until_the_next_begins_and_the_last_until_the_end() -> None:
    clock = bench.StepClock()
    clock.marks = [("certificates", 10.0), ("api server", 10.5), ("node", 13.0)]
    assert clock.durations(end=14.25) == {"certificates": 0.5, "api server": 2.5,
                                          "node": 1.25}


def test_a_boot_without_steps_has_no_split() -> None:
    assert bench.StepClock().durations(end=1.0) == {}


def test_busy_ticks_leave_out_idle_and_iowait() -> None:
    busy, total = bench.busy_cpu_ticks()
    assert 0 < busy <= total



def test_process_cpu_is_read_for_live_processes_only() -> None:
    """A live process has a CPU time; a pid that is gone is left out, not counted as 0."""
    import os
    import subprocess
    gone = subprocess.Popen(["true"])
    gone.wait()
    seconds = bench.process_cpu_seconds({"self": os.getpid(), "gone": gone.pid})
    assert set(seconds) == {"self"} and seconds["self"] > 0
