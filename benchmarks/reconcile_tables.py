"""The reconcile benchmark tables (ARCHITECTURE.md, "Benchmark tables to use"), generated once.

Rows: ``id bigint, customer int, amount decimal(18,2), rate double, booked timestamp (UTC), currency
string (5 values), note string`` (NULL when ``id`` is a multiple of 17, else a short text); ``booked``
is spread over 2024. Each Delta table is written unpartitioned by ``deltalake.write_deltalake`` in
1M-row appends (versions ``0 .. appends-1``; append ``i`` always holds the same rows, numpy RNG seeded
with ``(SEED, i)``, so the 5M table is the first five appends of the 20M one). Then:

- the *Iceberg twin*: the last append version (the *base* version) converted by our CLI,
  ``DATAX_HOME=<home> datax-migrate convert <delta> bench.reconcile_<n>m --version <base>``, into an
  embedded catalog of its own (``benchmarks/data/reconcile-<n>m-home``);
- one more Delta version (the *changed* version): ``DeltaTable.update`` sets ``amount`` of the one
  row with ``id = CHANGED_ID`` one cent higher (deltalake rewrites the 1M-row file holding it). The
  twin is not touched, so Delta ``base`` vs. the twin is a pair without differences, and Delta
  ``changed`` vs. the twin is a pair with exactly one changed cell.

Everything lives in ``benchmarks/data/`` (git-ignored); a ``<name>.json`` marker is written once the
twin is converted, and a table without a matching marker is generated again from scratch.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tables import APPEND_ROWS, DATA, delta_files, ensure_generated

SEED = 20240301
GENERATOR = 1  # bump when the rows or the changed cell change, so cached tables are generated again
CURRENCIES = np.array(["EUR", "USD", "GBP", "CHF", "JPY"])
NOTE_NULL_EVERY = 17
CHANGED_ID = 3_141_592
CHANGED_COLUMN = "amount"
CHANGED_BY = Decimal("0.01")
CATALOG = "local"
NAMESPACE = "bench"
_START_US = int(dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc).timestamp()) * 1_000_000
_YEAR_US = 366 * 86_400 * 1_000_000


@dataclass(frozen=True)
class ReconcilePair:
    """A Delta benchmark table, its converted Iceberg twin, and the versions that make the two pairs."""

    rows: int
    path: Path
    home: Path
    base_version: int
    changed_version: int
    changed_id: int
    changed_column: str
    changed_from: str
    changed_to: str

    @property
    def name(self) -> str:
        """Short name: ``reconcile_5m``."""
        return f"reconcile_{self.rows // 1_000_000}m"

    @property
    def identifier(self) -> str:
        """The Iceberg twin: ``bench.reconcile_5m``."""
        return f"{NAMESPACE}.{self.name}"

    @property
    def catalog_properties(self) -> dict[str, str]:
        """Pyiceberg properties of the twin's embedded catalog (SQLite + warehouse under :attr:`home`)."""
        return {
            "type": "sql",
            "uri": f"sqlite:///{self.home / 'catalog.db'}",
            "warehouse": (self.home / "warehouse").as_uri(),
        }

    def delta_files(self, version: int) -> tuple[Path, ...]:
        """Active data files of Delta ``version``."""
        from deltalake import DeltaTable

        return delta_files(DeltaTable(str(self.path), version=version))

    def iceberg_files(self) -> tuple[Path, ...]:
        """Data files of the twin's current snapshot."""
        from pyiceberg.catalog import load_catalog

        table = load_catalog(CATALOG, **self.catalog_properties).load_table(self.identifier)
        return tuple(Path(task.file.file_path.removeprefix("file://")) for task in table.scan().plan_files())


def reconcile_pair(rows: int, cli: Path) -> ReconcilePair:
    """The benchmark pair of this size, generated first (converting the twin with ``cli``) if not cached."""
    if rows <= 0 or rows % APPEND_ROWS:
        raise ValueError(f"--rows must be a positive multiple of {APPEND_ROWS:,}")
    if CHANGED_ID >= rows:
        raise ValueError(f"--rows must be above the changed id {CHANGED_ID:,}")
    size = f"{rows // 1_000_000}m"
    path, home = DATA / f"reconcile-{size}", DATA / f"reconcile-{size}-home"
    appends = rows // APPEND_ROWS
    old, new = _amount(CHANGED_ID), _amount(CHANGED_ID) + CHANGED_BY
    expected: dict[str, Any] = {
        "generator": GENERATOR,
        "seed": SEED,
        "rows": rows,
        "append_rows": APPEND_ROWS,
        "base_version": appends - 1,
        "changed_version": appends,
        "changed": {"id": CHANGED_ID, "column": CHANGED_COLUMN, "from": str(old), "to": str(new)},
    }
    pair = ReconcilePair(
        rows=rows,
        path=path,
        home=home,
        base_version=appends - 1,
        changed_version=appends,
        changed_id=CHANGED_ID,
        changed_column=CHANGED_COLUMN,
        changed_from=str(old),
        changed_to=str(new),
    )
    ensure_generated(path, expected, lambda: _generate(pair, cli))
    return pair


def append_rows(index: int, rows: int = APPEND_ROWS) -> pa.Table:
    """The rows of append ``index`` (ids ``index * rows`` onwards); the same on every call."""
    rng = np.random.default_rng([SEED, index])
    ids = np.arange(index * rows, (index + 1) * rows, dtype=np.int64)
    note_numbers = pa.array(rng.integers(0, 1_000_000, rows)).cast(pa.string())
    notes = pc.binary_join_element_wise("invoice ", note_numbers, "")
    return pa.table(
        {
            "id": pa.array(ids),
            "customer": pa.array(rng.integers(0, 200_000, rows, dtype=np.int32)),
            "amount": _decimal_cents(rng.integers(-100_000, 10_000_000, rows)),
            "rate": pa.array(rng.random(rows) * 0.2),
            "booked": pa.array(_START_US + rng.integers(0, _YEAR_US, rows), pa.timestamp("us", tz="UTC")),
            "currency": pa.array(CURRENCIES[rng.integers(0, len(CURRENCIES), rows)]),
            "note": pc.if_else(pa.array(ids % NOTE_NULL_EVERY == 0), pa.scalar(None, pa.string()), notes),
        }
    )


def _decimal_cents(cents: np.ndarray) -> pa.Array:
    """``decimal(18,2)`` values from their unscaled int64 cents (decimal128 is little-endian low word, high word)."""
    words = np.empty((len(cents), 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = cents >> 63
    return pa.Array.from_buffers(pa.decimal128(18, 2), len(cents), [None, pa.py_buffer(words.tobytes())])


def _amount(row_id: int) -> Decimal:
    index, offset = divmod(row_id, APPEND_ROWS)
    return append_rows(index).column("amount")[offset].as_py()


def _generate(pair: ReconcilePair, cli: Path) -> None:
    from deltalake import DeltaTable, write_deltalake

    for stale in (pair.path, pair.home):
        if stale.exists():
            shutil.rmtree(stale)
    pair.path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    appends = pair.base_version + 1
    for index in range(appends):
        print(f"  generating {pair.path.name}: append {index + 1}/{appends}", flush=True)
        write_deltalake(str(pair.path), append_rows(index), mode="append")
    print(f"  converting version {pair.base_version} into {pair.identifier} with {cli.name}", flush=True)
    subprocess.run(
        [str(cli), "convert", str(pair.path), pair.identifier, "--version", str(pair.base_version)],
        env={**os.environ, "DATAX_HOME": str(pair.home)},
        check=True,
    )
    print(f"  changing {pair.changed_column} of id {pair.changed_id}: {pair.changed_from} -> {pair.changed_to}")
    delta = DeltaTable(str(pair.path))
    delta.update(
        updates={pair.changed_column: f"CAST('{pair.changed_to}' AS DECIMAL(18, 2))"},
        predicate=f"id = {pair.changed_id}",
    )
    delta = DeltaTable(str(pair.path))
    if delta.version() != pair.changed_version:
        raise RuntimeError(
            f"{pair.path}: expected version {pair.changed_version} after the update, got {delta.version()}"
        )
    _check_one_cell_changed(pair)
    print(f"  generated {pair.path.name} and its twin in {time.monotonic() - started:.0f} s", flush=True)


def _check_one_cell_changed(pair: ReconcilePair) -> None:
    """The changed version differs from the base version in exactly the one cell, read back by deltalake."""
    import pyarrow.dataset as ds
    from deltalake import DeltaTable

    def rows_of(version: int) -> pa.Table:
        dataset = DeltaTable(str(pair.path), version=version).to_pyarrow_dataset()
        return dataset.to_table(filter=ds.field("id") == pair.changed_id)

    before, after = rows_of(pair.base_version), rows_of(pair.changed_version)
    if before.num_rows != 1 or after.num_rows != 1:
        raise RuntimeError(f"id {pair.changed_id}: {before.num_rows} row(s) before the update, {after.num_rows} after")
    changed = {
        name for name in before.column_names if before.column(name).to_pylist() != after.column(name).to_pylist()
    }
    got = str(after.column(pair.changed_column)[0].as_py())
    if changed != {pair.changed_column} or got != pair.changed_to:
        raise RuntimeError(f"id {pair.changed_id}: columns {sorted(changed)} changed, {pair.changed_column} is {got}")
    counts = [
        DeltaTable(str(pair.path), version=v).to_pyarrow_dataset().count_rows()
        for v in (pair.base_version, pair.changed_version)
    ]
    if counts != [pair.rows, pair.rows]:
        raise RuntimeError(f"{pair.path}: {counts} rows in the base and changed versions, expected {pair.rows:,}")
