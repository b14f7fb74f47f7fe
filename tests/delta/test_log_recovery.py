"""Tables a conforming Delta reader reads although their log is not tidy.

``_last_checkpoint`` malformed, truncated, empty or naming a checkpoint that is missing or
incomplete; a listed checkpoint of garbage bytes; Delta Live Tables' first metaData without a
schema. Each table is built action by action, converted, and its Iceberg data files are read back
with pyarrow and compared with the rows the test wrote.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyiceberg.catalog import Catalog

from datax_migrate.cli import main
from datax_migrate.convert import convert_table
from datax_migrate.delta.table import DeltaTable
from datax_migrate.errors import CorruptLogError, MissingFileError, VersionNotFoundError
from tests.support.delta_builder import DeltaBuilder, field

EXPECTED_IDS = [3, 4, 5, 6]


def ids(values: list[int]) -> pa.Table:
    return pa.table({"id": pa.array(values, pa.int64()), "name": [f"n{v}" for v in values]})


def four_commits(root: Path, checkpoint: str | None = "classic") -> DeltaBuilder:
    """Versions 0..3; ``checkpoint`` (if any) is written at version 2. Live ids: 3, 4, 5, 6."""
    builder = DeltaBuilder(root)
    first = builder.data_file(ids([1, 2]))
    builder.commit(builder.protocol(), builder.metadata([field("id", "long"), field("name", "string")]), first)
    builder.commit(builder.data_file(ids([3])))
    builder.commit(builder.data_file(ids([4, 5])), builder.remove(first))
    if checkpoint:
        builder.checkpoint(checkpoint)
    builder.commit(builder.data_file(ids([6])))
    return builder


def iceberg_rows(catalog: Catalog, identifier: str) -> list[dict[str, object]]:
    """Rows of the table's data files read by pyarrow (not through pyiceberg's scan), sorted by id."""
    tasks = catalog.load_table(identifier).scan().plan_files()
    tables = [pq.read_table(t.file.file_path.removeprefix("file://")) for t in tasks]
    rows = [row for table in tables for row in table.to_pylist()]
    return sorted(rows, key=lambda r: r["id"])


def assert_converts(builder: DeltaBuilder, catalog: Catalog, expected_ids: list[int] = EXPECTED_IDS) -> None:
    convert_table(str(builder.root), catalog, "rec.t")
    assert iceberg_rows(catalog, "rec.t") == [{"id": i, "name": f"n{i}"} for i in expected_ids]


@pytest.mark.parametrize(
    "hint",
    ['{"version": 2', "", "not json", '{"version": "two"}', '{"size": 4}', "[2]", '{"version": 2, "parts": "x"}'],
    ids=["truncated", "empty", "not-json", "bad-version", "no-version", "not-an-object", "bad-parts"],
)
def test_malformed_hint_is_ignored_and_the_listed_checkpoint_used(hint: str, tmp_path: Path, catalog: Catalog) -> None:
    builder = four_commits(tmp_path / "t")
    builder.last_checkpoint(hint)
    segment = DeltaTable(str(builder.root)).log.segment()
    assert segment.checkpoint is not None and segment.checkpoint.version == 2
    assert [c.name for c in segment.commits] == [f"{3:020d}.json"]
    assert_converts(builder, catalog)


def test_hint_naming_a_checkpoint_that_was_never_written(tmp_path: Path, catalog: Catalog) -> None:
    builder = four_commits(tmp_path / "t")
    builder.last_checkpoint(json.dumps({"version": 3, "size": 6}))
    assert DeltaTable(str(builder.root)).log.segment().checkpoint.version == 2
    assert_converts(builder, catalog)


def test_hint_naming_a_deleted_checkpoint_falls_back_to_the_commits(tmp_path: Path, catalog: Catalog) -> None:
    builder = four_commits(tmp_path / "t")
    builder.last_checkpoint(json.dumps({"version": 2, "size": 6}))
    (builder.log / f"{2:020d}.checkpoint.parquet").unlink()
    assert DeltaTable(str(builder.root)).log.segment().checkpoint is None
    assert_converts(builder, catalog)


def test_hint_naming_an_incomplete_multipart_checkpoint(tmp_path: Path, catalog: Catalog) -> None:
    builder = four_commits(tmp_path / "t", checkpoint="multi-part")
    builder.last_checkpoint(json.dumps({"version": 2, "size": 6, "parts": 2}))
    (builder.log / f"{2:020d}.checkpoint.{2:010d}.{2:010d}.parquet").unlink()
    assert DeltaTable(str(builder.root)).log.segment().checkpoint is None
    assert_converts(builder, catalog)


def test_incomplete_multipart_checkpoint_falls_back_to_an_older_complete_one(tmp_path: Path, catalog: Catalog) -> None:
    builder = DeltaBuilder(tmp_path / "t")
    first = builder.data_file(ids([1, 2]))
    builder.commit(builder.protocol(), builder.metadata([field("id", "long"), field("name", "string")]), first)
    builder.commit(builder.data_file(ids([3])))
    builder.checkpoint("classic")
    builder.commit(builder.data_file(ids([4, 5])), builder.remove(first))
    builder.checkpoint("multi-part", parts=3)
    builder.commit(builder.data_file(ids([6])))
    builder.last_checkpoint(json.dumps({"version": 2, "size": 6, "parts": 3}))
    (builder.log / f"{2:020d}.checkpoint.{3:010d}.{3:010d}.parquet").unlink()
    (builder.log / f"{0:020d}.json").unlink()  # the older checkpoint is now the only way in
    segment = DeltaTable(str(builder.root)).log.segment()
    assert segment.checkpoint is not None and (segment.checkpoint.version, segment.checkpoint.kind) == (1, "classic")
    assert_converts(builder, catalog)


def test_no_reconstruction_left_is_a_clear_error(tmp_path: Path) -> None:
    builder = four_commits(tmp_path / "t", checkpoint="multi-part")
    (builder.log / f"{2:020d}.checkpoint.{2:010d}.{2:010d}.parquet").unlink()
    (builder.log / f"{0:020d}.json").unlink()
    with pytest.raises(VersionNotFoundError) as caught:
        DeltaTable(str(builder.root)).snapshot()
    assert str(caught.value) == (
        "version 3 cannot be reconstructed: commit 0 and any complete checkpoint before it are gone "
        "(checkpoint 2 lacks part(s) 2 of 2)"
    )


def test_hint_naming_a_missing_v2_checkpoint(tmp_path: Path, catalog: Catalog) -> None:
    builder = four_commits(tmp_path / "t", checkpoint=None)
    builder.version, builder.actions = 2, builder.actions[:-1]  # a checkpoint of version 2, after the fact
    [name] = builder.checkpoint("v2")
    builder.version = 3
    builder.last_checkpoint(json.dumps({"version": 2, "size": 6, "v2Checkpoint": {"path": name, "sizeInBytes": 1}}))
    assert DeltaTable(str(builder.root)).log.segment().checkpoint.kind == "v2"
    (builder.log / name).unlink()
    assert DeltaTable(str(builder.root)).log.segment().checkpoint is None
    assert_converts(builder, catalog)


def test_v2_checkpoint_with_a_missing_sidecar_falls_back_to_the_commits(tmp_path: Path, catalog: Catalog) -> None:
    builder = four_commits(tmp_path / "t", checkpoint=None)
    builder.version, builder.actions = 2, builder.actions[:-1]
    name, sidecar = builder.checkpoint("v2", sidecar=True)
    builder.version = 3
    builder.last_checkpoint(json.dumps({"version": 2, "size": 6, "v2Checkpoint": {"path": name, "sizeInBytes": 1}}))
    table = DeltaTable(str(builder.root))
    assert table.log.segment().checkpoint.kind == "v2" and len(table.snapshot().files) == 3
    (builder.log / sidecar).unlink()
    assert_converts(builder, catalog)
    for version in range(3):
        (builder.log / f"{version:020d}.json").unlink()
    with pytest.raises(MissingFileError, match=f"checkpoint file .*{sidecar} is missing; no older checkpoint"):
        DeltaTable(str(builder.root)).snapshot()


def garbage_checkpoint(builder: DeltaBuilder) -> Path:
    path = builder.log / f"{2:020d}.checkpoint.parquet"
    path.write_bytes(os.urandom(64) + b"PAR1" + os.urandom(1000))
    return path


def test_garbage_checkpoint_is_skipped_when_the_commits_can_stand_in(tmp_path: Path, catalog: Catalog) -> None:
    builder = four_commits(tmp_path / "t")
    garbage_checkpoint(builder)
    assert_converts(builder, catalog)


def test_garbage_checkpoint_without_commits_before_it_is_named(
    tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    builder = four_commits(tmp_path / "t")
    path = garbage_checkpoint(builder)
    for version in range(3):
        (builder.log / f"{version:020d}.json").unlink()
    with pytest.raises(CorruptLogError, match="is not a readable Parquet checkpoint"):
        DeltaTable(str(builder.root)).log.replay(DeltaTable(str(builder.root)).log.segment())
    assert main(["convert", str(builder.root), "bad.table"]) == 2
    err = capsys.readouterr().err.strip()
    assert f"checkpoint file {path} is not a readable Parquet checkpoint" in err
    assert "no older checkpoint or commits from version 0 can stand in for it" in err
    assert "unexpected" not in err and "\n" not in err


def test_checkpoint_of_the_wrong_shape_is_named(tmp_path: Path) -> None:
    builder = four_commits(tmp_path / "t", checkpoint=None)
    path = builder.log / f"{2:020d}.checkpoint.parquet"
    pq.write_table(pa.table({"add": ["not an action"]}), path)
    for version in range(3):
        (builder.log / f"{version:020d}.json").unlink()
    with pytest.raises(CorruptLogError, match=f"checkpoint file {path} has action columns that are not structs"):
        DeltaTable(str(builder.root)).snapshot()


def test_checkpoint_with_a_malformed_action_is_named(tmp_path: Path) -> None:
    builder = four_commits(tmp_path / "t", checkpoint=None)
    builder.version, builder.actions = 2, [*builder.actions[:-1], {"add": {"path": None, "size": 1}}]
    [name] = builder.checkpoint("v2")
    for version in range(3):
        (builder.log / f"{version:020d}.json").unlink()
    with pytest.raises(CorruptLogError, match=f"checkpoint .*{name}: malformed add action"):
        DeltaTable(str(builder.root)).snapshot()


def test_action_that_is_not_an_object_is_corrupt(tmp_path: Path) -> None:
    builder = four_commits(tmp_path / "t", checkpoint=None)
    builder.commit({"add": "part-0.parquet"})
    with pytest.raises(CorruptLogError, match="malformed add action part-0.parquet: not an object"):
        DeltaTable(str(builder.root)).snapshot()


DLT_SCHEMA = [field("id", "long"), field("name", "string")]


def dlt_table(root: Path, with_rows: bool) -> DeltaBuilder:
    """A Delta Live Tables log: a first metaData without schema, completed by the next commit."""
    builder = DeltaBuilder(root)
    complete = builder.metadata(DLT_SCHEMA)
    first = {"metaData": {k: v for k, v in complete["metaData"].items() if k not in ("schemaString", "format")}}
    builder.commit(builder.protocol(), first)
    builder.commit(complete)
    if with_rows:
        builder.commit(builder.data_file(ids([3, 4, 5, 6])))
    return builder


def test_dlt_first_metadata_without_schema_converts_to_an_empty_table(tmp_path: Path, catalog: Catalog) -> None:
    builder = dlt_table(tmp_path / "t", with_rows=False)
    convert_table(str(builder.root), catalog, "rec.t")
    table = catalog.load_table("rec.t")
    assert [(f.name, str(f.field_type)) for f in table.schema().fields] == [("id", "long"), ("name", "string")]
    assert list(table.scan().plan_files()) == []
    assert table.current_snapshot() is not None


def test_dlt_table_with_rows(tmp_path: Path, catalog: Catalog) -> None:
    assert_converts(dlt_table(tmp_path / "t", with_rows=True), catalog)


def test_dlt_metadata_never_completed_is_refused(tmp_path: Path) -> None:
    builder = DeltaBuilder(tmp_path / "t")
    complete = builder.metadata(DLT_SCHEMA)
    builder.commit(builder.protocol(), {"metaData": {"id": complete["metaData"]["id"], "configuration": {}}})
    with pytest.raises(CorruptLogError, match="the effective metaData action has no 'schemaString'"):
        DeltaTable(str(builder.root)).snapshot()


def test_superseded_incomplete_protocol_is_not_read(tmp_path: Path, catalog: Catalog) -> None:
    builder = DeltaBuilder(tmp_path / "t")
    builder.commit({"protocol": {"minReaderVersion": 1}}, builder.metadata(DLT_SCHEMA))
    builder.commit(builder.protocol(), builder.data_file(ids([3, 4, 5, 6])))
    assert_converts(builder, catalog)
    (builder.log / f"{1:020d}.json").unlink()
    builder.version = 0
    with pytest.raises(CorruptLogError, match="the effective protocol action has no 'minWriterVersion'"):
        DeltaTable(str(builder.root)).snapshot()


def test_inventory_lists_these_tables_as_tables(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    truncated = four_commits(lake / "truncated_hint")
    truncated.last_checkpoint('{"version": 2')
    empty = four_commits(lake / "empty_hint")
    empty.last_checkpoint("")
    deleted = four_commits(lake / "missing_checkpoint")
    deleted.last_checkpoint(json.dumps({"version": 2, "size": 6}))
    (deleted.log / f"{2:020d}.checkpoint.parquet").unlink()
    multipart = four_commits(lake / "incomplete_multipart", checkpoint="multi-part")
    multipart.last_checkpoint(json.dumps({"version": 2, "size": 6, "parts": 2}))
    (multipart.log / f"{2:020d}.checkpoint.{2:010d}.{2:010d}.parquet").unlink()
    garbage_checkpoint(four_commits(lake / "garbage_checkpoint"))
    dlt_table(lake / "dlt_empty", with_rows=False)
    out = tmp_path / "inv.json"
    assert main(["inventory", "--storage", str(lake), "--out", str(out)]) == 0
    document = json.loads(out.read_text())
    assert document["failures"] == []
    tables = {Path(t["location"]).name: t for t in document["tables"]}
    assert set(tables) == {
        "truncated_hint",
        "empty_hint",
        "missing_checkpoint",
        "incomplete_multipart",
        "garbage_checkpoint",
        "dlt_empty",
    }
    for name in set(tables) - {"dlt_empty"}:
        assert (tables[name]["format"], tables[name]["version"], tables[name]["num_files"]) == ("delta", 3, 3), name
    assert (tables["dlt_empty"]["version"], tables["dlt_empty"]["num_files"]) == (1, 0)
