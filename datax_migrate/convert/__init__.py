"""Conversion of Delta tables into Iceberg tables.

The names below load on first use, so that opening a :class:`ConversionSource` (Delta only) does not
pay for importing pyiceberg.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from datax_migrate.lazy import lazy_exports

if TYPE_CHECKING:
    from datax_migrate.convert.source import ConversionSource
    from datax_migrate.convert.table import (
        ConversionResult,
        ConvertOptions,
        InterruptedAfterCommit,
        Progress,
        convert_table,
    )

_EXPORTS = {
    "ConversionSource": "datax_migrate.convert.source",
    "ConversionResult": "datax_migrate.convert.table",
    "ConvertOptions": "datax_migrate.convert.table",
    "InterruptedAfterCommit": "datax_migrate.convert.table",
    "Progress": "datax_migrate.convert.table",
    "convert_table": "datax_migrate.convert.table",
}

__all__ = [
    "ConversionResult",
    "ConversionSource",
    "ConvertOptions",
    "InterruptedAfterCommit",
    "Progress",
    "convert_table",
]

__getattr__ = lazy_exports(__name__, _EXPORTS)
