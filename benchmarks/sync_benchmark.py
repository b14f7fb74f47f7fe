"""Sync and history benchmark: what a sync costs next to a full convert, and what ``--history`` writes.

    python benchmarks/sync_benchmark.py [--rows 20000000] [--small-rows 5000000]

For each of two sizes of the partitioned convert benchmark table (benchmarks/tables.py; a working copy
whose data files are hard links, so the cached table stays as it is), one process per job:

1. ``convert``: a full ``datax-migrate convert`` of the table;
2. ``sync-append``: ``datax-migrate sync`` after a 1 % append (one Delta version);
3. ``sync-change``: ``sync`` after a delete and an update that touch the same few files at both sizes
   (its time should follow those files, not the table);
4. ``history``: ``convert --history`` of every version of the working copy: Iceberg bytes written
   against the bytes of the distinct Delta data files the history references.

Every job's result is checked (rows, versions); peak RSS is measured per process. Prints a table and
writes the ``sync`` section of docs/benchmarks.md (other sections stay as they are). Exits 1 (writing
nothing) if a job fails or gives a wrong result.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import DOC, BenchmarkFailure, check_exit, cli_path, last_json, machine, scratch, warm_page_cache
from meter import ProcessRun, run_measured
from report import replace_section
from tables import APPEND_ROWS, PARTITION_BY, append_rows, bench_table

SECTION = "sync"
DELETE = "country = 'US' AND tx_date = '2024-01-05' AND id < 3000000"
UPDATE = "country = 'DE' AND tx_date = '2024-01-06' AND id < 2000000"
TARGETS = {"append_share": 0.05, "history_bytes": 1.2, "change_growth": 2.0}


@dataclass(frozen=True)
class Job:
    """One measured job."""

    name: str
    process: ProcessRun
    result: dict[str, Any]

    def row(self) -> dict[str, Any]:
        return {
            "job": self.name,
            "seconds": round(self.process.wall_seconds, 2),
            "library_seconds": round(float(self.result["seconds"]), 2),
            "cpu_seconds": round(self.process.cpu_seconds, 2),
            "peak_rss_mb": round(self.process.peak_rss_mb),
            "others_cpu_seconds": round(self.process.others_cpu_seconds, 2),
            "files": self.result.get("data_files_written", self.result.get("data_files")),
            "bytes": self.result.get("bytes_written"),
        }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark at both sizes; write the section."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000_000, help="rows of the large table (default 20M)")
    parser.add_argument("--small-rows", type=int, default=5_000_000, help="rows of the small table (default 5M)")
    args = parser.parse_args(argv)
    try:
        sizes = [measure(rows) for rows in sorted({args.small_rows, args.rows})]
    except BenchmarkFailure as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    body = render(sizes)
    print(body)
    text = DOC.read_text() if DOC.exists() else ""
    DOC.write_text(replace_section(text, SECTION, body))
    print(f"wrote the {SECTION} section of {DOC}")
    return 0


def measure(rows: int) -> dict[str, Any]:
    """Every job on a working copy of the ``rows``-row partitioned table."""
    table = bench_table("partitioned", rows)
    print(f"{rows:,} rows: {len(table.files):,} files, {table.bytes / 1e6:,.0f} MB", flush=True)
    with scratch(f"sync-{rows // 1_000_000}m") as folder:
        copy = folder / "delta"
        link_copy(table.path, copy)
        env = {**os.environ, "DATAX_HOME": str(folder / "home")}
        warm_page_cache(table.files)

        convert = job("convert", env, "convert", str(copy), "bench.t")
        check(convert.result["rows"] == rows, f"convert wrote {convert.result['rows']:,} rows, not {rows:,}")

        from deltalake import DeltaTable, write_deltalake

        appended = rows // 100
        write_deltalake(str(copy), append_rows(rows // APPEND_ROWS, appended), mode="append", partition_by=PARTITION_BY)
        sync_append = job("sync-append", env, "sync", str(copy), "bench.t")
        check(sync_append.result["rows_added"] == appended, f"the 1 % sync added {sync_append.result['rows_added']:,}")

        delta = DeltaTable(str(copy))
        delta.delete(DELETE)
        delta.update(predicate=UPDATE, updates={"flag": "NOT flag"})
        touched = touched_files(copy, delta.version() - 1)
        sync_change = job("sync-change", env, "sync", str(copy), "bench.t")
        check(len(sync_change.result["snapshot_ids"]) == 2, "the change sync did not add two snapshots")

        history = job("history", env, "convert", str(copy), "bench.h", "--history")
        referenced = referenced_bytes(copy)
        check(history.result["from_version"] == 0, "the history did not start at version 0")
    return {
        "rows": rows,
        "delta_files": len(table.files),
        "delta_bytes": table.bytes,
        "touched_files": touched,
        "referenced_bytes": referenced,
        "versions": delta.version() + 1,
        "jobs": [j.row() for j in (convert, sync_append, sync_change, history)],
    }


def link_copy(source: Path, target: Path) -> None:
    """A copy of the Delta table whose data files are hard links and whose log is copied (appends go to the copy)."""
    for path in source.rglob("*"):
        destination = target / path.relative_to(source)
        if path.is_dir():
            destination.mkdir(parents=True, exist_ok=True)
        elif "_delta_log" in path.parts:
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)
        else:
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, destination)


def job(name: str, env: dict[str, str], *args: str) -> Job:
    """Run one CLI command as a measured process; its JSON output is the result."""
    process = check_exit(run_measured([str(cli_path()), *args, "--output", "json"], env=env))
    run = Job(name, process, last_json_document(process.stdout))
    print(
        f"  {name:<12} {process.wall_seconds:7.2f} s (CPU {process.cpu_seconds:.1f} s, peak RSS "
        f"{process.peak_rss_mb:,.0f} MB, others' CPU {process.others_cpu_seconds:.2f} s)",
        flush=True,
    )
    return run


def last_json_document(stdout: str) -> dict[str, Any]:
    """The JSON document a command printed (indented over many lines)."""
    start = stdout.find("{")
    if start < 0:
        return last_json(stdout)
    result: dict[str, Any] = json.loads(stdout[start:])
    return result


def touched_files(root: Path, since: int) -> int:
    """Delta data files removed by the versions after ``since`` (the files a change sync must rewrite)."""
    from datax_migrate.convert.changes import ChangeReader
    from datax_migrate.delta.table import DeltaTable

    table = DeltaTable(str(root))
    return sum(len(c.removed) for c in ChangeReader(table, table.snapshot(since)).changes(table.latest_version))


def referenced_bytes(root: Path) -> int:
    """Bytes of the distinct Delta data files that any version of the table references."""
    from datax_migrate.convert.changes import ChangeReader
    from datax_migrate.delta.table import DeltaTable

    table = DeltaTable(str(root))
    base = table.snapshot(0)
    sizes = {add.key: add.size for add in base.files}
    for change in ChangeReader(table, base).changes(table.latest_version):
        sizes.update({add.key: add.size for add in change.added})
    return sum(sizes.values())


def check(ok: bool, message: str) -> None:
    """Fail the benchmark with ``message`` unless ``ok``."""
    if not ok:
        raise BenchmarkFailure(message)


def render(sizes: list[dict[str, Any]]) -> str:
    """The section: per size the jobs side by side, then the targets."""
    lines = [
        "## Sync and history",
        "",
        f"Run {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC by `python benchmarks/sync_benchmark.py` "
        f"on {json.dumps(machine())}.",
        "Each job is one `datax-migrate` process on a working copy of the partitioned convert table; seconds are "
        "wall time, CPU the process's user + system time, in-library the time the command reports for the library "
        "call (without interpreter start-up and imports, about 1 s of CPU for every job).",
        "",
    ]
    for size in sizes:
        lines += [
            f"### {size['rows']:,} rows ({size['delta_files']:,} Delta files, {size['delta_bytes'] / 1e6:,.0f} MB, "
            f"{size['versions']} versions after the jobs' changes)",
            "",
            "| job | seconds | CPU s | in-library s | peak RSS MB | files written | MB written | others' CPU s |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for row in size["jobs"]:
            written = f"{row['bytes'] / 1e6:,.1f}" if row["bytes"] is not None else ""
            lines.append(
                f"| {row['job']} | {row['seconds']:.2f} | {row['cpu_seconds']:.2f} | {row['library_seconds']:.2f} | "
                f"{row['peak_rss_mb']:,} | "
                f"{row['files'] if row['files'] is not None else ''} | {written} | {row['others_cpu_seconds']:.2f} |"
            )
        lines.append("")
    lines += ["### Targets (issue 16)", "", *targets(sizes), "", f"<!-- data {json.dumps(sizes)} -->"]
    return "\n".join(lines)


def targets(sizes: list[dict[str, Any]]) -> list[str]:
    """The figures the issue sets, each with its verdict."""
    jobs = {size["rows"]: {row["job"]: row for row in size["jobs"]} for size in sizes}
    large, small = sizes[-1], sizes[0]
    big = jobs[large["rows"]]
    share = big["sync-append"]["cpu_seconds"] / big["convert"]["cpu_seconds"]
    wall_share = big["sync-append"]["seconds"] / big["convert"]["seconds"]
    library_share = big["sync-append"]["library_seconds"] / big["convert"]["library_seconds"]
    history_ratio = big["history"]["bytes"] / large["referenced_bytes"]
    growth = big["sync-change"]["seconds"] / jobs[small["rows"]]["sync-change"]["seconds"]
    rss = max(big[j]["peak_rss_mb"] for j in ("sync-append", "sync-change", "history"))
    change_large, change_small = big["sync-change"]["seconds"], jobs[small["rows"]]["sync-change"]["seconds"]
    verdict = {True: "met", False: "NOT met"}
    growth_ok = verdict[growth <= TARGETS["change_growth"]]
    return [
        f"- Sync after a 1 % append of {large['rows']:,} rows: {share:.1%} of the full convert's CPU time "
        f"({wall_share:.1%} of its wall time, {library_share:.1%} of its in-library time); "
        f"target <= {TARGETS['append_share']:.0%}: "
        f"{verdict[share <= TARGETS['append_share']]}.",
        f"- Sync after a delete and an update touching {large['touched_files']} files: {change_large:.2f} s "
        f"at {large['rows']:,} rows vs {change_small:.2f} s at {small['rows']:,} rows "
        f"({small['touched_files']} files): x{growth:.2f} for x{large['rows'] / small['rows']:.0f} the table; "
        f"target: follows the files (<= x{TARGETS['change_growth']:.0f}): {growth_ok}.",
        f"- `--history` over {large['versions']} versions wrote {big['history']['bytes'] / 1e6:,.1f} MB against "
        f"{large['referenced_bytes'] / 1e6:,.1f} MB of distinct Delta data files referenced: x{history_ratio:.2f}; "
        f"target <= x{TARGETS['history_bytes']}: {verdict[history_ratio <= TARGETS['history_bytes']]}.",
        f"- Peak RSS of sync and history {rss:,} MB vs convert {big['convert']['peak_rss_mb']:,} MB: "
        f"{verdict[rss <= big['convert']['peak_rss_mb'] * 1.1]} (within the convert bound, 10 % slack).",
    ]


if __name__ == "__main__":
    sys.exit(main())
