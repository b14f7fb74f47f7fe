"""Reconcile benchmark: ``datax-migrate reconcile`` vs. a pyarrow scan of both sides vs. datacompy.

    python benchmarks/reconcile_benchmark.py [--rows 5000000] [--repeat 1] [--with-pandas] [--with-datacompy]

Generates the benchmark pair once (benchmarks/data/, see reconcile_tables.py), runs every job in its
own process, one at a time, checks every verdict, prints a table and updates the reconcile section of
docs/benchmarks.md. Exits 1 (writing nothing) if a job fails or ours gives a wrong verdict.
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
    quietest_run,
    round_order,
    scratch,
    warm_page_cache,
)
from meter import run_measured
from reconcile_report import ReconcileResult, console_table, target_verdicts, update_document
from reconcile_tables import CATALOG, ReconcilePair, reconcile_pair

JOBS_SCRIPT = Path(__file__).resolve().parent / "reconcile_jobs.py"
KEY = "id"
DATACOMPY_DEFAULT_MAX_ROWS = 5_000_000
EXIT_MATCH, EXIT_MISMATCH = 0, 1


def run_scan(pair: ReconcilePair) -> JobRun:
    """The scan: pyarrow reads every data file of both sides."""
    process = check_exit(run_measured([sys.executable, str(JOBS_SCRIPT), "scan", _spec(pair)]))
    report = last_json(process.stdout)
    if report["delta_rows"] != pair.rows or report["iceberg_rows"] != pair.rows:
        raise BenchmarkFailure(
            f"scan read {report['delta_rows']:,} + {report['iceberg_rows']:,} rows, not {pair.rows:,}"
        )
    detail = {key: report[key] for key in ("list_seconds", "delta_seconds", "iceberg_seconds")}
    return JobRun(report["seconds"], process, detail={**detail, "rows": pair.rows})


def run_ours(pair: ReconcilePair) -> JobRun:
    """Ours on the pair without differences: exit 0, verdict ``match``, no differences."""
    return _ours(pair, pair.base_version, EXIT_MATCH, _check_match)


def run_ours_changed(pair: ReconcilePair) -> JobRun:
    """Ours on the pair with one changed cell: exit 1, verdict ``mismatch``, that one cell among the differences."""
    return _ours(pair, pair.changed_version, EXIT_MISMATCH, _check_changed_cell)


def run_polars(pair: ReconcilePair) -> JobRun:
    """datacompy ``PolarsCompare`` on the pair without differences."""
    return _datacompy("polars", pair)


def run_pandas(pair: ReconcilePair) -> JobRun:
    """datacompy ``PandasCompare`` on the pair without differences."""
    return _datacompy("pandas", pair)


RUNNERS: dict[str, Callable[[ReconcilePair], JobRun]] = {
    "scan": run_scan,
    "ours": run_ours,
    "ours_changed": run_ours_changed,
    "polars": run_polars,
    "pandas": run_pandas,
}


def _ours(
    pair: ReconcilePair, version: int, exit_code: int, check: Callable[[ReconcilePair, dict[str, Any]], bool]
) -> JobRun:
    with scratch("reconcile-report") as reports:
        argv = [
            str(cli_path()),
            "reconcile",
            str(pair.path),
            pair.identifier,
            "--key",
            KEY,
            "--version",
            str(version),
            "--report-dir",
            str(reports),
        ]
        process = check_exit(run_measured(argv, env={**os.environ, "DATAX_HOME": str(pair.home)}), [exit_code])
        report = json.loads((reports / "report.json").read_text())
    found = check(pair, report)
    checks = {c["name"]: c for c in report["checks"]}
    unique = checks.get("unique_keys", {})
    if unique.get("status") != "pass":
        raise BenchmarkFailure(
            f"ours on {pair.name} @ {version}: unique_keys {unique.get('status')!r} ({unique.get('summary')}), "
            f"but every {KEY} occurs once on both sides"
        )
    detail: dict[str, Any] = {
        "verdict": report["verdict"],
        "differences_total": report["differences_total"],
        "differences": report["differences"][:5],
        "found": found,
        "checks": ", ".join(f"{name} {c['status']}" for name, c in checks.items()),
        "report_seconds": float(report["seconds"]),
    }
    scan_seconds = checks.get("row_count", {}).get("detail", {}).get("scan_seconds")
    if scan_seconds is not None:
        detail["scan_seconds"] = float(scan_seconds)
    if "row_diff" in checks and checks["row_diff"]["status"] != "skipped":
        detail["row_diff_seconds"] = float(checks["row_diff"]["seconds"])
    detail["unique_keys_seconds"] = float(unique["seconds"])
    searched = unique.get("detail", {}).get("repeat_search_seconds")
    if searched:
        detail["repeat_search_seconds"] = float(max(searched.values()))
    return JobRun(process.wall_seconds, process, detail=detail)


def _check_match(pair: ReconcilePair, report: dict[str, Any]) -> bool:
    if report["verdict"] != "match" or report["differences"]:
        raise BenchmarkFailure(
            f"ours on {pair.name} @ {pair.base_version}: verdict {report['verdict']!r}, "
            f"{report['differences_total']} difference(s) on the pair without differences"
        )
    return False


def _check_changed_cell(pair: ReconcilePair, report: dict[str, Any]) -> bool:
    wanted = {"kind": "cell", "key": {KEY: pair.changed_id}, "column": pair.changed_column}
    found = [d for d in report["differences"] if all(d.get(k) == v for k, v in wanted.items())]
    if report["verdict"] != "mismatch" or not found:
        raise BenchmarkFailure(
            f"ours on {pair.name} @ {pair.changed_version}: verdict {report['verdict']!r}, differences "
            f"{report['differences'][:5]}; expected a {wanted} difference"
        )
    difference = found[0]
    if {str(difference["source"]), str(difference["target"])} != {pair.changed_to, pair.changed_from}:
        raise BenchmarkFailure(
            f"ours on {pair.name}: reported {difference}, expected {pair.changed_to} vs {pair.changed_from}"
        )
    return True


def _datacompy(job: str, pair: ReconcilePair) -> JobRun:
    process = check_exit(run_measured([sys.executable, str(JOBS_SCRIPT), job, _spec(pair)]))
    report = last_json(process.stdout)
    if report["delta_rows"] != pair.rows or report["iceberg_rows"] != pair.rows:
        raise BenchmarkFailure(
            f"{job} loaded {report['delta_rows']:,} + {report['iceberg_rows']:,} rows, not {pair.rows:,}"
        )
    detail = {key: report[key] for key in ("load_seconds", "compare_seconds", "matches_seconds", "matches")}
    return JobRun(report["seconds"], process, detail=detail)


def _spec(pair: ReconcilePair) -> str:
    return json.dumps(
        {
            "delta_path": str(pair.path),
            "delta_version": pair.base_version,
            "catalog": CATALOG,
            "catalog_properties": pair.catalog_properties,
            "identifier": pair.identifier,
            "key": KEY,
        }
    )


def measure_pair(
    pair: ReconcilePair,
    jobs: list[str],
    repeat: int,
    skipped: dict[str, str],
    context: dict[str, Any],
    retries: int = 0,
) -> ReconcileResult:
    """Run every job ``repeat`` times on ``pair``, interleaved (see :func:`round_order`).

    A run other processes disturbed is run again, up to ``retries`` times, keeping the quietest.
    """
    delta_base, delta_changed = pair.delta_files(pair.base_version), pair.delta_files(pair.changed_version)
    iceberg = pair.iceberg_files()
    warm_page_cache(
        [
            *dict.fromkeys([*delta_base, *delta_changed]),
            *sorted((pair.path / "_delta_log").iterdir()),
            *iceberg,
            *sorted(p for p in pair.home.rglob("*") if p.is_file() and p.suffix != ".parquet"),
        ]
    )
    runs: dict[str, list[JobRun]] = {job: [] for job in jobs}
    for round_ in range(repeat):
        for job in round_order(jobs, round_):
            os.sync()
            run = quietest_run(lambda job=job: RUNNERS[job](pair), retries)
            runs[job].append(run)
            print_run(round_, repeat, job, run)
    return ReconcileResult(
        rows=pair.rows,
        delta_files=len(delta_base),
        delta_bytes=sum(f.stat().st_size for f in delta_base),
        iceberg_files=len(iceberg),
        iceberg_bytes=sum(f.stat().st_size for f in iceberg),
        base_version=pair.base_version,
        changed_version=pair.changed_version,
        changed={
            "id": pair.changed_id,
            "column": pair.changed_column,
            "from": pair.changed_from,
            "to": pair.changed_to,
        },
        jobs=tuple(job_result(job, job_runs) for job, job_runs in runs.items()),
        skipped=skipped,
        repeat=repeat,
        **context,
    )


def _machine() -> dict[str, str]:
    import datacompy
    import pandas
    import polars

    return {**machine(), "datacompy": datacompy.__version__, "polars": polars.__version__, "pandas": pandas.__version__}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000, help="rows per table, a multiple of 1,000,000")
    parser.add_argument("--repeat", type=int, default=1, help="runs per job; the median is reported")
    parser.add_argument("--with-pandas", action="store_true", help="run datacompy PandasCompare too (~1 min a run)")
    parser.add_argument(
        "--with-datacompy",
        action="store_true",
        help=f"run datacompy above {DATACOMPY_DEFAULT_MAX_ROWS:,} rows too (it holds both sides in memory)",
    )
    parser.add_argument("--skip-datacompy", action="store_true", help="skip datacompy at any size")
    parser.add_argument(
        "--retry-noisy",
        type=int,
        default=2,
        metavar="N",
        help="run a job again up to N times when other processes used CPU during it (default 2)",
    )
    parser.add_argument("--no-doc", action="store_true", help="print the results only; leave docs/benchmarks.md")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the exit code (0 ok, 1 a job failed or gave a wrong verdict)."""
    args = _parser().parse_args(argv)
    if args.repeat < 1:
        raise SystemExit("--repeat must be at least 1")
    cli = cli_path()
    jobs, skipped = ["scan", "ours", "ours_changed"], {}
    if args.skip_datacompy:
        skipped["polars"] = skipped["pandas"] = "--skip-datacompy"
    elif args.rows > DATACOMPY_DEFAULT_MAX_ROWS and not args.with_datacompy:
        skipped["polars"] = skipped["pandas"] = (
            f"not run above {DATACOMPY_DEFAULT_MAX_ROWS:,} rows unless --with-datacompy: it loads both sides whole "
            "and joins them in memory (see its peak RSS at 5M rows)"
        )
        print(f"datacompy skipped, {skipped['polars']}", flush=True)
    else:
        jobs.append("polars")
        if args.with_pandas:
            jobs.append("pandas")
        else:
            skipped["pandas"] = "only with --with-pandas (about a minute per run at 5M rows)"
    shown = ["benchmarks/reconcile_benchmark.py", *(argv if argv is not None else sys.argv[1:])]
    context = {
        "measured_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python " + shlex.join(shown),
        "machine": _machine(),
    }
    try:
        pair = reconcile_pair(args.rows, cli)
        print(
            f"\n{pair.name}: Delta version {pair.base_version} vs. {pair.identifier}, and Delta version "
            f"{pair.changed_version} (one changed cell) vs. the same twin",
            flush=True,
        )
        result = measure_pair(pair, jobs, args.repeat, skipped, context, args.retry_noisy)
    except BenchmarkFailure as failure:
        print(f"\nFAILED: {failure}", file=sys.stderr)
        return 1
    print(console_table(result), flush=True)
    for target, size, measured, met in target_verdicts([result]):
        if met is not None:
            print(f"  {'met' if met else 'MISSED'}: {target} ({size}): {measured.replace('**', '')}")
    if not args.no_doc:
        update_document(DOC, [result])
        print(f"\nwrote the reconcile section of {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
