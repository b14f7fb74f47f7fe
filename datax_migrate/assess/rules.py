"""Assessment rules: findings and a migration strategy per table, notebook and job.

The table rules ask the converter itself: the protocol goes through
:func:`datax_migrate.delta.protocol.check_readable` and the schema through
:func:`datax_migrate.iceberg.schema.iceberg_schema` and
:func:`datax_migrate.iceberg.partitioning.plan_partitioning`, so ``rewrite`` is recommended exactly
where ``datax-migrate convert`` (with default options) would accept the table. Codes are documented
in ``docs/reference/findings.md``.
"""

from __future__ import annotations

from collections.abc import Iterable

from datax_migrate.delta.actions import Protocol
from datax_migrate.delta.protocol import check_readable
from datax_migrate.delta.schema import IDENTITY_START, StructType, parse_schema
from datax_migrate.errors import DataxError, MappingError, UnsupportedFeatureError
from datax_migrate.findings import Finding, Severity
from datax_migrate.iceberg.partitioning import plan_partitioning
from datax_migrate.iceberg.schema import iceberg_schema
from datax_migrate.inventory.delta_facts import SMALL_FILE_BYTES
from datax_migrate.inventory.model import CrawlFailure, DeltaFacts, JobRecord, NotebookRecord, TableRecord

REWRITE = "rewrite"
"""The converter rewrites the latest Delta version into one Iceberg commit."""
RECREATE_VIEW = "recreate-view"
"""A view: created again on the target from its translated SQL."""
BLOCKED = "blocked"
"""The converter would refuse it, or there is nothing it can convert; a person must act first."""
UNKNOWN = "unknown"
"""Its Delta log was not read, so whether it converts is not known yet."""
STRATEGIES = (REWRITE, RECREATE_VIEW, BLOCKED, UNKNOWN)

AUTOMATIC, ASSISTED, MANUAL = "automatic", "assisted", "manual"
"""Notebook translatability: no findings to act on, review findings only, at least one blocker."""

SMALL_FILE_MIN_COUNT = 100
"""Fewest files for the many-small-files finding (a small table with small files is fine)."""
SMALL_FILE_MAX_RATIO = 0.5
"""Share of small files (under :data:`SMALL_FILE_BYTES`) from which a table has many small files."""

_PIPELINE_KINDS = ("materialized-view", "streaming-table")


def assess_table(table: TableRecord) -> tuple[str, tuple[Finding, ...]]:
    """The strategy for ``table`` and what was found about it."""
    subject = table.name
    if table.kind == "view":
        return RECREATE_VIEW, (
            Finding(
                "view",
                Severity.REVIEW,
                "a view is not converted: translate its SQL (the notebook translator's SQL rules apply) "
                "and create it on the target after the tables it reads",
                subject,
            ),
        )
    if table.kind in _PIPELINE_KINDS:
        return BLOCKED, (
            Finding(
                "pipeline-table",
                Severity.BLOCKER,
                f"a {table.kind} is maintained by a Delta Live Tables pipeline: rebuild the pipeline on AWS "
                "(e.g. a scheduled Spark job writing Iceberg); its current rows can be converted like a table "
                "once it is an ordinary Delta table",
                subject,
            ),
        )
    if table.format != "delta":
        return BLOCKED, (Finding("not-delta-format", Severity.BLOCKER, _not_delta_message(table), subject),)
    findings: list[Finding] = []
    if table.kind == "external" and table.origin != "storage":
        findings.append(
            Finding(
                "external-location",
                Severity.INFO,
                f"an external table at {table.location}: the Iceberg copy is written to the target catalog and "
                "the source location is left as it is; jobs that read the path directly must move too",
                subject,
            )
        )
    if table.delta_error:
        findings.append(
            Finding(
                "log-unreadable",
                Severity.BLOCKER,
                f"the Delta log could not be read ({table.delta_error}): give the crawl read access to "
                f"{table.location} and run the inventory again",
                subject,
            )
        )
        return UNKNOWN, tuple(findings)
    if table.delta is not None:
        findings += _protocol_findings(subject, table.delta)
        findings += _layout_findings(subject, table.delta)
    if table.schema_json:
        partition_columns = table.delta.partition_columns if table.delta else ()
        findings += _schema_findings(subject, table.schema_json, partition_columns)
    if table.delta is None:
        findings.append(
            Finding(
                "delta-facts-missing",
                Severity.REVIEW,
                "the Delta log was not read (no storage access and no SQL warehouse during the crawl), so its "
                "protocol features are unchecked: run the inventory with --read-logs or --warehouse",
                subject,
            )
        )
    if any(f.severity is Severity.BLOCKER for f in findings):
        return BLOCKED, tuple(findings)
    return (REWRITE if table.delta is not None else UNKNOWN), tuple(findings)


def _not_delta_message(table: TableRecord) -> str:
    """What to do with a table the converter cannot read because it is not Delta."""
    if table.format == "parquet":
        return (
            "plain Parquet files without a _delta_log; the converter reads Delta only: run CONVERT TO DELTA "
            f"parquet.`{table.location}` on Databricks (it writes a log beside the files, no data is rewritten) and "
            "inventory it again, or register the files in an Iceberg table as they are (Spark's add_files "
            "procedure); if it is a copy or an export rather than a table, leave it out with --exclude"
        )
    return (
        f"the data is {table.format or 'of unknown format'}, not Delta; the converter reads Delta only: load it "
        "with Spark into an Iceberg table (CREATE TABLE ... USING iceberg AS SELECT)"
    )


def _protocol_findings(subject: str, facts: DeltaFacts) -> list[Finding]:
    findings = []
    protocol = Protocol(
        facts.min_reader_version,
        facts.min_writer_version,
        frozenset(facts.reader_features),
        frozenset(facts.writer_features),
    )
    try:
        check_readable(protocol)
    except UnsupportedFeatureError as exc:
        findings.append(
            Finding("unsupported-reader-feature", Severity.BLOCKER, f"the converter refuses it: {exc}", subject)
        )
    if "deletionVectors" in facts.reader_features or facts.files_with_deletion_vectors:
        findings.append(
            Finding(
                "deletion-vectors",
                Severity.INFO,
                f"{facts.files_with_deletion_vectors:,} data file(s) carry deletion vectors "
                f"({facts.deleted_rows:,} rows deleted): the rewrite leaves those rows out, as Delta readers do",
                subject,
            )
        )
    if facts.column_mapping_mode in ("name", "id"):
        findings.append(
            Finding(
                f"column-mapping-{facts.column_mapping_mode}",
                Severity.INFO,
                f"column mapping by {facts.column_mapping_mode}: columns are read by their physical names and "
                "written under their logical names",
                subject,
            )
        )
    if facts.change_data_feed:
        findings.append(
            Finding(
                "change-data-feed",
                Severity.REVIEW,
                "the change data feed is on: the converter writes the latest version only, so the change history "
                "is not carried over; consumers of table_changes() must move to Iceberg incremental reads "
                "(e.g. the create_changelog_view procedure)",
                subject,
            )
        )
    for name, expression in facts.check_constraints.items():
        findings.append(
            Finding(
                "check-constraint",
                Severity.REVIEW,
                f"CHECK constraint {name} ({expression}) is dropped with the other delta.* properties: Iceberg "
                "does not enforce constraints; writers on AWS must check it themselves",
                subject,
                original=expression,
            )
        )
    return findings


def _layout_findings(subject: str, facts: DeltaFacts) -> list[Finding]:
    """Many small files: half or more under :data:`SMALL_FILE_BYTES` (by average size when only totals are known)."""
    if facts.num_files is None or facts.size_bytes is None or facts.num_files < SMALL_FILE_MIN_COUNT:
        return []
    limit = SMALL_FILE_BYTES // (1024 * 1024)
    if facts.small_file_ratio is not None:
        if facts.small_file_ratio < SMALL_FILE_MAX_RATIO:
            return []
        what = f"{facts.small_file_ratio:.0%} of its {facts.num_files:,} data files are under {limit} MiB"
    else:
        average = facts.size_bytes / facts.num_files
        if average >= SMALL_FILE_BYTES:
            return []
        what = f"its {facts.num_files:,} data files average {average / 2**20:,.1f} MiB (under {limit} MiB)"
    return [
        Finding(
            "many-small-files",
            Severity.INFO,
            f"{what}: the rewrite bin-packs them into larger Iceberg files, and the conversion time is driven by "
            "the file count",
            subject,
        )
    ]


def _schema_findings(subject: str, schema_json: str, partition_columns: tuple[str, ...]) -> list[Finding]:
    try:
        schema = parse_schema(schema_json)
    except DataxError as exc:
        return [Finding("schema-unreadable", Severity.BLOCKER, f"the table schema cannot be parsed: {exc}", subject)]
    findings = []
    try:
        iceberg_schema(schema)
    except MappingError as exc:
        findings.append(Finding("unmappable-type", Severity.BLOCKER, f"the converter refuses it: {exc}", subject))
    transforms = _transform_partitions(schema, partition_columns)
    for field in schema.fields:
        expression = field.generation_expression
        if expression is not None:
            if field.name.lower() in transforms:
                message = (
                    f"generated column {field.name} = {expression} becomes the Iceberg partition transform "
                    f"{transforms[field.name.lower()]}; its values are kept as an ordinary column"
                )
                findings.append(Finding("generated-column", Severity.INFO, message, subject, original=expression))
            else:
                message = (
                    f"generated column {field.name} = {expression}: its values are kept, but Iceberg does not "
                    "compute it; writers on AWS must fill it"
                )
                findings.append(Finding("generated-column", Severity.REVIEW, message, subject, original=expression))
        if IDENTITY_START in field.metadata:
            findings.append(
                Finding(
                    "identity-column",
                    Severity.REVIEW,
                    f"identity column {field.name}: its values are kept, but Iceberg has no identity columns; "
                    "writers on AWS must supply the values",
                    subject,
                )
            )
    return findings


def _transform_partitions(schema: StructType, partition_columns: tuple[str, ...]) -> dict[str, str]:
    """Generated partition columns that become an Iceberg transform, by lower-cased name."""
    try:
        plan = plan_partitioning(schema, partition_columns)
    except (KeyError, DataxError):
        return {}
    return {
        column.lower(): f"{part.transform}({part.source})"
        for part in plan
        if not part.is_identity
        for column in part.derived_from
    }


def notebook_translatability(notebook: NotebookRecord) -> str:
    """``automatic``, ``assisted`` or ``manual``, from the severities of its findings."""
    severities = {finding.severity for finding in notebook.findings}
    if Severity.BLOCKER in severities:
        return MANUAL
    return ASSISTED if Severity.REVIEW in severities else AUTOMATIC


_TASK_FINDINGS = {
    "pipeline": (
        "pipeline-task",
        Severity.BLOCKER,
        "runs a Delta Live Tables pipeline, which has no AWS equivalent: rebuild it as Spark jobs",
    ),
    "spark_jar": (
        "jar-task",
        Severity.REVIEW,
        "runs a JAR: submit it to EMR (spark-submit) after checking its Databricks-only APIs",
    ),
    "sql": (
        "sql-task",
        Severity.REVIEW,
        "runs SQL on a Databricks SQL warehouse: move it to Athena or EMR and translate it",
    ),
    "dbt": (
        "dbt-task",
        Severity.REVIEW,
        "runs dbt: point its profile at Athena or Spark on EMR (dbt-athena, dbt-spark)",
    ),
}


def assess_job(job: JobRecord, notebook_paths: Iterable[str]) -> tuple[Finding, ...]:
    """What moving ``job`` involves; ``notebook_paths`` are the notebooks in the inventory."""
    subject = f"job {job.job_id} ({job.name})"
    known = set(notebook_paths)
    findings = [
        Finding(
            "job-recreate",
            Severity.REVIEW,
            f"{len(job.tasks)} task(s)"
            + (f", scheduled {job.schedule}" if job.schedule else "")
            + ": recreate the job in an AWS scheduler (Step Functions, MWAA, EMR Serverless) after its code moves",
            subject,
        )
    ]
    for task in job.tasks:
        if task.kind in _TASK_FINDINGS:
            code, severity, what = _TASK_FINDINGS[task.kind]
            findings.append(Finding(code, severity, f"task {task.key} {what}", subject, original=task.target))
        elif task.kind == "notebook" and task.target and known and task.target not in known:
            findings.append(
                Finding(
                    "job-notebook-missing",
                    Severity.REVIEW,
                    f"task {task.key} runs notebook {task.target}, which is not in the inventory (a Git source or "
                    "another workspace?): inventory it too",
                    subject,
                    original=task.target,
                )
            )
    return tuple(findings)


def failure_finding(failure: CrawlFailure) -> Finding:
    """A crawl failure as a finding: an unreadable Delta log blocks its table, anything else needs a look."""
    if failure.stage == "read-log":
        return Finding("log-unreadable", Severity.BLOCKER, failure.reason, failure.subject)
    return Finding(
        "crawl-failed",
        Severity.REVIEW,
        f"{failure.source} could not {failure.stage.replace('-', ' ')}: {failure.reason}",
        failure.subject,
    )
