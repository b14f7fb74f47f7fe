"""``sync``: the Delta commits after the last synced version become Iceberg snapshots; refusals change nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyiceberg.catalog import Catalog
from pyiceberg.io.pyarrow import parquet_file_to_data_file
from pyiceberg.table import Table
from pyiceberg.table.snapshots import Operation
from pyiceberg.types import StringType

from datax_migrate.cli import main
from datax_migrate.config import Config
from datax_migrate.convert import ConversionSource, ConvertOptions, convert_table
from datax_migrate.convert.engine import LocalEngine
from datax_migrate.convert.history import (
    SOURCE_OPERATION,
    SYNC_LAST_SNAPSHOT_ID,
    SYNC_LAST_VERSION,
    SYNC_LOSSY,
    current_data_files,
    stage_snapshot,
)
from datax_migrate.convert.plan import FileGroup
from datax_migrate.delta.table import DeltaTable
from datax_migrate.iceberg.read import read_snapshot
from datax_migrate.iceberg.target import SOURCE_VERSION
from datax_migrate.sync import SyncRefused, sync_table
from tests.support.corpus import CASES, ROOT, expected_table
from tests.support.delta_builder import DeltaBuilder, field
from tests.support.delta_tables import table_of_2023
from tests.support.iceberg import files_the_table_references
from tests.support.tables import assert_same_rows

MULTI_VERSION = (
    [(kind, name) for kind, name in CASES if DeltaTable(str(ROOT / kind / name / "delta")).latest_version > 0]
    if ROOT
    else []
)


def ids(values: list[int]) -> pa.Table:
    return pa.table({"id": pa.array(values, pa.int64())})


def id_table(root: Path, *files: list[int]) -> tuple[DeltaBuilder, list[dict[str, object]]]:
    """Version 0 holds one data file per list in ``files``."""
    builder = DeltaBuilder(root)
    adds = [builder.data_file(ids(values)) for values in files]
    builder.commit(builder.protocol(), builder.metadata([field("id", "long")]), *adds)
    return builder, adds


def ids_in(table: Table, snapshot_id: int | None = None) -> list[int]:
    return sorted(read_snapshot(table, snapshot_id)["id"].to_pylist())


def compact(table: Table, paths: list[str]) -> int:
    """Rewrite the data files ``paths`` into one file, as table maintenance does: a ``replace`` snapshot."""
    parts = []
    for path in paths:
        with table.io.new_input(path).open() as stream:
            parts.append(pq.read_table(stream))
    merged = f"{table.location()}/data/compacted-{uuid.uuid4().hex}.parquet"
    with table.io.new_output(merged).create() as stream:
        pq.write_table(pa.concat_tables(parts), stream)
    added = parquet_file_to_data_file(table.io, table.metadata, merged)
    files = current_data_files(table)
    with table.transaction() as transaction:
        snapshot_id = stage_snapshot(
            transaction, table.io, Operation.REPLACE, {"maintenance": "compaction"}, [files[p] for p in paths], [added]
        )
    return snapshot_id


@pytest.mark.corpus
@pytest.mark.parametrize(("kind", "name"), MULTI_VERSION, ids=[f"{k}/{n}" for k, n in MULTI_VERSION])
def test_corpus_table_synced_version_by_version_equals_each_version(
    kind: str, name: str, corpus: Path, catalog: Catalog
) -> None:
    source = str(corpus / kind / name / "delta")
    latest = DeltaTable(source).latest_version
    first = sync_table(source, catalog, "sync.t", to_version=0)
    assert first.status == "synced" and first.from_version is None and len(first.snapshot_ids) == 1
    for version in range(latest + 1):
        result = sync_table(source, catalog, "sync.t", to_version=version)
        if version > 0:
            assert (result.status, result.from_version, result.to_version) == ("synced", version - 1, version)
            assert len(result.snapshot_ids) == 1
        table = catalog.load_table("sync.t")
        if kind == "dat" and (corpus / kind / name / "expected" / f"v{version}").is_dir():
            expected = expected_table(kind, name, f"v{version}")
        else:
            convert_table(source, catalog, f"single.v{version}", version=version)
            expected = read_snapshot(catalog.load_table(f"single.v{version}"))
        assert_same_rows(read_snapshot(table), expected)
        assert table.current_snapshot().summary[SOURCE_VERSION] == str(version)
        assert table.properties[SYNC_LAST_VERSION] == str(version)
    snapshots = len(catalog.load_table("sync.t").snapshots())
    rerun = sync_table(source, catalog, "sync.t")
    assert rerun.status == "in-step" and rerun.snapshot_ids == ()
    assert len(catalog.load_table("sync.t").snapshots()) == snapshots


def test_sync_after_a_plain_convert_rewrites_only_the_broken_lineage_group(tmp_path: Path, catalog: Catalog) -> None:
    builder, adds = id_table(tmp_path / "t", [1, 2], [3, 4], [5, 6], [7, 8])
    convert_table(ConversionSource.open(str(builder.root), workers=1), catalog, "plain.t")
    before = set(current_data_files(catalog.load_table("plain.t")))
    assert len(before) == 2  # four Delta files bin-packed two by two
    builder.commit(builder.remove(adds[1]), builder.data_file(ids([9])))

    result = sync_table(str(builder.root), catalog, "plain.t")
    assert (result.status, result.from_version, result.to_version) == ("synced", 0, 1)
    table = catalog.load_table("plain.t")
    assert ids_in(table) == [1, 2, 5, 6, 7, 8, 9]
    after = set(current_data_files(table))
    # the group that held the removed file is rewritten (its other Delta file anew), the other group stays
    assert len(before & after) == 1 and len(after) == 3
    assert result.rows_removed == 4 and result.rows_added == 3
    assert table.current_snapshot().summary.operation == Operation.OVERWRITE


def test_deletion_vector_changes_sync_exactly(tmp_path: Path, catalog: Catalog) -> None:
    builder, adds = id_table(tmp_path / "t", [0, 1, 2, 3, 4], [10, 11])
    sync_table(str(builder.root), catalog, "dv.t")
    untouched = set(current_data_files(catalog.load_table("dv.t")))
    first = builder.with_deletion_vector(adds[0], builder.inline_dv([1]))
    builder.commit(builder.protocol(3, 7, ["deletionVectors"]), builder.remove(adds[0]), first)
    second = builder.with_deletion_vector(adds[0], builder.file_dv([1, 3]))
    builder.commit(builder.remove(first), second)

    result = sync_table(str(builder.root), catalog, "dv.t")
    assert (result.from_version, result.to_version, len(result.snapshot_ids)) == (0, 2, 2)
    table = catalog.load_table("dv.t")
    assert ids_in(table, result.snapshot_ids[0]) == [0, 2, 3, 4, 10, 11]
    assert ids_in(table) == [0, 2, 4, 10, 11]
    # the file of [10, 11] was never rewritten
    assert len(untouched & set(current_data_files(table))) == 1


@pytest.mark.corpus
def test_schema_evolution_sync_keeps_field_ids(corpus: Path, catalog: Catalog) -> None:
    source = str(corpus / "dat" / "with_schema_change" / "delta")
    sync_table(source, catalog, "evolve.t", to_version=0)
    before = catalog.load_table("evolve.t").schema()
    sync_table(source, catalog, "evolve.t")
    table = catalog.load_table("evolve.t")
    for column in before.fields:
        if column.name in table.schema().column_names:
            assert table.schema().find_field(column.name).field_id == column.field_id
    assert_same_rows(read_snapshot(table), expected_table("dat", "with_schema_change", "latest"))


def test_squash_writes_one_snapshot_and_only_the_files_that_survive(tmp_path: Path, catalog: Catalog) -> None:
    builder, _ = id_table(tmp_path / "t", [1])
    sync_table(str(builder.root), catalog, "squash.t")
    short_lived = builder.data_file(ids([2]))
    builder.commit(short_lived)
    builder.commit(builder.remove(short_lived), builder.data_file(ids([3])))
    builder.commit(builder.data_file(ids([4])))

    result = sync_table(str(builder.root), catalog, "squash.t", squash=True)
    assert (result.from_version, result.to_version, len(result.snapshot_ids)) == (0, 3, 1)
    assert result.data_files_written == 2  # [3] and [4]; [2] came and went within the sync
    table = catalog.load_table("squash.t")
    assert ids_in(table) == [1, 3, 4]
    summary = table.current_snapshot().summary
    assert summary[SOURCE_VERSION] == "3" and summary[SOURCE_OPERATION] == "WRITE"


def test_rerun_in_step_and_drift_refusal_via_cli(
    tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    builder, _ = id_table(tmp_path / "t", [1])
    assert main(["sync", str(builder.root), "cli.t"]) == 0
    assert capsys.readouterr().out.startswith("synced:")
    builder.commit(builder.data_file(ids([2])))
    assert main(["sync", str(builder.root), "cli.t", "--output", "json"]) == 0
    reported = json.loads(capsys.readouterr().out)
    assert (reported["status"], reported["from_version"], reported["to_version"]) == ("synced", 0, 1)
    assert main(["sync", str(builder.root), "cli.t"]) == 0
    assert capsys.readouterr().out.startswith("in step:")

    table = Config.load().catalog().load_table("cli.t")
    table.append(pa.table({"id": pa.array([99], pa.int64())}))  # another writer
    builder.commit(builder.data_file(ids([3])))
    state = dict(Config.load().catalog().load_table("cli.t").properties)
    assert main(["sync", str(builder.root), "cli.t"]) == 2
    error = capsys.readouterr().err
    assert "changed since the last sync" in error and "(append)" in error and len(error.strip().splitlines()) == 1
    after = Config.load().catalog().load_table("cli.t")
    assert dict(after.properties) == state and ids_in(after) == [1, 2, 99]

    # the way out the refusal names: convert --replace, after which sync goes on
    assert main(["convert", str(builder.root), "cli.t", "--replace"]) == 0
    builder.commit(builder.data_file(ids([4])))
    capsys.readouterr()
    assert main(["sync", str(builder.root), "cli.t"]) == 0
    assert capsys.readouterr().out.startswith("synced:")
    assert ids_in(Config.load().catalog().load_table("cli.t")) == [1, 2, 3, 4]


@pytest.mark.parametrize("created_by", ["sync", "convert"])
def test_an_iceberg_side_schema_change_is_drift(tmp_path: Path, catalog: Catalog, created_by: str) -> None:
    builder, _ = id_table(tmp_path / "t", [1])
    if created_by == "sync":
        sync_table(str(builder.root), catalog, "altered.t")
    else:
        convert_table(str(builder.root), catalog, "altered.t")
    with catalog.load_table("altered.t").update_schema() as update:  # ALTER TABLE: no snapshot
        update.add_column("note", StringType())
    builder.commit(builder.data_file(ids([2])))
    before = catalog.load_table("altered.t")

    with pytest.raises(SyncRefused, match=r"changed since the last sync: its schema is 1, the last sync left 0"):
        sync_table(str(builder.root), catalog, "altered.t")
    after = catalog.load_table("altered.t")
    assert after.metadata == before.metadata and ids_in(after) == [1]


@pytest.mark.parametrize("history", [False, True])
def test_sync_maps_types_with_the_lossy_mappings_the_table_was_converted_with(
    tmp_path: Path, catalog: Catalog, history: bool
) -> None:
    builder, _ = id_table(tmp_path / "t", [1])
    options = ConvertOptions(lossy=frozenset({"collation-as-string"}))
    convert_table(str(builder.root), catalog, "lossy.t", options=options, history=history)
    collated = field("name", "string", __COLLATIONS={"name": "spark.UTF8_LCASE"})
    added = pa.table({"id": pa.array([2], pa.int64()), "name": ["b"]})
    builder.commit(builder.metadata([field("id", "long"), collated]), builder.data_file(added))

    assert sync_table(str(builder.root), catalog, "lossy.t").status == "synced"
    table = catalog.load_table("lossy.t")
    assert table.schema().find_field("name").field_type == StringType()
    assert sorted(read_snapshot(table).to_pylist(), key=lambda r: r["id"]) == [
        {"id": 1, "name": None},
        {"id": 2, "name": "b"},
    ]
    assert table.properties[SYNC_LOSSY] == "collation-as-string"


def test_a_type_change_iceberg_cannot_promote_is_a_refusal(tmp_path: Path, catalog: Catalog) -> None:
    builder, _ = id_table(tmp_path / "t", [1])
    sync_table(str(builder.root), catalog, "retyped.t")
    builder.commit(builder.metadata([field("id", "string")]), builder.data_file(pa.table({"id": ["2"]})))
    before = catalog.load_table("retyped.t")
    files = set((tmp_path / "warehouse").rglob("*"))

    with pytest.raises(SyncRefused, match=r"column 'id' changed type from long to string, which Iceberg cannot"):
        sync_table(str(builder.root), catalog, "retyped.t")
    after = catalog.load_table("retyped.t")
    assert after.metadata == before.metadata and ids_in(after) == [1]
    assert set((tmp_path / "warehouse").rglob("*")) == files


def test_truncated_log_refusal_names_the_missing_version(tmp_path: Path, catalog: Catalog) -> None:
    builder, _ = id_table(tmp_path / "t", [1])
    builder.commit(builder.data_file(ids([2])))
    sync_table(str(builder.root), catalog, "short.t")
    for values in ([3], [4], [5]):
        builder.commit(builder.data_file(ids(values)))
    builder.checkpoint()
    for version in range(0, 4):  # log clean-up: only the checkpoint of version 4 and later commits remain
        (builder.log / f"{version:020d}.json").unlink()
    builder.commit(builder.data_file(ids([6])))
    snapshot = catalog.load_table("short.t").current_snapshot().snapshot_id

    with pytest.raises(
        SyncRefused, match=r"no longer holds version 2 .*convert --replace \(or drop the table and convert --history\)"
    ):
        sync_table(str(builder.root), catalog, "short.t")
    assert catalog.load_table("short.t").current_snapshot().snapshot_id == snapshot


def test_replaced_delta_table_refusal(tmp_path: Path, catalog: Catalog) -> None:
    builder, _ = id_table(tmp_path / "t", [1])
    sync_table(str(builder.root), catalog, "replaced.t")
    replacement = builder.metadata([field("id", "long")])
    replacement["metaData"]["id"] = "another-table"
    builder.commit(replacement, builder.data_file(ids([2])))

    with pytest.raises(SyncRefused, match="was replaced at version 1"):
        sync_table(str(builder.root), catalog, "replaced.t")
    table = catalog.load_table("replaced.t")
    assert table.properties[SYNC_LAST_VERSION] == "0" and len(table.snapshots()) == 1


def test_sync_continues_on_top_of_a_maintenance_compaction(tmp_path: Path, catalog: Catalog) -> None:
    builder, adds = id_table(tmp_path / "t", [1], [2], [3])
    sync_table(str(builder.root), catalog, "kept.t")
    table = catalog.load_table("kept.t")
    synced = table.properties[SYNC_LAST_SNAPSHOT_ID]
    files = sorted(current_data_files(table))
    compact(table, files[:2])  # two Iceberg files (two Delta files) become one
    builder.commit(builder.data_file(ids([4])))

    result = sync_table(str(builder.root), catalog, "kept.t")
    assert result.status == "synced" and any("maintenance snapshot" in note for note in result.notes)
    table = catalog.load_table("kept.t")
    assert ids_in(table) == [1, 2, 3, 4]
    assert table.properties[SYNC_LAST_SNAPSHOT_ID] != synced

    # removing a Delta file the compacted file holds rewrites the merged group: the other file's rows stay
    compacted_ids = {1, 2}
    removed = next(a for a, values in zip(adds, ([1], [2], [3]), strict=True) if values[0] in compacted_ids)
    builder.commit(builder.remove(removed))
    sync_table(str(builder.root), catalog, "kept.t")
    assert ids_in(catalog.load_table("kept.t")) == sorted({1, 2, 3, 4} - {1 if removed is adds[0] else 2})


class CompactingEngine:
    """Runs the tasks like the local engine, but a maintenance compaction lands on the table meanwhile (once)."""

    def __init__(self, catalog: Catalog, identifier: str) -> None:
        self.catalog, self.identifier, self.compacted = catalog, identifier, False

    def run(self, groups: Sequence[FileGroup], task: Any, on_done: Any = None) -> list[Any]:
        if not self.compacted:
            table = self.catalog.load_table(self.identifier)
            compact(table, sorted(current_data_files(table))[:2])
            self.compacted = True
        return LocalEngine(1).run(groups, task, on_done)


def test_a_compaction_that_lands_during_the_sync_is_folded_in_on_the_next_attempt(
    tmp_path: Path, catalog: Catalog
) -> None:
    builder, adds = id_table(tmp_path / "t", [1], [2], [3])
    sync_table(str(builder.root), catalog, "busy.t")
    builder.commit(builder.remove(adds[2]), builder.data_file(ids([4])))
    engine = CompactingEngine(catalog, "busy.t")

    result = sync_table(str(builder.root), catalog, "busy.t", engine=engine)
    assert engine.compacted and any("maintenance snapshot" in note for note in result.notes)
    table = catalog.load_table("busy.t")
    assert ids_in(table) == [1, 2, 4]
    operations = [s.summary.operation for s in table.snapshots()]
    assert operations == [Operation.APPEND, Operation.REPLACE, Operation.OVERWRITE]
    assert set(current_data_files(table)) <= {str(p) for p in table_files(table)}


def table_files(table: Table) -> set[str]:
    return {f"file://{p}" for p in files_the_table_references(table) if p.suffix == ".parquet"}


def test_to_timestamp_syncs_up_to_the_version_current_then(
    tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(table_of_2023(tmp_path / "t").root)  # a copied log: commitInfo times 2023, file times now
    assert main(["sync", root, "ns.t", "--to-timestamp", "2023-07-01", "--output", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["to_version"] == 1
    assert main(["sync", root, "ns.t", "--to-version", "7"]) == 2
    assert "version 7 does not exist (latest is 2)" in capsys.readouterr().err
    assert main(["sync", root, "ns.t", "--to-version", "0"]) == 2
    assert "already synced to Delta version 1, after 0" in capsys.readouterr().err
    assert main(["sync", root, "ns.t"]) == 0
    assert ids_in(Config.load().catalog().load_table("ns.t")) == [1, 2, 3]
