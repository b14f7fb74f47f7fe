"""Convert benchmark: the pyarrow rewrite floor vs. naive pyiceberg ``append`` vs. ``datax-migrate convert``.

    python benchmarks/convert_benchmark.py [--rows 5000000] [--tables partitioned,unpartitioned] [--repeat 3]

Every job runs in its own process, one at a time. The floor and pyiceberg are timed inside their
process (imports excluded); ours is the whole ``datax-migrate convert`` process (interpreter start,
imports, catalog, log replay, conversion, commit). Each converted table is checked against the Delta
source (row count, sums, rows per country). Results go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

sys.path.insert(0, str(Path(__file__).resolve().parent))
from jobs import peak_rss_mb  # noqa: E402
from tables import table_path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
CLI = Path(sys.executable).parent / "datax-migrate"
TARGETS = {"partitioned": 1.25, "unpartitioned": 1.15}


@dataclass(frozen=True)
class Measurement:
    """One job on one table: median seconds over the repeats and the largest peak RSS."""

    job: str
    seconds: float
    runs: tuple[float, ...]
    peak_rss_mb: float


def run_job(job: str, delta: Path) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="datax-bench-") as work:
        out = subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "jobs.py"), job, str(delta), work],
            check=True,
            capture_output=True,
            text=True,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        if job == "pyiceberg":
            verify(delta, iceberg_rows(Path(work), "bench", "bench.naive"), job)
    return result["seconds"], result["peak_rss_mb"]


def run_ours(delta: Path) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="datax-bench-") as home:
        env = {**os.environ, "DATAX_HOME": home}
        started = time.monotonic()
        process = subprocess.Popen(
            [str(CLI), "convert", str(delta), "bench.ours"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        peak = 0.0
        while True:  # VmHWM only grows; poll it until the process is about to be reaped
            try:
                peak = max(peak, peak_rss_mb(process.pid))
            except (FileNotFoundError, ProcessLookupError):
                pass
            if os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                break
            time.sleep(0.01)
        _, error = process.communicate()
        seconds = time.monotonic() - started
        if process.returncode != 0:
            raise SystemExit(f"datax-migrate convert failed: {error.decode()}")
        verify(delta, iceberg_rows(Path(home), "local", "bench.ours"), "ours")
    return seconds, peak


def iceberg_rows(home: Path, catalog_name: str, identifier: str) -> pa.Table:
    from pyiceberg.catalog.sql import SqlCatalog

    catalog = SqlCatalog(catalog_name, uri=f"sqlite:///{home / 'catalog.db'}", warehouse=(home / "wh").as_uri())
    return catalog.load_table(identifier).scan(selected_fields=("id", "amount", "country")).to_arrow()


def fingerprint(table: pa.Table) -> dict[str, object]:
    counts = pc.value_counts(table["country"]).to_pylist()
    return {
        "rows": table.num_rows,
        "sum_id": pc.sum(table["id"]).as_py(),
        "sum_amount": round(pc.sum(table["amount"]).as_py(), 3),
        "countries": sorted((c["values"], c["counts"]) for c in counts),
    }


_SOURCE_FINGERPRINTS: dict[Path, dict[str, object]] = {}


def verify(delta: Path, converted: pa.Table, job: str) -> None:
    if delta not in _SOURCE_FINGERPRINTS:
        from deltalake import DeltaTable

        source = DeltaTable(str(delta)).to_pyarrow_table(columns=["id", "amount", "country"])
        _SOURCE_FINGERPRINTS[delta] = fingerprint(source)
    expected, got = _SOURCE_FINGERPRINTS[delta], fingerprint(converted)
    if got != expected:
        raise SystemExit(f"{job} converted {delta.name} wrongly: {got} != {expected}")


def measure(kind: str, rows: int, repeat: int, skip_pyiceberg: bool) -> tuple[dict[str, object], list[Measurement]]:
    delta = table_path(rows, kind == "partitioned")
    data_files = list(delta.rglob("*.parquet"))
    shape = {
        "table": kind,
        "rows": rows,
        "files": len(data_files),
        "mb": sum(f.stat().st_size for f in data_files) / 1e6,
    }
    runs: dict[str, list[tuple[float, float]]] = {"floor": [], "ours": []}
    for _ in range(repeat):  # interleaved, so drifts in machine speed hit both alike
        runs["floor"].append(run_job("floor", delta))
        runs["ours"].append(run_ours(delta))
    if not skip_pyiceberg:
        runs["pyiceberg"] = [run_job("pyiceberg", delta)]
    measurements = [
        Measurement(job, statistics.median(s for s, _ in r), tuple(s for s, _ in r), max(m for _, m in r))
        for job, r in runs.items()
    ]
    return shape, measurements


def render(shape: dict[str, object], measurements: list[Measurement]) -> list[str]:
    floor = next(m for m in measurements if m.job == "floor").seconds
    target = TARGETS[str(shape["table"])]
    labels = {
        "floor": "floor: pyarrow read + rewrite of the same files (zstd, 2 threads), in-process",
        "ours": "ours: the whole `datax-migrate convert` process",
        "pyiceberg": "naive pyiceberg: deltalake read + `table.append`, in-process",
    }
    lines = [
        f"### {shape['table']}, {int(shape['rows']):,} rows ({shape['files']} Delta files, {shape['mb']:.0f} MB)",
        "",
        "| job | seconds (median) | runs | x floor | peak RSS MB |",
        "|---|---|---|---|---|",
    ]
    for m in measurements:
        runs = ", ".join(f"{s:.2f}" for s in m.runs)
        lines.append(f"| {labels[m.job]} | {m.seconds:.2f} | {runs} | {m.seconds / floor:.2f} | {m.peak_rss_mb:.0f} |")
    ours = next(m for m in measurements if m.job == "ours").seconds / floor
    verdict = "meets" if ours <= target else "MISSES"
    lines += ["", f"Ours / floor = **{ours:.2f}x**: {verdict} the target of <= {target}x.", ""]
    return lines


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line), platform.processor())
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import pyiceberg

    return (
        f"{os.cpu_count()} cores ({model}), {memory_gib:.0f} GiB RAM; Python {platform.python_version()}, "
        f"pyarrow {pa.__version__}, pyiceberg {pyiceberg.__version__}"
    )


def write_doc(rows: int, section: list[str]) -> None:
    start, end = f"<!-- rows={rows} -->", f"<!-- /rows={rows} -->"
    text = DOC.read_text() if DOC.exists() else _DOC_HEADER
    block = "\n".join([start, *section, end])
    if start in text:
        before, rest = text.split(start, 1)
        text = before + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    DOC.write_text(text)


_DOC_HEADER = """# Benchmarks

## Convert

`make bench` (or `python benchmarks/convert_benchmark.py --rows N`) generates the convert benchmark
tables of ARCHITECTURE.md (`id bigint, account int, amount double, ts timestamp, tx_date date,
country string (7 values), memo string, flag boolean`, ts over 30 days, written by deltalake in 1M-row
appends, partitioned by `country, tx_date` or unpartitioned) and times, in one run, one job at a
time, each in a fresh process:

- **floor**: every Delta data file read with pyarrow and written back with zstd, on two threads (the
  least work any rewrite must do), timed inside its process;
- **ours**: the whole `datax-migrate convert SOURCE bench.ours` process into the embedded catalog,
  from interpreter start to exit (imports, catalog, log replay, conversion, commit);
- **naive pyiceberg**: deltalake reads the table into memory, pyiceberg `append`s it with the same
  partitioning, timed inside its process.

Floor and ours alternate over the repeats (median reported). Every converted table is checked against
the Delta source: row count, sum of `id`, sum of `amount`, rows per country.

Targets: partitioned <= 1.25x the floor, unpartitioned <= 1.15x; peak RSS converting 20M rows <= 1 GB
and not growing with table size.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--tables", default="partitioned,unpartitioned")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-pyiceberg", action="store_true", help="skip the naive pyiceberg job")
    args = parser.parse_args()
    if not CLI.exists():
        raise SystemExit(f"{CLI} not found: run from the project's virtualenv (make bench)")
    skip_pyiceberg = args.skip_pyiceberg or args.rows > 5_000_000
    if skip_pyiceberg and not args.skip_pyiceberg:
        print("skipping naive pyiceberg above 5M rows: it holds the whole table in memory and takes minutes")
    section = [
        f"## {args.rows:,} rows",
        "",
        f"Measured {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC on {machine()}.",
        f"Command: `python benchmarks/convert_benchmark.py --rows {args.rows} --tables {args.tables} "
        f"--repeat {args.repeat}`",
        "",
    ]
    for kind in args.tables.split(","):
        print(f"{kind}, {args.rows:,} rows ...", flush=True)
        shape, measurements = measure(kind, args.rows, args.repeat, skip_pyiceberg)
        lines = render(shape, measurements)
        print("\n".join(lines), flush=True)
        section += lines
    write_doc(args.rows, section)
    print(f"wrote {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
