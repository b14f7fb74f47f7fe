"""Delta time travel and the ``DeltaTable`` API over Iceberg tables converted by datax-migrate.

The converter records the Delta version and commit time each Iceberg snapshot holds in the
snapshot summary (``datax.source-delta-version``, ``datax.source-commit-timestamp`` in ms).
:func:`delta_version_snapshot` finds the snapshot for a version when the notebook runs, through
the table's ``snapshots`` metadata table, so no catalog access is needed at translation time.

:class:`DeltaTable` keeps the delta-spark API that notebooks use (``forName``, ``alias``,
``toDF``, ``merge`` builders, ``update``, ``delete``, ``history``, ``restoreToVersion``) and runs
it as Iceberg SQL: ``MERGE INTO``, ``UPDATE``, ``DELETE``, metadata tables, procedures.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SOURCE_VERSION = "datax.source-delta-version"
SOURCE_COMMIT_TIMESTAMP = "datax.source-commit-timestamp"


def delta_version_snapshot(spark: Any, table: str, version: int) -> int:
    """The id of the Iceberg snapshot converted from Delta ``version`` of ``table``.

    Raises:
        LookupError: no snapshot of the table records that version.
    """
    rows = spark.sql(
        f"SELECT snapshot_id FROM {table}.snapshots WHERE summary['{SOURCE_VERSION}'] = '{int(version)}' "
        "ORDER BY committed_at DESC LIMIT 1"
    ).collect()
    if not rows:
        raise LookupError(
            f"{table} has no snapshot converted from Delta version {int(version)}: convert that version "
            "(datax-migrate convert --version N) or read another one"
        )
    return int(rows[0][0])


def delta_timestamp_snapshot(spark: Any, table: str, timestamp: str) -> int:
    """The id of the snapshot of the last Delta commit at or before ``timestamp`` (ISO-8601, UTC if no zone).

    Raises:
        LookupError: no converted snapshot is that old.
    """
    rows = spark.sql(
        f"SELECT snapshot_id FROM {table}.snapshots WHERE CAST(summary['{SOURCE_COMMIT_TIMESTAMP}'] AS BIGINT) "
        f"<= unix_millis(CAST('{timestamp}' AS TIMESTAMP)) "
        f"ORDER BY CAST(summary['{SOURCE_COMMIT_TIMESTAMP}'] AS BIGINT) DESC, committed_at DESC LIMIT 1"
    ).collect()
    if not rows:
        raise LookupError(f"{table} has no snapshot converted from a Delta commit at or before {timestamp}")
    return int(rows[0][0])


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
