"""One planned table's steps: convert it (or convert its history, or sync it), then reconcile it.

Each step is idempotent, which is what lets the runner retry it and a rerun repeat it after a crash:
a conversion whose snapshot already landed comes back ``unchanged``, one that did not land leaves
nothing behind, and a report folder is complete (has its manifest) or is written again.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datax_migrate.errors import ConfigError, DataxError
from datax_migrate.estate.plan import CONVERT, HISTORY, SYNC, PlannedTable

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

    from datax_migrate.config import Config
    from datax_migrate.reconcile.model import Report


class TableTimeout(DataxError):
    """A table took longer than its timeout; what its step had written was discarded."""


class StopRequested(BaseException):  # noqa: N818 - a stop, like KeyboardInterrupt, not an error
    """The run is stopping (Ctrl-C, SIGTERM): the step in progress gives up and leaves its table to a rerun."""


@dataclass(frozen=True)
class Converted:
    """What the convert step left: the Iceberg snapshot and its size."""

    snapshot_id: int | None
    delta_version: int
    rows: int
    bytes: int
    seconds: float


class Deadline:
    """A table's time limit, checked whenever a step reports progress."""

    def __init__(self, target: str, seconds: float | None, stop: threading.Event) -> None:
        """Allow ``seconds`` (``None``: no limit) from now; ``stop`` ends every step at once."""
        self.target, self.seconds, self.stop = target, seconds, stop
        self.ends = time.monotonic() + seconds if seconds is not None else None

    def check(self, *_: Any) -> None:
        """Raise when the run is stopping or the time is up (a progress callback of convert and reconcile)."""
        if self.stop.is_set():
            raise StopRequested()
        if self.ends is not None and time.monotonic() > self.ends:
            raise TableTimeout(f"{self.target} took longer than its timeout of {self.seconds:g} s")

    def left(self) -> float | None:
        """Seconds left (``None``: no limit)."""
        return None if self.ends is None else self.ends - time.monotonic()


class Engines:
    """The catalogs (one set per worker thread) and the convert and reconcile engines of a run."""

    def __init__(self, config: Config, engine: str, workers: int) -> None:
        """Open catalogs from ``config`` on demand; ``engine`` is ``local`` or ``spark``."""
        if engine not in ("local", "spark"):
            raise ConfigError(f"engine must be local or spark, not {engine!r}")
        self.config, self.engine, self.workers = config, engine, workers
        self._local = threading.local()
        self._spark: Any = None
        self._lock = threading.Lock()

    def catalog(self, name: str) -> Catalog:
        """The catalog ``name``, opened once per thread (pyiceberg catalogs are not shared across threads)."""
        catalogs: dict[str, Catalog] = self._local.__dict__.setdefault("catalogs", {})
        if name not in catalogs:
            with self._lock:  # opening a fresh SQL catalog creates its tables: one thread at a time
                catalogs[name] = self.config.catalog(name)
        return catalogs[name]

    def convert_engine(self) -> Any:
        """The engine file groups run on: local threads (the cores shared among the workers), or Spark."""
        if self.engine == "spark":
            from datax_migrate.convert.spark_engine import SparkEngine

            return SparkEngine(self._spark_session())
        import os

        from datax_migrate.convert.engine import LocalEngine

        return LocalEngine(max(1, (os.cpu_count() or 1) // self.workers))

    def scan_engine(self) -> Any:
        """The reconcile scan engine: local (``None``: the default) or Spark."""
        if self.engine != "spark":
            return None
        from datax_migrate.reconcile.spark_engine import SparkScanEngine

        return SparkScanEngine(self._spark_session())

    def _spark_session(self) -> Any:
        with self._lock:
            if self._spark is None:
                from datax_migrate.spark.session import spark_session

                self._spark = spark_session()
            return self._spark


def load_steps() -> None:
    """Import the convert and reconcile modules now, so that their import time is the run's, not a table's."""
    import datax_migrate.convert.table
    import datax_migrate.iceberg.target
    import datax_migrate.reconcile.reports
    import datax_migrate.reconcile.run
    import datax_migrate.sync.table  # noqa: F401


def convert_step(table: PlannedTable, engines: Engines, deadline: Deadline, version: int | None = None) -> Converted:
    """Convert ``table`` by its strategy; a rerun after a landed conversion writes nothing.

    ``convert``: its latest version (or ``version``); ``history``: every version still in its log up to
    the latest (or ``version``), one snapshot each; ``sync``: the versions its target has not seen yet.
    An earlier run's landed conversion comes back ``unchanged`` (a sync ``in-step``): give its
    ``version``, as the Delta table may have moved on since.
    """
    started = time.monotonic()
    catalog = engines.catalog(table.catalog)
    if table.strategy in (CONVERT, HISTORY):
        from datax_migrate.convert.table import ConvertOptions, convert_table
        from datax_migrate.iceberg.target import SOURCE_NAME

        result = convert_table(
            table.location,
            catalog,
            table.target,
            version=version,
            options=ConvertOptions(table_properties={SOURCE_NAME: table.databricks_name}),
            engine=engines.convert_engine(),
            progress=deadline.check,
            history=table.strategy == HISTORY,
        )
        rows, size = result.rows, result.bytes_written
        if result.status == "unchanged" or table.strategy == HISTORY:
            rows, size = _snapshot_size(catalog, table.target)
        return Converted(result.snapshot_id, result.source.delta_version, rows, size, time.monotonic() - started)
    if table.strategy == SYNC:
        from datax_migrate.sync.table import sync_table

        synced = sync_table(
            table.location, catalog, table.target, engine=engines.convert_engine(), progress=deadline.check
        )
        rows, size = _snapshot_size(catalog, table.target)
        return Converted(synced.snapshot_id, synced.to_version, rows, size, time.monotonic() - started)
    raise ConfigError(f"strategy {table.strategy!r} is not run")


def reconcile_step(
    table: PlannedTable, engines: Engines, deadline: Deadline, delta_version: int | None, report_dir: Path
) -> tuple[Report, float]:
    """Reconcile ``table`` at ``delta_version`` with its target; write the report folder; the report and seconds."""
    from datax_migrate.reconcile.reports import write_reports
    from datax_migrate.reconcile.run import ReconcileOptions, reconcile_table
    from datax_migrate.reconcile.tolerance import Tolerance

    started = time.monotonic()
    options = ReconcileOptions(
        version=delta_version,
        keys=table.key_columns,
        tolerances={column.lower(): Tolerance(column, absolute=value) for column, value in table.tolerances.items()},
    )
    report = reconcile_table(
        table.location, engines.catalog(table.catalog), table.target, options, deadline.check, engines.scan_engine()
    )
    deadline.check()
    write_reports(report, report_dir)
    return report, time.monotonic() - started


def _snapshot_size(catalog: Catalog, identifier: str) -> tuple[int, int]:
    """Rows and data-file bytes of the table's current snapshot, from its summary."""
    snapshot = catalog.load_table(identifier).current_snapshot()
    summary = snapshot.summary if snapshot is not None and snapshot.summary is not None else None
    if summary is None:
        return 0, 0
    return int(summary.get("total-records") or 0), int(summary.get("total-files-size") or 0)
