"""Spark benchmark: the local engine vs. ``--engine spark`` vs. a Spark CTAS into Iceberg, one session.

    python benchmarks/spark_benchmark.py [--rows 20000000] [--repeat 3] [--no-doc]

On the partitioned convert benchmark table (benchmarks/tables.py), in one process holding one
SparkSession in local[2] with Apache's Iceberg runtime (.venv/spark-jars, ``make setup``):

- local engine: ``datax_migrate.convert.convert_table`` (2 threads), into a fresh SQL catalog;
- spark engine: ``datax_migrate.spark.convert_table`` (file groups dealt into four Spark tasks per core),
  same catalog kind;
- Spark CTAS: ``CREATE TABLE ... USING iceberg PARTITIONED BY (country, tx_date) AS SELECT * FROM
  parquet.`<table>``` into a Hadoop catalog: Spark's own Iceberg writer over the table's Parquet files
  (Delta's reader is not available to Spark here; the table is append-only, so every file is live).

Runs are interleaved; each job's median is reported. Every result is checked against the Delta
source (rows, sum(id), sum(amount), rows per country), and the two engines' data files must be the
same (partition and row count of each). Writes the ``spark`` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fingerprint import TableFingerprint, delta_fingerprint, iceberg_fingerprint
from harness import DOC, ROOT, BenchmarkFailure, machine, scratch, warm_page_cache
from report import replace_section
from tables import bench_table

SECTION = "spark"
JARS = ROOT / ".venv" / "spark-jars" / "jars.txt"
TARGET_RATIO = 1.5
_DATA = re.compile(r"<!-- spark-data (.*?) -->")


def spark_session(ctas_warehouse: Path) -> Any:
    """local[2] with the Iceberg runtime and a Hadoop catalog ``ctas`` for the CTAS baseline."""
    from pyspark.sql import SparkSession

    if not JARS.is_file():
        raise SystemExit(f"{JARS} is missing: run `make setup` (it builds the Iceberg runtime for Spark)")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    jars = ",".join(line.strip() for line in JARS.read_text().splitlines() if line.strip())
    session = (
        SparkSession.builder.master("local[2]")
        .appName("datax-migrate spark benchmark")
        .config("spark.jars", jars)
        .config("spark.driver.memory", "6g")
        .config("spark.sql.extensions", "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
        .config("spark.sql.catalog.ctas", "org.apache.iceberg.spark.SparkCatalog")
        .config("spark.sql.catalog.ctas.type", "hadoop")
        .config("spark.sql.catalog.ctas.warehouse", str(ctas_warehouse))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def sql_catalog(work: Path) -> tuple[Any, dict[str, str]]:
    from datax_migrate.catalogs import open_catalog

    (work / "wh").mkdir(parents=True)
    properties = {"type": "sql", "uri": f"sqlite:///{work / 'catalog.db'}", "warehouse": (work / "wh").as_uri()}
    return open_catalog("bench", properties), properties


def layout(catalog: Any, identifier: str) -> list[tuple[str, int]]:
    """Partition and row count of every data file, sorted: what both engines must agree on."""
    tasks = catalog.load_table(identifier).scan().plan_files()
    return sorted((repr(task.file.partition), task.file.record_count) for task in tasks)


def run_engine(convert: Callable[[str, Any, str], Any], table_path: Path, expected: TableFingerprint) -> dict[str, Any]:
    with scratch("spark-bench") as work:
        catalog, properties = sql_catalog(work)
        started = time.perf_counter()
        result = convert(str(table_path), catalog, "bench.t")
        seconds = time.perf_counter() - started
        _check("conversion", expected, iceberg_fingerprint("bench", properties, "bench.t"))
        return {"seconds": seconds, "data_files": result.data_files, "layout": layout(catalog, "bench.t")}


def run_ctas(spark: Any, table_path: Path, expected: TableFingerprint, run: int) -> dict[str, Any]:
    name = f"ctas.bench.t{run}"
    started = time.perf_counter()
    spark.sql(
        f"CREATE TABLE {name} USING iceberg PARTITIONED BY (country, tx_date) AS SELECT * FROM parquet.`{table_path}`"
    )
    seconds = time.perf_counter() - started
    rows = spark.sql(f"SELECT count(*), sum(id), sum(amount) FROM {name}").collect()[0]
    countries = spark.sql(f"SELECT country, count(*) FROM {name} GROUP BY country").collect()
    got = TableFingerprint(rows[0], rows[1], rows[2], tuple(sorted((c[0], c[1]) for c in countries)))
    _check("Spark CTAS", expected, got)
    files = spark.sql(f"SELECT count(*) FROM {name}.files").collect()[0][0]
    spark.sql(f"DROP TABLE {name} PURGE")
    return {"seconds": seconds, "data_files": files}


def _check(job: str, expected: TableFingerprint, got: TableFingerprint) -> None:
    differences = expected.differences(got)
    if differences:
        raise BenchmarkFailure(f"{job} differs from the Delta source: {'; '.join(differences)}")


def measure(rows: int, repeat: int) -> dict[str, Any]:
    from datax_migrate.convert import convert_table
    from datax_migrate.convert.spark_engine import convert_table as convert_on_spark

    table = bench_table("partitioned", rows)
    print(f"partitioned, {rows:,} rows: {len(table.files):,} Delta files, {table.bytes / 1e6:,.1f} MB", flush=True)
    expected = delta_fingerprint(table.path)
    warm_page_cache([*table.files, *sorted((table.path / "_delta_log").iterdir())])
    with scratch("spark-ctas") as ctas_warehouse:
        spark = spark_session(ctas_warehouse)
        jobs: dict[str, Callable[[int], dict[str, Any]]] = {
            "local engine": lambda run: run_engine(convert_table, table.path, expected),
            "spark engine": lambda run: run_engine(lambda *args: convert_on_spark(spark, *args), table.path, expected),
            "Spark CTAS": lambda run: run_ctas(spark, table.path, expected, run),
        }
        warm = run_engine(lambda *args: convert_on_spark(spark, *args), table.path, expected)
        print(f"  warm-up spark engine (Python workers start, imports): {warm['seconds']:.2f} s", flush=True)
        runs: dict[str, list[dict[str, Any]]] = {job: [] for job in jobs}
        for run in range(repeat):
            for job, measure_job in jobs.items():
                result = measure_job(run)
                runs[job].append(result)
                print(f"  run {run + 1}/{repeat} {job:<13} {result['seconds']:8.2f} s", flush=True)
        spark.stop()
    local_layouts = {json.dumps(r["layout"]) for r in runs["local engine"]}
    if local_layouts != {json.dumps(r["layout"]) for r in runs["spark engine"]} or len(local_layouts) != 1:
        raise BenchmarkFailure("the Spark engine's data files differ from the local engine's")
    medians = {job: statistics.median(r["seconds"] for r in job_runs) for job, job_runs in runs.items()}
    files = {job: job_runs[0]["data_files"] for job, job_runs in runs.items()}
    return {
        "rows": rows,
        "delta_files": len(table.files),
        "delta_bytes": table.bytes,
        "seconds": {job: [round(r["seconds"], 3) for r in job_runs] for job, job_runs in runs.items()},
        "median": {job: round(seconds, 3) for job, seconds in medians.items()},
        "data_files": files,
        "partitions": len({partition for partition, _ in runs["local engine"][0]["layout"]}),
        "spark_over_local": round(medians["spark engine"] / medians["local engine"], 3),
        "ctas_over_spark": round(medians["Spark CTAS"] / medians["spark engine"], 3),
        "warm_up_seconds": round(warm["seconds"], 3),
    }


def render(results: list[dict[str, Any]], command: str, measured_at: str, machine_line: str) -> str:
    lines = [
        "## Spark engine (local[2])",
        "",
        "`python benchmarks/spark_benchmark.py`: on the partitioned benchmark table, in one process with one",
        "SparkSession (local[2], Apache Iceberg 1.10.2 runtime): the local engine (2 threads), the Spark engine",
        "(file groups dealt into four Spark tasks per core) and Spark's own CTAS into Iceberg",
        "(`CREATE TABLE ... USING iceberg PARTITIONED BY (country, tx_date) AS SELECT * FROM parquet.`...``),",
        "interleaved; medians. Each result",
        "is checked against the Delta source; the two engines must write the same data files (partition and",
        "row count of each). The Spark engine's first run in a session (Python workers starting, imports) is",
        "a warm-up, reported apart.",
        "",
        f"Measured {measured_at} with `{command}` on {machine_line}.",
        "",
        "| rows | Delta files | partitions | local engine | spark engine | Spark CTAS | spark / local "
        "| CTAS / spark | target |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in sorted(results, key=lambda r: r["rows"]):
        met = "met" if r["spark_over_local"] <= TARGET_RATIO and r["ctas_over_spark"] > 1 else "MISSED"
        m = r["median"]
        lines.append(
            f"| {r['rows']:,} | {r['delta_files']:,} | {r['partitions']} | {m['local engine']:.2f} s | "
            f"{m['spark engine']:.2f} s | {m['Spark CTAS']:.2f} s | {r['spark_over_local']:.2f}x | "
            f"{r['ctas_over_spark']:.2f}x | {met} (spark <= {TARGET_RATIO}x local, faster than CTAS) |"
        )
    lines += ["", *(f"<!-- spark-data {json.dumps(r, sort_keys=True)} -->" for r in results)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 ok, 1 a result differs."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000_000, help="rows, a multiple of 1,000,000")
    parser.add_argument("--repeat", type=int, default=3, help="runs per job; the median is reported")
    parser.add_argument("--no-doc", action="store_true", help="print the results only")
    args = parser.parse_args(argv)
    try:
        result = measure(args.rows, args.repeat)
    except BenchmarkFailure as failure:
        print(f"\nFAILED: {failure}", file=sys.stderr)
        return 1
    print(json.dumps({k: v for k, v in result.items() if k != "seconds"}, indent=2))
    if not args.no_doc:
        text = DOC.read_text() if DOC.exists() else ""
        kept = {r["rows"]: r for r in (json.loads(m[1]) for m in _DATA.finditer(text))}
        kept[result["rows"]] = result
        shown = ["benchmarks/spark_benchmark.py", *(argv if argv is not None else sys.argv[1:])]
        info = machine()
        machine_line = ", ".join(f"{k} {v}" for k, v in info.items())
        measured_at = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        body = render(list(kept.values()), "python " + shlex.join(shown), measured_at, machine_line)
        DOC.write_text(replace_section(text, SECTION, body))
        print(f"wrote the spark section of {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
