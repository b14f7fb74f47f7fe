"""Keys that occur more than once on a side, found in the scan pass of every keyed reconciliation.

The scan keeps the 64-bit hash of every row's key (:class:`KeyHashes`, 8 bytes a row); at its end,
hashes that occur more than once are the candidates. A second pass over the side re-reads the rows
of a few candidate hashes (:func:`count_keys`) and counts their key values exactly, so a hash
collision never makes a key look repeated. NULL is a key value like any other: two rows whose key is
NULL share a key.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from datax_migrate.reconcile.checksum.encoding import canonical_text_encoder
from datax_migrate.reconcile.checksum.table import RowHasher, wide
from datax_migrate.reconcile.model import Check, Status
from datax_migrate.reconcile.values import plain


class KeyHashes:
    """The 64-bit key hash of every row of one side, in one growing array.

    Args:
        capacity: rows to make room for at first (only the rows added take memory).

    """

    def __init__(self, capacity: int = 1 << 16) -> None:
        """Start empty."""
        self._values = np.empty(max(capacity, 1), dtype=np.uint64)
        self._size = 0
        self._repeated: tuple[np.ndarray, np.ndarray] | None = None
        self.seconds = 0.0
        """Time :meth:`repeated` took to find the repeated hashes."""

    def add(self, hashes: np.ndarray) -> None:
        """Keep ``hashes`` (``uint64``)."""
        self.reserve(len(hashes))[:] = hashes

    def reserve(self, rows: int) -> np.ndarray:
        """Room for the hashes of ``rows`` more rows: the caller writes them into the array returned."""
        end = self._size + rows
        if end > len(self._values):
            grown = np.empty(max(end, 2 * len(self._values)), dtype=np.uint64)
            grown[: self._size] = self._values[: self._size]
            self._values = grown
        room = self._values[self._size : end]
        self._size = end
        return room

    def merge(self, other: KeyHashes) -> None:
        """Keep the hashes ``other`` holds."""
        self.add(other.values())

    def values(self) -> np.ndarray:
        """The hashes kept, in the order added (until :meth:`repeated` reorders them)."""
        return self._values[: self._size]

    def repeated(self) -> tuple[np.ndarray, np.ndarray]:
        """The hashes that occur more than once, ascending, and how often each occurs.

        The first call finds them and lets go of the hashes kept: add nothing after it.
        """
        if self._repeated is None:
            started = time.perf_counter()
            self._repeated = _repeated(self.values())
            self._values, self._size = np.empty(0, dtype=np.uint64), 0
            self.seconds = time.perf_counter() - started
        return self._repeated

    def __getstate__(self) -> dict[str, Any]:
        """Only the hashes kept (a Spark task sends its part of a side to the driver)."""
        return {"values": self.values()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore from :meth:`__getstate__`."""
        self._values = np.array(state["values"], dtype=np.uint64)
        self._size = len(self._values)
        self._repeated = None
        self.seconds = 0.0


def _repeated(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Repeated values of ``values``, ascending, and how often each occurs; sorts ``values`` in place.

    numpy sorts 64-bit integers with vector instructions (x86-simd-sort, Highway on Arm) and releases
    the GIL while it sorts and compares, so both sides search at once.
    """
    values.sort()
    same = values[1:] == values[:-1]
    found, extra = np.unique(values[1:][same], return_counts=True)  # each occurrence after a value's first
    return found, extra + 1


@dataclass
class KeyCounts:
    """Exact row counts of some key values on one side.

    Attributes:
        counts: canonical key (see :func:`count_keys`) -> rows with that key.
        shown: canonical key -> the key's values as read, for the report.

    """

    counts: dict[tuple[str, ...], int] = field(default_factory=dict)
    shown: dict[tuple[str, ...], tuple[Any, ...]] = field(default_factory=dict)

    def add(self, key: tuple[str, ...], values: tuple[Any, ...], rows: int) -> None:
        """Count ``rows`` more rows of ``key``."""
        self.counts[key] = self.counts.get(key, 0) + rows
        self.shown.setdefault(key, values)

    def merge(self, other: KeyCounts) -> None:
        """Take in counts of other rows of the same side."""
        for key, rows in other.counts.items():
            self.add(key, other.shown[key], rows)


def key_hasher(keys: Sequence[str]) -> RowHasher:
    """Hashes a batch's key columns only: its lanes are the key hash of :class:`~.checksum.RowHashes`."""
    return RowHasher(keys, [], 1)


def count_keys(batches: Iterable[pa.RecordBatch], keys: Sequence[str], wanted: np.ndarray) -> KeyCounts:
    """Exact row counts of the key values of ``batches`` whose 64-bit key hash is in ``wanted``.

    Keys are told apart by their canonical text (docs/reconcile-checksum.md, section 2), the form the
    checksum encodes: NULL is a key value, and so is NaN (equal to itself), and ``-0.0`` is ``0.0``.
    """
    hasher = key_hasher(keys)
    result = KeyCounts()
    encoders: list[Any] | None = None
    for batch in batches:
        if not batch.num_rows:
            continue
        hashes = hasher.hash(batch)
        selected = np.isin(wide(hashes.lane_1, hashes.lane_2), wanted)
        if not selected.any():
            continue
        lookup = {name.lower(): i for i, name in enumerate(batch.schema.names)}
        columns = [batch.column(lookup[k.lower()]) for k in keys]
        rows = pa.table(columns, names=[f"k{i}" for i in range(len(keys))]).filter(pa.array(selected))
        if encoders is None:
            encoders = [canonical_text_encoder(column.type) for column in columns]
        for values, count in _grouped(rows):
            result.add(tuple(e(v) for e, v in zip(encoders, values, strict=True)), values, count)
    return result


def _grouped(rows: pa.Table) -> list[tuple[tuple[Any, ...], int]]:
    """Each distinct key of ``rows`` and its row count (Arrow's grouping where the key types allow)."""
    names = rows.column_names
    if any(pa.types.is_nested(rows.schema.field(n).type) for n in names):
        return [(tuple(row[n] for n in names), 1) for row in rows.to_pylist()]
    grouped = rows.group_by(names, use_threads=False).aggregate([([], "count_all")])
    return [(tuple(row[n] for n in names), row["count_all"]) for row in grouped.to_pylist()]


@dataclass(frozen=True)
class Candidates:
    """Key hashes seen more than once on each side, and the few to confirm by reading their rows.

    Attributes:
        source: repeated hashes of the source and their counts.
        target: the same for the target.
        chosen: the hashes whose rows are read on both sides (ascending).

    """

    source: tuple[np.ndarray, np.ndarray]
    target: tuple[np.ndarray, np.ndarray]
    chosen: np.ndarray


def candidates(source: KeyHashes, target: KeyHashes, limit: int) -> Candidates:
    """The repeated hashes of both sides, and up to ``limit`` per side to confirm: most rows first."""
    found = source.repeated(), target.repeated()
    chosen = [values[np.lexsort((values, -counts))[:limit]] for values, counts in found]
    return Candidates(found[0], found[1], np.unique(np.concatenate(chosen)))


def unique_keys_check(
    keys: Sequence[str], found: Candidates, source: KeyCounts | None, target: KeyCounts | None, sample: int
) -> Check:
    """The ``unique_keys`` check: key values that more than one row of a side holds.

    A repeated key fails the check (the keyed row comparison cannot pair such rows one to one),
    even when both sides repeat it alike; the checksums compare whole rows, duplicates included.

    Args:
        keys: the key columns.
        found: the repeated key hashes of both sides.
        source: exact counts of the chosen keys in the source (``None`` when nothing was chosen).
        target: the same in the target.
        sample: cap on the keys listed.

    """
    source, target = source or KeyCounts(), target or KeyCounts()
    confirmed = sorted(
        {k for counts in (source, target) for k, rows in counts.counts.items() if rows > 1},
        key=lambda k: (-max(source.counts.get(k, 0), target.counts.get(k, 0)), k),
    )
    sides = {
        side: {
            "keys": len(values),
            "rows": int(counts.sum()),
            "confirmed": sum(1 for k in confirmed if exact.counts.get(k, 0) > 1),
        }
        for side, (values, counts), exact in (("source", found.source, source), ("target", found.target, target))
    }
    listed: list[dict[str, Any]] = [
        {
            "key": {name: plain(v) for name, v in zip(keys, source.shown.get(k) or target.shown[k], strict=True)},
            "source_rows": source.counts.get(k, 0),
            "target_rows": target.counts.get(k, 0),
        }
        for k in confirmed[:sample]
    ]
    detail: dict[str, Any] = {
        "keys": list(keys),
        "source": sides["source"],
        "target": sides["target"],
        "duplicates": listed,
    }
    names = ", ".join(keys)
    if not confirmed:
        return Check("unique_keys", Status.PASS, f"every key ({names}) occurs once on each side", detail)
    parts = [
        f"{n['keys']:,} key value(s) on {n['rows']:,} rows in {label}"
        for label, n in (("Delta", sides["source"]), ("Iceberg", sides["target"]))
        if n["keys"]
    ]
    example = ""
    if listed:
        first = listed[0]
        shown = ", ".join(f"{k}={'NULL' if v is None else v}" for k, v in first["key"].items())
        example = f"; e.g. {shown}: {first['source_rows']:,} rows in Delta, {first['target_rows']:,} in Iceberg"
    summary = f"the key ({names}) is not unique: " + ", ".join(parts) + example
    return Check("unique_keys", Status.FAIL, summary, detail)
