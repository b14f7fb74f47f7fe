"""Check a converted table against its Delta source: row count, sum(id), sum(amount), rows per country.

The Delta side is read with deltalake's reader, the Iceberg side with pyiceberg's scan, both
streamed batch by batch so memory stays small whatever the table size.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

COLUMNS = ("id", "amount", "country")
AMOUNT_RELATIVE_TOLERANCE = 1e-6


@dataclass(frozen=True)
class TableFingerprint:
    """Aggregates two correct copies of a table agree on."""

    rows: int
    sum_id: int
    sum_amount: float
    rows_per_country: tuple[tuple[str, int], ...]

    def differences(self, other: TableFingerprint) -> list[str]:
        """How ``other`` differs from this (expected) fingerprint; empty when it matches."""
        found = []
        if other.rows != self.rows:
            found.append(f"rows {other.rows:,} != {self.rows:,}")
        if other.sum_id != self.sum_id:
            found.append(f"sum(id) {other.sum_id} != {self.sum_id}")
        if not math.isclose(other.sum_amount, self.sum_amount, rel_tol=AMOUNT_RELATIVE_TOLERANCE):
            found.append(f"sum(amount) {other.sum_amount!r} != {self.sum_amount!r}")
        if other.rows_per_country != self.rows_per_country:
            found.append(f"rows per country {dict(other.rows_per_country)} != {dict(self.rows_per_country)}")
        return found


def fingerprint_batches(batches: Iterable[pa.RecordBatch]) -> TableFingerprint:
    """The fingerprint of a stream of batches holding at least :data:`COLUMNS`."""
    rows = sum_id = 0
    amounts: list[float] = []
    countries: Counter[str] = Counter()
    for batch in batches:
        if not batch.num_rows:
            continue
        rows += batch.num_rows
        sum_id += pc.sum(batch.column("id")).as_py() or 0
        amounts.append(pc.sum(batch.column("amount")).as_py() or 0.0)
        for entry in pc.value_counts(batch.column("country")).to_pylist():
            countries[entry["values"]] += entry["counts"]
    sum_amount = math.fsum(amounts)
    return TableFingerprint(rows, sum_id, sum_amount, tuple(sorted(countries.items())))


def delta_fingerprint(path: Path) -> TableFingerprint:
    """The fingerprint of the latest version of the Delta table at ``path``, read by deltalake."""
    from deltalake import DeltaTable

    dataset = DeltaTable(str(path)).to_pyarrow_dataset()
    return fingerprint_batches(dataset.to_batches(columns=list(COLUMNS)))


def iceberg_fingerprint(catalog_name: str, properties: Mapping[str, str], identifier: str) -> TableFingerprint:
    """The fingerprint of the current snapshot of an Iceberg table, read by field id (NULL nested values kept)."""
    from datax_migrate.iceberg.read import snapshot_batches

    return fingerprint_batches(snapshot_batches(_load(catalog_name, properties, identifier), columns=COLUMNS))


@dataclass(frozen=True)
class IcebergLayout:
    """How an Iceberg table is laid out: its partition spec (``transform(column)``) and data-file totals."""

    spec: list[str]
    data_files: int
    bytes: int


def iceberg_layout(catalog_name: str, properties: Mapping[str, str], identifier: str) -> IcebergLayout:
    """The partition spec and data-file totals of an Iceberg table."""
    table = _load(catalog_name, properties, identifier)
    schema = table.schema()
    snapshot = table.current_snapshot()
    summary = snapshot.summary if snapshot else None
    return IcebergLayout(
        spec=[f"{f.transform}({schema.find_field(f.source_id).name})" for f in table.spec().fields],
        data_files=int(summary["total-data-files"]) if summary else 0,
        bytes=int(summary["total-files-size"]) if summary else 0,
    )


def _load(catalog_name: str, properties: Mapping[str, str], identifier: str) -> Any:
    from pyiceberg.catalog import load_catalog

    return load_catalog(catalog_name, **properties).load_table(identifier)
