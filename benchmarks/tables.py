"""The convert benchmark tables (ARCHITECTURE.md, "Benchmark tables to use"), generated once.

Rows: ``id bigint, account int, amount double, ts timestamp (UTC), tx_date date, country string
(7 values), memo string, flag boolean``; ``ts`` is spread over 30 days and ``tx_date`` is its UTC
date. Each table is written by ``deltalake.write_deltalake`` in 1M-row appends, partitioned by
``country, tx_date`` (7 x 30 partitions, so 210 small files per append: ~1,050 for 5M rows) or not
partitioned (one file per append).

Append ``i`` always holds the same rows (numpy RNG seeded with ``(SEED, i)``): the 5M tables are
the first five appends of the 20M ones, and the unpartitioned table holds the same rows as the
partitioned one. Tables live in ``benchmarks/data/`` (git-ignored) next to a ``<name>.json`` marker
written once the last append committed; a table without a matching marker is generated again.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from deltalake import DeltaTable

DATA = Path(__file__).resolve().parent / "data"
KINDS = ("partitioned", "unpartitioned")
PARTITION_BY = ["country", "tx_date"]
APPEND_ROWS = 1_000_000
SEED = 20240101
GENERATOR = 2  # bump when the rows change, so cached tables are generated again
COUNTRIES = np.array(["US", "DE", "FR", "GB", "JP", "BR", "IN"])
DAYS = 30
_START_US = int(dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc).timestamp()) * 1_000_000
_DAY_US = 86_400 * 1_000_000


@dataclass(frozen=True)
class BenchTable:
    """One benchmark Delta table on disk."""

    kind: str
    rows: int
    path: Path
    files: tuple[Path, ...]
    bytes: int
    commits: int

    @property
    def name(self) -> str:
        """Short name, also used for the Iceberg table: ``partitioned_5m``."""
        return f"{self.kind}_{self.rows // 1_000_000}m"

    @property
    def partition_by(self) -> list[str]:
        """Delta partition columns."""
        return PARTITION_BY if self.kind == "partitioned" else []


def bench_table(kind: str, rows: int) -> BenchTable:
    """The benchmark table of this kind and size, generated first if it is not cached."""
    if kind not in KINDS:
        raise ValueError(f"unknown table kind {kind!r} (known: {', '.join(KINDS)})")
    if rows <= 0 or rows % APPEND_ROWS:
        raise ValueError(f"--rows must be a positive multiple of {APPEND_ROWS:,}")
    path = DATA / f"{kind}-{rows // 1_000_000}m"
    expected = {"generator": GENERATOR, "seed": SEED, "kind": kind, "rows": rows, "append_rows": APPEND_ROWS}
    ensure_generated(path, expected, lambda: _generate(path, kind, rows))
    from deltalake import DeltaTable

    delta = DeltaTable(str(path))
    files = delta_files(delta)
    return BenchTable(
        kind=kind,
        rows=rows,
        path=path,
        files=files,
        bytes=sum(f.stat().st_size for f in files),
        commits=delta.version() + 1,
    )


def ensure_generated(path: Path, expected: dict[str, Any], generate: Callable[[], None]) -> None:
    """Run ``generate`` (which writes the Delta table at ``path``) unless its marker says it was, with ``expected``.

    The marker, ``<path>.json``, is written once ``generate`` returns, so an interrupted generation is redone.
    """
    marker = path.with_name(path.name + ".json")
    if not (marker.exists() and json.loads(marker.read_text()) == expected and (path / "_delta_log").is_dir()):
        generate()
        marker.write_text(json.dumps(expected, indent=2) + "\n")


def delta_files(delta: DeltaTable) -> tuple[Path, ...]:
    """The active data files of a loaded local Delta table version."""
    return tuple(Path(uri.removeprefix("file://")) for uri in delta.file_uris())


def append_rows(index: int, rows: int = APPEND_ROWS) -> pa.Table:
    """The rows of append ``index`` (ids ``index * rows`` onwards); the same on every call."""
    rng = np.random.default_rng([SEED, index])
    ts_us = _START_US + rng.integers(0, DAYS * _DAY_US, rows)
    memo_numbers = pa.array(rng.integers(0, 1_000_000, rows)).cast(pa.string())
    return pa.table(
        {
            "id": pa.array(np.arange(index * rows, (index + 1) * rows, dtype=np.int64)),
            "account": pa.array(rng.integers(0, 100_000, rows, dtype=np.int32)),
            "amount": pa.array(np.round(rng.normal(100.0, 50.0, rows), 2)),
            "ts": pa.array(ts_us, pa.timestamp("us", tz="UTC")),
            "tx_date": pa.array((ts_us // _DAY_US).astype(np.int32), pa.date32()),
            "country": pa.array(COUNTRIES[rng.integers(0, len(COUNTRIES), rows)]),
            "memo": pc.binary_join_element_wise("payment ref ", memo_numbers, ""),
            "flag": pa.array(rng.random(rows) < 0.5),
        }
    )


def _generate(path: Path, kind: str, rows: int) -> None:
    from deltalake import write_deltalake

    if path.exists():
        shutil.rmtree(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    appends = rows // APPEND_ROWS
    for index in range(appends):
        print(f"  generating {path.name}: append {index + 1}/{appends}", flush=True)
        write_deltalake(
            str(path),
            append_rows(index),
            mode="append",
            partition_by=PARTITION_BY if kind == "partitioned" else None,
        )
    print(f"  generated {path.name} in {time.monotonic() - started:.0f} s", flush=True)
