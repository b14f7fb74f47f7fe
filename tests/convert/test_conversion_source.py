"""Reading ahead never changes what a file group yields, whatever the budget."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from datax_migrate.convert.source import ConversionSource
from tests.support.delta_builder import DeltaBuilder, field
from tests.support.tables import assert_same_rows


def partitioned_table(root: Path, partitions: int = 4, files_per_partition: int = 3) -> DeltaBuilder:
    builder = DeltaBuilder(root)
    adds = []
    for p in range(partitions):
        for f in range(files_per_partition):
            ids = pa.array(range((p * 10 + f) * 100, (p * 10 + f) * 100 + 100), pa.int64())
            text = pa.array([f"{p}{f}" * 500] * 100)  # compresses ~100x: decoded size beats the estimate
            adds.append(builder.data_file(pa.table({"id": ids, "text": text}), {"p": str(p)}, folder=f"p={p}"))
    fields = [field("id", "long"), field("text", "string"), field("p", "integer")]
    builder.commit(builder.protocol(), builder.metadata(fields, ["p"]), *adds)
    return builder


def group_rows(source: ConversionSource) -> dict[int, pa.Table]:
    return {g.index: pa.Table.from_batches(list(source.batches(g))) for g in source.groups}


# 0: nothing read ahead; 250 kB: groups planned, then cut at a file boundary; 1 GB: everything.
@pytest.mark.parametrize("budget", [0, 250_000, 10**9])
def test_read_ahead_yields_the_same_rows(tmp_path: Path, budget: int) -> None:
    builder = partitioned_table(tmp_path / "t")
    plain = ConversionSource.open(str(builder.root))
    expected = group_rows(plain)

    ahead = ConversionSource.open(str(builder.root))
    ahead.start_read_ahead(budget_bytes=budget)
    got = group_rows(ahead)
    ahead.close()
    assert set(got) == set(expected)
    for index, table in expected.items():
        assert_same_rows(got[index], table)
    assert ahead._held == 0


def test_read_ahead_starts_no_group_once_the_writers_have_started(tmp_path: Path) -> None:
    """Memory held by reading ahead must not depend on how far reading could outrun writing."""
    builder = partitioned_table(tmp_path / "t", partitions=6)
    source = ConversionSource.open(str(builder.root))
    first, *rest = source.groups
    rows = pa.Table.from_batches(list(source.batches(first)))  # a writer has taken its first group
    source.start_read_ahead(budget_bytes=10**9)
    try:
        assert source._ahead == {} and source._held == 0  # budget left, yet no group is read ahead
        got = {g.index: pa.Table.from_batches(list(source.batches(g))) for g in rest}
    finally:
        source.close()
    expected = group_rows(ConversionSource.open(str(builder.root)))
    assert_same_rows(rows, expected[first.index])
    for index, table in got.items():
        assert_same_rows(table, expected[index])
