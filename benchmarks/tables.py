"""The convert benchmark tables (ARCHITECTURE.md, "Benchmark tables to use"), generated once.

``id bigint, account int, amount double, ts timestamp, tx_date date, country string (7 values),
memo string, flag boolean``; ts spread over 30 days; written by deltalake in 1M-row appends,
partitioned by ``country, tx_date`` (about 1,050 small files per 5M rows) or unpartitioned.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa

DATA = Path(__file__).resolve().parent / "data"
COUNTRIES = np.array(["US", "DE", "FR", "GB", "JP", "BR", "IN"])
APPEND_ROWS = 1_000_000
_START_US = int(dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc).timestamp() * 1_000_000)
_DAY_US = 86_400 * 1_000_000


def table_path(rows: int, partitioned: bool) -> Path:
    """Where the table with ``rows`` rows lives (generated on first use)."""
    name = f"{'partitioned' if partitioned else 'unpartitioned'}-{rows // 1_000_000}m"
    path = DATA / name
    if not (path / "_delta_log").is_dir():
        _generate(path, rows, partitioned)
    return path


def _generate(path: Path, rows: int, partitioned: bool) -> None:
    from deltalake import write_deltalake

    if path.exists():
        shutil.rmtree(path)
    rng = np.random.default_rng(42)
    for chunk in range(rows // APPEND_ROWS):
        write_deltalake(
            path,
            _chunk(rng, chunk * APPEND_ROWS, APPEND_ROWS),
            mode="append",
            partition_by=["country", "tx_date"] if partitioned else None,
        )


def _chunk(rng: np.random.Generator, first: int, rows: int) -> pa.Table:
    ts = _START_US + rng.integers(0, 30 * _DAY_US, rows)
    return pa.table(
        {
            "id": pa.array(np.arange(first, first + rows), pa.int64()),
            "account": pa.array(rng.integers(0, 100_000, rows), pa.int32()),
            "amount": pa.array(rng.normal(100, 50, rows)),
            "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
            "tx_date": pa.array(ts // _DAY_US, pa.int32()).cast(pa.date32()),
            "country": pa.array(COUNTRIES[rng.integers(0, len(COUNTRIES), rows)]),
            "memo": pa.array([f"memo {i}" for i in rng.integers(0, 100_000, rows)]),
            "flag": pa.array(rng.random(rows) < 0.5),
        }
    )
