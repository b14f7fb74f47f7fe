"""Small Delta tables that tests in several folders build, written action by action with DeltaBuilder."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from tests.support.delta_builder import DeltaBuilder, field

UTC = dt.timezone.utc
# commitInfo times of a table written through 2023: January, June, November
WRITTEN_2023 = [dt.datetime(2023, month, 15, 12, tzinfo=UTC) for month in (1, 6, 11)]
ROWS = pa.table({"id": pa.array([1, 2], pa.int64())})
TAG = pa.struct([("k", pa.string())])
TAGS = {"type": "array", "elementType": {"type": "struct", "fields": [field("k", "string")]}, "containsNull": True}


def ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def ids(values: list[int]) -> pa.Table:
    return pa.table({"id": pa.array(values, pa.int64())})


def one_row_table(root: Path) -> Path:
    builder = DeltaBuilder(root)
    data = pa.table({"id": pa.array([1], pa.int64())})
    builder.commit(builder.protocol(), builder.metadata([field("id", "long")]), builder.data_file(data))
    return builder.root


def table_of_2023(root: Path, file_times: list[float] | None = None) -> DeltaBuilder:
    """Three commits whose commitInfo spans 2023; commit files dated ``file_times`` (s), by default
    as a copy leaves them: all within a few seconds of now."""
    builder = DeltaBuilder(root)
    stamps = [ms(moment) for moment in WRITTEN_2023]
    builder.commit(
        builder.protocol(), builder.metadata([field("id", "long")]), builder.data_file(ids([1])), timestamp=stamps[0]
    )
    builder.commit(builder.data_file(ids([2])), timestamp=stamps[1])
    builder.commit(builder.data_file(ids([3])), timestamp=stamps[2])
    now = time.time()
    for version, stamp in enumerate(file_times or [now - 2, now - 1, now]):
        os.utime(builder.log / f"{version:020d}.json", (stamp, stamp))
    return builder


def build_table(root: Path, partitions: int = 8, rows_per_file: int = 150_000) -> int:
    builder = DeltaBuilder(root)
    rng = np.random.default_rng(7)
    adds = []
    for p in range(partitions):
        data = pa.table(
            {
                "id": pa.array(np.arange(p * rows_per_file, (p + 1) * rows_per_file), pa.int64()),
                "amount": pa.array(rng.normal(size=rows_per_file)),
                "memo": pa.array([f"memo {i % 997}" for i in range(rows_per_file)]),
            }
        )
        adds.append(builder.data_file(data, {"part": str(p)}, folder=f"part={p}"))
    fields = [field("id", "long"), field("amount", "double"), field("memo", "string"), field("part", "integer")]
    builder.commit(builder.protocol(), builder.metadata(fields, ["part"]), *adds)
    return partitions * rows_per_file


def build(
    root: Path,
    *,
    reader_features: list[str] | None = None,
    rows: pa.Table = ROWS,
    partition: dict[str, str | None] | None = None,
    **metadata: object,
) -> DeltaBuilder:
    builder = DeltaBuilder(root)
    fields = metadata.pop("fields", [field("id", "long")])
    protocol = builder.protocol(3, 7, reader_features) if reader_features is not None else builder.protocol()
    folder = "/".join(f"{k}={v}" for k, v in (partition or {}).items())
    data = builder.data_file(rows, partition, folder)
    builder.commit(protocol, builder.metadata(fields, **metadata), data)  # type: ignore[arg-type]
    return builder


def schema_change_table(root: Path) -> tuple[DeltaBuilder, pa.Table, pa.Table]:
    """Version 0 ``(id, name, amount int, tags)``; version 1 rewrites it (overwriteSchema) as ``(id, amount long,
    tags, region)`` partitioned by ``region``: a column dropped, one widened, one added, a partition column."""
    builder = DeltaBuilder(root)
    before = pa.table(
        {
            "id": pa.array([1, 2, 3], pa.int64()),
            "name": ["a", "b", None],
            "amount": pa.array([10, 20, None], pa.int32()),
            "tags": pa.array([[{"k": "x"}], None, []], pa.list_(TAG)),
        }
    )
    first = builder.data_file(before)
    fields = [field("id", "long"), field("name", "string"), field("amount", "integer"), field("tags", TAGS)]
    builder.commit(builder.protocol(), builder.metadata(fields), first)

    eu = pa.table(
        {
            "id": pa.array([1, 4], pa.int64()),
            "amount": pa.array([2**40, None], pa.int64()),
            "tags": pa.array([None, [{"k": None}, None]], pa.list_(TAG)),
        }
    )
    us = pa.table(
        {"id": pa.array([5], pa.int64()), "amount": pa.array([7], pa.int64()), "tags": pa.array([[]], pa.list_(TAG))}
    )
    fields = [field("id", "long"), field("amount", "long"), field("tags", TAGS), field("region", "string")]
    builder.commit(
        builder.metadata(fields, ["region"]),
        builder.remove(first),
        builder.data_file(eu, {"region": "eu"}, folder="region=eu"),
        builder.data_file(us, {"region": "us"}, folder="region=us"),
    )
    after = pa.concat_tables(
        [eu.append_column("region", pa.array(["eu"] * 2)), us.append_column("region", pa.array(["us"]))]
    )
    return builder, before, after
