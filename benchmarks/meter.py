"""Run one command as a measured process: wall time, peak RSS, CPU time, and CPU used by others meanwhile.

The command runs under a tiny wrapper (this file run as a script with ``python -S``) that spawns it,
times it and reaps it with ``os.wait4``, which returns the resource usage of that one child:
``ru_maxrss`` is the child's own high-water RSS, not a maximum over every process the benchmark
ever started (``RUSAGE_CHILDREN`` would be), and the wrapper is small, so the RSS a forked child
inherits before ``exec`` does not show. Meanwhile the benchmark samples the RSS of the wrapper's
whole process tree with psutil every 50 ms, as a cross-check that would also catch helper
processes; and it reads ``/proc/stat`` before and after to say how much CPU other processes used
during the run, and how much the hypervisor stole (on a 2-core machine, anything above a few tenths
of a second disturbs the timing).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

SAMPLE_SECONDS = 0.05


@dataclass(frozen=True)
class ProcessRun:
    """What one measured process did."""

    argv: tuple[str, ...]
    returncode: int
    wall_seconds: float
    peak_rss_mb: float
    sampled_peak_rss_mb: float
    cpu_seconds: float
    others_cpu_seconds: float
    stolen_cpu_seconds: float
    stdout: str
    stderr: str


def run_measured(argv: Sequence[str], env: Mapping[str, str] | None = None) -> ProcessRun:
    """Run ``argv`` to completion and measure it (see the module docstring)."""
    import psutil

    with tempfile.TemporaryDirectory(prefix="datax-bench-meter-") as scratch:
        result_file = Path(scratch) / "result.json"
        out_file, err_file = Path(scratch) / "stdout", Path(scratch) / "stderr"
        wrapper = [sys.executable, "-S", __file__, str(result_file), str(out_file), str(err_file), "--", *argv]
        busy_before, steal_before = _cpu_counters()
        self_before = _self_cpu_seconds()
        children_before = _children_cpu_seconds()
        process = subprocess.Popen(wrapper, env=dict(env) if env is not None else None)
        sampled_peak = 0
        watched = psutil.Process(process.pid)
        while process.poll() is None:
            try:
                sampled_peak = max(sampled_peak, sum(_rss(p) for p in watched.children(recursive=True)))
            except psutil.Error:
                pass
            time.sleep(SAMPLE_SECONDS)
        busy_after, steal_after = _cpu_counters()
        busy = busy_after - busy_before
        ours = (_self_cpu_seconds() - self_before) + (_children_cpu_seconds() - children_before)
        if not result_file.exists():
            raise RuntimeError(f"the measuring wrapper failed (exit {process.returncode}) for {argv}")
        result = json.loads(result_file.read_text())
        return ProcessRun(
            argv=tuple(argv),
            returncode=result["returncode"],
            wall_seconds=result["wall_seconds"],
            peak_rss_mb=result["maxrss_kib"] * 1024 / 1e6,
            sampled_peak_rss_mb=sampled_peak / 1e6,
            cpu_seconds=result["cpu_seconds"],
            others_cpu_seconds=max(0.0, busy - ours),
            stolen_cpu_seconds=steal_after - steal_before,
            stdout=out_file.read_text(errors="replace"),
            stderr=err_file.read_text(errors="replace"),
        )


def _rss(process: object) -> int:
    import psutil

    try:
        return int(process.memory_info().rss)  # type: ignore[attr-defined]
    except psutil.Error:
        return 0


def _cpu_counters() -> tuple[float, float]:
    """Seconds of CPU busy (user, nice, system, irq, softirq) and stolen by the hypervisor, all cores."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    return (fields[0] + fields[1] + fields[2] + fields[5] + fields[6]) / tick, fields[7] / tick


def _self_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def _children_cpu_seconds() -> float:
    times = os.times()
    return times.children_user + times.children_system


def _wrapper(args: list[str]) -> int:
    result_file, out_file, err_file, separator, *argv = args
    assert separator == "--" and argv
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    out, err = os.open(out_file, flags, 0o644), os.open(err_file, flags, 0o644)
    actions = [(os.POSIX_SPAWN_DUP2, out, 1), (os.POSIX_SPAWN_DUP2, err, 2)]
    started = time.monotonic()
    pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
    _, status, usage = os.wait4(pid, 0)
    wall = time.monotonic() - started
    Path(result_file).write_text(
        json.dumps(
            {
                "returncode": os.waitstatus_to_exitcode(status),
                "wall_seconds": wall,
                "maxrss_kib": usage.ru_maxrss,
                "cpu_seconds": usage.ru_utime + usage.ru_stime,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(_wrapper(sys.argv[1:]))
