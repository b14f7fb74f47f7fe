"""`datax-migrate emr submit` stages the code and one spec per table on S3 and starts them on EMR (moto)."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from pathlib import Path

import boto3
import pytest
import yaml

from datax_migrate import __version__
from datax_migrate.cli import main

pytestmark = pytest.mark.aws

ARN = "arn:aws:s3tables:us-east-1:123456789012:bucket/lakehouse"
ROLE = "arn:aws:iam::123456789012:role/datax-emr"


def write_inputs(tmp_path: Path, catalog: dict[str, str] | None = None) -> tuple[Path, Path]:
    tables = tmp_path / "tables.yaml"
    tables.write_text(
        yaml.safe_dump(
            {
                "tables": [
                    {"source": "s3://lake/sales/orders", "target": "sales.orders", "key": ["id"]},
                    {"source": "s3://lake/sales/refunds", "target": "sales.refunds", "version": 7},
                ]
            }
        )
    )
    config = tmp_path / "aws.yaml"
    properties = catalog or {"type": "s3tables", "warehouse": ARN}
    config.write_text(yaml.safe_dump({"catalogs": {"lake": properties}, "default_catalog": "lake"}))
    return tables, config


def staging_bucket() -> str:
    bucket = f"staging-{uuid.uuid4().hex[:8]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    return bucket


def read(uri: str) -> bytes:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return bytes(boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def test_serverless_job_runs_one_per_table_with_staged_code_and_specs(
    tmp_path: Path, aws_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tables, config = write_inputs(tmp_path)
    bucket = staging_bucket()
    application = boto3.client("emr-serverless").create_application(
        name="datax", releaseLabel="emr-7.5.0", type="SPARK"
    )["applicationId"]
    archive = f"s3://{bucket}/env/datax-venv.tar.gz"
    args = ["emr", "submit", str(tables), "--config", str(config), "--staging", f"s3://{bucket}/jobs"]
    args += ["--application-id", application, "--role", ROLE, "--archive", archive, "--output", "json"]

    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["command"], out["version"]) == ("emr submit", __version__)
    assert [s["target"] for s in out["submitted"]] == ["sales.orders", "sales.refunds"]

    client = boto3.client("emr-serverless")
    for item in out["submitted"]:
        run = client.get_job_run(applicationId=application, jobRunId=item["id"])["jobRun"]
        driver = run["jobDriver"]["sparkSubmit"]
        assert run["executionRole"] == ROLE
        assert driver["entryPoint"] == out["staged"]["entry"]
        assert driver["entryPointArguments"] == [item["spec"]]
        assert f"--py-files {out['staged']['code']}" in driver["sparkSubmitParameters"]
        assert f"spark.archives={archive}#environment" in driver["sparkSubmitParameters"]
        assert (
            "spark.emr-serverless.driverEnv.PYSPARK_PYTHON=./environment/bin/python" in driver["sparkSubmitParameters"]
        )

    orders = json.loads(read(out["submitted"][0]["spec"]))
    assert orders["catalog_properties"] == {"type": "s3tables", "warehouse": ARN}
    assert orders["tables"] == [
        {"source": "s3://lake/sales/orders", "target": "sales.orders", "version": None, "key": ["id"]}
    ]
    assert json.loads(read(out["submitted"][1]["spec"]))["tables"][0]["version"] == 7

    names = zipfile.ZipFile(io.BytesIO(read(out["staged"]["code"]))).namelist()
    assert "datax_migrate/emr/job.py" in names and "datax_migrate/reconcile/reports/templates/report.html.j2" in names
    assert all(name.startswith("datax_migrate/") and ".." not in name and "__pycache__" not in name for name in names)
    assert b"def main(argv" in read(out["staged"]["entry"])


def test_steps_one_spark_submit_per_table_on_a_cluster(
    tmp_path: Path, aws_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tables, config = write_inputs(tmp_path)
    bucket = staging_bucket()
    emr = boto3.client("emr")
    cluster = emr.run_job_flow(
        Name="datax",
        ReleaseLabel="emr-7.5.0",
        Instances={"MasterInstanceType": "m5.xlarge", "InstanceCount": 1, "KeepJobFlowAliveWhenNoSteps": True},
        JobFlowRole="EMR_EC2_DefaultRole",
        ServiceRole="EMR_DefaultRole",
    )["JobFlowId"]
    args = ["emr", "submit", str(tables), "--config", str(config), "--staging", f"s3://{bucket}/jobs"]
    assert main([*args, "--cluster-id", cluster]) == 0
    out = capsys.readouterr().out
    assert "2 step(s) started" in out

    steps = {s["Name"]: s for s in emr.list_steps(ClusterId=cluster)["Steps"]}
    step = steps["datax-migrate sales.orders"]
    command = step["Config"]["Args"]
    assert command[:4] == ["spark-submit", "--deploy-mode", "cluster", "--py-files"]
    assert command[-2].endswith("/entry.py") and command[-1].endswith("/job.json")
    assert step["ActionOnFailure"] == "CONTINUE"
    assert f"{step['Id']}" in out


def test_a_catalog_holding_credentials_is_refused_and_nothing_is_staged(
    tmp_path: Path, aws_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = {
        "type": "glue",
        "warehouse": "s3://w/",
        "s3.secret-access-key": "wJalrXUtnFEMI",
        "s3.access-key-id": "AKIA",
    }
    tables, config = write_inputs(tmp_path, catalog)
    bucket = staging_bucket()
    args = ["emr", "submit", str(tables), "--config", str(config), "--staging", f"s3://{bucket}/jobs"]
    assert main([*args, "--cluster-id", "j-NOPE"]) == 2
    err = capsys.readouterr().err
    assert "holds credentials (s3.access-key-id, s3.secret-access-key)" in err and "wJalrXUtnFEMI" not in err
    assert boto3.client("s3").list_objects_v2(Bucket=bucket).get("KeyCount") == 0
