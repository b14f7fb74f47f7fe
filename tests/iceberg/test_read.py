"""The field-id reader of Iceberg data files: nested NULLs, schema evolution, name mapping, partitions, deletes."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import write_deltalake
from pyiceberg.catalog import Catalog
from pyiceberg.manifest import DataFile, DataFileContent, FileFormat
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.table import FileScanTask, Table
from pyiceberg.transforms import IdentityTransform
from pyiceberg.typedef import Record
from pyiceberg.types import IntegerType, ListType, LongType, NestedField, StringType, StructType

from datax_migrate.convert import convert_table
from datax_migrate.errors import IcebergReadError
from datax_migrate.iceberg.arrow import arrow_schema_with_ids
from datax_migrate.iceberg.read import read_data_file, read_snapshot

POINT = pa.struct([("x", pa.string())])
ROWS = pa.table(
    {
        "id": pa.array([1, 2, 3, 4], pa.int64()),
        "items": pa.array([None, [], [None], [{"x": "a"}]], pa.list_(POINT)),
        "info": pa.array([None, {"x": None}, {"x": "b"}, {"x": "c"}], POINT),
    }
)


def test_converted_snapshot_keeps_null_nested_values_after_schema_evolution(catalog: Catalog, tmp_path: Path) -> None:
    write_deltalake(tmp_path / "delta", ROWS)
    catalog.create_namespace("ns")
    convert_table(str(tmp_path / "delta"), catalog, "ns.t")
    table = catalog.load_table("ns.t")
    with table.update_schema() as update:
        update.add_column(("info", "added"), StringType())
        update.add_column("later", LongType())
    got = read_snapshot(catalog.load_table("ns.t")).sort_by("id").to_pylist()
    assert [row["items"] for row in got] == ROWS.column("items").to_pylist()
    assert [row["info"] for row in got] == [
        None,
        {"x": None, "added": None},
        {"x": "b", "added": None},
        {"x": "c", "added": None},
    ]
    assert [row["later"] for row in got] == [None] * 4


def test_files_without_field_ids_are_read_through_the_name_mapping(catalog: Catalog, tmp_path: Path) -> None:
    catalog.create_namespace("ns")
    table = catalog.create_table("ns.t", schema=ROWS.schema)
    path = tmp_path / "plain.parquet"
    pq.write_table(ROWS, path)  # no field ids: add_files gives the table a name mapping
    table.add_files([str(path)])
    table = catalog.load_table("ns.t")
    assert table.metadata.name_mapping() is not None
    assert read_snapshot(table).sort_by("id").to_pylist() == ROWS.to_pylist()


SCHEMA = Schema(
    NestedField(1, "id", LongType(), required=False),
    NestedField(2, "region", StringType(), required=False),
    NestedField(
        3,
        "tags",
        ListType(4, StructType(NestedField(5, "n", LongType(), required=False)), element_required=False),
        required=False,
    ),
)


def partitioned_table(catalog: Catalog) -> Table:
    catalog.create_namespace("ns")
    spec = PartitionSpec(PartitionField(source_id=2, field_id=1000, transform=IdentityTransform(), name="region"))
    return catalog.create_table("ns.p", schema=SCHEMA, partition_spec=spec, properties={"format-version": "2"})


def data_file(path: Path, rows: int, content: DataFileContent = DataFileContent.DATA, region: str = "eu") -> DataFile:
    file = DataFile.from_args(
        content=content,
        file_path=path.as_uri(),
        file_format=FileFormat.PARQUET,
        partition=Record(region),
        record_count=rows,
        file_size_in_bytes=path.stat().st_size,
    )
    file.spec_id = 0
    return file


def written_without_partition_column(tmp_path: Path) -> Path:
    """A file of ``id`` and ``tags`` only (another writer left the identity partition column out), ``n`` as int32."""
    schema = arrow_schema_with_ids(
        Schema(
            NestedField(1, "id", LongType(), required=False),
            NestedField(
                3,
                "tags",
                ListType(4, StructType(NestedField(5, "n", IntegerType(), required=False)), element_required=False),
                required=False,
            ),
        )
    )
    path = tmp_path / "data.parquet"
    rows = {"id": list(range(6)), "tags": [None, [], [None], [{"n": 1}], [{"n": None}], None]}
    pq.write_table(pa.Table.from_pydict(rows, schema=schema), path)
    return path


def test_identity_partition_values_fill_absent_columns_and_types_are_promoted(catalog: Catalog, tmp_path: Path) -> None:
    table = partitioned_table(catalog)
    path = written_without_partition_column(tmp_path)
    task = FileScanTask(data_file(path, 6))
    got = pa.Table.from_batches(read_data_file(table.io, table.metadata, task, SCHEMA))
    assert got.column("region").to_pylist() == ["eu"] * 6
    assert got.column("tags").to_pylist() == [None, [], [None], [{"n": 1}], [{"n": None}], None]
    assert got.schema.field("tags").type.value_type.field("n").type == pa.int64()


def test_position_deletes_are_applied_to_their_data_file_only(catalog: Catalog, tmp_path: Path) -> None:
    table = partitioned_table(catalog)
    path = written_without_partition_column(tmp_path)
    deletes = tmp_path / "deletes.parquet"
    pq.write_table(
        pa.table({"file_path": [path.as_uri(), path.as_uri(), "file:///elsewhere.parquet"], "pos": [0, 4, 1]}),
        deletes,
    )
    task = FileScanTask(data_file(path, 6), {data_file(deletes, 3, DataFileContent.POSITION_DELETES)})
    got = pa.Table.from_batches(read_data_file(table.io, table.metadata, task, SCHEMA, batch_rows=2))
    assert got.column("id").to_pylist() == [1, 2, 3, 5]
    assert got.column("tags").to_pylist() == [[], [None], [{"n": 1}], None]


def test_equality_deletes_are_refused_not_ignored(catalog: Catalog, tmp_path: Path) -> None:
    table = partitioned_table(catalog)
    path = written_without_partition_column(tmp_path)
    deletes = tmp_path / "equality.parquet"
    pq.write_table(pa.table({"id": [1]}), deletes)
    task = FileScanTask(data_file(path, 6), {data_file(deletes, 1, DataFileContent.EQUALITY_DELETES)})
    with pytest.raises(IcebergReadError, match="equality delete files"):
        list(read_data_file(table.io, table.metadata, task, SCHEMA))
