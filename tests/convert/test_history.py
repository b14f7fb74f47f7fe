"""``convert --history``: one Iceberg snapshot per Delta version, each equal to the Delta table at that version."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from pyiceberg.catalog import Catalog
from pyiceberg.table import Table

from datax_migrate.cli import main
from datax_migrate.config import Config
from datax_migrate.convert import convert_table
from datax_migrate.convert.history import SOURCE_OPERATION, SYNC_LAST_SNAPSHOT_ID, SYNC_LAST_VERSION
from datax_migrate.delta.table import DeltaTable
from datax_migrate.errors import VersionNotFoundError
from datax_migrate.iceberg.read import read_snapshot
from datax_migrate.iceberg.target import SOURCE_COMMIT_TIMESTAMP, SOURCE_LOCATION, SOURCE_VERSION
from tests.support.corpus import CASES, ROOT, expected_table
from tests.support.delta_builder import DeltaBuilder, field
from tests.support.delta_tables import schema_change_table
from tests.support.iceberg import files_the_table_references
from tests.support.tables import assert_same_rows

MULTI_VERSION = (
    [(kind, name) for kind, name in CASES if DeltaTable(str(ROOT / kind / name / "delta")).latest_version > 0]
    if ROOT
    else []
)


def snapshots_by_version(table: Table) -> dict[int, int]:
    """Delta version -> snapshot id, for the history snapshots of ``table``."""
    return {
        int(s.summary[SOURCE_VERSION]): s.snapshot_id
        for s in table.snapshots()
        if s.summary is not None and SOURCE_VERSION in s.summary
    }


def data_files_of(table: Table) -> set[str]:
    return {p.as_posix() for p in files_the_table_references(table) if p.suffix == ".parquet"}


def ids(values: list[int]) -> pa.Table:
    return pa.table({"id": pa.array(values, pa.int64())})


@pytest.mark.corpus
@pytest.mark.parametrize(("kind", "name"), MULTI_VERSION, ids=[f"{k}/{n}" for k, n in MULTI_VERSION])
def test_every_history_snapshot_equals_the_delta_table_at_its_version(
    kind: str, name: str, corpus: Path, catalog: Catalog
) -> None:
    source = corpus / kind / name / "delta"
    latest = DeltaTable(str(source)).latest_version
    result = convert_table(str(source), catalog, "history.t", history=True)
    assert result.status == "converted"
    assert result.from_version == 0 and result.source.delta_version == latest
    table = catalog.load_table("history.t")
    by_version = snapshots_by_version(table)
    assert sorted(by_version) == list(range(latest + 1))
    assert list(result.snapshot_ids) == [by_version[v] for v in range(latest + 1)]
    for version, snapshot_id in by_version.items():
        if kind == "dat" and (corpus / kind / name / "expected" / f"v{version}").is_dir():
            expected = expected_table(kind, name, f"v{version}")
        else:
            convert_table(str(source), catalog, f"single.v{version}", version=version)
            expected = read_snapshot(catalog.load_table(f"single.v{version}"))
        assert_same_rows(read_snapshot(table, snapshot_id), expected)
        summary = table.snapshot_by_id(snapshot_id).summary
        assert summary[SOURCE_LOCATION] == source.resolve().as_uri()
        assert int(summary[SOURCE_COMMIT_TIMESTAMP]) > 0
        assert SOURCE_OPERATION in summary
    # Each snapshot's parent is the one of the version before: a linear history, committed once.
    for version in range(1, latest + 1):
        assert table.snapshot_by_id(by_version[version]).parent_snapshot_id == by_version[version - 1]
    assert table.properties[SYNC_LAST_VERSION] == str(latest)
    assert table.properties[SYNC_LAST_SNAPSHOT_ID] == str(by_version[latest])
    # A data file is written once and shared by the later snapshots that hold it.
    assert len(data_files_of(table)) == result.data_files


@pytest.mark.corpus
def test_deletion_vector_history_rewrites_only_the_file_whose_vector_changed(corpus: Path, catalog: Catalog) -> None:
    source = corpus / "golden" / "dv-partitioned-with-checkpoint" / "delta"
    result = convert_table(str(source), catalog, "dv.t", history=True, tag_versions=True)
    table = catalog.load_table("dv.t")
    by_version = snapshots_by_version(table)
    for version in range(1, 16):
        snapshot = table.snapshot_by_id(by_version[version])
        summary = snapshot.summary.additional_properties
        # each DELETE touched one file: its old Iceberg file goes, at most one file (its remaining rows) comes
        assert int(summary.get("deleted-data-files", "0")) == 1
        assert int(summary.get("added-data-files", "0")) <= 1
        assert snapshot.summary.operation.value == ("overwrite" if summary.get("added-data-files") else "delete")
        assert summary[SOURCE_OPERATION] == "DELETE"
        assert table.metadata.refs[f"delta-v{version}"].snapshot_id == by_version[version]
    assert read_snapshot(table).num_rows == 35
    assert result.rows == 35


@pytest.mark.corpus
def test_schema_change_history_keeps_field_ids(corpus: Path, catalog: Catalog) -> None:
    source = corpus / "dat" / "with_schema_change" / "delta"
    convert_table(str(source), catalog, "schema.t", history=True)
    table = catalog.load_table("schema.t")
    by_version = snapshots_by_version(table)
    first = table.schemas()[table.snapshot_by_id(by_version[0]).schema_id]
    last = table.schemas()[table.snapshot_by_id(by_version[1]).schema_id]
    for column in first.fields:
        if column.name in last.column_names:
            assert last.find_field(column.name).field_id == column.field_id
    assert_same_rows(read_snapshot(table, by_version[1]), expected_table("dat", "with_schema_change", "v1"))


def test_column_mapping_rename_and_added_column_keep_ids_and_values(tmp_path: Path, catalog: Catalog) -> None:
    builder = DeltaBuilder(tmp_path / "t")
    mapping = {"delta.columnMapping.mode": "name", "delta.columnMapping.maxColumnId": "3"}
    ident = field("id", "long", **{"delta.columnMapping.id": 1, "delta.columnMapping.physicalName": "col-a"})
    old_name = field("name", "string", **{"delta.columnMapping.id": 2, "delta.columnMapping.physicalName": "col-b"})
    new_name = field("label", "string", **{"delta.columnMapping.id": 2, "delta.columnMapping.physicalName": "col-b"})
    added = field("score", "double", **{"delta.columnMapping.id": 3, "delta.columnMapping.physicalName": "col-c"})
    protocol = builder.protocol(3, 7, ["columnMapping"])
    physical = pa.table({"col-a": pa.array([1, 2], pa.int64()), "col-b": ["a", "b"]})
    builder.commit(protocol, builder.metadata([ident, old_name], configuration=mapping), builder.data_file(physical))
    builder.commit(builder.metadata([ident, new_name, added], configuration=mapping))
    third = pa.table({"col-a": pa.array([3], pa.int64()), "col-b": ["c"], "col-c": [0.5]})
    builder.commit(builder.data_file(third))

    convert_table(str(builder.root), catalog, "mapped.t", history=True)
    table = catalog.load_table("mapped.t")
    by_version = snapshots_by_version(table)
    schema = table.schema()
    assert schema.find_field("label").field_id == table.schemas()[0].find_field("name").field_id
    assert schema.find_field("score").field_id > schema.find_field("label").field_id
    rows = read_snapshot(table, by_version[2]).sort_by("id").to_pylist()
    assert rows == [
        {"id": 1, "label": "a", "score": None},
        {"id": 2, "label": "b", "score": None},
        {"id": 3, "label": "c", "score": 0.5},
    ]
    # the metadata-only version 1 is a snapshot without data change, holding what version 0 held
    assert table.snapshot_by_id(by_version[1]).summary.operation.value == "replace"
    assert read_snapshot(table, by_version[1]).num_rows == 2


def test_vacuumed_versions_are_reported_not_guessed(tmp_path: Path, catalog: Catalog) -> None:
    builder = DeltaBuilder(tmp_path / "t")
    first = builder.data_file(ids([1, 2]))
    builder.commit(builder.protocol(), builder.metadata([field("id", "long")]), first)
    builder.commit(builder.data_file(ids([3])))
    builder.commit(builder.remove(first), builder.data_file(ids([1])))
    builder.commit(builder.data_file(ids([4])))
    (builder.root / first["add"]["path"]).unlink()  # VACUUM removed the file versions 0 and 1 need

    with pytest.raises(VersionNotFoundError, match="--from-version 1 cannot be reconstructed: .*vacuumed"):
        convert_table(str(builder.root), catalog, "vacuumed.t", history=True, from_version=1)
    assert not catalog.table_exists("vacuumed.t")

    result = convert_table(str(builder.root), catalog, "vacuumed.t", history=True)
    assert result.from_version == 2
    assert any("Delta versions 0..1" in note and "vacuumed" in note for note in result.notes)
    table = catalog.load_table("vacuumed.t")
    assert sorted(snapshots_by_version(table)) == [2, 3]
    assert sorted(read_snapshot(table)["id"].to_pylist()) == [1, 3, 4]


def test_versions_whose_deletion_vector_file_was_vacuumed_are_reported(tmp_path: Path, catalog: Catalog) -> None:
    builder = DeltaBuilder(tmp_path / "t")
    data = builder.data_file(ids([1, 2, 3]))
    builder.commit(builder.protocol(3, 7, ["deletionVectors"]), builder.metadata([field("id", "long")]), data)
    first_dv = builder.with_deletion_vector(data, builder.file_dv([0]))
    builder.commit(builder.remove(data), first_dv)
    (first_dv_file,) = builder.root.glob("deletion_vector_*.bin")
    builder.commit(builder.remove(first_dv), builder.with_deletion_vector(data, builder.file_dv([0, 1])))
    builder.commit(builder.data_file(ids([4])))
    first_dv_file.unlink()  # VACUUM removed the deletion vector version 1 needs; the data file stays

    with pytest.raises(VersionNotFoundError, match="--from-version 1 cannot be reconstructed: .*deletion vector file"):
        convert_table(str(builder.root), catalog, "dv_vacuumed.t", history=True, from_version=1)
    result = convert_table(str(builder.root), catalog, "dv_vacuumed.t", history=True)
    assert result.from_version == 2
    assert any("Delta versions 0..1" in note and "deletion vector file" in note for note in result.notes)
    assert sorted(read_snapshot(catalog.load_table("dv_vacuumed.t"))["id"].to_pylist()) == [3, 4]


def test_a_history_ending_in_an_optimize_is_the_current_conversion(tmp_path: Path, catalog: Catalog) -> None:
    builder = DeltaBuilder(tmp_path / "t")
    first, second = builder.data_file(ids([1])), builder.data_file(ids([2]))
    builder.commit(builder.protocol(), builder.metadata([field("id", "long")]), first, second)
    compacted = builder.data_file(ids([1, 2]))
    compacted["add"]["dataChange"] = False
    removes = [builder.remove(first), builder.remove(second)]
    for remove in removes:
        remove["remove"]["dataChange"] = False
    builder.commit(*removes, compacted, {"commitInfo": {"operation": "OPTIMIZE"}})
    convert_table(str(builder.root), catalog, "optimized.t", history=True)
    assert catalog.load_table("optimized.t").current_snapshot().summary.operation.value == "replace"

    # a plain convert of the same version finds the history's last snapshot as the conversion it holds
    assert convert_table(str(builder.root), catalog, "optimized.t").status == "unchanged"


def test_history_via_cli_as_json_and_rerun_is_unchanged(
    tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    builder = DeltaBuilder(tmp_path / "t")
    builder.commit(builder.protocol(), builder.metadata([field("id", "long")]), builder.data_file(ids([1])))
    builder.commit(builder.data_file(ids([2])))
    builder.commit(builder.data_file(ids([3])))
    args = ["convert", str(builder.root), "cli.t", "--history", "--from-version", "1", "--tag-versions"]
    assert main([*args, "--output", "json"]) == 0
    reported = json.loads(capsys.readouterr().out)
    assert reported["status"] == "converted" and reported["from_version"] == 1 and len(reported["snapshot_ids"]) == 2
    table = Config.load().catalog().load_table("cli.t")
    assert set(table.metadata.refs) == {"main", "delta-v1", "delta-v2"}
    assert read_snapshot(table, table.metadata.refs["delta-v1"].snapshot_id).num_rows == 2

    assert main(args) == 0
    assert capsys.readouterr().out.startswith("unchanged:")
    builder.commit(builder.data_file(ids([4])))
    assert main(["sync", str(builder.root), "cli.t"]) == 0  # a tagged history goes on being tagged
    assert "delta-v3" in Config.load().catalog().load_table("cli.t").metadata.refs
    assert main(["convert", str(builder.root), "cli.t", "--from-version", "1"]) == 2
    assert "go with --history" in capsys.readouterr().err


def test_overwrite_with_a_new_schema_and_partitioning_evolves_both(tmp_path: Path, catalog: Catalog) -> None:
    builder, before, after = schema_change_table(tmp_path / "t")
    result = convert_table(str(builder.root), catalog, "evolved.t", history=True)
    table = catalog.load_table("evolved.t")
    first, second = (table.snapshot_by_id(i) for i in result.snapshot_ids)
    assert_same_rows(read_snapshot(table, first.snapshot_id), before)
    assert_same_rows(read_snapshot(table, second.snapshot_id), after)
    old, new = table.schemas()[first.schema_id], table.schemas()[second.schema_id]
    assert new.find_field("id").field_id == old.find_field("id").field_id
    assert new.find_field("amount").field_id == old.find_field("amount").field_id  # int widened to long
    assert [f.name for f in table.spec().fields] == ["region"] and table.metadata.default_spec_id == 1
    assert table.specs()[0].is_unpartitioned()


def test_versions_the_expired_log_no_longer_holds_are_reported(tmp_path: Path, catalog: Catalog) -> None:
    builder = DeltaBuilder(tmp_path / "t")
    builder.commit(builder.protocol(), builder.metadata([field("id", "long")]), builder.data_file(ids([1])))
    for value in (2, 3, 4):
        builder.commit(builder.data_file(ids([value])))
    builder.checkpoint()
    builder.commit(builder.data_file(ids([5])))
    for version in range(3):  # log clean-up kept the checkpoint of version 3 and the commits after it
        (builder.log / f"{version:020d}.json").unlink()

    with pytest.raises(VersionNotFoundError, match="Delta versions 0..2: the log no longer holds them"):
        convert_table(str(builder.root), catalog, "expired.t", history=True, from_version=1)
    result = convert_table(str(builder.root), catalog, "expired.t", history=True)
    assert result.from_version == 3
    assert result.notes[0] == "not converted: Delta versions 0..2: the log no longer holds them (log clean-up)"
    table = catalog.load_table("expired.t")
    assert sorted(snapshots_by_version(table)) == [3, 4]
    assert sorted(read_snapshot(table)["id"].to_pylist()) == [1, 2, 3, 4, 5]


def test_a_not_null_column_added_later_is_optional_for_the_files_written_before(
    tmp_path: Path, catalog: Catalog
) -> None:
    builder = DeltaBuilder(tmp_path / "t")
    builder.commit(builder.protocol(), builder.metadata([field("id", "long")]), builder.data_file(ids([1])))
    later = pa.table({"id": pa.array([2], pa.int64()), "code": ["b"]})
    fields = [field("id", "long"), field("code", "string", nullable=False)]
    builder.commit(builder.metadata(fields), builder.data_file(later))

    convert_table(str(builder.root), catalog, "added.t", history=True)
    table = catalog.load_table("added.t")
    assert not table.schema().find_field("code").required
    assert read_snapshot(table).sort_by("id").to_pylist() == [{"id": 1, "code": None}, {"id": 2, "code": "b"}]
