"""Partition values of ``add.partitionValues``, parsed into Python values of the column's type.

The text forms are those of PROTOCOL.md, "Partition Value Serialization".
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from datax_migrate.delta.schema import DecimalType, DeltaType, PrimitiveType
from datax_migrate.errors import CorruptLogError, UnsupportedFeatureError

HIVE_DEFAULT_PARTITION = "__HIVE_DEFAULT_PARTITION__"
_INTEGER_RANGES = {
    "byte": (-(2**7), 2**7 - 1),
    "short": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "long": (-(2**63), 2**63 - 1),
}


def parse_partition_value(raw: str | None, delta_type: DeltaType, column: str = "?") -> Any:
    """Parse one serialised partition value.

    ``None``, the empty string and ``__HIVE_DEFAULT_PARTITION__`` are NULL. Timestamps without an
    offset are read as UTC (``timestamp``) or as wall-clock time (``timestamp_ntz``).

    Raises:
        CorruptLogError: the text is not a valid value of the column's type.

    """
    if raw is None or raw == "" or raw == HIVE_DEFAULT_PARTITION:
        return None
    try:
        return _parse(raw, delta_type)
    except (ValueError, ArithmeticError) as exc:
        raise CorruptLogError(
            f"partition value {raw!r} of column {column!r} is not a valid {delta_type.name}: {exc}"
        ) from exc


def _parse(raw: str, delta_type: DeltaType) -> Any:
    if isinstance(delta_type, DecimalType):
        value = decimal.Decimal(raw)
        if not value.is_finite():
            raise ValueError("not a finite decimal")
        quantised = value.quantize(decimal.Decimal(1).scaleb(-delta_type.scale))
        if quantised != value:
            raise ValueError(f"more than {delta_type.scale} digits after the point")
        if len(quantised.as_tuple().digits) > delta_type.precision and quantised != 0:
            raise ValueError(f"more than {delta_type.precision} digits")
        return quantised
    if not isinstance(delta_type, PrimitiveType):
        raise UnsupportedFeatureError(f"partition column of type {delta_type.name} is not supported")
    name = delta_type.name
    if name == "string":
        return raw
    if name in _INTEGER_RANGES:
        number = int(raw)
        low, high = _INTEGER_RANGES[name]
        if not low <= number <= high:
            raise ValueError(f"out of range for {name}")
        return number
    if name in ("float", "double"):
        return float(raw)
    if name == "boolean":
        lowered = raw.lower()
        if lowered not in ("true", "false"):
            raise ValueError("not true or false")
        return lowered == "true"
    if name == "date":
        return dt.date.fromisoformat(raw)
    if name == "timestamp":
        return _parse_timestamp(raw, aware=True)
    if name == "timestamp_ntz":
        return _parse_timestamp(raw, aware=False)
    if name == "binary":
        return raw.encode("utf-8")
    raise UnsupportedFeatureError(f"partition column of type {name} is not supported")


def _parse_timestamp(raw: str, aware: bool) -> dt.datetime:
    text = raw.strip().replace("T", " ")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    value = dt.datetime.fromisoformat(text)
    if aware:
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)
    if value.tzinfo is not None:
        raise ValueError("timestamp_ntz value carries a time zone")
    return value
