"""A last round with fewer file groups than workers is written in parts, so no worker waits idle."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyiceberg.catalog import Catalog

from datax_migrate.convert import ConversionSource, ConvertOptions, convert_table
from datax_migrate.convert.history import current_data_files
from datax_migrate.convert.plan import last_round_start, plan_file_groups
from datax_migrate.delta.scan import FileReader
from datax_migrate.delta.table import DeltaTable
from datax_migrate.iceberg.datafile import ParquetSettings
from datax_migrate.iceberg.read import read_snapshot
from datax_migrate.sync import sync_table
from tests.support.delta_builder import DeltaBuilder, field


def rows(start: int, count: int) -> pa.Table:
    return pa.table(
        {
            "id": pa.array(range(start, start + count), pa.int64()),
            "name": [f"row {i}" for i in range(start, start + count)],
        }
    )


def equal_files(root: Path, files: int, per_file: int = 1000) -> tuple[DeltaBuilder, list[dict[str, object]]]:
    """Version 0 holds ``files`` data files of ``per_file`` rows each."""
    builder = DeltaBuilder(root)
    adds = [builder.data_file(rows(n * per_file, per_file)) for n in range(files)]
    builder.commit(builder.protocol(), builder.metadata([field("id", "long"), field("name", "string")]), *adds)
    return builder, adds


@pytest.mark.parametrize(
    ("files", "workers", "split_min_bytes", "parts"),
    [
        (5, 2, 0, [1, 1, 1, 1, 2]),  # the fifth group would run alone
        (4, 2, 0, [1, 1, 1, 1]),  # two full rounds
        (4, 3, 0, [1, 1, 1, 3]),  # one group in the last round, three workers
        (5, 3, 0, [1, 1, 1, 1, 1]),  # two groups for three workers: no whole share each
        (1, 2, 0, [2]),  # a table of one file still uses both workers
        (5, 2, 10**9, [1, 1, 1, 1, 1]),  # groups below the size worth a file of their own stay whole
        (5, 1, 0, [1, 1, 1]),  # one worker: two files a group, never split
    ],
)
def test_groups_of_a_short_last_round_get_parts(
    tmp_path: Path, files: int, workers: int, split_min_bytes: int, parts: list[int]
) -> None:
    builder, _ = equal_files(tmp_path / "t", files)
    reader = FileReader(DeltaTable(str(builder.root)).snapshot())
    groups = plan_file_groups(reader, workers=workers, split_min_bytes=split_min_bytes)
    assert [g.parts for g in groups] == parts


def test_a_split_group_is_written_as_parts_that_hold_its_rows(tmp_path: Path, catalog: Catalog) -> None:
    builder, adds = equal_files(tmp_path / "t", 3)
    source = ConversionSource.open(str(builder.root), workers=2, split_min_bytes=0)
    (split,) = [g for g in source.groups if g.parts == 2]
    result = convert_table(source, catalog, "split.t")

    table = catalog.load_table("split.t")
    files = current_data_files(table)
    assert result.data_files == len(files) == 4
    part_paths = sorted((p for p in files if f"-{split.index:05d}" in p.rsplit("/", 1)[1]), key=len)  # part 0 first
    assert len(part_paths) == 2 and part_paths[1].endswith(f"-{split.index:05d}-1.parquet")
    assert [files[p].record_count for p in part_paths] == [500, 500]
    # each part is a whole Iceberg data file: field ids, its own statistics, the rows in the group's order
    first_id = pq.read_table(builder.root / split.files[0].path)["id"][0].as_py()
    for number, path in enumerate(part_paths):
        written = pq.read_table(path.removeprefix("file://"))
        assert written["id"].to_pylist() == list(range(first_id + 500 * number, first_id + 500 * (number + 1)))
        assert pq.read_schema(path.removeprefix("file://")).field("id").metadata[b"PARQUET:field_id"] == b"1"
        assert files[path].lower_bounds and files[path].value_counts
    got = read_snapshot(table)
    assert sorted(got["id"].to_pylist()) == list(range(3000))
    assert got.num_rows == result.rows == 3000

    # the two parts are one lineage group: removing their Delta file removes both
    builder.commit(builder.remove(next(a for a in adds if a["add"]["path"] == split.files[0].path)))
    sync_table(str(builder.root), catalog, "split.t")
    table = catalog.load_table("split.t")
    assert not set(part_paths) & set(current_data_files(table))
    assert sorted(read_snapshot(table)["id"].to_pylist()) == sorted(
        set(range(3000)) - set(range(first_id, first_id + 1000))
    )


def test_a_group_larger_than_a_row_group_is_not_split(tmp_path: Path, catalog: Catalog) -> None:
    builder, _ = equal_files(tmp_path / "t", 1)
    source = ConversionSource.open(str(builder.root), workers=2, split_min_bytes=0)
    assert [g.parts for g in source.groups] == [2]
    options = ConvertOptions(parquet=ParquetSettings(row_group_rows=300))
    convert_table(source, catalog, "whole.t", options=options)

    (path,) = current_data_files(catalog.load_table("whole.t"))
    assert pq.ParquetFile(path.removeprefix("file://")).metadata.num_row_groups == 4
    assert sorted(read_snapshot(catalog.load_table("whole.t"))["id"].to_pylist()) == list(range(1000))


def test_a_partition_is_packed_into_more_groups_to_fill_the_last_round(tmp_path: Path) -> None:
    builder, _ = equal_files(tmp_path / "t", 20, per_file=100)
    reader = FileReader(DeltaTable(str(builder.root)).snapshot())
    sizes = [add.size for add in reader.snapshot.files]
    four_files = 4 * max(sizes) + (5 * min(sizes) - 4 * max(sizes)) // 2  # four files fit, five do not
    assert [len(g.files) for g in plan_file_groups(reader, four_files, workers=1)] == [4] * 5

    groups = plan_file_groups(reader, four_files, workers=2, split_min_bytes=0)
    assert sorted(len(g.files) for g in groups) == [3, 3, 3, 3, 4, 4]  # 10 files for each worker
    assert [g.parts for g in groups] == [1] * 6
    assert sorted(add.path for g in groups for add in g.files) == sorted(add.path for add in reader.snapshot.files)
    assert all(list(g.files) == sorted(g.files, key=lambda f: f.path) for g in groups)
    # groups below the size worth a file of their own keep the plain packing
    assert len(plan_file_groups(reader, four_files, workers=2, split_min_bytes=10**9)) == 5


def test_parts_keep_half_of_the_split_size_each(tmp_path: Path) -> None:
    builder, _ = equal_files(tmp_path / "t", 1)
    reader = FileReader(DeltaTable(str(builder.root)).snapshot())
    (size,) = [add.size for add in reader.snapshot.files]
    split_min_bytes = 2 * (size // 3)  # a part keeps at least size // 3: three parts, not eight
    assert [g.parts for g in plan_file_groups(reader, workers=8, split_min_bytes=split_min_bytes)] == [3]


def test_every_part_holds_rows(tmp_path: Path, catalog: Catalog) -> None:
    builder = DeltaBuilder(tmp_path / "t")
    add = builder.data_file(rows(0, 4))
    builder.commit(builder.protocol(), builder.metadata([field("id", "long"), field("name", "string")]), add)
    source = ConversionSource.open(str(builder.root), workers=3, split_min_bytes=0)
    assert [g.parts for g in source.groups] == [3]
    convert_table(source, catalog, "four.t")

    counts = sorted(f.record_count for f in current_data_files(catalog.load_table("four.t")).values())
    assert counts == [1, 1, 2]  # 4 rows in 3 parts: none empty


@pytest.mark.parametrize(
    ("groups", "workers", "start"), [(5, 2, 4), (6, 2, 4), (1, 2, 0), (0, 2, 0), (7, 3, 6), (9, 3, 6)]
)
def test_the_last_round_starts_after_the_full_rounds(groups: int, workers: int, start: int) -> None:
    assert last_round_start(groups, workers) == start
