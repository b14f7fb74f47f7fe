"""Stage a conversion job under an S3 prefix and start it on EMR Serverless or as EMR-on-EC2 steps.

Each table becomes one job run (Serverless) or one step (EMR on EC2) of its own, so tables run,
fail and retry independently; they share one staged copy of the code. Python dependencies
(pyarrow, pyiceberg, ...) come from a virtualenv archive built for the EMR release (docs/emr.md),
passed as ``archive``; without one, the cluster's own Python must have them.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, replace
from typing import Any

from datax_migrate.emr.job import JobSpec
from datax_migrate.emr.staging import entry_script, package_zip, write_bytes, write_text
from datax_migrate.errors import missing_extra

ENVIRONMENT = "./environment/bin/python"


@dataclass(frozen=True)
class StagedJob:
    """Where a job's code and per-table specs were put.

    Attributes:
        prefix: The job's folder (staging prefix plus a run id).
        code: The ``datax_migrate`` zip (``--py-files``).
        entry: The entry script.
        specs: One job spec per table, in the order of the tables.
    """

    prefix: str
    code: str
    entry: str
    specs: tuple[str, ...]


@dataclass(frozen=True)
class Submitted:
    """One started unit of work: the table, its spec, and the EMR job run or step id."""

    target: str
    spec: str
    id: str


def stage(spec: JobSpec, staging: str) -> StagedJob:
    """Write the code, the entry script and one spec per table under a new folder of ``staging``."""
    run_id = f"{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    prefix = f"{staging.rstrip('/')}/{run_id}"
    code, entry = f"{prefix}/datax_migrate.zip", f"{prefix}/entry.py"
    write_bytes(code, package_zip())
    write_bytes(entry, entry_script())
    specs = []
    for index, table in enumerate(spec.tables):
        uri = f"{prefix}/tables/{index:04d}-{_slug(table.target)}/job.json"
        write_text(uri, replace(spec, tables=(table,)).to_json())
        specs.append(uri)
    return StagedJob(prefix, code, entry, tuple(specs))


def submit_serverless(
    staged: StagedJob, spec: JobSpec, application_id: str, role_arn: str, archive: str | None = None
) -> list[Submitted]:
    """Start one EMR Serverless job run per table; logs go under the job's prefix."""
    client = _boto3().client("emr-serverless")
    parameters = " ".join(spark_submit_options(staged.code, archive))
    submitted = []
    for table, uri in zip(spec.tables, staged.specs, strict=True):
        answer = client.start_job_run(
            applicationId=application_id,
            executionRoleArn=role_arn,
            name=f"datax-migrate {table.target}",
            clientToken=uuid.uuid4().hex,
            jobDriver={
                "sparkSubmit": {
                    "entryPoint": staged.entry,
                    "entryPointArguments": [uri],
                    "sparkSubmitParameters": parameters,
                }
            },
            configurationOverrides={
                "monitoringConfiguration": {"s3MonitoringConfiguration": {"logUri": f"{staged.prefix}/logs/"}}
            },
        )
        submitted.append(Submitted(table.target, uri, str(answer["jobRunId"])))
    return submitted


def submit_steps(staged: StagedJob, spec: JobSpec, cluster_id: str, archive: str | None = None) -> list[Submitted]:
    """Add one ``spark-submit`` step per table to a running EMR-on-EC2 cluster (YARN cluster mode)."""
    options = spark_submit_options(staged.code, archive, "spark.yarn.appMasterEnv")
    steps: list[dict[str, Any]] = [
        {
            "Name": f"datax-migrate {table.target}",
            "ActionOnFailure": "CONTINUE",
            "HadoopJarStep": {
                "Jar": "command-runner.jar",
                "Args": ["spark-submit", "--deploy-mode", "cluster", *options, staged.entry, uri],
            },
        }
        for table, uri in zip(spec.tables, staged.specs, strict=True)
    ]
    answer = _boto3().client("emr").add_job_flow_steps(JobFlowId=cluster_id, Steps=steps)
    return [
        Submitted(table.target, uri, str(step_id))
        for table, uri, step_id in zip(spec.tables, staged.specs, answer["StepIds"], strict=True)
    ]


def spark_submit_options(
    code: str, archive: str | None, driver_env: str = "spark.emr-serverless.driverEnv"
) -> list[str]:
    """The ``spark-submit`` options of a staged job: its code zip and, with ``archive``, the archive's Python.

    Args:
        code: the ``datax_migrate`` zip's URI.
        archive: the virtualenv archive's URI (docs/emr.md), or ``None`` to use the cluster's Python.
        driver_env: the Spark property prefix of the driver's environment (EMR Serverless by default;
            ``spark.yarn.appMasterEnv`` on EMR on EC2).

    """
    options = ["--py-files", code]
    if archive:
        options += ["--conf", f"spark.archives={archive}#environment"]
        options += ["--conf", f"{driver_env}.PYSPARK_DRIVER_PYTHON={ENVIRONMENT}"]
        options += ["--conf", f"{driver_env}.PYSPARK_PYTHON={ENVIRONMENT}"]
        options += ["--conf", f"spark.executorEnv.PYSPARK_PYTHON={ENVIRONMENT}"]
    return options


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:100]


def _boto3() -> Any:
    try:
        import boto3
    except ImportError:
        raise missing_extra("boto3", "aws", "emr submit") from None
    return boto3
