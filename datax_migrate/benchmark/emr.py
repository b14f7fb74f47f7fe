"""The query benchmark as an EMR job: the same queries, Delta read by delta-spark, Iceberg through the catalog.

``stage_benchmark`` writes the code zip, the entry script (:mod:`datax_migrate.benchmark.emr_entry`)
and ``benchmark.json`` (pairs, queries, runs, the catalog) under a new folder of the staging prefix;
``submit_benchmark`` starts one EMR Serverless job run, or adds one EMR-on-EC2 step. On the cluster
the Delta source is read by EMR's delta-spark and the Iceberg target through a Spark catalog of the
pair's catalog name (S3 Tables, Glue or REST, configured by the submission), and the reports are
written to ``report/`` beside the spec.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from datax_migrate.benchmark.model import BenchmarkError
from datax_migrate.benchmark.pairs import TablePair, load_pairs
from datax_migrate.benchmark.queries import Query
from datax_migrate.emr.job import refuse_credentials
from datax_migrate.emr.staging import package_zip, write_bytes, write_text
from datax_migrate.emr.submit import spark_submit_options as submit_options
from datax_migrate.errors import ConfigError, missing_extra

JOB_VERSION = "datax-benchmark-job/1"
EMR_JARS = (
    "/usr/share/aws/delta/lib/delta-spark.jar",
    "/usr/share/aws/delta/lib/delta-storage.jar",
    "/usr/share/aws/iceberg/lib/iceberg-spark3-runtime.jar",
)
"""Where EMR 7.x keeps delta-spark and its Iceberg runtime."""
EXTENSIONS = "io.delta.sql.DeltaSparkSessionExtension,org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"
_CATALOG_IMPL = {
    "s3tables": "software.amazon.s3tables.iceberg.S3TablesCatalog",
    "glue": "org.apache.iceberg.aws.glue.GlueCatalog",
}


@dataclass(frozen=True)
class BenchmarkJob:
    """What an EMR benchmark run executes.

    Attributes:
        catalog: The targets' catalog name (also the Spark catalog's name on the cluster).
        catalog_properties: Its pyiceberg properties (never credentials: EMR jobs use their role).
        pairs: The table pairs (targets in ``catalog``).
        queries: The queries.
        runs: Timed runs per query per side.
        warmup: Untimed runs per query per side first.
        delta_reader: ``delta-spark`` (EMR's Delta) or ``datax`` (our reader, where no Delta jars are).
    """

    catalog: str
    catalog_properties: dict[str, str]
    pairs: tuple[TablePair, ...]
    queries: tuple[Query, ...]
    runs: int = 5
    warmup: int = 1
    delta_reader: str = "delta-spark"

    def __post_init__(self) -> None:
        refuse_credentials(self.catalog, self.catalog_properties)

    def to_json(self) -> str:
        """The job as JSON (``version`` first)."""
        return json.dumps({"version": JOB_VERSION, **asdict(self)}, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> BenchmarkJob:
        """Read a job written by :meth:`to_json`.

        Raises:
            BenchmarkError: not a benchmark job of this version.
        """
        try:
            document: Any = json.loads(text)
            if document.pop("version") != JOB_VERSION:
                raise ValueError(f"version is not {JOB_VERSION}")
            return cls(
                catalog=document["catalog"],
                catalog_properties=dict(document["catalog_properties"]),
                pairs=tuple(TablePair(**pair) for pair in document["pairs"]),
                queries=tuple(Query(**query) for query in document["queries"]),
                runs=int(document["runs"]),
                warmup=int(document["warmup"]),
                delta_reader=str(document["delta_reader"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BenchmarkError(f"not a datax-migrate benchmark job: {exc}") from None


@dataclass(frozen=True)
class StagedBenchmark:
    """Where a benchmark job's code and spec were put, and where its reports will be."""

    prefix: str
    code: str
    entry: str
    spec: str
    reports: str


def plan_benchmark_job(
    pairs_file: str | Path, queries: tuple[Query, ...], config_file: str | None = None, runs: int = 5, warmup: int = 1
) -> BenchmarkJob:
    """The job of a pairs file: every target in one catalog, names resolved under its rules.

    Raises:
        BenchmarkError: the pairs name more than one catalog.
        ConfigError: the config, the catalog or a target name is not valid.
    """
    from datax_migrate.config import Config
    from datax_migrate.plan.names import resolve_target, rules_for_catalog

    config = Config.load(config_file)
    pairs = load_pairs(pairs_file)
    names = {pair.catalog or config.default_catalog for pair in pairs}
    if len(names) != 1:
        raise BenchmarkError(f"an EMR benchmark reads one catalog; the pairs name {', '.join(sorted(names))}")
    (catalog,) = names
    properties = config.properties(catalog)
    rules = rules_for_catalog(properties)
    resolved = tuple(
        TablePair(pair.name, pair.source, resolve_target(pair.target, rules, None).identifier, catalog)
        for pair in pairs
    )
    return BenchmarkJob(catalog, properties, resolved, queries, runs, warmup)


def stage_benchmark(job: BenchmarkJob, staging: str) -> StagedBenchmark:
    """Write the code, the entry script and the job under a new folder of ``staging``."""
    run_id = f"{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    prefix = f"{staging.rstrip('/')}/benchmark-{run_id}"
    staged = StagedBenchmark(
        prefix, f"{prefix}/datax_migrate.zip", f"{prefix}/benchmark_entry.py", f"{prefix}/benchmark.json",
        f"{prefix}/report",
    )  # fmt: skip
    write_bytes(staged.code, package_zip())
    write_bytes(staged.entry, (Path(__file__).parent / "emr_entry.py").read_bytes())
    write_text(staged.spec, job.to_json())
    return staged


def spark_submit_options(job: BenchmarkJob, staged: StagedBenchmark, archive: str | None, driver_env: str) -> list[str]:
    """``spark-submit`` options: the code, delta-spark and Iceberg on EMR, the job's catalog as a Spark catalog."""
    prefix = f"spark.sql.catalog.{job.catalog}"
    options = submit_options(staged.code, archive, driver_env) + ["--conf", f"spark.jars={','.join(EMR_JARS)}"]
    options += ["--conf", f"spark.sql.extensions={EXTENSIONS}"]
    options += ["--conf", "spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog"]
    options += ["--conf", f"{prefix}=org.apache.iceberg.spark.SparkCatalog"]
    kind = job.catalog_properties.get("type", "")
    if kind in _CATALOG_IMPL:
        options += ["--conf", f"{prefix}.catalog-impl={_CATALOG_IMPL[kind]}"]
    elif kind == "rest":
        options += ["--conf", f"{prefix}.type=rest", "--conf", f"{prefix}.uri={job.catalog_properties['uri']}"]
    else:
        raise BenchmarkError(f"catalog {job.catalog!r} of type {kind!r}: EMR reads s3tables, glue or rest catalogs")
    if "warehouse" in job.catalog_properties:
        options += ["--conf", f"{prefix}.warehouse={job.catalog_properties['warehouse']}"]
    return options


def submit_benchmark(
    job: BenchmarkJob,
    staged: StagedBenchmark,
    *,
    application_id: str | None = None,
    role_arn: str | None = None,
    cluster_id: str | None = None,
    archive: str | None = None,
) -> str:
    """Start the job: an EMR Serverless job run (``application_id``, ``role_arn``) or a step (``cluster_id``).

    Returns:
        The job run id or the step id.
    """
    try:
        import boto3
    except ImportError:
        raise missing_extra("boto3", "aws", "benchmark on EMR") from None
    name = f"datax-migrate benchmark ({len(job.queries)} queries)"
    if cluster_id:
        options = spark_submit_options(job, staged, archive, "spark.yarn.appMasterEnv")
        step = {
            "Name": name,
            "ActionOnFailure": "CONTINUE",
            "HadoopJarStep": {
                "Jar": "command-runner.jar",
                "Args": ["spark-submit", "--deploy-mode", "cluster", *options, staged.entry, staged.spec],
            },
        }
        return str(boto3.client("emr").add_job_flow_steps(JobFlowId=cluster_id, Steps=[step])["StepIds"][0])
    if not (application_id and role_arn):
        raise ConfigError("give --cluster-id, or --application-id and --role for EMR Serverless")
    options = spark_submit_options(job, staged, archive, "spark.emr-serverless.driverEnv")
    answer = boto3.client("emr-serverless").start_job_run(
        applicationId=application_id,
        executionRoleArn=role_arn,
        name=name,
        clientToken=uuid.uuid4().hex,
        jobDriver={
            "sparkSubmit": {
                "entryPoint": staged.entry,
                "entryPointArguments": [staged.spec],
                "sparkSubmitParameters": " ".join(options),
            }
        },
        configurationOverrides={
            "monitoringConfiguration": {"s3MonitoringConfiguration": {"logUri": f"{staged.prefix}/logs/"}}
        },
    )
    return str(answer["jobRunId"])
