"""Delta time travel and the ``DeltaTable`` API over Iceberg tables converted by datax-migrate.

The converter records the Delta version and commit time each Iceberg snapshot holds in the
snapshot summary (``datax.source-delta-version``, ``datax.source-commit-timestamp`` in ms).
:func:`delta_version_snapshot` finds the snapshot for a version when the notebook runs, through
the table's ``snapshots`` and ``refs`` metadata tables, so no catalog access is needed at
translation time. A table converted with ``--history`` or kept in step by ``sync`` holds one
snapshot per Delta version; :func:`history_snapshot` chooses among them (see there).

:class:`DeltaTable` keeps the delta-spark API that notebooks use (``forName``, ``alias``,
``toDF``, ``merge`` builders, ``update``, ``delete``, ``history``, ``restoreToVersion``) and runs
it as Iceberg SQL: ``MERGE INTO``, ``UPDATE``, ``DELETE``, metadata tables, procedures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SOURCE_VERSION = "datax.source-delta-version"
SOURCE_COMMIT_TIMESTAMP = "datax.source-commit-timestamp"
SOURCE_LOCATION = "datax.source-location"
REPLACE = "replace"
"""The Iceberg operation of a snapshot that rewrites files without changing data (compaction, OPTIMIZE)."""


@dataclass(frozen=True)
class SnapshotFacts:
    """What the choice of a history snapshot reads of one Iceberg snapshot.

    Attributes:
        snapshot_id: The snapshot.
        parent_id: Its parent, if any.
        committed_at_ms: When it was committed (ms since the epoch).
        operation: Its operation (``append``, ``overwrite``, ``delete``, ``replace``), if recorded.
        summary: Its summary properties.
    """

    snapshot_id: int
    parent_id: int | None
    committed_at_ms: int
    operation: str | None
    summary: Mapping[str, str]


@dataclass(frozen=True)
class DeltaOrigin:
    """The Delta commit whose table state a snapshot holds."""

    location: str | None
    version: int
    commit_timestamp_ms: int | None


def snapshot_origins(snapshots: Sequence[SnapshotFacts]) -> dict[int, DeltaOrigin]:
    """The Delta commit each snapshot holds, for the snapshots that hold one.

    A snapshot records its Delta version in its summary. One that records none but only rewrites
    files (operation ``replace``: compaction, S3 Tables maintenance) holds what its parent holds.
    Anything else (another writer's append, say) holds no Delta commit.
    """
    by_id = {s.snapshot_id: s for s in snapshots}
    origins: dict[int, DeltaOrigin | None] = {}
    for snapshot in snapshots:
        chain: list[SnapshotFacts] = []
        found: DeltaOrigin | None = None
        current: SnapshotFacts | None = snapshot
        while current is not None:
            if current.snapshot_id in origins:
                found = origins[current.snapshot_id]
                break
            chain.append(current)
            found = _recorded_origin(current)
            if found is not None or current.operation != REPLACE or current.parent_id is None:
                break
            current = by_id.get(current.parent_id)
        for rewritten in chain:
            origins[rewritten.snapshot_id] = found
    return {snapshot_id: origin for snapshot_id, origin in origins.items() if origin is not None}


def _recorded_origin(snapshot: SnapshotFacts) -> DeltaOrigin | None:
    version = str(snapshot.summary.get(SOURCE_VERSION, ""))
    if not version.isdigit():
        return None
    stamp = str(snapshot.summary.get(SOURCE_COMMIT_TIMESTAMP, ""))
    location = snapshot.summary.get(SOURCE_LOCATION)
    return DeltaOrigin(location, int(version), int(stamp) if stamp.lstrip("-").isdigit() else None)


def current_ancestors(snapshots: Sequence[SnapshotFacts], current_id: int | None) -> list[int]:
    """The current snapshot and its ancestors, newest first."""
    parents = {s.snapshot_id: s.parent_id for s in snapshots}
    chain: list[int] = []
    snapshot_id = current_id
    while snapshot_id is not None and snapshot_id in parents and snapshot_id not in chain:
        chain.append(snapshot_id)
        snapshot_id = parents[snapshot_id]
    return chain


def history_snapshot(
    snapshots: Sequence[SnapshotFacts],
    current_id: int | None,
    *,
    version: int | None = None,
    at_ms: int | None = None,
    location: str | None = None,
) -> int | None:
    """The snapshot that holds Delta ``version`` (or the last Delta commit at or before ``at_ms``).

    Several snapshots can hold the same Delta version: the snapshot converted from it and the
    maintenance snapshots (``replace``) that rewrote its files later, or snapshots left off the
    table's current line by a rollback or a replace. The one chosen is on the current line (the
    current snapshot and its ancestors) where one is, the newest of those; else the newest of the
    others. So ``rollback_to_snapshot`` can go back to it, and it is the state readers of that
    version would have seen, maintenance included.

    Args:
        snapshots: Every snapshot of the table.
        current_id: The table's current snapshot.
        version: The Delta version wanted.
        at_ms: Instead: a time (ms since the epoch); the Delta commit current then is wanted.
        location: Only snapshots converted from this Delta table location (``None``: any).

    Returns:
        The snapshot id, or ``None`` when no snapshot holds such a Delta commit.
    """
    if (version is None) == (at_ms is None):
        raise ValueError("give either version or at_ms")
    origins = {
        snapshot_id: origin
        for snapshot_id, origin in snapshot_origins(snapshots).items()
        if location is None or origin.location == location
    }
    if at_ms is not None:
        commits = [o for o in origins.values() if o.commit_timestamp_ms is not None and o.commit_timestamp_ms <= at_ms]
        if not commits:
            return None
        version = max(commits, key=lambda o: (o.commit_timestamp_ms, o.version)).version
    ancestors = current_ancestors(snapshots, current_id)
    for snapshot_id in ancestors:
        if snapshot_id in origins and origins[snapshot_id].version == version:
            return snapshot_id
    others = [s for s in snapshots if s.snapshot_id in origins and origins[s.snapshot_id].version == version]
    return max(others, key=lambda s: s.committed_at_ms).snapshot_id if others else None


def spark_snapshot_facts(spark: Any, table: str) -> tuple[list[SnapshotFacts], int | None]:
    """Every snapshot of ``table`` and its current snapshot, from its ``snapshots`` and ``refs`` metadata tables."""
    columns = "snapshot_id, parent_id, committed_at, operation, summary"
    rows = spark.sql(f"SELECT {columns} FROM {table}.snapshots").collect()
    facts = [
        SnapshotFacts(
            snapshot_id=int(row["snapshot_id"]),
            parent_id=int(row["parent_id"]) if row["parent_id"] is not None else None,
            committed_at_ms=_millis(row["committed_at"]),
            operation=row["operation"],
            summary=dict(row["summary"] or {}),
        )
        for row in rows
    ]
    main = spark.sql(f"SELECT snapshot_id FROM {table}.refs WHERE name = 'main'").collect()
    return facts, int(main[0][0]) if main else None


def _millis(moment: dt.datetime) -> int:
    """Milliseconds since the epoch of a time PySpark collected (naive ones are in this process's local time)."""
    return int(moment.timestamp() * 1000)


def delta_version_snapshot(spark: Any, table: str, version: int) -> int:
    """The id of the Iceberg snapshot that holds Delta ``version`` of ``table`` (see :func:`history_snapshot`).

    Raises:
        LookupError: no snapshot of the table holds that version.
    """
    facts, current = spark_snapshot_facts(spark, table)
    found = history_snapshot(facts, current, version=int(version))
    if found is None:
        raise LookupError(
            f"{table} has no snapshot converted from Delta version {int(version)}: convert that version "
            "(datax-migrate convert --version N, or --history) or read another one"
        )
    return found


def delta_timestamp_snapshot(spark: Any, table: str, timestamp: str) -> int:
    """The id of the snapshot of the last Delta commit at or before ``timestamp`` (ISO-8601, UTC if no zone).

    The time is read by Spark (``CAST(... AS TIMESTAMP)``, in the session's time zone when it names none).

    Raises:
        LookupError: no converted snapshot is that old.
    """
    quoted = timestamp.replace("'", "''")
    at_ms = int(spark.sql(f"SELECT unix_millis(CAST('{quoted}' AS TIMESTAMP))").collect()[0][0])
    facts, current = spark_snapshot_facts(spark, table)
    found = history_snapshot(facts, current, at_ms=at_ms)
    if found is None:
        raise LookupError(f"{table} has no snapshot converted from a Delta commit at or before {timestamp}")
    return found


class DeltaTable:
    """The delta-spark ``DeltaTable`` API on an Iceberg table."""

    def __init__(self, spark: Any, name: str, alias: str | None = None) -> None:
        self._spark = spark
        self._name = name
        self._alias = alias

    @classmethod
    def forName(cls, spark: Any, name: str) -> DeltaTable:  # noqa: N802 - the delta-spark name
        """The table called ``name`` (``catalog.namespace.table``)."""
        return cls(spark, name)

    @classmethod
    def forPath(cls, spark: Any, path: str) -> DeltaTable:  # noqa: N802 - the delta-spark name
        """Not available: Iceberg tables are reached by name."""
        raise NotImplementedError(f"Iceberg tables are read by name, not path ({path}): use DeltaTable.forName")

    def alias(self, name: str) -> DeltaTable:
        """The table under an alias, for merge conditions."""
        return DeltaTable(self._spark, self._name, name)

    def toDF(self) -> Any:  # noqa: N802 - the delta-spark name
        """The table as a DataFrame."""
        frame = self._spark.table(self._name)
        return frame.alias(self._alias) if self._alias else frame

    def update(self, condition: Any = None, set: Mapping[str, Any] | None = None) -> None:  # noqa: A002
        """``UPDATE`` the rows matching ``condition``."""
        self._spark.sql(f"UPDATE {self._name} SET {_assignments(set)}{_where(condition)}")

    def delete(self, condition: Any = None) -> None:
        """``DELETE`` the rows matching ``condition``."""
        self._spark.sql(f"DELETE FROM {self._name}{_where(condition)}")

    def history(self, limit: int | None = None) -> Any:
        """Snapshots newest first, with the Delta version each was converted from."""
        query = (
            f"SELECT summary['{SOURCE_VERSION}'] AS version, committed_at AS timestamp, operation, snapshot_id, "
            f"summary FROM {self._name}.snapshots ORDER BY committed_at DESC"
        )
        return self._spark.sql(query + (f" LIMIT {int(limit)}" if limit else ""))

    def restoreToVersion(self, version: int) -> None:  # noqa: N802 - the delta-spark name
        """Roll back to the snapshot converted from Delta ``version``."""
        catalog, _, identifier = self._name.partition(".")
        snapshot = delta_version_snapshot(self._spark, self._name, version)
        self._spark.sql(f"CALL {catalog}.system.rollback_to_snapshot('{identifier}', {snapshot})")

    def merge(self, source: Any, condition: Any) -> MergeBuilder:
        """Start a ``MERGE INTO`` of ``source`` (a DataFrame) on ``condition``."""
        return MergeBuilder(self, source, _sql(condition))


class MergeBuilder:
    """The ``whenMatched…``/``whenNotMatched…`` builder; :meth:`execute` runs one ``MERGE INTO``."""

    def __init__(self, table: DeltaTable, source: Any, condition: str) -> None:
        self._table = table
        self._source = source
        self._condition = condition
        self._clauses: list[str] = []

    def _add(self, head: str, condition: Any, action: str) -> MergeBuilder:
        self._clauses.append(f"{head}{' AND ' + _sql(condition) if condition is not None else ''} THEN {action}")
        return self

    def whenMatchedUpdate(self, condition: Any = None, set: Mapping[str, Any] | None = None) -> MergeBuilder:  # noqa: N802, A002
        """Update matched rows."""
        return self._add("WHEN MATCHED", condition, "UPDATE SET " + _assignments(set))

    def whenMatchedUpdateAll(self, condition: Any = None) -> MergeBuilder:  # noqa: N802
        """Update matched rows with every source column."""
        return self._add("WHEN MATCHED", condition, "UPDATE SET *")

    def whenMatchedDelete(self, condition: Any = None) -> MergeBuilder:  # noqa: N802
        """Delete matched rows."""
        return self._add("WHEN MATCHED", condition, "DELETE")

    def whenNotMatchedInsert(self, condition: Any = None, values: Mapping[str, Any] | None = None) -> MergeBuilder:  # noqa: N802
        """Insert unmatched source rows."""
        columns = ", ".join((values or {}).keys())
        inserted = ", ".join(_sql(v) for v in (values or {}).values())
        return self._add("WHEN NOT MATCHED", condition, f"INSERT ({columns}) VALUES ({inserted})")

    def whenNotMatchedInsertAll(self, condition: Any = None) -> MergeBuilder:  # noqa: N802
        """Insert unmatched source rows with every column."""
        return self._add("WHEN NOT MATCHED", condition, "INSERT *")

    def whenNotMatchedBySourceDelete(self, condition: Any = None) -> MergeBuilder:  # noqa: N802
        """Delete target rows no source row matches."""
        return self._add("WHEN NOT MATCHED BY SOURCE", condition, "DELETE")

    def whenNotMatchedBySourceUpdate(self, condition: Any = None, set: Mapping[str, Any] | None = None) -> MergeBuilder:  # noqa: N802, A002
        """Update target rows no source row matches."""
        return self._add("WHEN NOT MATCHED BY SOURCE", condition, "UPDATE SET " + _assignments(set))

    def execute(self) -> None:
        """Run the ``MERGE INTO``."""
        try:
            import sqlglot
            from sqlglot import exp
        except ImportError:
            raise ImportError("MERGE INTO needs sqlglot: pip install 'datax-migrate[translate]'") from None

        table = self._table
        target_alias = table._alias or table._name.rsplit(".", 1)[-1]
        qualifiers = {c.table for c in sqlglot.parse_one(self._condition, read="spark").find_all(exp.Column) if c.table}
        others = sorted(qualifiers - {target_alias})
        source_alias = others[0] if len(others) == 1 else "source"
        view = f"datax_merge_source_{id(self)}"
        self._source.createOrReplaceTempView(view)
        try:
            table._spark.sql(
                f"MERGE INTO {table._name} AS {target_alias} USING {view} AS {source_alias} "
                f"ON {self._condition} {' '.join(self._clauses)}"
            )
        finally:
            table._spark.catalog.dropTempView(view)


def _sql(value: Any) -> str:
    """SQL text of a condition or value given as a string or a PySpark Column."""
    if isinstance(value, str):
        return value
    java = getattr(value, "_jc", None)
    # The expression's SQL form quotes literals (lit("x") is 'x'); Column.toString does not.
    return str(java.expr().sql()) if java is not None else str(value)


def _assignments(values: Mapping[str, Any] | None) -> str:
    return ", ".join(f"{column} = {_sql(value)}" for column, value in (values or {}).items())


def _where(condition: Any) -> str:
    return f" WHERE {_sql(condition)}" if condition is not None else ""
