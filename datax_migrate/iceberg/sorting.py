"""Sort orders: column names checked against an Iceberg schema, and rows sorted by an Iceberg sort order.

A converted table's sort order is ascending, nulls first (Iceberg's and Spark's default for an
ascending sort), identity transforms only. Rows are sorted within each data file: a file's rows
are read whole, sorted, then written, so the file's ``sort_order_id`` is true while files of the
same table still overlap in range (as after any Iceberg write that is not a global sort).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.schema import Accessor, Schema
from pyiceberg.table.sorting import NullOrder, SortDirection, SortOrder
from pyiceberg.transforms import IdentityTransform

from datax_migrate.errors import ConfigError

_BATCH_ROWS = 65_536
_NULLS_PER_KEY = int(pa.__version__.split(".")[0]) >= 25  # where nulls go, per sort key


def sort_columns(schema: Schema, columns: Sequence[str]) -> tuple[str, ...]:
    """The full names in ``schema`` of the sort ``columns`` (matched case-insensitively, as Delta does).

    Raises:
        ConfigError: a column is missing, named twice, not a primitive (a struct, list or map), or
            inside a list or map (one row has many values there: no row order follows from it).

    """
    names: list[str] = []
    for column in columns:
        try:
            field = schema.find_field(column, case_sensitive=False)
        except ValueError:
            raise ConfigError(f"sort column {column!r} is not a column of the table") from None
        name = schema.find_column_name(field.field_id) or column
        if not field.field_type.is_primitive:
            raise ConfigError(f"sort column {name!r} is a {field.field_type}: only primitive columns can be sorted by")
        try:
            schema.accessor_for_field(field.field_id)
        except ValueError:
            raise ConfigError(f"sort column {name!r} is inside a list or map: rows cannot be sorted by it") from None
        if name in names:
            raise ConfigError(f"sort column {name!r} is named twice")
        names.append(name)
    return tuple(names)


def sort_indices(table: pa.Table, schema: Schema, order: SortOrder) -> pa.Array:
    """The row positions of ``table`` (in ``schema``'s column order) in ``order``; a stable sort.

    Raises:
        ConfigError: the order has a transform other than identity, or (pyarrow before 25, which
            places nulls once for all keys) mixes nulls-first and nulls-last.

    """
    keys: dict[str, pa.ChunkedArray] = {}
    sort_keys = []
    for position, sort_field in enumerate(order.fields):
        if not isinstance(sort_field.transform, IdentityTransform):
            raise ConfigError(f"sort order {order} has a {sort_field.transform} transform; only identity is supported")
        keys[f"k{position}"] = _column(table, schema.accessor_for_field(sort_field.source_id))
        direction = "ascending" if sort_field.direction == SortDirection.ASC else "descending"
        nulls = "at_start" if sort_field.null_order == NullOrder.NULLS_FIRST else "at_end"
        sort_keys.append((f"k{position}", direction, nulls))
    if _NULLS_PER_KEY:
        return pc.sort_indices(pa.table(keys), sort_keys=sort_keys)
    if len({nulls for _, _, nulls in sort_keys}) > 1:
        raise ConfigError(f"sort order {order} mixes nulls-first and nulls-last: pyarrow 25 or later sorts by it")
    placement = sort_keys[0][2] if sort_keys else "at_start"
    return pc.sort_indices(pa.table(keys), sort_keys=[k[:2] for k in sort_keys], null_placement=placement)


def sorted_batches(
    batches: Iterable[pa.RecordBatch], arrow_schema: pa.Schema, schema: Schema, order: SortOrder
) -> Iterator[pa.RecordBatch]:
    """All of ``batches`` (one data file's rows), sorted by ``order``: held in memory together."""
    table = pa.Table.from_batches(list(batches), schema=arrow_schema).combine_chunks()
    if not table.num_rows:
        return
    ordered = table.take(sort_indices(table, schema, order))
    del table
    yield from ordered.to_batches(max_chunksize=_BATCH_ROWS)


def _column(table: pa.Table, accessor: Accessor) -> pa.ChunkedArray:
    """The values the accessor (a path of struct positions) reaches in every row; NULL under a NULL struct."""
    column = table.column(accessor.position)
    inner = accessor.inner
    while inner is not None:
        column = pc.struct_field(column, [inner.position])
        inner = inner.inner
    return column
