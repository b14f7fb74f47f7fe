"""A small, realistic banking lake written as Delta tables, with a history worth converting.

Each table goes through several versions, as tables in a real workspace do: a first load, appends,
a delete, an update and a schema change (a column added on append). Data is generated from a fixed
seed, so every run builds the same lake.
"""

from __future__ import annotations

import datetime as dt
import decimal
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from datax_migrate.errors import ConfigError

COUNTRIES = ["DE", "FR", "NL", "ES", "IT", "GB", "US"]
CURRENCIES = {"DE": "EUR", "FR": "EUR", "NL": "EUR", "ES": "EUR", "IT": "EUR", "GB": "GBP", "US": "USD"}
SEGMENTS = ["retail", "premium", "business"]
MERCHANTS = ["Grocer", "Rail", "Airline", "Cafe", "Bookshop", "Pharmacy", "Fuel", "Cinema", "Online"]
START = dt.datetime(2024, 3, 1, tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class LakeTable:
    """One Delta table of the demo lake and the story of its versions."""

    name: str
    path: Path
    history: tuple[str, ...]
    key: str


def build_lake(root: Path, seed: int = 20240301) -> list[LakeTable]:
    """Write the demo lake under ``root`` (replacing what is there); return its tables."""
    try:
        from deltalake import DeltaTable, write_deltalake
    except ImportError:
        raise ConfigError("the demo needs deltalake: pip install 'datax-migrate[demo]'") from None
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    tables = []

    customers = root / "customers"
    write_deltalake(customers, _customers(rng, 0, 1_500))
    write_deltalake(customers, _customers(rng, 1_500, 500), mode="append")
    DeltaTable(customers).update(updates={"segment": "'premium'"}, predicate="customer_id % 17 = 0")
    erased = ", ".join(str(i) for i in sorted(rng.choice(2_000, 25, replace=False)))
    DeltaTable(customers).delete(f"customer_id IN ({erased})")
    with_tier = _customers(rng, 2_000, 100).append_column("loyalty_tier", pa.array(rng.choice(["gold", "silver"], 100)))
    write_deltalake(customers, with_tier, mode="append", schema_mode="merge")
    tables.append(
        LakeTable(
            "customers",
            customers,
            ("load 1,500", "append 500", "update segment", "delete 25 erasure requests", "add column loyalty_tier"),
            key="customer_id",
        )
    )

    accounts = root / "accounts"
    write_deltalake(accounts, _accounts(rng, 0, 2_500), partition_by=["country"])
    write_deltalake(accounts, _accounts(rng, 2_500, 500), mode="append")
    DeltaTable(accounts).update(updates={"status": "'frozen'"}, predicate="balance < 0 AND status = 'open'")
    DeltaTable(accounts).delete("status = 'closed'")
    rated = _accounts(rng, 3_000, 200)
    rated = rated.append_column("risk_rating", pa.array(rng.integers(1, 6, rated.num_rows), pa.int16()))
    write_deltalake(accounts, rated, mode="append", schema_mode="merge")
    tables.append(
        LakeTable(
            "accounts",
            accounts,
            (
                "load 2,500",
                "append 500",
                "update overdrawn -> frozen",
                "delete closed accounts",
                "add column risk_rating (smallint)",
            ),
            key="account_id",
        )
    )

    transactions = root / "card_transactions"
    write_deltalake(transactions, _transactions(rng, 0, 30_000, days=20), partition_by=["tx_date"])
    write_deltalake(transactions, _transactions(rng, 30_000, 20_000, days=30), mode="append")
    DeltaTable(transactions).delete("status = 'fraud'")
    DeltaTable(transactions).update(updates={"status": "'settled'"}, predicate="status = 'pending'")
    late = _transactions(rng, 50_000, 2_000, days=31)
    late = late.append_column("channel", pa.array(rng.choice(["pos", "online", "atm"], late.num_rows)))
    write_deltalake(transactions, late, mode="append", schema_mode="merge")
    tables.append(
        LakeTable(
            "card_transactions",
            transactions,
            ("load 30,000", "append 20,000", "delete fraud", "update pending -> settled", "add column channel"),
            key="tx_id",
        )
    )
    return tables


def _customers(rng: np.random.Generator, first: int, count: int) -> pa.Table:
    ids = np.arange(first, first + count)
    created = [
        START - dt.timedelta(days=int(d), seconds=int(s))
        for d, s in zip(rng.integers(0, 3_000, count), rng.integers(0, 86_400, count), strict=True)
    ]
    births = [dt.date(1950, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 20_000, count)]
    return pa.table(
        {
            "customer_id": pa.array(ids, pa.int64()),
            "name": pa.array([f"Customer {i:05d}" for i in ids]),
            "email": pa.array([f"customer{i}@example.com" if i % 11 else None for i in ids]),
            "country": pa.array(rng.choice(COUNTRIES, count)),
            "segment": pa.array(rng.choice(SEGMENTS, count, p=[0.7, 0.2, 0.1])),
            "created_at": pa.array(created, pa.timestamp("us", tz="UTC")),
            "birth_date": pa.array(births, pa.date32()),
        }
    )


def _accounts(rng: np.random.Generator, first: int, count: int) -> pa.Table:
    countries = rng.choice(COUNTRIES, count)
    balances = [decimal.Decimal(int(c)).scaleb(-2) for c in rng.integers(-50_000, 5_000_000, count)]
    return pa.table(
        {
            "account_id": pa.array(np.arange(first, first + count), pa.int64()),
            "customer_id": pa.array(rng.integers(0, 2_000, count), pa.int64()),
            "iban": pa.array([f"{c}{rng.integers(10, 99)}BANK{i:010d}" for i, c in enumerate(countries, first)]),
            "currency": pa.array([CURRENCIES[c] for c in countries]),
            "balance": pa.array(balances, pa.decimal128(18, 2)),
            "opened_on": pa.array(
                [dt.date(2015, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 3_300, count)], pa.date32()
            ),
            "status": pa.array(rng.choice(["open", "frozen", "closed"], count, p=[0.9, 0.03, 0.07])),
            "country": pa.array(countries),
        }
    )


def _transactions(rng: np.random.Generator, first: int, count: int, days: int) -> pa.Table:
    offsets = rng.integers(0, days * 86_400, count)
    stamps = [START + dt.timedelta(seconds=int(s)) for s in offsets]
    amounts = [decimal.Decimal(int(c)).scaleb(-2) for c in rng.integers(50, 250_000, count)]
    columns: dict[str, Any] = {
        "tx_id": pa.array(np.arange(first, first + count), pa.int64()),
        "account_id": pa.array(rng.integers(0, 3_000, count), pa.int64()),
        "amount": pa.array(amounts, pa.decimal128(18, 2)),
        "currency": pa.array(rng.choice(["EUR", "GBP", "USD"], count, p=[0.7, 0.15, 0.15])),
        "merchant": pa.array(rng.choice(MERCHANTS, count)),
        "mcc": pa.array(rng.integers(4000, 6000, count), pa.int32()),
        "ts": pa.array(stamps, pa.timestamp("us", tz="UTC")),
        "tx_date": pa.array([s.date() for s in stamps], pa.date32()),
        "status": pa.array(rng.choice(["settled", "pending", "fraud"], count, p=[0.9, 0.08, 0.02])),
    }
    return pa.table(columns)
