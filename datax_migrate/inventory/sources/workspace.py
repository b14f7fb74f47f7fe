"""A Databricks workspace through databricks-sdk: Unity Catalog tables, hive_metastore, notebooks, jobs.

Over 400 lines because one source over one API (Unity Catalog, hive_metastore, notebooks, jobs) with
its retries and time limits.

Unity Catalog tables come from the catalogs, schemas and tables APIs (one ``GET`` per table, so a
table the caller cannot read is one failure, not a failed crawl). ``hive_metastore`` has no REST
API: its schemas and tables are listed with SQL on a SQL warehouse (``--warehouse``), which also
answers ``DESCRIBE DETAIL`` for the Delta facts (size, files, protocol) of every table. With
``read_logs`` the Delta log at each table's location is read by our own reader instead (this needs
read access to the storage). Notebooks are listed folder by folder and exported as SOURCE for the
notebook analysis; jobs come from the jobs API with their tasks and what triggers them. Listings
page through in order while up to ``workers`` threads read the tables and export the notebooks they
name. databricks-sdk retries 429 and 503 answers and connection errors; 500, 502, 503 and 504 answers
are retried a few times with backoff beneath it (:mod:`~datax_migrate.inventory.sources.retries`), all
within the ``timeout``. An object still answered with an error then is recorded as a failure.

Each table records when it was created (Unity Catalog: also updated, and by whom); hive_metastore
tables and views are read with ``DESCRIBE TABLE EXTENDED`` (owner, created time, last access, type,
provider, location, properties, a view's text).

The token is never recorded: records hold the workspace URL at most, and failure messages are
scrubbed of it.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from datax_migrate.delta.protocol import WRITER_ONLY_FEATURES
from datax_migrate.errors import DataxError, InventoryError
from datax_migrate.inventory import DEFAULT_WORKERS
from datax_migrate.inventory.delta_facts import declared_features, iso_timestamp, read_delta_facts
from datax_migrate.inventory.model import (
    CrawlFailure,
    DeltaFacts,
    JobRecord,
    JobTask,
    JobTrigger,
    Record,
    TableRecord,
)
from datax_migrate.inventory.sources.base import AlreadyDone, Source, crawl_each
from datax_migrate.inventory.sources.exports import notebook_record
from datax_migrate.inventory.sources.retries import ServerErrorRetries
from datax_migrate.plan.names import parse_name

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient

INSTALL = "pip install 'datax-migrate[databricks]'"
SKIPPED_CATALOGS = frozenset({"system", "__databricks_internal"})
SKIPPED_SCHEMAS = frozenset({"information_schema"})
HIVE_METASTORE = "hive_metastore"
HIVE_WAREHOUSE_PREFIX = "dbfs:/user/hive/warehouse"
DEFAULT_TIMEOUT_SECONDS = 60.0
"""How long one request to the workspace may take, retries included (``inventory --timeout``)."""
RETRY_SLEEP_SECONDS = 10.0
"""Longest sleep of databricks-sdk between two attempts of a request (429 and 503 aside)."""
PROBE_SECONDS = 5.0
"""Most seconds the SDK's host discovery probe (``/.well-known/databricks-config``) may take when signing in."""
SERVER_ERROR_SECONDS = 8.0
"""Most seconds one request may spend retrying 5xx answers (a quarter of the timeout when that is less)."""
STATEMENT_POLL_SECONDS = 2.0
"""Wait between polls of a SQL statement still running after the 30 s the first call waits."""

_KINDS = {
    "MANAGED": "managed",
    "MANAGED_SHALLOW_CLONE": "managed",
    "EXTERNAL": "external",
    "EXTERNAL_SHALLOW_CLONE": "external",
    "VIEW": "view",
    "METRIC_VIEW": "view",
    "MATERIALIZED_VIEW": "materialized-view",
    "STREAMING_TABLE": "streaming-table",
    "FOREIGN": "foreign",
}
DETAILED_SECTION = "# Detailed Table Information"
_SPARK_TIME = re.compile(r"^\w{3} (?P<day>\w{3} \d{1,2} \d{2}:\d{2}:\d{2}) (?P<zone>\S+) (?P<year>\d{4})$")
_PROPERTY_SPLIT = re.compile(r",(?=[\w.\-]+=)")
_TASK_KINDS = {
    "notebook_task": "notebook",
    "spark_python_task": "spark_python",
    "python_wheel_task": "python_wheel",
    "spark_jar_task": "spark_jar",
    "spark_submit_task": "spark_submit",
    "pipeline_task": "pipeline",
    "sql_task": "sql",
    "dbt_task": "dbt",
    "run_job_task": "run_job",
    "condition_task": "condition",
    "for_each_task": "for_each",
}
_TASK_TARGETS = {
    "notebook_task": "notebook_path",
    "spark_python_task": "python_file",
    "python_wheel_task": "package_name",
    "spark_jar_task": "main_class_name",
    "pipeline_task": "pipeline_id",
    "run_job_task": "job_id",
}


class WorkspaceSource(Source):
    """Everything a Databricks workspace knows about: tables, notebooks and jobs.

    Example:
        >>> source = WorkspaceSource.connect(profile="prod", warehouse_id="abc123")
    """

    name = "workspace"

    def __init__(
        self,
        client: WorkspaceClient,
        warehouse_id: str | None = None,
        read_logs: bool = False,
        notebook_root: str = "/",
        workers: int = DEFAULT_WORKERS,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        """Crawl through ``client``.

        Args:
            client: A signed-in ``databricks.sdk.WorkspaceClient``.
            warehouse_id: SQL warehouse for hive_metastore and ``DESCRIBE DETAIL``; without one,
                hive_metastore is skipped.
            read_logs: Read each Delta table's log from its storage location with our reader.
            notebook_root: Workspace folder whose notebooks are inventoried.
            workers: Tables (GET, ``DESCRIBE DETAIL``, Delta log) and notebook exports read at once.
            timeout: The time the client was given to reach the workspace (named when it cannot).
        """
        self.client = client
        self.warehouse_id = warehouse_id
        self.read_logs = read_logs
        self.notebook_root = notebook_root
        self.workers = workers
        self.timeout = timeout

    @classmethod
    def connect(
        cls,
        profile: str | None = None,
        host: str | None = None,
        warehouse_id: str | None = None,
        read_logs: bool = False,
        workers: int = DEFAULT_WORKERS,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> WorkspaceSource:
        """Sign in the way the Databricks CLI does: a ``~/.databrickscfg`` profile, a host, or the environment.

        Args:
            profile: A ``~/.databrickscfg`` profile.
            host: A workspace URL.
            warehouse_id: See :class:`WorkspaceSource`.
            read_logs: See :class:`WorkspaceSource`.
            workers: See :class:`WorkspaceSource`.
            timeout: Seconds one request may take, retries included; a workspace that cannot be
                reached within it stops the crawl. The SDK's best-effort discovery probe of the host
                when signing in gets an eighth of it, at most :data:`PROBE_SECONDS`; retries of 5xx
                answers a quarter, at most :data:`SERVER_ERROR_SECONDS`.

        Raises:
            InventoryError: databricks-sdk is not installed, or no credentials were found.
        """
        try:
            from databricks.sdk import WorkspaceClient
            from databricks.sdk.core import Config
        except ImportError as exc:
            raise InventoryError(f"the workspace crawl needs databricks-sdk: {INSTALL}") from exc
        probe = min(PROBE_SECONDS, max(1.0, timeout / 8))
        server_errors = min(SERVER_ERROR_SECONDS, timeout / 4)
        sdk_logger = logging.getLogger("databricks.sdk")
        level = sdk_logger.level
        sdk_logger.setLevel(logging.ERROR)  # the probe's failure is a warning the crawl repeats as one line
        try:
            config = Config(
                profile=profile,
                host=host,
                retry_timeout_seconds=int(probe),
                http_timeout_seconds=probe,
                http_adapter=ServerErrorRetries(budget=server_errors),
            )
        except ValueError as exc:  # the SDK's configuration errors
            raise InventoryError(f"cannot sign in to Databricks: {exc}") from exc
        finally:
            sdk_logger.setLevel(level)
        # Retries stop early enough that the probe, the last backoff sleep (up to 10 s), the 5xx
        # retries of the last attempt and the retries together stay within the timeout.
        config.retry_timeout_seconds = max(1, int(timeout - probe - RETRY_SLEEP_SECONDS - server_errors))
        config.http_timeout_seconds = timeout
        client = WorkspaceClient(config=config)
        return cls(client, warehouse_id=warehouse_id, read_logs=read_logs, workers=workers, timeout=timeout)

    @property
    def description(self) -> str:
        """``workspace <host>`` (no credentials)."""
        return f"workspace {self.client.config.host}"

    def crawl(self, done: AlreadyDone) -> Iterator[Record]:
        """Unity Catalog tables, then hive_metastore (with a warehouse), notebooks and jobs.

        Listings are paged through in order; the tables and notebooks they name are read by up to
        ``workers`` threads while the listing goes on.
        """
        yield from crawl_each(self._uc_table, self._unity_catalog(done), self.workers)
        if self.warehouse_id:
            yield from crawl_each(self._hive_table, self._hive_metastore(done), self.workers)
        yield from crawl_each(self._notebook, self._notebooks(self.notebook_root, done), self.workers)
        yield from self._jobs(done)

    # Unity Catalog

    def _unity_catalog(self, done: AlreadyDone) -> Iterator[str | CrawlFailure]:
        """The full names of the Unity Catalog tables not crawled yet, and the listings that failed."""
        try:
            catalogs = [c.name for c in self.client.catalogs.list() if c.name and c.name not in SKIPPED_CATALOGS]
        except Exception as exc:  # noqa: BLE001 - any API failure is recorded and the crawl goes on
            yield self._failure("unity-catalog", "list-catalogs", exc)
            return
        for catalog in catalogs:
            if catalog == HIVE_METASTORE:
                continue
            try:
                schemas = [s.name for s in self.client.schemas.list(catalog_name=catalog) if s.name]
            except Exception as exc:  # noqa: BLE001
                yield self._failure(catalog, "list-schemas", exc)
                continue
            for schema in schemas:
                if schema not in SKIPPED_SCHEMAS:
                    yield from self._uc_schema(catalog, schema, done)

    def _uc_schema(self, catalog: str, schema: str, done: AlreadyDone) -> Iterator[str | CrawlFailure]:
        try:
            names = [
                t.full_name or f"{catalog}.{schema}.{t.name}"
                for t in self.client.tables.list(catalog, schema, omit_columns=True, omit_properties=True)
            ]
        except Exception as exc:  # noqa: BLE001
            yield self._failure(f"{catalog}.{schema}", "list-tables", exc)
            return
        yield from (name for name in names if not done(f"table:unity-catalog:{name}"))

    def _uc_table(self, full_name: str) -> Record:
        """One table's GET, and its Delta facts."""
        try:
            info = self.client.tables.get(full_name)
        except Exception as exc:  # noqa: BLE001
            return self._failure(full_name, "get-table", exc)
        table_type = info.table_type.value if info.table_type else ""
        data_format = info.data_source_format.value.lower() if info.data_source_format else None
        if data_format and data_format.startswith("delta_uniform"):
            data_format = "delta"
        columns = sorted(info.columns or (), key=lambda c: c.position or 0)
        fields = [json.loads(c.type_json) for c in columns if c.type_json]
        record = TableRecord(
            name=full_name,
            origin="unity-catalog",
            kind=_KINDS.get(table_type, "unknown"),
            format=None if table_type in ("VIEW", "METRIC_VIEW") else data_format,
            location=info.storage_location,
            schema_json=json.dumps({"type": "struct", "fields": fields}) if fields else None,
            properties=dict(info.properties or {}),
            owner=info.owner,
            view_definition=info.view_definition,
            created_at=iso_timestamp(info.created_at) if info.created_at else None,
            created_by=info.created_by,
            updated_at=iso_timestamp(info.updated_at) if info.updated_at else None,
            updated_by=info.updated_by,
        )
        return self._with_delta_facts(record)

    # hive_metastore

    def _hive_metastore(self, done: AlreadyDone) -> Iterator[tuple[str, str, bool] | CrawlFailure]:
        """``(schema, table, is_view)`` of the hive_metastore tables not crawled yet, and the listings that failed."""
        try:
            schemas = [row[0] for row in self._sql(f"SHOW SCHEMAS IN {HIVE_METASTORE}")]
        except Exception as exc:  # noqa: BLE001
            yield self._failure(HIVE_METASTORE, "list-schemas", exc)
            return
        for schema in schemas:
            prefix = f"{HIVE_METASTORE}.{_quote(schema)}"
            try:
                tables = [row[1] for row in self._sql(f"SHOW TABLES IN {prefix}") if str(row[2]).lower() != "true"]
                views = {row[1] for row in self._sql(f"SHOW VIEWS IN {prefix}")}
            except Exception as exc:  # noqa: BLE001
                yield self._failure(f"{HIVE_METASTORE}.{schema}", "list-tables", exc)
                continue
            for table in tables:
                if not done(f"table:hive-metastore:{HIVE_METASTORE}.{schema}.{table}"):
                    yield schema, table, table in views

    def _hive_table(self, item: tuple[str, str, bool]) -> Record:
        """One hive_metastore table or view through ``DESCRIBE TABLE EXTENDED``, and a table's Delta facts."""
        schema, table, is_view = item
        name = f"{HIVE_METASTORE}.{schema}.{table}"
        quoted = f"{HIVE_METASTORE}.{_quote(schema)}.{_quote(table)}"
        try:
            facts = self._describe_extended(quoted)
        except Exception as exc:  # noqa: BLE001
            return self._failure(name, "describe-table", exc)
        table_type = facts.get("Type", "").upper()
        location = facts.get("Location") or None
        if is_view or table_type == "VIEW":
            kind = "view"
        elif table_type in ("MANAGED", "EXTERNAL"):
            kind = table_type.lower()
        else:
            kind = "managed" if location and location.startswith(HIVE_WAREHOUSE_PREFIX) else "external"
        record = TableRecord(
            name,
            "hive-metastore",
            kind,
            None if kind == "view" else (facts.get("Provider") or "").lower() or None,
            location,
            properties=_table_properties(facts.get("Table Properties", "")),
            owner=facts.get("Owner") or None,
            view_definition=facts.get("View Text") if kind == "view" else None,
            created_at=_spark_time(facts.get("Created Time", "")),
            last_access=_spark_time(facts.get("Last Access", "")),
        )
        return self._with_delta_facts(record, quoted)

    # Delta facts of catalog tables

    def _with_delta_facts(self, record: TableRecord, quoted: str | None = None) -> TableRecord:
        """``record`` with Delta facts: from its log (``read_logs``), else from ``DESCRIBE DETAIL`` (a warehouse).

        ``quoted`` is the table's name for SQL (by default its name's parts, each quoted). When
        neither answers, the record says why in ``delta_error``.
        """
        if record.format != "delta" or record.kind not in ("managed", "external"):
            return record
        problems = []
        if self.read_logs and record.location:
            try:
                facts, schema_json = read_delta_facts(record.location)
            except (DataxError, OSError) as exc:
                problems.append(f"reading the log: {self._scrub(exc)}")
            else:
                return replace(record, delta=facts, schema_json=schema_json)
        if record.delta is not None:
            return record
        if self.warehouse_id:
            try:
                detail = self._describe_detail(quoted or _quoted_name(record.name))
            except Exception as exc:  # noqa: BLE001
                problems.append(f"DESCRIBE DETAIL: {self._scrub(exc)}")
            else:
                return replace(record, delta=_facts_from_detail(detail, record.schema_json))
        return replace(record, delta_error="; ".join(problems)) if problems else record

    def _describe_extended(self, name: str) -> dict[str, str]:
        """The ``# Detailed Table Information`` rows of ``DESCRIBE TABLE EXTENDED``: name to value."""
        rows = self._sql(f"DESCRIBE TABLE EXTENDED {name}")
        keys = [str(row[0] or "").strip() for row in rows]
        if DETAILED_SECTION not in keys:
            raise InventoryError(f"DESCRIBE TABLE EXTENDED {name} gave no {DETAILED_SECTION!r} section")
        start = keys.index(DETAILED_SECTION) + 1
        facts: dict[str, str] = {}
        for key, row in zip(keys[start:], rows[start:], strict=True):
            if key.startswith("#"):
                break
            if key:
                facts[key] = str(row[1] or "") if len(row) > 1 else ""
        return facts

    def _describe_detail(self, name: str) -> dict[str, Any]:
        from databricks.sdk.service.sql import Format

        statement = self._execute(f"DESCRIBE DETAIL {name}", Format.JSON_ARRAY)
        columns = [c.name for c in statement.manifest.schema.columns]
        rows = self._rows(statement)
        if not rows:
            raise InventoryError(f"DESCRIBE DETAIL {name} returned no row")
        return dict(zip(columns, rows[0], strict=False))

    def _sql(self, text: str) -> list[list[Any]]:
        from databricks.sdk.service.sql import Format

        return self._rows(self._execute(text, Format.JSON_ARRAY))

    def _execute(self, text: str, data_format: Any) -> Any:
        from databricks.sdk.service.sql import StatementState

        assert self.warehouse_id is not None
        statement = self.client.statement_execution.execute_statement(
            statement=text, warehouse_id=self.warehouse_id, wait_timeout="30s", format=data_format
        )
        while statement.status and statement.status.state in (StatementState.PENDING, StatementState.RUNNING):
            time.sleep(STATEMENT_POLL_SECONDS)
            statement = self.client.statement_execution.get_statement(str(statement.statement_id))
        state = statement.status.state if statement.status else None
        if state != StatementState.SUCCEEDED:
            error = statement.status.error.message if statement.status and statement.status.error else ""
            raise InventoryError(f"{text} ended {state.value if state else 'without a state'}: {error}")
        return statement

    def _rows(self, statement: Any) -> list[list[Any]]:
        result = statement.result
        rows = list(result.data_array or []) if result else []
        while result is not None and result.next_chunk_index is not None:
            result = self.client.statement_execution.get_statement_result_chunk_n(
                statement.statement_id, result.next_chunk_index
            )
            rows += result.data_array or []
        return rows

    # Notebooks

    def _notebooks(self, folder: str, done: AlreadyDone) -> Iterator[tuple[str, str] | CrawlFailure]:
        """``(path, language)`` of the notebooks below ``folder`` not crawled yet, and the listings that failed."""
        from databricks.sdk.service.workspace import ObjectType

        try:
            objects = sorted(self.client.workspace.list(folder), key=lambda o: o.path or "")
        except Exception as exc:  # noqa: BLE001
            yield self._failure(folder, "list-folder", exc)
            return
        for item in objects:
            path = item.path or ""
            if item.object_type in (ObjectType.DIRECTORY, ObjectType.REPO):
                yield from self._notebooks(path, done)
            elif item.object_type == ObjectType.NOTEBOOK and not done(f"notebook:workspace:{path}"):
                yield path, item.language.value.lower() if item.language else "python"

    def _notebook(self, item: tuple[str, str]) -> Record:
        """One notebook, exported as SOURCE and analysed."""
        from databricks.sdk.service.workspace import ExportFormat

        path, language = item
        try:
            exported = self.client.workspace.export(path, format=ExportFormat.SOURCE)
            text = base64.b64decode(exported.content or "").decode("utf-8")
        except Exception as exc:  # noqa: BLE001
            return self._failure(path, "export-notebook", exc)
        try:
            return notebook_record(text, path, "workspace", language)
        except (DataxError, ValueError) as exc:
            return self._failure(path, "read-notebook", exc)

    # Jobs

    def _jobs(self, done: AlreadyDone) -> Iterator[Record]:
        try:
            for job in self.client.jobs.list(expand_tasks=True):
                record = _job_record(job)
                if not done(record.key):
                    yield record
        except Exception as exc:  # noqa: BLE001
            yield self._failure("jobs", "list-jobs", exc)

    # Failures

    def _failure(self, subject: str, stage: str, exc: BaseException) -> CrawlFailure:
        if _is_unauthenticated(exc):
            raise InventoryError(f"cannot sign in to {self.client.config.host}: {self._scrub(exc)}") from exc
        if _is_unreachable(exc):
            last = exc.__cause__ if isinstance(exc, TimeoutError) and exc.__cause__ else exc  # the SDK's last try
            raise InventoryError(
                f"cannot reach the Databricks workspace {self.client.config.host} within {self.timeout:g} s "
                f"(inventory --timeout): {self._scrub(last)}"
            ) from exc
        return CrawlFailure(self.name, subject, stage, self._scrub(exc))

    def _scrub(self, exc: BaseException) -> str:
        """The error in one line, with the token (if it somehow appears) blanked out."""
        message = _one_line(exc)
        token = self.client.config.token
        return message.replace(token, "***") if token else message


def _job_record(job: Any) -> JobRecord:
    settings = job.settings
    clusters = {c.job_cluster_key: c.new_cluster for c in (settings.job_clusters or ())} if settings else {}
    tasks = []
    for task in (settings.tasks or ()) if settings else ():
        kind_field = next((name for name in _TASK_KINDS if getattr(task, name, None) is not None), None)
        target = None
        if kind_field in _TASK_TARGETS:
            value = getattr(getattr(task, kind_field), _TASK_TARGETS[kind_field], None)
            target = str(value) if value is not None else None
        cluster = task.new_cluster or clusters.get(task.job_cluster_key)
        tasks.append(
            JobTask(
                key=task.task_key or "",
                kind=_TASK_KINDS[kind_field] if kind_field else "other",
                target=target,
                spark_version=cluster.spark_version if cluster is not None else None,
            )
        )
    schedule = settings.schedule.quartz_cron_expression if settings and settings.schedule else None
    return JobRecord(
        job_id=str(job.job_id),
        name=(settings.name if settings else None) or "",
        creator=job.creator_user_name,
        schedule=schedule,
        tasks=tuple(tasks),
        trigger=_job_trigger(settings) if settings else None,
    )


def _job_trigger(settings: Any) -> JobTrigger | None:
    """What starts the job: continuous runs, a trigger (file arrival, period, table update ...), or a cron schedule."""
    if settings.continuous is not None:
        return JobTrigger("continuous", paused=_paused(settings.continuous.pause_status))
    trigger = settings.trigger
    if trigger is not None:
        paused = _paused(trigger.pause_status)
        if trigger.file_arrival is not None:
            return JobTrigger("file-arrival", paused, url=trigger.file_arrival.url)
        if trigger.periodic is not None:
            unit = trigger.periodic.unit.value if trigger.periodic.unit else None
            return JobTrigger("periodic", paused, interval=trigger.periodic.interval, unit=unit)
        if trigger.table_update is not None:
            update = trigger.table_update
            condition = update.condition.value if update.condition else None
            return JobTrigger("table-update", paused, tables=tuple(update.table_names or ()), condition=condition)
        other = next((f for f in vars(trigger) if f != "pause_status" and getattr(trigger, f) is not None), None)
        if other is not None:
            return JobTrigger(other.replace("_", "-"), paused)
    if settings.schedule is not None:
        cron = settings.schedule
        return JobTrigger(
            "cron", _paused(cron.pause_status), cron=cron.quartz_cron_expression, timezone=cron.timezone_id
        )
    return None


def _paused(status: Any) -> bool:
    return status is not None and status.value == "PAUSED"


def _facts_from_detail(detail: dict[str, Any], schema_json: str | None = None) -> DeltaFacts:
    """Delta facts from a ``DESCRIBE DETAIL`` row (JSON_ARRAY format: every value is text).

    Generated and identity columns come from ``schema_json`` (the catalog's columns), when given.
    """
    reader = int(detail.get("minReaderVersion") or 1)
    features = tuple(sorted(_json_list(detail.get("tableFeatures"))))
    properties = _json_object(detail.get("properties"))
    return DeltaFacts(
        version=None,
        min_reader_version=reader,
        min_writer_version=int(detail.get("minWriterVersion") or 2),
        reader_features=tuple(f for f in features if f not in WRITER_ONLY_FEATURES) if reader >= 3 else (),
        writer_features=features,
        partition_columns=tuple(_json_list(detail.get("partitionColumns"))),
        column_mapping_mode=properties.get("delta.columnMapping.mode", "none").lower(),
        configuration=properties,
        num_files=int(detail["numFiles"]) if detail.get("numFiles") is not None else None,
        size_bytes=int(detail["sizeInBytes"]) if detail.get("sizeInBytes") is not None else None,
        last_write=detail.get("lastModified") or None,
        facts_from="describe-detail",
        **declared_features(properties, schema_json),
    )


def _spark_time(text: str) -> str | None:
    """A time as ``DESCRIBE TABLE EXTENDED`` prints it (``Tue Jan 09 10:00:00 UTC 2024``) as ISO-8601 in UTC.

    ``UNKNOWN`` (or nothing) is ``None``; a time in another zone than UTC is kept as printed (its
    abbreviation names no offset).
    """
    text = " ".join(text.split())
    if not text or text.upper() == "UNKNOWN":
        return None
    match = _SPARK_TIME.match(text)
    if match is None or match["zone"] not in ("UTC", "GMT", "Z", "Etc/UTC"):
        return text
    parsed = dt.datetime.strptime(f"{match['day']} {match['year']}", "%b %d %H:%M:%S %Y")
    return parsed.replace(tzinfo=dt.timezone.utc).isoformat(timespec="milliseconds")


def _table_properties(text: str) -> dict[str, str]:
    """``[key=value,key=value]`` of ``DESCRIBE TABLE EXTENDED`` (a value may hold commas, a key none)."""
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    pairs = (item.partition("=") for item in _PROPERTY_SPLIT.split(text) if item)
    return {key: value for key, _, value in pairs}


def _json_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    parsed = json.loads(value) if isinstance(value, str) else value
    return [str(item) for item in parsed]


def _json_object(value: Any) -> dict[str, str]:
    if value is None or value == "":
        return {}
    parsed = json.loads(value) if isinstance(value, str) else value
    return {str(k): str(v) for k, v in parsed.items()}


def _quote(part: str) -> str:
    return "`" + part.replace("`", "``") + "`"


def _quoted_name(name: str) -> str:
    return ".".join(_quote(part) for part in parse_name(name))


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _is_unreachable(exc: BaseException) -> bool:
    """Whether the request never got an answer: refused, unresolvable, timed out (retries included)."""
    import requests

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, TimeoutError | requests.ConnectionError | requests.Timeout):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _is_unauthenticated(exc: BaseException) -> bool:
    from databricks.sdk.errors import Unauthenticated

    return isinstance(exc, Unauthenticated)
