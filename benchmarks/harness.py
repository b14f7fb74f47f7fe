"""What every benchmark of this folder shares: measured runs, scratch folders, the machine line, page-cache hygiene.

Each benchmark runs its jobs one process at a time with :func:`meter.run_measured`, wraps each run in a
:class:`JobRun` and folds the runs of one job into a :class:`report.JobResult` with :func:`job_result`.
"""

from __future__ import annotations

import compileall
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from meter import ProcessRun
from report import JobResult

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
NOISY_CPU_SECONDS = 0.5


class BenchmarkFailure(Exception):
    """A job failed or produced a result that differs from what is expected."""


@dataclass(frozen=True)
class JobRun:
    """One run of one job, measured and verified."""

    seconds: float
    process: ProcessRun
    output_files: int | None = None
    output_bytes: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def cli_path() -> Path:
    """The ``datax-migrate`` script of the virtualenv running this benchmark, its package byte-compiled.

    ``pip install`` compiles a package's modules when it installs them; the project's editable install
    leaves that to the first import, which an environment with ``PYTHONDONTWRITEBYTECODE`` set never
    saves, so each process would compile every module again (about 0.08 s of CPU for a conversion).
    The benchmarks measure the program as installed: its modules are compiled here first.
    """
    for candidate in (Path(sys.executable).parent / "datax-migrate", ROOT / ".venv" / "bin" / "datax-migrate"):
        if candidate.exists():
            compileall.compile_dir(ROOT / "datax_migrate", quiet=1)
            return candidate
    raise SystemExit("datax-migrate is not installed next to this Python: run with the project's .venv/bin/python")


def job_result(job: str, runs: list[JobRun]) -> JobResult:
    """Every run of ``job`` in one result: times per run, the worst RSS and noise, float details as lists."""
    detail: dict[str, Any] = {}
    for run in runs:
        for key, value in run.detail.items():
            if isinstance(value, float):
                detail.setdefault(key, []).append(value)
            else:
                detail[key] = value
    return JobResult(
        job=job,
        seconds=tuple(r.seconds for r in runs),
        process_seconds=tuple(r.process.wall_seconds for r in runs),
        cpu_seconds=tuple(r.process.cpu_seconds for r in runs),
        peak_rss_mb=max(r.process.peak_rss_mb for r in runs),
        sampled_peak_rss_mb=max(r.process.sampled_peak_rss_mb for r in runs),
        others_cpu_seconds=max(r.process.others_cpu_seconds for r in runs),
        stolen_cpu_seconds=max(r.process.stolen_cpu_seconds for r in runs),
        output_files=runs[-1].output_files,
        output_bytes=runs[-1].output_bytes,
        detail=detail,
    )


def quietest_run(run: Callable[[], JobRun], retries: int) -> JobRun:
    """``run()``, run again up to ``retries`` times while other processes used over NOISY_CPU_SECONDS of CPU.

    Returns the run other processes disturbed least; the machine is shared, and one busy neighbour can
    double a timing on 2 cores.
    """
    best = run()
    for _ in range(retries):
        if best.process.others_cpu_seconds <= NOISY_CPU_SECONDS:
            break
        print(f"    (others used {best.process.others_cpu_seconds:.2f} s of CPU during that run: running it again)")
        again = run()
        best = min(best, again, key=lambda r: r.process.others_cpu_seconds)
    return best


def print_run(round_: int, repeat: int, job: str, run: JobRun) -> None:
    """One line on the terminal per measured run, flagging runs other processes disturbed."""
    noisy = run.process.others_cpu_seconds > NOISY_CPU_SECONDS
    print(
        f"  run {round_ + 1}/{repeat} {job:<10} {run.seconds:7.2f} s (process {run.process.wall_seconds:.2f} s,"
        f" CPU {run.process.cpu_seconds:.1f} s, peak RSS {run.process.peak_rss_mb:,.0f} MB, others' CPU "
        f"{run.process.others_cpu_seconds:.2f} s)" + ("  <- other processes were busy" if noisy else ""),
        flush=True,
    )


def machine() -> dict[str, str]:
    """Where and with what the benchmark ran."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "unknown CPU")
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    ram_kib = int(next(line.split()[1] for line in meminfo if line.startswith("MemTotal:")))
    import deltalake
    import pyarrow
    import pyiceberg

    return {
        "cpus": str(len(os.sched_getaffinity(0))),
        "cpu_model": model,
        "ram": f"{ram_kib / 2**20:.1f} GiB",
        "kernel": f"Linux {platform.release()}",
        "python": platform.python_version(),
        "pyarrow": pyarrow.__version__,
        "pyiceberg": pyiceberg.__version__,
        "deltalake": deltalake.__version__,
        "commit": _commit(),
    }


def _commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "datax_migrate")
    return f"{head} (with uncommitted changes in datax_migrate/)" if dirty else head


def warm_page_cache(paths: Iterable[Path]) -> None:
    """Read every file once so the jobs find them in the page cache."""
    for path in paths:
        with open(path, "rb") as f:
            while f.read(8 << 20):
                pass


@contextmanager
def scratch(label: str) -> Iterator[Path]:
    """A fresh temporary folder, synced and deleted afterwards (outside any timing)."""
    path = Path(tempfile.mkdtemp(prefix=f"datax-bench-{label}-"))
    try:
        yield path
    finally:
        os.sync()
        shutil.rmtree(path, ignore_errors=True)


def round_order(jobs: list[str], round_: int) -> list[str]:
    """The jobs in the order of round ``round_``: as given, reversed every other round.

    A job run right after another can be slowed by it (right after the floor, both the floor and ours
    were measured slower, by about 0.05 s and 0.13 s at 5M rows), so no job always follows the same one.
    """
    return list(jobs) if round_ % 2 == 0 else list(reversed(jobs))


def check_exit(process: ProcessRun, expected: Collection[int] = (0,)) -> ProcessRun:
    """``process``, if it exited with one of the ``expected`` codes; else a failure with the tail of its output."""
    if process.returncode not in expected:
        tail = "\n".join((process.stderr or process.stdout).strip().splitlines()[-20:])
        raise BenchmarkFailure(f"{shlex.join(process.argv)} exited {process.returncode}:\n{tail}")
    return process


def last_json(stdout: str) -> dict[str, Any]:
    """The JSON object a job printed on its last line."""
    return json.loads(stdout.strip().splitlines()[-1])
