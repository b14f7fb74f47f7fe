"""Reconcile one Delta table version with its Iceberg twin: the library entry point."""

from __future__ import annotations

import datetime as dt
import gc
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
from pyiceberg.catalog import Catalog

from datax_migrate import __version__
from datax_migrate.delta.commit_times import AUTO
from datax_migrate.errors import ReconcileError
from datax_migrate.reconcile.checks import aggregates_check, checksum_check, row_count_check, schema_check
from datax_migrate.reconcile.checksum.encoding import column_kind
from datax_migrate.reconcile.checksum.table import RowHasher
from datax_migrate.reconcile.checksum.warehouse_sql import recompute_figures, statements_or_reason
from datax_migrate.reconcile.delta_side import DeltaSide
from datax_migrate.reconcile.diff.rows import RowDiff, choose_buckets, diff_rows
from datax_migrate.reconcile.duplicates import KeyCounts, candidates, unique_keys_check
from datax_migrate.reconcile.engine import (
    LocalScanEngine,
    ProgressCallback,
    ReconcileProgress,
    RowCounter,
    ScanEngine,
)
from datax_migrate.reconcile.model import Check, Report, Status
from datax_migrate.reconcile.scan import ScanSummary, SideScanner
from datax_migrate.reconcile.scope import common_columns, proof_level, select_columns
from datax_migrate.reconcile.sides import IcebergSide
from datax_migrate.reconcile.tolerance import Tolerance
from datax_migrate.words import plural

__all__ = ["ReconcileOptions", "ReconcileProgress", "bucket_count", "reconcile_table"]

ROWS_PER_BUCKET = 1024
MAX_BUCKETS = 65536
_GOOD = {Status.PASS, Status.EXPECTED, Status.TOLERATED, Status.SKIPPED}


@dataclass(frozen=True)
class ReconcileOptions:
    """How to reconcile.

    Attributes:
        version: Delta version to compare (default: the latest).
        keys: key columns; without keys rows are compared whole.
        tolerances: numeric tolerances by lower-case column name.
        sample: cap on the differences listed in the report.
        seed: seed of every sampled choice, so a rerun lists the same rows.
        max_diff_rows: cap on the rows per side held in memory for the row diff.
        columns: compare only these columns (default: every column both sides have); key
            columns are always compared.
        exclude: leave these columns out of the comparison; the report names them.
        commit_times: how the Delta commit time is read: ``auto`` (detect copied logs),
            ``mtime`` or ``commit-info`` (see :class:`~datax_migrate.delta.commit_times.CommitClock`).

    """

    version: int | None = None
    keys: tuple[str, ...] = ()
    tolerances: Mapping[str, Tolerance] = field(default_factory=dict)
    sample: int = 20
    seed: int = 42
    max_diff_rows: int = 500_000
    columns: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    commit_times: str = AUTO


def bucket_count(rows: int | None) -> int:
    """Buckets for a table of ``rows`` rows: a power of two, about :data:`ROWS_PER_BUCKET` rows each."""
    wanted = max(1, (rows or 0) // ROWS_PER_BUCKET)
    return int(min(MAX_BUCKETS, 1 << (wanted - 1).bit_length()))


def reconcile_table(
    source: str | DeltaSide,
    catalog: Catalog,
    identifier: str,
    options: ReconcileOptions | None = None,
    progress: ProgressCallback | None = None,
    engine: ScanEngine | None = None,
) -> Report:
    """Compare Delta table ``source`` (at ``options.version``) with Iceberg table ``identifier``.

    ``source`` is the table's URI, or its side already opened (and perhaps reading ahead, see
    :meth:`~datax_migrate.reconcile.delta_side.DeltaSide.read_ahead`) at the version and with the
    commit times of ``options``.

    The Iceberg snapshot is the table's current one, which readers see (with a warning when it was not
    converted from that Delta version); with ``options.version``, the snapshot converted from that
    version, and the report names the current one if the table has moved on since.

    Both sides are read once, at the same time, for every check; rows of buckets whose checksums
    differ are read a second time for the row diff. ``engine`` decides where the reading runs
    (default: :class:`~datax_migrate.reconcile.engine.LocalScanEngine`; Spark's is
    :class:`~datax_migrate.reconcile.spark_engine.SparkScanEngine`).

    Raises:
        DeltaError: the Delta side cannot be read.
        ReconcileError: the Iceberg side cannot be read, a key column is missing or of another kind
            on one side, or a tolerance names no column of both tables.

    """
    with _objects_frozen():
        return _reconcile(source, catalog, identifier, options or ReconcileOptions(), progress, engine)


@contextmanager
def _objects_frozen() -> Iterator[None]:
    """Leave the objects that exist now out of the garbage collector's walks while a run lasts.

    The compiled kernels' first call sets numba up, which makes a great many objects; the collector
    would then walk every object of the process (a good part of a second holding the GIL, mid-scan).
    The objects are moved back afterwards unless the caller had frozen objects of its own.
    """
    caller_froze = gc.get_freeze_count() > 0
    gc.freeze()
    try:
        yield
    finally:
        if not caller_froze:
            gc.unfreeze()


def _reconcile(
    source: str | DeltaSide,
    catalog: Catalog,
    identifier: str,
    options: ReconcileOptions,
    progress: ProgressCallback | None,
    engine: ScanEngine | None,
) -> Report:
    started, clock = dt.datetime.now(dt.timezone.utc), time.perf_counter()
    delta = source if isinstance(source, DeltaSide) else DeltaSide.open(source, options.version, options.commit_times)
    iceberg, warnings = IcebergSide.resolve(catalog, identifier, delta.snapshot, pinned=options.version is not None)
    if delta.snapshot.commit_time_note:
        warnings.append(f"Delta commit time: {delta.snapshot.commit_time_note}")
    checks = [_timed(lambda: schema_check(delta, iceberg))]
    keys = _validated_keys(options.keys, delta.schema, iceberg.schema)
    columns, excluded = select_columns(
        common_columns(delta.schema, iceberg.schema), options.columns, options.exclude, keys
    )
    _check_tolerances(options.tolerances, columns, excluded)
    expected_rows = delta.metadata_rows()
    buckets = bucket_count(expected_rows)
    partition_columns = [c for c in delta.partition_columns if c.lower() in {n.lower() for n in columns}]

    scanned = time.perf_counter()
    engine = engine or LocalScanEngine()
    source_summary, target_summary = engine.scan(
        delta,
        iceberg,
        lambda: SideScanner(columns, keys, buckets, partition_columns, expected_rows),
        RowCounter("scan", expected_rows, progress),
    )
    scan_seconds = time.perf_counter() - scanned
    checks.append(row_count_check(delta, iceberg, source_summary, target_summary, partition_columns))
    checks.append(aggregates_check(source_summary, target_summary, dict(options.tolerances)))
    checksum, differing = checksum_check(source_summary, target_summary)
    checks.append(checksum)
    differences, total, column_summaries = [], 0, []
    if len(differing):
        row_diff = _row_diff(
            engine, delta, iceberg, columns, keys, buckets, differing, source_summary, options, progress
        )
        checks.append(row_diff.check)
        differences, total, column_summaries = row_diff.differences, row_diff.total, row_diff.columns
        if row_diff.check.status is Status.TOLERATED:
            checks[-2] = Check(
                checksum.name, Status.TOLERATED, checksum.summary + "; all within tolerances", checksum.detail
            )
    else:
        checks.append(Check("row_diff", Status.SKIPPED, "not needed: every bucket checksum is equal"))
    if keys:
        checks.append(_unique_keys(engine, delta, iceberg, keys, source_summary, target_summary, options, progress))
    for index, check in enumerate(checks[1:], start=1):
        if check.name in ("row_count", "aggregates", "checksum"):
            checks[index] = Check(
                check.name, check.status, check.summary, {**check.detail, "scan_seconds": round(scan_seconds, 3)}
            )
    verdict = "match" if all(c.status in _GOOD for c in checks) else "mismatch"
    statements, sql_unavailable = statements_or_reason(delta, iceberg, columns)
    tolerances = {t.column: t.describe() for t in options.tolerances.values()}
    recompute = recompute_figures(
        source_summary.checksums.total(), target_summary.checksums.total(), list(statements), sql_unavailable
    )
    return Report(
        table=identifier,
        source=delta.identity(source_summary.rows),
        target=iceberg.identity(target_summary.rows),
        verdict=verdict,
        checks=checks,
        differences=differences,
        differences_total=total,
        keys=list(keys),
        tolerances=tolerances,
        sample_limit=options.sample,
        sample_seed=options.seed,
        started_at=started.isoformat(),
        seconds=round(time.perf_counter() - clock, 3),
        tool_version=__version__,
        warnings=warnings,
        proof=proof_level(
            checks, columns, excluded, keys, buckets, len(differences), total, sql_unavailable, tolerances
        ),
        recompute=recompute,
        checksum_sql=statements,
        column_summaries=column_summaries,
    )


def _row_diff(
    engine: ScanEngine,
    delta: DeltaSide,
    iceberg: IcebergSide,
    columns: list[str],
    keys: list[str],
    buckets: int,
    differing: np.ndarray,
    source_summary: ScanSummary,
    options: ReconcileOptions,
    progress: ProgressCallback | None,
) -> RowDiff:
    started = time.perf_counter()
    chosen = choose_buckets(differing, source_summary.checksums.rows, options.max_diff_rows, options.seed)
    hasher = RowHasher(columns, keys, buckets)
    counter = RowCounter("row diff", source_summary.rows, progress)
    source_rows, target_rows = engine.rows_in_buckets(delta, iceberg, hasher, chosen, counter)
    examined = (
        f"{len(chosen):,} of {plural(len(differing), 'differing bucket')}"
        if len(chosen) < len(differing)
        else ("the differing bucket" if len(differing) == 1 else f"all {plural(len(differing), 'differing bucket')}")
    )
    result = diff_rows(
        source_rows,
        target_rows,
        keys,
        dict(options.tolerances),
        options.sample,
        options.seed,
        examined,
        every_bucket=len(chosen) == len(differing),
    )
    check = result.check
    timed = Check(check.name, check.status, check.summary, check.detail, round(time.perf_counter() - started, 3))
    return RowDiff(timed, result.differences, result.total, result.columns)


def _unique_keys(
    engine: ScanEngine,
    delta: DeltaSide,
    iceberg: IcebergSide,
    keys: list[str],
    source_summary: ScanSummary,
    target_summary: ScanSummary,
    options: ReconcileOptions,
    progress: ProgressCallback | None,
) -> Check:
    """Keys repeated on either side: candidates from the scan's key hashes, confirmed by reading their rows."""
    started = time.perf_counter()
    assert source_summary.key_hashes is not None and target_summary.key_hashes is not None
    found = candidates(source_summary.key_hashes, target_summary.key_hashes, max(options.sample, 1))
    counts: tuple[KeyCounts | None, KeyCounts | None] = (None, None)
    if len(found.chosen):
        counter = RowCounter("duplicate keys", source_summary.rows, progress)
        counts = engine.key_counts(delta, iceberg, keys, found.chosen, counter)
    check = unique_keys_check(keys, found, counts[0], counts[1], options.sample)
    searched = {
        "source": round(source_summary.key_hashes.seconds, 3),
        "target": round(target_summary.key_hashes.seconds, 3),
    }
    detail = {**check.detail, "repeat_search_seconds": searched}
    return Check(check.name, check.status, check.summary, detail, round(time.perf_counter() - started, 3))


def _timed(run: Callable[[], Check]) -> Check:
    started = time.perf_counter()
    check = run()
    return Check(check.name, check.status, check.summary, check.detail, round(time.perf_counter() - started, 3))


def _check_tolerances(tolerances: Mapping[str, Tolerance], columns: list[str], excluded: list[str]) -> None:
    known = {c.lower() for c in columns}
    for name, tolerance in tolerances.items():
        if name in {c.lower() for c in excluded}:
            raise ReconcileError(
                f"--tolerance {tolerance.column}={tolerance.describe()}: column {tolerance.column!r} is left out of "
                "the comparison (--columns/--exclude); drop the tolerance or compare the column"
            )
        if name not in known:
            raise ReconcileError(
                f"--tolerance {tolerance.column}={tolerance.describe()}: column {tolerance.column!r} is not in both "
                f"tables (columns: {', '.join(columns)})"
            )


def _validated_keys(keys: tuple[str, ...], source: pa.Schema, target: pa.Schema) -> list[str]:
    result = []
    for key in keys:
        kinds = []
        for side, schema in (("Delta", source), ("Iceberg", target)):
            match = next((f for f in schema if f.name.lower() == key.lower()), None)
            if match is None:
                raise ReconcileError(
                    f"key column {key!r} is not in the {side} table (columns: {', '.join(schema.names)})"
                )
            kinds.append(column_kind(match.type).name)
        if kinds[0] != kinds[1]:
            raise ReconcileError(f"key column {key!r} is {kinds[0]} in Delta but {kinds[1]} in Iceberg")
        result.append(next(f.name for f in source if f.name.lower() == key.lower()))
    return result
