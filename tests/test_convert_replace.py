"""An existing target: ``unchanged`` only while the table still holds the conversion, ``--replace``
across a schema and partitioning change as Iceberg's replace-table does, history kept."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyiceberg.catalog import Catalog
from pyiceberg.table import Table

from datax_migrate.cli import main
from datax_migrate.config import Config
from datax_migrate.convert import ConvertOptions, convert_table
from datax_migrate.errors import TargetExistsError
from tests.delta_builder import DeltaBuilder, field
from tests.tables import assert_same_rows

TAG = pa.struct([("k", pa.string())])
TAGS = {"type": "array", "elementType": {"type": "struct", "fields": [field("k", "string")]}, "containsNull": True}


def read_by_field_id(table: Table, snapshot_id: int) -> pa.Table:
    """The rows of one snapshot, read from its data files with pyarrow, columns named by that snapshot's schema."""
    snapshot = table.snapshot_by_id(snapshot_id)
    assert snapshot is not None and snapshot.schema_id is not None
    schema = table.schemas()[snapshot.schema_id]
    names = {f.field_id: f.name for f in schema.fields}
    parts = []
    for task in table.scan(snapshot_id=snapshot_id).plan_files():
        with table.io.new_input(task.file.file_path).open() as stream:
            data = pq.read_table(stream)
        ids = [int(f.metadata[b"PARQUET:field_id"]) for f in data.schema]
        parts.append(data.rename_columns([names[i] for i in ids]).select(sorted(names.values())))
    return pa.concat_tables(parts)


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


def test_replace_across_a_schema_and_partitioning_change_keeps_history(tmp_path: Path, catalog: Catalog) -> None:
    builder, before, after = schema_change_table(tmp_path / "t")
    first = convert_table(str(builder.root), catalog, "re.t", version=0)
    old = catalog.load_table("re.t")
    old_schema, old_spec = old.schema(), old.spec()

    with pytest.raises(TargetExistsError, match="pass --replace"):
        convert_table(str(builder.root), catalog, "re.t")
    replaced = convert_table(str(builder.root), catalog, "re.t", options=ConvertOptions(replace=True))
    assert replaced.status == "replaced" and replaced.rows == 3

    table = catalog.load_table("re.t")
    current = table.current_snapshot()
    assert current is not None and current.snapshot_id == replaced.snapshot_id
    assert current.parent_snapshot_id is None  # a replacement, not a change on top of the old rows
    assert [s.snapshot_id for s in table.snapshots()] == [first.snapshot_id, replaced.snapshot_id]
    assert table.schema().schema_id != old_schema.schema_id and table.spec().spec_id != old_spec.spec_id
    assert [f.name for f in table.spec().fields] == ["region"]

    # Columns that carry over keep their ids (amount: int widened to long); the new column gets a new one.
    new_ids = {f.name: f.field_id for f in table.schema().fields}
    old_ids = {f.name: f.field_id for f in old_schema.fields}
    assert {k: new_ids[k] for k in ("id", "amount", "tags")} == {k: old_ids[k] for k in ("id", "amount", "tags")}
    assert new_ids["region"] > max(old_ids.values()) and "name" not in new_ids
    assert table.schema().find_field("tags.element.k").field_id == old_schema.find_field("tags.element.k").field_id

    # Only the new data files are in the new snapshot; the old snapshot still reads as it was.
    assert len(list(table.scan().plan_files())) == replaced.data_files == 2
    assert_same_rows(read_by_field_id(table, replaced.snapshot_id), after)
    assert_same_rows(read_by_field_id(table, first.snapshot_id), before)

    again = convert_table(str(builder.root), catalog, "re.t", options=ConvertOptions(replace=True))
    assert again.status == "unchanged"
    table.manage_snapshots().set_current_snapshot(first.snapshot_id).commit()  # roll back to the old table
    assert catalog.load_table("re.t").current_snapshot().snapshot_id == first.snapshot_id


def test_replace_with_the_same_schema_overwrites_on_top_of_the_old_snapshot(tmp_path: Path, catalog: Catalog) -> None:
    builder = DeltaBuilder(tmp_path / "same")
    rows = pa.table({"id": pa.array([1, 2], pa.int64())})
    first_add = builder.data_file(rows)
    builder.commit(builder.protocol(), builder.metadata([field("id", "long")]), first_add)
    builder.commit(builder.remove(first_add), builder.data_file(rows.slice(1)))
    first = convert_table(str(builder.root), catalog, "re.same", version=0)
    replaced = convert_table(str(builder.root), catalog, "re.same", options=ConvertOptions(replace=True))

    table = catalog.load_table("re.same")
    current = table.current_snapshot()
    assert current is not None and current.parent_snapshot_id == first.snapshot_id  # rollback_to_snapshot reaches it
    assert current.summary is not None and current.summary["deleted-data-files"] == "1"
    assert len(table.schemas()) == len(table.specs()) == 1
    assert_same_rows(read_by_field_id(table, replaced.snapshot_id), rows.slice(1))
    table.manage_snapshots().rollback_to_snapshot(first.snapshot_id).commit()
    assert_same_rows(read_by_field_id(catalog.load_table("re.same"), first.snapshot_id), rows)


def test_replace_upgrades_a_format_v1_table(tmp_path: Path, catalog: Catalog) -> None:
    builder, _, after = schema_change_table(tmp_path / "t")
    v1 = ConvertOptions(table_properties={"format-version": "1"})
    convert_table(str(builder.root), catalog, "re.v1", version=0, options=v1)
    assert catalog.load_table("re.v1").metadata.format_version == 1
    replaced = convert_table(str(builder.root), catalog, "re.v1", options=ConvertOptions(replace=True))
    table = catalog.load_table("re.v1")
    assert table.metadata.format_version == 2
    assert_same_rows(read_by_field_id(table, replaced.snapshot_id), after)


def test_convert_says_unchanged_only_while_the_current_snapshot_is_the_conversion(
    tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    builder, _, after = schema_change_table(tmp_path / "t")
    source = str(builder.root)
    assert main(["convert", source, "moved.t"]) == 0
    assert main(["convert", source, "moved.t"]) == 0
    assert "unchanged:" in capsys.readouterr().out

    # Another writer changes one row through pyiceberg.
    table = Config.load().catalog().load_table("moved.t")
    changed = pa.table({"id": pa.array([5], pa.int64()), "amount": pa.array([8], pa.int64()), "region": ["us"]})
    table.overwrite(changed, overwrite_filter="id == 5")
    theirs = Config.load().catalog().load_table("moved.t").current_snapshot()
    assert theirs is not None and theirs.summary is not None

    assert main(["convert", source, "moved.t"]) == 2
    err = capsys.readouterr().err.strip()
    assert "has moved on since" in err and "pass --replace" in err and "\n" not in err
    assert f"current snapshot {theirs.snapshot_id} ({theirs.summary.operation.value} at" in err

    assert main(["convert", source, "moved.t", "--replace"]) == 0
    assert "replaced:" in capsys.readouterr().out
    table = Config.load().catalog().load_table("moved.t")
    assert_same_rows(read_by_field_id(table, table.current_snapshot().snapshot_id), after)
