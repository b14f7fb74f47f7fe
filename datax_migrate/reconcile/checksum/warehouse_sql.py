"""The checksum SQL of both sides of a reconciliation, to recompute its figures in your own warehouse.

:func:`reconcile_sql` opens both sides (metadata only, no data is read) and returns, per dialect, the
``SELECT`` of :func:`~datax_migrate.reconcile.checksum.sql.checksum_sql` over the Delta source and over the
Iceberg target, at the version and snapshot that ``reconcile`` compares. ``reconcile`` writes the
same statements into its report folder (:func:`side_statements`), and ``report.json``'s
``recompute`` holds the figures they must return. The procedure is in docs/reconcile-checksum.md.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyiceberg.catalog import Catalog

from datax_migrate.errors import ReconcileError
from datax_migrate.reconcile.checksum.sql import Dialect, checksum_sql
from datax_migrate.reconcile.checksum.table import Checksum
from datax_migrate.reconcile.delta_side import DeltaSide
from datax_migrate.reconcile.scope import common_columns, select_columns
from datax_migrate.reconcile.sides import IcebergSide

DIALECTS: tuple[Dialect, ...] = ("spark", "trino")


def sql_file_name(side: str, dialect: str) -> str:
    """The report-folder file of one side's SQL, e.g. ``checksum-source.spark.sql``."""
    return f"checksum-{side}.{dialect}.sql"


def source_table(location: str, version: int, dialect: str, identifier: str, name: str | None = None) -> str:
    """The ``FROM`` of the Delta side: ``delta.`PATH` VERSION AS OF N`` in Spark.

    Trino reads Delta tables through its Delta Lake connector by name, so the Trino statement
    names ``delta.NAMESPACE.TABLE`` after the Iceberg target's name; change it if your Delta
    table is registered under another one. ``name`` (inserted as given) replaces the path or that
    name, e.g. a Unity Catalog ``main.sales.orders``; the version clause follows it.
    """
    if dialect == "spark":
        return f"{name or 'delta.`' + location.replace('`', '``') + '`'} VERSION AS OF {version}"
    return f"{name or _trino_name('delta', identifier)} FOR VERSION AS OF {version}"


def target_table(catalog_name: str, identifier: str, snapshot_id: int, dialect: str, name: str | None = None) -> str:
    """The ``FROM`` of the Iceberg side at ``snapshot_id``, in the catalog named ``catalog_name``.

    ``name`` (inserted as given) replaces ``catalog.namespace.table``; the version clause follows it.
    """
    if dialect == "spark":
        quoted = ".".join("`" + part.replace("`", "``") + "`" for part in [catalog_name, *identifier.split(".")])
        return f"{name or quoted} VERSION AS OF {snapshot_id}"
    return f"{name or _trino_name(catalog_name, identifier)} FOR VERSION AS OF {snapshot_id}"


def side_statements(
    delta: DeltaSide,
    iceberg: IcebergSide,
    columns: Sequence[str],
    dialects: Sequence[Dialect] = DIALECTS,
    keys: Sequence[str] = (),
    buckets: int = 1,
    names: tuple[str | None, str | None] = (None, None),
) -> dict[str, str]:
    """The checksum SQL of both sides, by report-folder file name (:func:`sql_file_name`).

    ``names`` are the source's and the target's table names in the warehouse, if not the defaults
    of :func:`source_table` and :func:`target_table`.

    Raises:
        ReconcileError: a column has a type the SQL generator does not cover (it is named).

    """
    statements = {}
    location, version = delta.snapshot.location, delta.snapshot.version
    for dialect in dialects:
        source = source_table(location, version, dialect, iceberg.name, names[0])
        target = target_table(iceberg.catalog_name, iceberg.name, iceberg.snapshot.snapshot_id, dialect, names[1])
        for side, table, schema in (("source", source, delta.schema), ("target", target, iceberg.schema)):
            statements[sql_file_name(side, dialect)] = checksum_sql(table, schema, columns, keys, buckets, dialect)
    return statements


def reconcile_sql(
    source: str,
    catalog: Catalog,
    identifier: str,
    dialect: Dialect,
    version: int | None = None,
    columns: Sequence[str] = (),
    exclude: Sequence[str] = (),
    keys: Sequence[str] = (),
    buckets: int = 1,
    source_name: str | None = None,
    target_name: str | None = None,
) -> dict[str, str]:
    """The checksum SQL that ``reconcile`` would compare, for both sides, without running the comparison.

    Run the ``checksum-source`` statement where the Delta table lives and the ``checksum-target``
    one where the Iceberg table lives: with ``buckets=1`` each returns one row, ``row_count``,
    ``lane_1``, ``lane_2``, which equal the ``recompute`` figures of the report ``reconcile``
    writes for the same columns (see docs/reconcile-checksum.md).

    Args:
        source: Delta table path or URI.
        catalog: the catalog of the Iceberg target.
        identifier: the Iceberg table (``namespace.table``).
        dialect: ``"spark"`` (Spark SQL, Databricks) or ``"trino"`` (Trino, Athena engine v3).
        version: Delta version (default: the latest); the Iceberg snapshot is the one converted
            from it, else the current one, as ``reconcile`` chooses.
        columns: compare only these columns (default: every column both sides have).
        exclude: leave these columns out.
        keys: key columns: they choose a row's bucket when ``buckets`` > 1.
        buckets: bucket count, a power of two; 1 gives the table checksum.
        source_name: the Delta table's name in the warehouse, e.g. ``main.sales.orders`` (default:
            ``delta.`PATH``` in Spark, ``delta.NAMESPACE.TABLE`` in Trino); inserted as given.
        target_name: the Iceberg table's name in the warehouse (default: the catalog's name, the
            namespace and the table); inserted as given.

    Returns:
        ``{"checksum-source.DIALECT.sql": SQL, "checksum-target.DIALECT.sql": SQL}``.

    Raises:
        DeltaError: the Delta side cannot be read.
        ReconcileError: the Iceberg table does not exist, a column name is unknown, or a column
            has a type the SQL generator does not cover.

    """
    delta = DeltaSide.open(source, version)
    iceberg, _ = IcebergSide.resolve(catalog, identifier, delta.snapshot, pinned=version is not None)
    compared, _ = select_columns(common_columns(delta.schema, iceberg.schema), columns, exclude, keys)
    return side_statements(delta, iceberg, compared, (dialect,), keys, buckets, (source_name, target_name))


def recompute_figures(
    source: Checksum, target: Checksum, files: Sequence[str], unavailable: str | None = None
) -> dict[str, object]:
    """``report.json``'s ``recompute``: what each side's checksum SQL (one bucket) must return."""
    if unavailable:
        return {"unavailable": unavailable}
    return {
        "buckets": 1,
        "files": list(files),
        "source": _figures(source),
        "target": _figures(target),
    }


def _figures(checksum: Checksum) -> dict[str, object]:
    return {
        "row_count": checksum.rows,
        "lane_1": int(checksum.digest[:8], 16),
        "lane_2": int(checksum.digest[8:], 16),
        "digest": checksum.digest,
    }


def _trino_name(catalog_name: str, identifier: str) -> str:
    return ".".join('"' + part.replace('"', '""') + '"' for part in [catalog_name, *identifier.split(".")])


def statements_or_reason(
    delta: DeltaSide, iceberg: IcebergSide, columns: Sequence[str]
) -> tuple[dict[str, str], str | None]:
    """:func:`side_statements` for the report folder, or no statements and the generator's reason."""
    try:
        return side_statements(delta, iceberg, columns), None
    except ReconcileError as exc:
        return {}, str(exc)


__all__ = [
    "DIALECTS",
    "reconcile_sql",
    "recompute_figures",
    "side_statements",
    "sql_file_name",
    "source_table",
    "statements_or_reason",
    "target_table",
]
