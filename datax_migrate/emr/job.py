"""The job an EMR run executes: which tables to convert into which catalog, and its results.

A :class:`JobSpec` is written as JSON next to the staged code; the entry script reads it, runs
:func:`run_job` with the cluster's ``SparkSession`` and writes ``results.json`` beside it. One table
failing does not stop the others; the run fails at the end if any did.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from datax_migrate.errors import ConfigError, DataxError

JOB_VERSION = "datax-emr-job/1"
_SECRET = re.compile(r"(secret|session-token|access-key|password|token|credential)", re.IGNORECASE)


@dataclass(frozen=True)
class TableJob:
    """One table of a job.

    Attributes:
        source: Delta table URI (``s3://``).
        target: ``namespace.table`` in the job's catalog.
        version: Delta version to convert (default: the latest).
        key: Key columns for the reconciliation's row diff (default: whole rows).
    """

    source: str
    target: str
    version: int | None = None
    key: tuple[str, ...] = ()


@dataclass(frozen=True)
class JobSpec:
    """What an EMR run converts.

    Attributes:
        catalog: Name of the target catalog.
        catalog_properties: Its pyiceberg properties (never credentials: EMR jobs use their role).
        tables: The tables, converted one after the other (each one's file groups in parallel).
        reconcile: Reconcile every table after converting it.
    """

    catalog: str
    catalog_properties: dict[str, str]
    tables: tuple[TableJob, ...]
    reconcile: bool = True

    def __post_init__(self) -> None:
        refuse_credentials(self.catalog, self.catalog_properties)
        if not self.tables:
            raise ConfigError("the job has no tables")

    def to_json(self) -> str:
        """The spec as JSON (``version`` first)."""
        return json.dumps({"version": JOB_VERSION, **asdict(self)}, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> JobSpec:
        """Read a spec written by :meth:`to_json`.

        Raises:
            ConfigError: not a job spec of this version.
        """
        try:
            document: Any = json.loads(text)
            if document.pop("version") != JOB_VERSION:
                raise ValueError(f"version is not {JOB_VERSION}")
            tables = tuple(
                TableJob(t["source"], t["target"], t.get("version"), tuple(t.get("key", ())))
                for t in document["tables"]
            )
            return cls(document["catalog"], dict(document["catalog_properties"]), tables, document["reconcile"])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"not a datax-migrate EMR job spec: {exc}") from None


def refuse_credentials(catalog: str, properties: dict[str, str]) -> None:
    """Refuse catalog properties that hold credentials: an EMR job must not carry them.

    Raises:
        ConfigError: naming the properties (never their values).
    """
    secrets = sorted(key for key in properties if _SECRET.search(key))
    if secrets:
        raise ConfigError(
            f"catalog {catalog!r} holds credentials ({', '.join(secrets)}): an EMR job must not carry"
            " them; it uses its execution role (remove them from the config)"
        )


def load_tables(path: str | os.PathLike[str]) -> tuple[TableJob, ...]:
    """Read a job's tables from YAML: ``tables:``, each with ``source``, ``target``, optional ``version``, ``key``.

    Raises:
        ConfigError: the file is missing, not YAML, or an entry lacks ``source`` or ``target``.
    """
    try:
        document: Any = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"tables file {path} cannot be read: {exc}") from None
    rows = document.get("tables") if isinstance(document, dict) else None
    if not isinstance(rows, list) or not rows:
        raise ConfigError(f"tables file {path} needs a non-empty 'tables:' list")
    tables = []
    for row in rows:
        if (
            not isinstance(row, dict)
            or not isinstance(row.get("source"), str)
            or not isinstance(row.get("target"), str)
        ):
            raise ConfigError(f"tables file {path}: each entry needs 'source' and 'target' strings, not {row!r}")
        key = row.get("key") or []
        tables.append(
            TableJob(row["source"], row["target"], row.get("version"), tuple([key] if isinstance(key, str) else key))
        )
    return tuple(tables)


def plan_job(
    tables_file: str | os.PathLike[str],
    config_file: str | None = None,
    catalog: str | None = None,
    name_map: str | None = None,
    reconcile: bool = True,
) -> JobSpec:
    """The job of a tables file: each target resolved under the catalog's naming rules (and ``name_map``).

    Raises:
        ConfigError: the tables file, the config or a target name is not valid.
    """
    from datax_migrate.config import Config
    from datax_migrate.plan.names import NameMapping, resolve_target, rules_for_catalog

    config = Config.load(config_file)
    name = catalog or config.default_catalog
    properties = config.properties(name)
    mapping = NameMapping.load(name_map) if name_map else None
    rules = rules_for_catalog(properties)
    tables = tuple(
        TableJob(t.source, resolve_target(t.target, rules, mapping).identifier, t.version, t.key)
        for t in load_tables(tables_file)
    )
    return JobSpec(name, properties, tables, reconcile=reconcile)


@dataclass
class TableResult:
    """What happened to one table: ``converted``, ``replaced``, ``unchanged`` or ``failed``."""

    source: str
    target: str
    status: str
    snapshot_id: int | None = None
    rows: int = 0
    seconds: float = 0.0
    verdict: str | None = None
    error: str | None = None
    checks: dict[str, str] = field(default_factory=dict)


def run_job(spark: Any, spec: JobSpec, log: Callable[[str], None] = lambda line: None) -> list[TableResult]:
    """Convert (and reconcile) every table of ``spec`` with ``spark``; one result per table, in order."""
    from datax_migrate.catalogs import open_catalog
    from datax_migrate.convert.spark_engine import convert_table
    from datax_migrate.reconcile import ReconcileOptions
    from datax_migrate.reconcile.spark_engine import reconcile_table

    catalog = open_catalog(spec.catalog, spec.catalog_properties)
    results = []
    for table in spec.tables:
        started = time.monotonic()
        result = TableResult(table.source, table.target, "failed")
        try:
            converted = convert_table(spark, table.source, catalog, table.target, version=table.version)
            result.status, result.snapshot_id, result.rows = converted.status, converted.snapshot_id, converted.rows
            if spec.reconcile:
                # the version just converted, not the latest: the Delta table may have moved on since
                version = table.version if table.version is not None else converted.source.delta_version
                options = ReconcileOptions(version=version, keys=table.key)
                report = reconcile_table(spark, table.source, catalog, table.target, options)
                result.verdict = report.verdict
                result.checks = {check.name: check.status.value for check in report.checks}
        except DataxError as exc:
            result.error = str(exc)
        result.seconds = round(time.monotonic() - started, 3)
        log(f"{table.source} -> {table.target}: {result.status} {result.verdict or ''} {result.error or ''}".strip())
        results.append(result)
    return results


def results_json(results: list[TableResult]) -> str:
    """The results as the JSON document the entry script writes."""
    return json.dumps({"version": JOB_VERSION, "tables": [asdict(r) for r in results]}, indent=2) + "\n"


def succeeded(results: list[TableResult]) -> bool:
    """Every table converted, and every reconciliation (where run) matched."""
    return all(r.status != "failed" and r.verdict in (None, "match") for r in results)
