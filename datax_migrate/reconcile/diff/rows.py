"""Row-level differences, looked for only in the buckets whose checksums differ.

With key columns, the rows of those buckets are matched by key (:mod:`.keyed`, with the
user's tolerances), yielding rows only in the source, only in the target, and cells that differ. Without keys, rows are
compared whole: a row whose hash occurs more often on one side than on the other is listed there.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from datax_migrate.reconcile.checksum.table import RowHasher
from datax_migrate.reconcile.diff.keyed import keyed_comparison
from datax_migrate.reconcile.model import Check, ColumnSummary, Difference, Status
from datax_migrate.reconcile.tolerance import Tolerance
from datax_migrate.reconcile.values import plain
from datax_migrate.words import plural

KIND_NOUNS = {
    "cell": ("differing value", "differing values"),
    "source_only": ("row only in Delta", "rows only in Delta"),
    "target_only": ("row only in Iceberg", "rows only in Iceberg"),
    "duplicate_key": ("repeated key", "repeated keys"),
}
"""How the row diff's summary counts each kind of difference."""


@dataclass(frozen=True)
class RowDiff:
    """What the row diff found: its check, a seeded sample of the differences, their total, column summaries."""

    check: Check
    differences: list[Difference]
    total: int
    columns: list[ColumnSummary] = field(default_factory=list)


def choose_buckets(differing: np.ndarray, bucket_rows: np.ndarray, max_rows: int, seed: int) -> np.ndarray:
    """The differing buckets to examine: all of them, or a seeded choice holding at most ``max_rows`` rows."""
    if int(bucket_rows[differing].sum()) <= max_rows:
        return differing
    order = np.random.default_rng(seed).permutation(differing)
    within = np.cumsum(bucket_rows[order]) <= max_rows
    within[0] = True  # always look at one bucket, however large
    return np.sort(order[within])


def rows_in_buckets(batches: Iterable[pa.RecordBatch], hasher: RowHasher, buckets: np.ndarray) -> pa.Table:
    """The rows of ``batches`` (compared columns only, named as in ``hasher.columns``) that fall into ``buckets``."""
    kept = []
    for batch in batches:
        if not batch.num_rows:
            continue
        selected = np.isin(hasher.hash(batch).bucket, buckets)
        if selected.any():
            lookup = {name.lower(): i for i, name in enumerate(batch.schema.names)}
            columns = [batch.column(lookup[c.lower()]) for c in hasher.columns]
            narrowed = pa.RecordBatch.from_arrays(columns, names=list(hasher.columns))
            kept.append(narrowed.filter(pa.array(selected)))
    return _combined(kept, hasher.columns)


def combine_rows(tables: Sequence[pa.Table], columns: Sequence[str]) -> pa.Table:
    """One table of the rows :func:`rows_in_buckets` collected from several parts of a side."""
    return _combined([b for table in tables for b in table.to_batches() if b.num_rows], columns)


def _combined(batches: list[pa.RecordBatch], columns: Sequence[str]) -> pa.Table:
    if not batches:
        return pa.table({c: pa.array([], pa.null()) for c in columns})
    return pa.Table.from_batches(batches) if _same_schemas(batches) else pa.Table.from_pylist(_rows(batches))


def diff_rows(
    source: pa.Table,
    target: pa.Table,
    keys: Sequence[str],
    tolerances: dict[str, Tolerance],
    sample: int,
    seed: int,
    examined: str,
    every_bucket: bool = True,
) -> RowDiff:
    """Compare the rows collected from the differing buckets of both sides.

    ``every_bucket`` says whether those are all the differing buckets; when some were left out
    (``max_diff_rows``), finding nothing beyond the tolerances in the others proves nothing.
    """
    columns: list[ColumnSummary] = []
    if keys:
        comparison = keyed_comparison(source, target, list(keys), tolerances)
        differences, columns = comparison.differences, comparison.columns
    else:
        differences = _whole_rows(source, target)
    total = len(differences)
    shown = sorted(random.Random(seed).sample(differences, sample), key=_order) if total > sample else differences
    detail = {"examined": examined, "source_rows": source.num_rows, "target_rows": target.num_rows}
    counts = Counter(d.kind for d in differences)
    detail["by_kind"] = dict(counts)
    if total:
        parts = [plural(n, *KIND_NOUNS.get(kind, (kind, kind))) for kind, n in sorted(counts.items())]
        check = Check("row_diff", Status.FAIL, "differences found: " + ", ".join(parts), detail)
        return RowDiff(check, shown, total, columns)
    tolerated = any(c.max_abs_diff not in (None, 0) for c in columns if c.column.lower() in tolerances)
    if every_bucket and tolerated:
        summary = "every differing value is within the given tolerances"
        return RowDiff(Check("row_diff", Status.TOLERATED, summary, detail), [], 0, columns)
    summary = (
        "the checksums differ but the row comparison finds no differing value to list (its equality is looser "
        "than the checksum's encoding somewhere); treat the table as different"
        if every_bucket
        else "no value beyond the tolerances in the buckets examined, but the other differing buckets were "
        "not read again (the row diff holds at most max_diff_rows rows a side); treat the table as different"
    )
    return RowDiff(Check("row_diff", Status.FAIL, summary, detail), [], 0, columns)


def _whole_rows(source: pa.Table, target: pa.Table) -> list[Difference]:
    columns = source.column_names
    hasher = RowHasher(columns, [], 1)

    def counted(table: pa.Table) -> tuple[Counter[tuple[int, int]], dict[tuple[int, int], dict[str, Any]]]:
        counts: Counter[tuple[int, int]] = Counter()
        rows: dict[tuple[int, int], dict[str, Any]] = {}
        for batch in table.to_batches():
            hashes = hasher.hash(batch)
            for index, pair in enumerate(zip(hashes.lane_1.tolist(), hashes.lane_2.tolist(), strict=True)):
                counts[pair] += 1
                rows.setdefault(pair, {c: batch.column(c)[index].as_py() for c in columns})
        return counts, rows

    (mine, my_rows), (theirs, their_rows) = counted(source), counted(target)
    differences = []
    for kind, a, b, rows in (("source_only", mine, theirs, my_rows), ("target_only", theirs, mine, their_rows)):
        for pair, count in a.items():
            surplus = count - b.get(pair, 0)
            differences += [Difference(kind, {c: plain(v) for c, v in rows[pair].items()})] * max(surplus, 0)
    return differences


def _order(difference: Difference) -> tuple[str, str, str]:
    return difference.kind, json.dumps(difference.key, sort_keys=True, default=str), difference.column or ""


def _same_schemas(batches: list[pa.RecordBatch]) -> bool:
    return all(b.schema == batches[0].schema for b in batches)


def _rows(batches: list[pa.RecordBatch]) -> list[dict[str, Any]]:
    return [row for batch in batches for row in batch.to_pylist()]
