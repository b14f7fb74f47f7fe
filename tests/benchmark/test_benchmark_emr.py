"""`datax-migrate benchmark emr` stages the code and the job on S3 and starts it on EMR (moto); the staged
entry script runs the benchmark under spark-submit (local Spark standing in for the cluster)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import boto3
import pytest
import yaml

from datax_migrate import __version__
from datax_migrate.benchmark.emr import BenchmarkJob, plan_benchmark_job, stage_benchmark
from datax_migrate.benchmark.queries import load_queries
from datax_migrate.cli import main
from tests.benchmark.conftest import Lake

ARN = "arn:aws:s3tables:us-east-1:123456789012:bucket/lakehouse"
ROLE = "arn:aws:iam::123456789012:role/datax-emr"
ROOT = Path(__file__).resolve().parents[2]


def write_inputs(tmp_path: Path, catalog: dict[str, str] | None = None) -> tuple[Path, Path, Path]:
    pairs = tmp_path / "pairs.yaml"
    pairs.write_text(
        yaml.safe_dump(
            {
                "pairs": {
                    "orders": {"source": "s3://lake/sales/orders", "target": "sales.orders"},
                    "customers": {"source": "s3://lake/sales/customers", "target": "sales.customers"},
                }
            },
            sort_keys=False,
        )
    )
    config = tmp_path / "aws.yaml"
    config.write_text(
        yaml.safe_dump(
            {"catalogs": {"lake": catalog or {"type": "s3tables", "warehouse": ARN}}, "default_catalog": "lake"}
        )
    )
    queries = tmp_path / "queries"
    queries.mkdir()
    (queries / "q1.sql").write_text("SELECT count(*) FROM orders JOIN customers USING (customer) ORDER BY 1")
    return pairs, config, queries


def read(uri: str) -> bytes:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return bytes(boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def staging_bucket() -> str:
    bucket = f"staging-{uuid.uuid4().hex[:8]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    return bucket


@pytest.mark.aws
def test_serverless_job_run_with_delta_spark_and_the_s3_tables_catalog(
    tmp_path: Path, aws_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pairs, config, queries = write_inputs(tmp_path)
    bucket = staging_bucket()
    application = boto3.client("emr-serverless").create_application(
        name="datax", releaseLabel="emr-7.5.0", type="SPARK"
    )["applicationId"]
    archive = f"s3://{bucket}/env/datax-venv.tar.gz"
    args = ["benchmark", "emr", "--pairs", str(pairs), "--queries", str(queries), "--config", str(config)]
    args += ["--staging", f"s3://{bucket}/jobs", "--application-id", application, "--role", ROLE]
    args += ["--archive", archive, "--runs", "3", "--output", "json"]

    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["command"], out["version"]) == ("benchmark emr", __version__)
    staged = out["staged"]
    run = boto3.client("emr-serverless").get_job_run(applicationId=application, jobRunId=out["id"])["jobRun"]
    driver = run["jobDriver"]["sparkSubmit"]
    assert run["executionRole"] == ROLE
    assert driver["entryPoint"] == staged["entry"] and driver["entryPointArguments"] == [staged["spec"]]
    parameters = driver["sparkSubmitParameters"]
    assert f"--py-files {staged['code']}" in parameters
    assert "spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog" in parameters
    assert "io.delta.sql.DeltaSparkSessionExtension" in parameters and "/usr/share/aws/delta/lib/" in parameters
    assert "spark.sql.catalog.lake.catalog-impl=software.amazon.s3tables.iceberg.S3TablesCatalog" in parameters
    assert f"spark.sql.catalog.lake.warehouse={ARN}" in parameters
    assert f"spark.archives={archive}#environment" in parameters

    job = BenchmarkJob.from_json(read(staged["spec"]).decode())
    assert [p.name for p in job.pairs] == ["orders", "customers"]
    assert {p.catalog for p in job.pairs} == {"lake"} and job.runs == 3 and job.delta_reader == "delta-spark"
    assert job.queries[0].ordered and job.catalog_properties == {"type": "s3tables", "warehouse": ARN}
    assert b"def main(argv" in read(staged["entry"])
    assert staged["reports"] == staged["prefix"] + "/report"


@pytest.mark.aws
def test_a_step_on_a_running_cluster(tmp_path: Path, aws_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    pairs, config, queries = write_inputs(tmp_path)
    bucket = staging_bucket()
    emr = boto3.client("emr")
    cluster = emr.run_job_flow(
        Name="datax",
        ReleaseLabel="emr-7.5.0",
        Instances={"MasterInstanceType": "m5.xlarge", "InstanceCount": 1, "KeepJobFlowAliveWhenNoSteps": True},
        JobFlowRole="EMR_EC2_DefaultRole",
        ServiceRole="EMR_DefaultRole",
    )["JobFlowId"]
    args = ["benchmark", "emr", "--pairs", str(pairs), "--queries", str(queries), "--config", str(config)]

    assert main([*args, "--staging", f"s3://{bucket}/jobs", "--cluster-id", cluster]) == 0

    out = capsys.readouterr().out
    assert out.startswith("started EMR step ")
    (step,) = emr.list_steps(ClusterId=cluster)["Steps"]
    command = step["Config"]["Args"]
    assert command[:4] == ["spark-submit", "--deploy-mode", "cluster", "--py-files"]
    assert command[-2].endswith("/benchmark_entry.py") and command[-1].endswith("/benchmark.json")


@pytest.mark.aws
def test_a_catalog_holding_credentials_is_refused_and_nothing_is_staged(
    tmp_path: Path, aws_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = {"type": "glue", "warehouse": "s3://w/", "s3.secret-access-key": "wJalrXUtnFEMI"}
    pairs, config, queries = write_inputs(tmp_path, catalog)
    bucket = staging_bucket()
    args = ["benchmark", "emr", "--pairs", str(pairs), "--queries", str(queries), "--config", str(config)]

    assert main([*args, "--staging", f"s3://{bucket}/jobs", "--cluster-id", "j-NOPE"]) == 2

    err = capsys.readouterr().err
    assert "holds credentials (s3.secret-access-key)" in err and "wJalrXUtnFEMI" not in err
    assert boto3.client("s3").list_objects_v2(Bucket=bucket).get("KeyCount") == 0


@pytest.mark.spark
@pytest.mark.slow
def test_the_staged_entry_runs_the_benchmark_and_writes_the_reports_beside_the_job(lake: Lake) -> None:
    jars = ROOT / ".venv" / "spark-jars" / "jars.txt"
    if not jars.is_file():
        pytest.skip("Iceberg jars for Spark not found: run scripts/spark-jars.sh (make test does)")
    job = plan_benchmark_job(lake.pairs, load_queries(str(lake.queries)), str(lake.config), runs=1, warmup=0)
    # No Delta jars offline: the local stand-in reads Delta with our reader; EMR uses delta-spark.
    local = BenchmarkJob(job.catalog, job.catalog_properties, job.pairs, job.queries, 1, 0, delta_reader="datax")
    staged = stage_benchmark(local, str(lake.root / "staging"))
    listed = ",".join(line.strip() for line in jars.read_text().splitlines() if line.strip())
    command = [
        str(Path(sys.executable).parent / "spark-submit"), "--master", "local[2]", "--jars", listed,
        "--conf", "spark.sql.extensions=org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
        "--py-files", staged.code, staged.entry, staged.spec,
    ]  # fmt: skip

    done = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, "PYSPARK_PYTHON": sys.executable}, timeout=600
    )

    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((Path(staged.reports) / "report.json").read_text())
    assert report["passed"] and [q["name"] for q in report["queries"]] == ["by_customer", "by_region", "regions"]
    assert report["engine"]["name"] == "spark"
    assert (Path(staged.reports) / "report.html").is_file()
