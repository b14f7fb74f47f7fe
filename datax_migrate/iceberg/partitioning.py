"""Delta partition columns -> an Iceberg partition spec.

Plain partition columns become identity partitions. Delta generated columns whose expression is a
known time transform of a timestamp or date column (``YEAR(ts)``, ``MONTH(ts)``, ``DAY(ts)``,
``HOUR(ts)``, ``CAST(ts AS DATE)``, ``TO_DATE(ts)``, ``DATE_FORMAT(ts, 'yyyy-MM')`` ...) become the
matching Iceberg transform on the source column: YEAR alone is ``year``; YEAR and MONTH are
``month``; with DAY, ``day``; with HOUR, ``hour``. The generated columns stay ordinary columns.

Partition values of transform partitions are computed from the rows themselves (the writer checks
each file holds one value), so a Delta table written in another session time zone can never get a
wrong Iceberg partition: it is refused instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.transforms import (
    DayTransform,
    HourTransform,
    IdentityTransform,
    MonthTransform,
    Transform,
    YearTransform,
)

from datax_migrate.delta.schema import StructType

PARTITION_FIELD_ID_START = 1000

_FUNCTION = re.compile(r"^\s*(year|month|day|dayofmonth|hour)\s*\(\s*`?([\w.]+?)`?\s*\)\s*$", re.IGNORECASE)
_CAST_DATE = re.compile(
    r"^\s*(?:cast\s*\(\s*`?([\w.]+?)`?\s+as\s+date\s*\)|to_date\s*\(\s*`?([\w.]+?)`?\s*\))\s*$", re.IGNORECASE
)
_DATE_FORMAT = re.compile(r"^\s*date_format\s*\(\s*`?([\w.]+?)`?\s*,\s*'([^']*)'\s*\)\s*$", re.IGNORECASE)
_FORMAT_PARTS = {
    "yyyy": {"year"},
    "yyyy-MM": {"year", "month"},
    "yyyy-MM-dd": {"year", "month", "day"},
    "yyyy-MM-dd-HH": {"year", "month", "day", "hour"},
    "yyyy-MM-dd HH": {"year", "month", "day", "hour"},
}
_FINEST: list[tuple[set[str], Transform]] = [  # type: ignore[type-arg]
    ({"year", "month", "day", "hour"}, HourTransform()),
    ({"year", "month", "day"}, DayTransform()),
    ({"year", "month"}, MonthTransform()),
    ({"year"}, YearTransform()),
]


@dataclass(frozen=True)
class PartitionColumn:
    """How one Iceberg partition field is derived from the Delta table.

    ``source`` is the Iceberg source column; for identity partitions it is the Delta partition
    column itself, for transforms the timestamp/date column the generated columns derive from.
    """

    source: str
    transform: Transform  # type: ignore[type-arg]
    derived_from: tuple[str, ...]

    @property
    def is_identity(self) -> bool:
        """Whether this is an identity partition on a Delta partition column."""
        return isinstance(self.transform, IdentityTransform)


def time_parts(expression: str) -> tuple[str, set[str]] | None:
    """The source column and time parts a generation expression extracts, or ``None``."""
    if m := _FUNCTION.match(expression):
        part = m.group(1).lower()
        return m.group(2), {"day" if part == "dayofmonth" else part}
    if m := _CAST_DATE.match(expression):
        return (m.group(1) or m.group(2)), {"year", "month", "day"}
    if (m := _DATE_FORMAT.match(expression)) and m.group(2) in _FORMAT_PARTS:
        return m.group(1), set(_FORMAT_PARTS[m.group(2)])
    return None


def plan_partitioning(schema: StructType, partition_columns: tuple[str, ...]) -> list[PartitionColumn]:
    """Decide the Iceberg partition fields for a Delta table's partition columns."""
    by_source: dict[str, tuple[set[str], list[str]]] = {}
    plain: list[str] = []
    for column in partition_columns:
        delta_field = schema.field(column)
        expression = delta_field.generation_expression
        parsed = time_parts(expression) if expression else None
        if parsed and _is_time_column(schema, parsed[0]):
            source, parts = parsed
            collected = by_source.setdefault(schema.field(source).name, (set(), []))
            collected[0].update(parts)
            collected[1].append(delta_field.name)
        else:
            plain.append(delta_field.name)
    result = [PartitionColumn(name, IdentityTransform(), (name,)) for name in plain]
    for source, (parts, columns) in by_source.items():
        transform = next((t for needed, t in _FINEST if needed == parts), None)
        if transform is None:  # e.g. MONTH(ts) without YEAR(ts): not an Iceberg transform
            result.extend(PartitionColumn(c, IdentityTransform(), (c,)) for c in columns)
        else:
            result.append(PartitionColumn(source, transform, tuple(columns)))
    order = {name.lower(): i for i, name in enumerate(partition_columns)}
    return sorted(result, key=lambda p: min(order[c.lower()] for c in p.derived_from))


def partition_spec(plan: list[PartitionColumn], schema: Schema) -> PartitionSpec:
    """Build the partition spec for ``plan`` over the Iceberg ``schema``."""
    fields = []
    for index, column in enumerate(plan):
        source = schema.find_field(column.source)
        name = column.source if column.is_identity else f"{column.source}_{column.transform}"
        fields.append(
            PartitionField(
                source_id=source.field_id,
                field_id=PARTITION_FIELD_ID_START + index,
                transform=column.transform,
                name=name,
            )
        )
    return PartitionSpec(*fields)


def _is_time_column(schema: StructType, name: str) -> bool:
    try:
        source = schema.field(name)
    except KeyError:
        return False
    return source.type.name in ("timestamp", "timestamp_ntz", "date")
