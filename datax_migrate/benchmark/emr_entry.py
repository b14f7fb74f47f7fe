"""The script EMR runs for a benchmark: ``spark-submit --py-files datax_migrate.zip benchmark_entry.py SPEC_URI``.

It reads the job, runs the queries on the cluster's SparkSession and writes report.json, report.html
and report.md to ``report/`` next to the spec; the exit status is 1 when an answer differs.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    """Run the benchmark job whose spec is at ``argv[0]`` (``s3://`` or a local path)."""
    import tempfile
    from pathlib import Path

    import yaml

    from datax_migrate.benchmark.emr import BenchmarkJob
    from datax_migrate.benchmark.pairs import open_pairs
    from datax_migrate.benchmark.reports import REPORT_FILES
    from datax_migrate.benchmark.run import run_benchmark
    from datax_migrate.benchmark.spark_engine import SparkEngine
    from datax_migrate.emr.staging import read_text, sibling, write_text
    from datax_migrate.spark.session import spark_session

    spec_uri = argv[0]
    job = BenchmarkJob.from_json(read_text(spec_uri))
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "catalogs.yaml"
        config.write_text(yaml.safe_dump({"catalogs": {job.catalog: job.catalog_properties}}), encoding="utf-8")
        spark = spark_session("datax-migrate benchmark")
        engine = SparkEngine(open_pairs(job.pairs, str(config)), spark, delta_reader=job.delta_reader)
        report = run_benchmark(
            job.pairs,
            job.queries,
            engine=engine,
            config=str(config),
            runs=job.runs,
            warmup=job.warmup,
            report_dir=Path(folder) / "report",
            title=f"Query benchmark on EMR: {len(job.pairs)} tables, {len(job.queries)} queries",
            progress=_log,
        )
        for name in REPORT_FILES:
            write_text(sibling(spec_uri, f"report/{name}"), (Path(folder) / "report" / name).read_text("utf-8"))
    return 0 if report.passed else 1


def _log(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
