"""An existing target: ``unchanged`` only while the table still holds the conversion, ``--replace``
across a schema and partitioning change as Iceberg's replace-table does, history kept."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from pyiceberg.catalog import Catalog

from datax_migrate.cli import main
from datax_migrate.config import Config
from datax_migrate.convert import ConvertOptions, convert_table
from datax_migrate.convert.lineage import LINEAGE_PROPERTY
from datax_migrate.errors import TargetExistsError
from datax_migrate.sync import SyncRefused, sync_table
from tests.support.delta_builder import DeltaBuilder, field
from tests.support.delta_tables import schema_change_table
from tests.support.iceberg import read_by_field_id
from tests.support.tables import assert_same_rows


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


def test_replace_rewrites_a_table_converted_before_lineage_so_sync_can_start(tmp_path: Path, catalog: Catalog) -> None:
    builder = DeltaBuilder(tmp_path / "t")
    builder.commit(
        builder.protocol(), builder.metadata([field("id", "long")]), builder.data_file(pa.table({"id": [1, 2]}))
    )
    convert_table(str(builder.root), catalog, "old.t")
    with catalog.load_table("old.t").transaction() as transaction:  # as a conversion without lineage left it
        transaction.remove_properties(*(k for k in catalog.load_table("old.t").properties if k.startswith("datax.")))
    with pytest.raises(SyncRefused, match=r"no sync state .*convert --replace \(or drop the table and convert"):
        sync_table(str(builder.root), catalog, "old.t")

    assert convert_table(str(builder.root), catalog, "old.t", options=ConvertOptions(replace=True)).status == "replaced"
    assert LINEAGE_PROPERTY in catalog.load_table("old.t").properties
    builder.commit(builder.data_file(pa.table({"id": [3]})))
    assert sync_table(str(builder.root), catalog, "old.t").status == "synced"
