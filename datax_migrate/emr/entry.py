"""The script EMR runs: ``spark-submit --py-files datax_migrate.zip entry.py JOB_SPEC_URI``.

It reads the job spec, runs it on the cluster's SparkSession and writes ``results.json`` next to
the spec; the exit status is 1 when a table failed or did not reconcile.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    """Run the job whose spec is at ``argv[0]`` (``s3://`` or a local path)."""
    from datax_migrate.emr.job import JobSpec, results_json, run_job, succeeded
    from datax_migrate.emr.staging import read_text, sibling, write_text
    from datax_migrate.spark.session import spark_session

    spec_uri = argv[0]
    spec = JobSpec.from_json(read_text(spec_uri))
    results = run_job(spark_session("datax-migrate EMR job"), spec, log=_log)
    write_text(sibling(spec_uri, "results.json"), results_json(results))
    return 0 if succeeded(results) else 1


def _log(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
