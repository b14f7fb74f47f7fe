"""Convert benchmark: the pyarrow rewrite floor vs. ``datax-migrate convert`` vs. naive pyiceberg ``append``.

    python benchmarks/convert_benchmark.py [--rows 5000000] [--tables partitioned,unpartitioned]
        [--repeat 1] [--skip-pyiceberg | --with-pyiceberg]

Generates the benchmark tables once (benchmarks/data/), runs every job in its own process, one at a
time, checks every result against the Delta source, prints a table and updates docs/benchmarks.md.
Exits 1 (writing nothing) if a job fails or a converted table differs from its source.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from fingerprint import TableFingerprint, delta_fingerprint, iceberg_fingerprint, iceberg_layout
from harness import (
    DOC,
    ROOT,
    BenchmarkFailure,
    JobRun,
    check_exit,
    cli_path,
    job_result,
    last_json,
    machine,
    print_run,
    round_order,
    scratch,
    warm_page_cache,
)
from jobs import NAIVE_IDENTIFIER, naive_catalog_properties
from meter import run_measured
from report import TableResult, console_table, update_document
from tables import KINDS, BenchTable, bench_table

from datax_migrate.iceberg.datafile import ParquetSettings

JOBS_SCRIPT = Path(__file__).resolve().parent / "jobs.py"
NAIVE_DEFAULT_MAX_ROWS = 5_000_000
FLOOR_CODEC = ParquetSettings().compression
"""The floor writes with the codec of our conversion's default settings: another codec is not the same work."""


def run_floor(table: BenchTable, expected: TableFingerprint) -> JobRun:
    """The floor: pyarrow read + rewrite of every data file with the codec of our default, 2 threads."""
    with scratch("floor") as work:
        command = [sys.executable, str(JOBS_SCRIPT), "floor", str(table.path), str(work), FLOOR_CODEC]
        process = check_exit(run_measured(command))
        report = last_json(process.stdout)
        written = sorted((work / "floor").iterdir())
        rows = sum(pq.read_metadata(f).num_rows for f in written)
        if rows != expected.rows or report["rows"] != expected.rows:
            raise BenchmarkFailure(f"floor on {table.name}: wrote {rows:,} rows, the source has {expected.rows:,}")
        return JobRun(
            report["seconds"], process, report["output_files"], report["output_bytes"], {"codec": FLOOR_CODEC}
        )


def run_ours(table: BenchTable, expected: TableFingerprint) -> JobRun:
    """Ours: the whole ``datax-migrate convert`` process into a fresh embedded catalog."""
    from datax_migrate.config import LOCAL_CATALOG, local_catalog_properties

    identifier = f"bench.{table.name}"
    with scratch("ours") as home:
        argv = [str(cli_path()), "convert", str(table.path), identifier, "--output", "json"]
        process = check_exit(run_measured(argv, env={**os.environ, "DATAX_HOME": str(home)}))
        report = json.loads(process.stdout)
        properties = local_catalog_properties(home)
        _verify("ours", table, expected, iceberg_fingerprint(LOCAL_CATALOG, properties, identifier))
        layout = iceberg_layout(LOCAL_CATALOG, properties, identifier)
        _check_spec("ours", table, layout.spec)
        detail = {"convert_seconds": report["seconds"], "spec": layout.spec, "data_files": report["data_files"]}
        return JobRun(process.wall_seconds, process, layout.data_files, layout.bytes, detail)


def run_naive_pyiceberg(table: BenchTable, expected: TableFingerprint) -> JobRun:
    """Naive pyiceberg: deltalake read + pyiceberg ``append`` with the same partitioning."""
    with scratch("pyiceberg") as work:
        process = check_exit(run_measured([sys.executable, str(JOBS_SCRIPT), "pyiceberg", str(table.path), str(work)]))
        report = last_json(process.stdout)
        properties = naive_catalog_properties(work)
        _verify("naive pyiceberg", table, expected, iceberg_fingerprint("bench", properties, NAIVE_IDENTIFIER))
        layout = iceberg_layout("bench", properties, NAIVE_IDENTIFIER)
        _check_spec("naive pyiceberg", table, layout.spec)
        detail = {"read_seconds": report["read_seconds"], "spec": layout.spec}
        return JobRun(report["seconds"], process, layout.data_files, layout.bytes, detail)


RUNNERS: dict[str, Callable[[BenchTable, TableFingerprint], JobRun]] = {
    "floor": run_floor,
    "ours": run_ours,
    "pyiceberg": run_naive_pyiceberg,
}


def measure_table(
    table: BenchTable, jobs: list[str], repeat: int, skipped: dict[str, str], context: dict[str, Any]
) -> TableResult:
    """Run every job ``repeat`` times on ``table``, interleaved (see :func:`round_order`)."""
    print(f"{table.name}: reading the Delta source with deltalake for the checks ...", flush=True)
    expected = delta_fingerprint(table.path)
    warm_page_cache([*table.files, *sorted((table.path / "_delta_log").iterdir())])
    runs: dict[str, list[JobRun]] = {job: [] for job in jobs}
    for round_ in range(repeat):
        for job in round_order(jobs, round_):
            os.sync()
            run = RUNNERS[job](table, expected)
            runs[job].append(run)
            print_run(round_, repeat, job, run)
    return TableResult(
        kind=table.kind,
        rows=table.rows,
        delta_files=len(table.files),
        delta_bytes=table.bytes,
        delta_commits=table.commits,
        fingerprint={
            "rows": expected.rows,
            "sum_id": expected.sum_id,
            "sum_amount": expected.sum_amount,
            "rows_per_country": [list(item) for item in expected.rows_per_country],
        },
        jobs=tuple(job_result(job, job_runs) for job, job_runs in runs.items()),
        skipped=skipped,
        repeat=repeat,
        **context,
    )


def _verify(job: str, table: BenchTable, expected: TableFingerprint, got: TableFingerprint) -> None:
    differences = expected.differences(got)
    if differences:
        raise BenchmarkFailure(f"{job} on {table.name} differs from the Delta source: {'; '.join(differences)}")


def _check_spec(job: str, table: BenchTable, spec: list[str]) -> None:
    wanted = [f"identity({c})" for c in table.partition_by]
    if spec != wanted:
        raise BenchmarkFailure(f"{job} on {table.name}: Iceberg partition spec {spec}, expected {wanted}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000, help="rows per table, a multiple of 1,000,000")
    parser.add_argument("--tables", default=",".join(KINDS), help="comma-separated: partitioned,unpartitioned")
    parser.add_argument("--repeat", type=int, default=1, help="runs per job; the median is reported")
    naive = parser.add_mutually_exclusive_group()
    naive.add_argument("--skip-pyiceberg", action="store_true", help="skip the naive pyiceberg job")
    naive.add_argument(
        "--with-pyiceberg",
        action="store_true",
        help=f"run the naive pyiceberg job above {NAIVE_DEFAULT_MAX_ROWS:,} rows too",
    )
    parser.add_argument("--no-doc", action="store_true", help="print the results only; leave docs/benchmarks.md")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the exit code (0 ok, 1 a job failed or a result differs)."""
    args = _parser().parse_args(argv)
    kinds = [k.strip() for k in args.tables.split(",") if k.strip()]
    if unknown := [k for k in kinds if k not in KINDS]:
        raise SystemExit(f"unknown --tables {unknown}; choose from {', '.join(KINDS)}")
    if args.repeat < 1:
        raise SystemExit("--repeat must be at least 1")
    cli_path()
    jobs, skipped = ["floor", "ours", "pyiceberg"], {}
    if args.skip_pyiceberg:
        jobs.remove("pyiceberg")
        skipped["pyiceberg"] = "--skip-pyiceberg"
    elif args.rows > NAIVE_DEFAULT_MAX_ROWS and not args.with_pyiceberg:
        jobs.remove("pyiceberg")
        skipped["pyiceberg"] = (
            f"not run above {NAIVE_DEFAULT_MAX_ROWS:,} rows unless --with-pyiceberg: it reads the whole table into "
            "memory before appending, and its partitioned append is the slowest job by far (see the 5M results)"
        )
        print(f"naive pyiceberg skipped, {skipped['pyiceberg']}", flush=True)
    shown = ["benchmarks/convert_benchmark.py", *(argv if argv is not None else sys.argv[1:])]
    context = {
        "measured_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python " + shlex.join(shown),
        "machine": machine(),
    }
    results = []
    try:
        for kind in kinds:
            table = bench_table(kind, args.rows)
            print(
                f"\n{kind}, {args.rows:,} rows: {len(table.files):,} Delta files, {table.bytes / 1e6:,.1f} MB, "
                f"{table.commits} commits",
                flush=True,
            )
            result = measure_table(table, jobs, args.repeat, skipped, context)
            print(console_table(result), flush=True)
            results.append(result)
    except BenchmarkFailure as failure:
        print(f"\nFAILED: {failure}", file=sys.stderr)
        return 1
    if not args.no_doc:
        update_document(DOC, results)
        print(f"\nwrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
