"""Sort orders: ``--sort-by`` columns, or by default the Delta table's liquid clustering columns, become the
Iceberg table's sort order, and every data file is written sorted by them without changing the rows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyiceberg.catalog import Catalog
from pyiceberg.table import Table
from pyiceberg.table.sorting import NullOrder, SortDirection

from datax_migrate.cli import main
from datax_migrate.cli.convert import parse_size
from datax_migrate.config import Config
from datax_migrate.convert import ConvertOptions, convert_table
from datax_migrate.delta.clustering import clustering_columns
from datax_migrate.delta.table import DeltaTable
from datax_migrate.errors import ConfigError, CorruptLogError
from datax_migrate.iceberg.read import read_snapshot
from tests.support.delta_builder import DeltaBuilder, field
from tests.support.delta_tables import schema_change_table
from tests.support.tables import assert_same_rows

PAYLOAD = {"type": "struct", "fields": [field("score", "double")]}
TAGS = {"type": "array", "elementType": "string", "containsNull": True}
REGIONS = ["eu", "us", "apac", None]


def _rows(seed: int, count: int) -> pa.Table:
    """Rows in random order: NULLs in the sort columns, a struct that is sometimes NULL, a list."""
    rng = np.random.default_rng(seed)
    ids = rng.permutation(np.arange(seed * count, (seed + 1) * count))
    scores = rng.normal(size=count)
    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "region": pa.array([REGIONS[i] for i in rng.integers(0, 4, count)], pa.string()),
            "day": pa.array(rng.integers(19000, 19030, count).astype("int32"), pa.int32()).cast(pa.date32()),
            "payload": pa.array(
                [None if i % 11 == 0 else {"score": float(s)} for i, s in enumerate(scores)],
                pa.struct([("score", pa.float64())]),
            ),
            "tags": pa.array([[f"t{i % 3}"] if i % 5 else None for i in range(count)], pa.list_(pa.string())),
        }
    )


def _fields(physical: bool) -> list[dict[str, Any]]:
    names = [("id", "long"), ("region", "string"), ("day", "date"), ("payload", PAYLOAD), ("tags", TAGS)]
    mapped = {"delta.columnMapping.physicalName": "col-{}", "delta.columnMapping.id": 0}
    return [
        field(name, kind, **({k: v.format(name) if isinstance(v, str) else i + 1 for k, v in mapped.items()}))
        if physical
        else field(name, kind)
        for i, (name, kind) in enumerate(names)
    ]


def clustered_builder(
    root: Path, columns: list[list[str]] | None, files: int = 3, rows: int = 700
) -> tuple[DeltaBuilder, pa.Table]:
    """A Delta table with liquid clustering on ``columns`` (physical names, column mapping by name)."""
    builder = DeltaBuilder(root)
    features = ["columnMapping", "domainMetadata", "clustering"]
    protocol = {"protocol": {"minReaderVersion": 2, "minWriterVersion": 7, "writerFeatures": features}}
    metadata = builder.metadata(_fields(physical=True), configuration={"delta.columnMapping.mode": "name"})
    tables = [_rows(seed, rows) for seed in range(files)]
    adds = [builder.data_file(t.rename_columns([f"col-{n}" for n in t.column_names])) for t in tables]
    actions: list[dict[str, Any]] = [protocol, metadata, *adds]
    if columns is not None:
        configuration = json.dumps({"clusteringColumns": columns})
        actions.append(
            {"domainMetadata": {"domain": "delta.clustering", "configuration": configuration, "removed": False}}
        )
    builder.commit(*actions)
    return builder, pa.concat_tables(tables)


def clustered_table(root: Path, columns: list[list[str]] | None) -> tuple[Path, pa.Table]:
    builder, rows = clustered_builder(root, columns)
    return builder.root, rows


def plain_table(root: Path, files: int = 3, rows: int = 700) -> tuple[Path, pa.Table]:
    builder = DeltaBuilder(root)
    tables = [_rows(seed, rows) for seed in range(files)]
    builder.commit(builder.protocol(), builder.metadata(_fields(physical=False)), *map(builder.data_file, tables))
    return builder.root, pa.concat_tables(tables)


def sort_key(row: tuple[Any, ...]) -> tuple[tuple[bool, Any], ...]:
    """Ascending, nulls first: Iceberg's default order, computed here in plain Python."""
    return tuple((value is not None, value) for value in row)


def assert_files_sorted(table: Table, columns: list[str]) -> int:
    """Every data file of the current snapshot is in ``columns`` order and says so; returns the file count."""
    order = table.sort_order()
    tasks = list(table.scan().plan_files())
    for task in tasks:
        data = pq.read_table(task.file.file_path.removeprefix("file://"))
        keys = []
        for column in columns:
            parent, _, child = column.partition(".")
            values = data.column(parent).to_pylist()
            keys.append([(v or {}).get(child) for v in values] if child else values)
        rows = list(zip(*keys, strict=True))
        assert rows == sorted(rows, key=sort_key), f"{task.file.file_path} is not sorted by {columns}"
        assert task.file.sort_order_id == order.order_id
    return len(tasks)


def order_of(table: Table) -> list[tuple[str, SortDirection, NullOrder]]:
    schema = table.schema()
    return [(schema.find_column_name(f.source_id), f.direction, f.null_order) for f in table.sort_order().fields]


def test_clustering_columns_become_the_sort_order_and_files_are_sorted(tmp_path: Path, catalog: Catalog) -> None:
    source, expected = clustered_table(tmp_path / "clustered", [["col-region"], ["col-day"]])
    assert clustering_columns(DeltaTable(str(source)).snapshot()) == ("region", "day")

    result = convert_table(str(source), catalog, "sorted.t")

    table = catalog.load_table("sorted.t")
    assert result.sorted_by == ("region", "day")
    asc = (SortDirection.ASC, NullOrder.NULLS_FIRST)
    assert order_of(table) == [("region", *asc), ("day", *asc)]
    assert assert_files_sorted(table, ["region", "day"]) == result.data_files > 1  # sorted within each file
    assert_same_rows(read_snapshot(table), expected)


def test_sort_by_overrides_clustering_and_reaches_into_structs(tmp_path: Path, catalog: Catalog) -> None:
    source, expected = clustered_table(tmp_path / "clustered", [["col-region"]])

    result = convert_table(str(source), catalog, "nested.t", options=ConvertOptions(sort_by=("PAYLOAD.score", "id")))

    table = catalog.load_table("nested.t")
    assert result.sorted_by == ("payload.score", "id")
    assert [name for name, _, _ in order_of(table)] == ["payload.score", "id"]
    assert_files_sorted(table, ["payload.score", "id"])
    assert_same_rows(read_snapshot(table), expected)


def test_no_sort_leaves_a_clustered_table_unsorted(tmp_path: Path, catalog: Catalog) -> None:
    source, expected = clustered_table(tmp_path / "clustered", [["col-region"]])

    result = convert_table(str(source), catalog, "unsorted.t", options=ConvertOptions(sort_by=()))

    table = catalog.load_table("unsorted.t")
    assert result.sorted_by == () and table.sort_order().is_unsorted
    assert all(task.file.sort_order_id is None for task in table.scan().plan_files())
    assert_same_rows(read_snapshot(table), expected)


def test_a_removed_clustering_domain_and_an_unclustered_table_give_no_sort_order(tmp_path: Path) -> None:
    source, _ = clustered_table(tmp_path / "clustered", [["col-region"]])
    builder = DeltaBuilder(source)
    builder.version = 0
    removed = {"domain": "delta.clustering", "configuration": "", "removed": True}
    builder.commit({"domainMetadata": removed})
    table = DeltaTable(str(source))
    assert clustering_columns(table.snapshot(version=0)) == ("region",)
    assert clustering_columns(table.snapshot()) == ()

    plain, _ = plain_table(tmp_path / "plain")
    assert clustering_columns(DeltaTable(str(plain)).snapshot()) == ()


def test_clustering_columns_written_as_plain_names_and_malformed_domains(tmp_path: Path) -> None:
    source, _ = clustered_table(tmp_path / "names", ["col-day", "col-id"])  # type: ignore[list-item]
    assert clustering_columns(DeltaTable(str(source)).snapshot()) == ("day", "id")

    unknown, _ = clustered_table(tmp_path / "unknown", [["col-gone"]])
    with pytest.raises(CorruptLogError, match="clustering column 'col-gone' is not in the table schema"):
        clustering_columns(DeltaTable(str(unknown)).snapshot())


def test_clustering_columns_are_read_from_a_checkpoint(tmp_path: Path) -> None:
    builder, _ = clustered_builder(tmp_path / "clustered", None)
    source = builder.root
    (name,) = builder.checkpoint("classic")
    checkpoint = pq.read_table(source / "_delta_log" / name)
    domain = pa.struct([("domain", pa.string()), ("configuration", pa.string()), ("removed", pa.bool_())])
    config = json.dumps({"clusteringColumns": [["col-day"]]})
    domains = pa.array([None] * checkpoint.num_rows + [("delta.clustering", config, False)], domain)
    extra = pa.table({c: pa.nulls(1, checkpoint.schema.field(c).type) for c in checkpoint.column_names})
    pq.write_table(
        pa.concat_tables([checkpoint, extra]).append_column("domainMetadata", domains), source / "_delta_log" / name
    )
    (source / "_delta_log" / f"{0:020d}.json").unlink()  # only the checkpoint holds version 0 now

    assert clustering_columns(DeltaTable(str(source)).snapshot()) == ("day",)


def test_a_clustering_column_that_cannot_order_rows_says_how_to_convert_unsorted(
    tmp_path: Path, catalog: Catalog
) -> None:
    source, _ = clustered_table(tmp_path / "clustered", [["col-payload"]])
    with pytest.raises(ConfigError, match=r"'payload' is a struct.*clustering column.*--no-sort converts it unsorted"):
        convert_table(str(source), catalog, "clustered.t")
    assert convert_table(str(source), catalog, "clustered.t", options=ConvertOptions(sort_by=())).rows == 2100


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        (("nope",), "sort column 'nope' is not a column of the table"),
        (("payload",), "sort column 'payload' is a struct<.*>: only primitive columns"),
        (("tags.element",), "sort column 'tags.element' is inside a list or map"),
        (("id", "ID"), "sort column 'id' is named twice"),
    ],
)
def test_columns_that_cannot_order_rows_are_refused_before_anything_is_written(
    tmp_path: Path, catalog: Catalog, columns: tuple[str, ...], message: str
) -> None:
    source, _ = plain_table(tmp_path / "plain", files=1, rows=10)
    with pytest.raises(ConfigError, match=message):
        convert_table(str(source), catalog, "refused.t", options=ConvertOptions(sort_by=columns))
    assert not catalog.table_exists("refused.t")


def test_replace_changes_the_sort_order_with_the_data(tmp_path: Path, catalog: Catalog) -> None:
    source, expected = plain_table(tmp_path / "plain")
    convert_table(str(source), catalog, "re.t", options=ConvertOptions(sort_by=("region",)))
    first = catalog.load_table("re.t").sort_order()

    replaced = convert_table(str(source), catalog, "re.t", options=ConvertOptions(replace=True, sort_by=("id",)))

    table = catalog.load_table("re.t")
    assert replaced.status == "replaced" and [name for name, _, _ in order_of(table)] == ["id"]
    assert table.sort_order().order_id != first.order_id and first in table.metadata.sort_orders
    assert_files_sorted(table, ["id"])
    assert_same_rows(read_snapshot(table), expected)


def test_replace_of_a_sorted_table_across_a_schema_change(tmp_path: Path, catalog: Catalog) -> None:
    builder, _, after = schema_change_table(tmp_path / "t")
    convert_table(str(builder.root), catalog, "re.t", version=0, options=ConvertOptions(sort_by=("name",)))

    replaced = convert_table(str(builder.root), catalog, "re.t", options=ConvertOptions(replace=True, sort_by=("id",)))

    table = catalog.load_table("re.t")
    assert replaced.status == "replaced" and [name for name, _, _ in order_of(table)] == ["id"]
    assert_same_rows(read_snapshot(table), after)


def test_cli_sort_by_and_target_file_size(tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source, expected = plain_table(tmp_path / "plain", files=6, rows=2000)
    small = sum(f.stat().st_size for f in source.glob("*.parquet")) // 6 + 1

    assert main(["convert", str(source), "cli.t", "--sort-by", "day, id", "--target-file-size", f"{small}B"]) == 0
    out = capsys.readouterr().out
    assert "sort order: day, id (each data file sorted)" in out
    table = Config.load().catalog().load_table("cli.t")
    assert assert_files_sorted(table, ["day", "id"]) == 6  # one Delta file per data file at this size
    assert_same_rows(read_snapshot(table), expected)

    assert main(["convert", str(source), "cli.bad", "--sort-by", "day,nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert "sort column 'nope' is not a column of the table" in err and "\n" not in err


@pytest.mark.parametrize(
    ("text", "size"), [("256MB", 256 << 20), ("1GiB", 1 << 30), ("512 kb", 512 << 10), ("1048576", 1 << 20)]
)
def test_sizes_parse_as_iceberg_writes_them(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["0MB", "big", "1.5GB", "-1"])
def test_sizes_that_are_not_sizes_are_refused(text: str) -> None:
    with pytest.raises(Exception, match="is not a size such as 256MB"):
        parse_size(text)


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_spark_engine_writes_the_same_sorted_files(tmp_path: Path, catalog: Catalog, spark: Any) -> None:
    from datax_migrate.convert.spark_engine import convert_table as convert_on_spark

    source, expected = clustered_table(tmp_path / "clustered", [["col-day"], ["col-id"]])

    result = convert_on_spark(spark, str(source), catalog, "spark.t")

    table = catalog.load_table("spark.t")
    assert result.sorted_by == ("day", "id")
    assert assert_files_sorted(table, ["day", "id"]) == result.data_files > 1
    assert_same_rows(read_snapshot(table), expected)
