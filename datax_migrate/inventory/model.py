"""What an inventory records: tables, notebooks, jobs and the objects that could not be crawled.

Over 400 lines because it is the inventory.json schema: every record type with its JSON round trip,
under one schema version.

Sources record facts; the assessment (:mod:`datax_migrate.assess`) judges them. Before
``datax-migrate inventory`` writes the file, each table also gets the assessment's strategy and
findings (:func:`datax_migrate.assess.assessment.with_verdicts`), so ``inventory.json`` (versioned
by :data:`INVENTORY_SCHEMA_VERSION`) stands on its own;
``datax-migrate assess`` reads it back and judges again. Each entry of ``tables`` is one flat
object: the catalog's facts and the Delta facts side by side (``name``, ``location``, ``format``,
``version``, ``reader_features``, ``writer_features``, ``partition_columns``, ``num_files``,
``size_bytes``, ...) and ``findings`` (``code``, ``severity``, ``message``). An inventory never holds
a credential.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, TypeAlias

from datax_migrate.errors import InventoryError
from datax_migrate.findings import Finding

INVENTORY_SCHEMA_VERSION = "datax-inventory/2"


@dataclass(frozen=True)
class DeltaFacts:
    """What a Delta table's log (or Databricks' ``DESCRIBE DETAIL``) says about it, at its latest version.

    Facts ``DESCRIBE DETAIL`` does not give (per-file sizes, deletion vectors, history) are ``None``
    (or empty) when they came from it.

    Attributes:
        version: The latest table version.
        min_reader_version: Protocol reader version.
        min_writer_version: Protocol writer version.
        reader_features: Reader table features (reader version 3).
        writer_features: Writer table features (writer version 7).
        partition_columns: Partition columns, in order.
        column_mapping_mode: ``none``, ``name`` or ``id``.
        configuration: Table properties from the ``metaData`` action (``delta.*`` included).
        num_files: Active data files.
        size_bytes: Bytes of the active data files.
        small_file_ratio: Share of the active data files smaller than
            :data:`~datax_migrate.inventory.delta_facts.SMALL_FILE_BYTES` (0 to 1); ``None`` when the
            file sizes are not known or there are no files.
        row_count: Rows from the files' statistics, less rows deleted by deletion vectors; ``None``
            when a file has no statistics.
        files_with_deletion_vectors: Active files that carry a deletion vector.
        deleted_rows: Rows those deletion vectors remove.
        change_data_feed: ``delta.enableChangeDataFeed`` is on.
        check_constraints: CHECK constraints (``delta.constraints.<name>``): name to SQL expression.
        generated_columns: Generated columns (``delta.generationExpression``): column to expression.
        identity_columns: Identity columns (``delta.identity.*`` column metadata).
        history_length: Commits still in ``_delta_log`` (the versions ``DESCRIBE HISTORY`` lists;
            older ones were cleaned up by log retention).
        last_write: Commit time of the latest version (ISO-8601, UTC), when known.
        facts_from: ``delta-log`` (our reader) or ``describe-detail`` (a SQL warehouse's answer).
    """

    version: int | None
    min_reader_version: int
    min_writer_version: int
    reader_features: tuple[str, ...] = ()
    writer_features: tuple[str, ...] = ()
    partition_columns: tuple[str, ...] = ()
    column_mapping_mode: str = "none"
    configuration: dict[str, str] = field(default_factory=dict)
    num_files: int | None = None
    size_bytes: int | None = None
    small_file_ratio: float | None = None
    row_count: int | None = None
    files_with_deletion_vectors: int = 0
    deleted_rows: int = 0
    change_data_feed: bool = False
    check_constraints: dict[str, str] = field(default_factory=dict)
    generated_columns: dict[str, str] = field(default_factory=dict)
    identity_columns: tuple[str, ...] = ()
    history_length: int | None = None
    last_write: str | None = None
    facts_from: str = "delta-log"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeltaFacts:
        """Rebuild facts from their JSON form."""
        values: dict[str, Any] = {
            key: tuple(value) if isinstance(value, list) else value for key, value in data.items()
        }
        return cls(**values)


_FACT_FIELDS = tuple(f.name for f in fields(DeltaFacts))


@dataclass(frozen=True)
class TableRecord:
    """One table or view.

    Attributes:
        name: ``catalog.schema.table`` from a workspace; for a storage scan, ``schema.table`` made
            of the folder path from the scan root to its parent and its own folder (each backtick-quoted).
        origin: ``unity-catalog``, ``hive-metastore`` or ``storage``.
        kind: ``managed``, ``external``, ``view``, ``materialized-view``, ``streaming-table`` or ``unknown``.
        format: Data format in lower case (``delta``, ``parquet``, ``csv`` ...), ``None`` for views.
        location: Storage location URI, when it has one.
        schema_json: The table schema in Delta's JSON form (``{"type": "struct", "fields": [...]}``).
        properties: Table properties as the catalog reports them.
        owner: Owner, when the catalog reports one.
        view_definition: The SQL of a view.
        created_at: When the catalog created it (ISO-8601, UTC), when it says: Unity Catalog's
            ``created_at``, hive_metastore's ``Created Time`` (``DESCRIBE TABLE EXTENDED``; kept as
            Spark wrote it when its time zone is not UTC).
        created_by: Who created it (Unity Catalog).
        updated_at: When its definition last changed (Unity Catalog's ``updated_at``, ISO-8601, UTC).
        updated_by: Who changed it last (Unity Catalog).
        last_access: When it was last read, when the metastore tracks it (hive_metastore's
            ``Last Access``; ``None`` for ``UNKNOWN``).
        delta: Facts read from the Delta log, when it was read.
        delta_error: Why the Delta log could not be read, when it could not.
        strategy: The assessment's strategy for it (``rewrite``, ``blocked`` ...), set when
            ``datax-migrate inventory`` has the assessment judge the crawl.
        findings: The assessment's findings about it, set with ``strategy``.
    """

    name: str
    origin: str
    kind: str
    format: str | None
    location: str | None = None
    schema_json: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    owner: str | None = None
    view_definition: str | None = None
    created_at: str | None = None
    created_by: str | None = None
    updated_at: str | None = None
    updated_by: str | None = None
    last_access: str | None = None
    delta: DeltaFacts | None = None
    delta_error: str | None = None
    strategy: str | None = None
    findings: tuple[Finding, ...] = ()

    @property
    def key(self) -> str:
        """Identity of the record within an inventory (what a resumed crawl skips).

        A table found in storage is known by its location, a catalog's table by its name.
        """
        return f"table:{self.origin}:{self.location if self.origin == 'storage' else self.name}"

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: one flat object, the Delta facts beside the catalog's (all ``null`` when not read).

        ``facts_from`` tells whether there are Delta facts; ``findings`` are JSON objects.
        """
        own = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("delta", "findings")}
        facts = asdict(self.delta) if self.delta is not None else dict.fromkeys(_FACT_FIELDS)
        return {**own, **facts, "findings": [finding.to_dict() for finding in self.findings]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TableRecord:
        """Rebuild a record from its JSON form."""
        own = {key: value for key, value in data.items() if key not in _FACT_FIELDS}
        own["findings"] = tuple(Finding.from_dict(item) for item in data.get("findings", ()))
        if data.get("facts_from") is not None:
            own["delta"] = DeltaFacts.from_dict({key: data[key] for key in _FACT_FIELDS if key in data})
        return cls(**own)


@dataclass(frozen=True)
class NotebookRecord:
    """One notebook, with what the notebook analysis found in it.

    Attributes:
        path: Workspace path, or the path relative to the export folder.
        origin: ``workspace`` or ``export``.
        language: Default language.
        cell_count: Cells.
        magics: Cell magics used (``%sql``, ``%run`` ...).
        tables_referenced: Tables named in code.
        paths_referenced: Storage paths named in code (``dbfs:/``, ``s3://`` ...).
        dbutils_calls: ``dbutils`` functions called.
        widgets: Widget names.
        run_dependencies: Notebooks run with ``%run`` / ``dbutils.notebook.run``.
        findings: What the notebook analysis found, with severities.
    """

    path: str
    origin: str
    language: str
    cell_count: int
    magics: tuple[str, ...] = ()
    tables_referenced: tuple[str, ...] = ()
    paths_referenced: tuple[str, ...] = ()
    dbutils_calls: tuple[str, ...] = ()
    widgets: tuple[str, ...] = ()
    run_dependencies: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()

    @property
    def key(self) -> str:
        """Identity of the record within an inventory."""
        return f"notebook:{self.origin}:{self.path}"

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {**asdict(self), "findings": [finding.to_dict() for finding in self.findings]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NotebookRecord:
        """Rebuild a record from its JSON form."""
        values: dict[str, Any] = {
            key: tuple(value) if isinstance(value, list) else value for key, value in data.items()
        }
        values["findings"] = tuple(Finding.from_dict(item) for item in data.get("findings", ()))
        return cls(**values)


@dataclass(frozen=True)
class JobTask:
    """One task of a job.

    Attributes:
        key: The task's key within the job.
        kind: ``notebook``, ``spark_python``, ``python_wheel``, ``spark_jar``, ``spark_submit``,
            ``pipeline``, ``sql``, ``dbt``, ``run_job``, ``condition`` or ``other``.
        target: What it runs: a notebook path, a Python file, a main class, a pipeline id ...
        spark_version: Databricks Runtime of its cluster, when it defines one.
    """

    key: str
    kind: str
    target: str | None = None
    spark_version: str | None = None


@dataclass(frozen=True)
class JobTrigger:
    """What starts a job besides a person or an API call.

    Attributes:
        kind: ``cron``, ``file-arrival``, ``periodic``, ``table-update``, ``continuous``, or another
            trigger of the jobs API by its name (``job-completion``, ``model``, ``sql-condition``).
        paused: The trigger is paused (``pause_status`` ``PAUSED``).
        cron: Quartz cron expression (``cron``).
        timezone: Time zone of the cron expression (``cron``).
        url: Storage location watched for new files (``file-arrival``).
        interval: Time between runs (``periodic``), in ``unit``.
        unit: ``MINUTES``, ``HOURS``, ``DAYS`` or ``WEEKS`` (``periodic``).
        tables: Tables whose updates start the job (``table-update``).
        condition: ``ANY_UPDATED`` or ``ALL_UPDATED`` (``table-update``).
    """

    kind: str
    paused: bool = False
    cron: str | None = None
    timezone: str | None = None
    url: str | None = None
    interval: int | None = None
    unit: str | None = None
    tables: tuple[str, ...] = ()
    condition: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobTrigger:
        """Rebuild a trigger from its JSON form."""
        return cls(**{**data, "tables": tuple(data.get("tables", ()))})


@dataclass(frozen=True)
class JobRecord:
    """One Databricks job.

    Attributes:
        job_id: The job's id.
        name: Its name.
        creator: Who created it.
        schedule: Quartz cron expression, when scheduled.
        tasks: Its tasks.
        trigger: What starts it (a cron schedule, file arrival, a period, table updates, or
            continuous runs); ``None`` when it only runs when started.
    """

    job_id: str
    name: str
    creator: str | None = None
    schedule: str | None = None
    tasks: tuple[JobTask, ...] = ()
    trigger: JobTrigger | None = None

    @property
    def key(self) -> str:
        """Identity of the record within an inventory."""
        return f"job:{self.job_id}"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobRecord:
        """Rebuild a record from its JSON form."""
        trigger = data.get("trigger")
        return cls(
            **{
                **data,
                "tasks": tuple(JobTask(**task) for task in data.get("tasks", ())),
                "trigger": JobTrigger.from_dict(trigger) if trigger is not None else None,
            }
        )


@dataclass(frozen=True)
class CrawlFailure:
    """An object the crawl could not record; the crawl went on without it.

    Attributes:
        source: Which source met it (``workspace``, ``storage``, ``export``).
        subject: The object: a table name, a location, a notebook path, a job id.
        stage: What was being done (``list-tables``, ``get-table``, ``read-log``, ``export-notebook`` ...).
        reason: What went wrong, in one line.
    """

    source: str
    subject: str
    stage: str
    reason: str


Record: TypeAlias = "TableRecord | NotebookRecord | JobRecord | CrawlFailure"
"""What a source yields."""


@dataclass(frozen=True)
class Inventory:
    """Everything a crawl found.

    Attributes:
        created_at: When the crawl finished (ISO-8601, UTC).
        sources: What was crawled, one line each (``storage s3://lake/``, ``workspace https://...``).
        tables: Tables and views, sorted by origin and name.
        notebooks: Notebooks, sorted by origin and path.
        jobs: Jobs, sorted by id.
        failures: Objects that could not be crawled.
        tool_version: datax-migrate version that crawled.
    """

    created_at: str
    sources: tuple[str, ...]
    tables: tuple[TableRecord, ...] = ()
    notebooks: tuple[NotebookRecord, ...] = ()
    jobs: tuple[JobRecord, ...] = ()
    failures: tuple[CrawlFailure, ...] = ()
    tool_version: str = ""

    @classmethod
    def from_records(
        cls, records: list[Record], created_at: str, sources: tuple[str, ...], tool_version: str
    ) -> Inventory:
        """Sort ``records`` into an inventory; a record seen twice (same key) is kept once."""
        unique = {record_key(record): record for record in records}
        items = list(unique.values())
        return cls(
            created_at=created_at,
            sources=sources,
            tables=tuple(sorted(_of(items, TableRecord), key=lambda t: (t.origin, t.name))),
            notebooks=tuple(sorted(_of(items, NotebookRecord), key=lambda n: (n.origin, n.path))),
            jobs=tuple(sorted(_of(items, JobRecord), key=lambda j: j.job_id)),
            failures=tuple(_of(items, CrawlFailure)),
            tool_version=tool_version,
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "schema_version": INVENTORY_SCHEMA_VERSION,
            "tool_version": self.tool_version,
            "created_at": self.created_at,
            "sources": list(self.sources),
            "tables": [table.to_dict() for table in self.tables],
            "notebooks": [notebook.to_dict() for notebook in self.notebooks],
            "jobs": [asdict(job) for job in self.jobs],
            "failures": [asdict(failure) for failure in self.failures],
        }

    def to_json(self) -> str:
        """``inventory.json``: stable key order, indented."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> Inventory:
        """Read the ``inventory.json`` file at ``path``.

        Raises:
            InventoryError: the file cannot be read (missing, not UTF-8), or as :meth:`from_json`;
                the message names the file.
        """
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise InventoryError(f"cannot read the inventory {path}: {reason}") from None
        try:
            return cls.from_json(text)
        except InventoryError as exc:
            raise InventoryError(f"inventory {path}: {exc}") from None

    @classmethod
    def from_json(cls, text: str) -> Inventory:
        """Read ``inventory.json``.

        Raises:
            InventoryError: not JSON, not an inventory, or of another schema version.
        """
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InventoryError(f"the inventory is not valid JSON: {exc}") from exc
        if not isinstance(data, dict) or data.get("schema_version") != INVENTORY_SCHEMA_VERSION:
            found = data.get("schema_version") if isinstance(data, dict) else None
            raise InventoryError(
                f"not an inventory of schema {INVENTORY_SCHEMA_VERSION} (found {found!r}): "
                "write it again with `datax-migrate inventory`"
            )
        try:
            return cls(
                created_at=data["created_at"],
                sources=tuple(data["sources"]),
                tables=tuple(TableRecord.from_dict(item) for item in data["tables"]),
                notebooks=tuple(NotebookRecord.from_dict(item) for item in data["notebooks"]),
                jobs=tuple(JobRecord.from_dict(item) for item in data["jobs"]),
                failures=tuple(CrawlFailure(**item) for item in data["failures"]),
                tool_version=data.get("tool_version", ""),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InventoryError(f"the inventory is malformed: {exc}") from exc


def record_key(record: Record) -> str:
    """The identity of a record: its ``key``, or for a failure its source, stage and subject."""
    if isinstance(record, CrawlFailure):
        return f"failure:{record.source}:{record.stage}:{record.subject}"
    return record.key


def record_to_dict(record: Record) -> dict[str, Any]:
    """A record's JSON form, tagged with its ``type`` (for the crawl's checkpoint file)."""
    kind = {TableRecord: "table", NotebookRecord: "notebook", JobRecord: "job", CrawlFailure: "failure"}[type(record)]
    body = record.to_dict() if isinstance(record, (TableRecord, NotebookRecord)) else asdict(record)
    return {"type": kind, **body}


def record_from_dict(data: dict[str, Any]) -> Record:
    """Rebuild a record from :func:`record_to_dict` output."""
    body = {key: value for key, value in data.items() if key != "type"}
    kind = data.get("type")
    if kind == "table":
        return TableRecord.from_dict(body)
    if kind == "notebook":
        return NotebookRecord.from_dict(body)
    if kind == "job":
        return JobRecord.from_dict(body)
    if kind == "failure":
        return CrawlFailure(**body)
    raise InventoryError(f"unknown record type {kind!r}")


def _of(items: list[Record], kind: type[Any]) -> list[Any]:
    return [item for item in items if isinstance(item, kind)]
