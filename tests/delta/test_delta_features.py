"""Delta features as Databricks writes them, built action by action, converted and read back."""

from __future__ import annotations

import datetime as dt
import decimal
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyiceberg.catalog import Catalog
from pyiceberg.transforms import DayTransform, IdentityTransform, MonthTransform

from datax_migrate.convert import ConvertOptions, convert_table
from datax_migrate.delta.table import DeltaTable
from datax_migrate.errors import CorruptLogError, MappingError, TargetExistsError, VersionNotFoundError
from datax_migrate.iceberg.read import read_snapshot
from tests.support.delta_builder import DeltaBuilder, field
from tests.support.tables import assert_same_rows

UTC = dt.timezone.utc


def ids_table(values: list[int]) -> pa.Table:
    return pa.table({"id": pa.array(values, pa.int64())})


@pytest.mark.parametrize("storage", ["inline", "relative", "relative-with-prefix", "absolute"])
def test_deletion_vectors_in_every_storage_type(storage: str, tmp_path: Path, catalog: Catalog) -> None:
    builder = DeltaBuilder(tmp_path / "t")
    builder.commit(
        builder.protocol(3, 7, ["deletionVectors"]),
        builder.metadata([field("id", "long")]),
    )
    add = builder.data_file(ids_table(list(range(100))))
    if storage == "inline":
        descriptor = builder.inline_dv([0, 5, 99])
    else:
        prefix = "ab" if storage == "relative-with-prefix" else ""
        descriptor = builder.file_dv([0, 5, 99], prefix=prefix, absolute=storage == "absolute")
    builder.commit(add)
    builder.commit(builder.remove(add), builder.with_deletion_vector(add, descriptor))

    convert_table(str(builder.root), catalog, "dv.t")
    expected = ids_table([i for i in range(100) if i not in (0, 5, 99)])
    assert_same_rows(read_snapshot(catalog.load_table("dv.t")), expected)


def test_deletion_vector_replaced_keeps_only_latest(tmp_path: Path, catalog: Catalog) -> None:
    builder = DeltaBuilder(tmp_path / "t")
    builder.commit(builder.protocol(3, 7, ["deletionVectors"]), builder.metadata([field("id", "long")]))
    add = builder.data_file(ids_table(list(range(10))))
    builder.commit(add)
    first = builder.with_deletion_vector(add, builder.inline_dv([1]))
    builder.commit(builder.remove(add), first)
    second = builder.with_deletion_vector(add, builder.file_dv([1, 2, 3]))
    builder.commit(builder.remove(first), second)

    snapshot = DeltaTable(str(builder.root)).snapshot()
    assert len(snapshot.files) == 1
    convert_table(str(builder.root), catalog, "dv.t")
    assert_same_rows(read_snapshot(catalog.load_table("dv.t")), ids_table([0, 4, 5, 6, 7, 8, 9]))


def test_deletion_vector_cardinality_mismatch_is_refused(tmp_path: Path, catalog: Catalog) -> None:
    builder = DeltaBuilder(tmp_path / "t")
    descriptor = {**builder.file_dv([1, 2]), "cardinality": 3}
    builder.commit(
        builder.protocol(3, 7, ["deletionVectors"]),
        builder.metadata([field("id", "long")]),
        builder.data_file(ids_table([1, 2, 3]), deletion_vector=descriptor),
    )
    with pytest.raises(CorruptLogError, match="holds 2 rows, the log says 3"):
        convert_table(str(builder.root), catalog, "dv.t")
    assert not catalog.table_exists("dv.t")


def test_column_mapping_id_mode_with_nested_fields(tmp_path: Path, catalog: Catalog) -> None:
    builder = DeltaBuilder(tmp_path / "t")
    cm = "delta.columnMapping"
    inner = {
        "type": "struct",
        "fields": [field("City", "string", **{f"{cm}.id": 3, f"{cm}.physicalName": "col-c3"})],
    }
    fields = [
        field("Customer Id", "long", **{f"{cm}.id": 1, f"{cm}.physicalName": "col-a1"}),
        field("address", inner, **{f"{cm}.id": 2, f"{cm}.physicalName": "col-b2"}),
        field("added later", "string", **{f"{cm}.id": 4, f"{cm}.physicalName": "col-d4"}),
    ]
    physical = pa.table(
        {
            "col-a1": pa.array([1, 2, 3], pa.int64()),
            "col-b2": pa.array([{"col-c3": "Oslo"}, None, {"col-c3": None}], pa.struct([("col-c3", pa.string())])),
        }
    )
    builder.commit(
        builder.protocol(2, 5),
        builder.metadata(
            fields, configuration={"delta.columnMapping.mode": "id", "delta.columnMapping.maxColumnId": "4"}
        ),
        builder.data_file(physical),
    )
    convert_table(str(builder.root), catalog, "cm.t")
    table = catalog.load_table("cm.t")
    assert [f.name for f in table.schema().fields] == ["Customer Id", "address", "added later"]
    expected = pa.table(
        {
            "Customer Id": pa.array([1, 2, 3], pa.int64()),
            "address": pa.array([{"City": "Oslo"}, None, {"City": None}], pa.struct([("City", pa.string())])),
            "added later": pa.array([None, None, None], pa.string()),
        }
    )
    assert_same_rows(read_snapshot(table), expected)


def test_type_widening_reads_old_files_in_the_new_type(tmp_path: Path, catalog: Catalog) -> None:
    builder = DeltaBuilder(tmp_path / "t")
    old = pa.table(
        {
            "n": pa.array([1, -2], pa.int16()),
            "x": pa.array([1.5, 2.5], pa.float32()),
            "d": pa.array([decimal.Decimal("1.25"), None], pa.decimal128(5, 2)),
            "day": pa.array([dt.date(2024, 1, 2), None], pa.date32()),
        }
    )
    builder.commit(
        builder.protocol(1, 2),
        builder.metadata([field("n", "short"), field("x", "float"), field("d", "decimal(5,2)"), field("day", "date")]),
        builder.data_file(old),
    )
    builder.commit(
        builder.protocol(3, 7, ["typeWidening"]),
        builder.metadata(
            [field("n", "long"), field("x", "double"), field("d", "decimal(12,4)"), field("day", "timestamp_ntz")],
            configuration={"delta.enableTypeWidening": "true"},
        ),
    )
    new = pa.table(
        {
            "n": pa.array([2**40], pa.int64()),
            "x": pa.array([0.1], pa.float64()),
            "d": pa.array([decimal.Decimal("12345678.1234")], pa.decimal128(12, 4)),
            "day": pa.array([dt.datetime(2024, 5, 6, 7, 8, 9)], pa.timestamp("us")),
        }
    )
    builder.commit(builder.data_file(new))
    convert_table(str(builder.root), catalog, "tw.t")
    expected = pa.table(
        {
            "n": pa.array([1, -2, 2**40], pa.int64()),
            "x": pa.array([1.5, 2.5, 0.1], pa.float64()),
            "d": pa.array([decimal.Decimal("1.2500"), None, decimal.Decimal("12345678.1234")], pa.decimal128(12, 4)),
            "day": pa.array([dt.datetime(2024, 1, 2), None, dt.datetime(2024, 5, 6, 7, 8, 9)], pa.timestamp("us")),
        }
    )
    assert_same_rows(read_snapshot(catalog.load_table("tw.t")), expected)


def test_partition_values_of_every_type(tmp_path: Path, catalog: Catalog) -> None:
    builder = DeltaBuilder(tmp_path / "t")
    columns = [
        ("s", "string"),
        ("i", "integer"),
        ("b", "byte"),
        ("dec", "decimal(20,3)"),
        ("d", "date"),
        ("ts", "timestamp"),
        ("ntz", "timestamp_ntz"),
        ("flag", "boolean"),
        ("bin", "binary"),
    ]
    fields = [field("v", "long")] + [field(name, kind) for name, kind in columns]
    builder.commit(builder.protocol(3, 7, ["timestampNtz"]), builder.metadata(fields, [c for c, _ in columns]))
    rows = [
        {
            "s": "a b/c=d%e",
            "i": "-7",
            "b": "12",
            "dec": "-12345678901234567.125",
            "d": "2024-02-29",
            "ts": "2024-03-01 10:11:12.123456",
            "ntz": "2024-03-01 10:11:12",
            "flag": "true",
            "bin": "\u0001\u0002",
        },
        {
            "s": None,
            "i": "",
            "b": None,
            "dec": None,
            "d": None,
            "ts": "2024-03-01T10:11:12.5Z",
            "ntz": None,
            "flag": "false",
            "bin": None,
        },
    ]
    for index, values in enumerate(rows):
        builder.commit(builder.data_file(pa.table({"v": pa.array([index], pa.int64())}), values, folder=f"p{index}"))
    convert_table(str(builder.root), catalog, "pv.t")
    table = catalog.load_table("pv.t")
    assert all(isinstance(f.transform, IdentityTransform) for f in table.spec().fields)
    got = {r["v"]: r for r in read_snapshot(table).to_pylist()}
    assert got[0]["s"] == "a b/c=d%e" and got[0]["i"] == -7 and got[0]["b"] == 12
    assert got[0]["dec"] == decimal.Decimal("-12345678901234567.125")
    assert got[0]["d"] == dt.date(2024, 2, 29)
    assert got[0]["ts"] == dt.datetime(2024, 3, 1, 10, 11, 12, 123456, tzinfo=UTC)
    assert got[0]["ntz"] == dt.datetime(2024, 3, 1, 10, 11, 12)
    assert got[0]["flag"] is True and got[0]["bin"] == b"\x01\x02"
    assert got[1]["s"] is None and got[1]["i"] is None and got[1]["dec"] is None and got[1]["ntz"] is None
    assert got[1]["ts"] == dt.datetime(2024, 3, 1, 10, 11, 12, 500000, tzinfo=UTC)
    assert got[1]["flag"] is False


def generated_table(root: Path, expressions: dict[str, str], rows: list[dt.datetime]) -> DeltaBuilder:
    builder = DeltaBuilder(root)
    fields = [field("ts", "timestamp")] + [
        field(name, "integer" if "date" not in expr.lower() else "date", **{"delta.generationExpression": expr})
        for name, expr in expressions.items()
    ]
    builder.commit(builder.protocol(1, 4), builder.metadata(fields, list(expressions)))
    return builder


def test_generated_year_month_become_month_transform(tmp_path: Path, catalog: Catalog) -> None:
    builder = generated_table(tmp_path / "t", {"y": "YEAR(ts)", "m": "MONTH(ts)"}, [])
    for ts in (dt.datetime(2024, 1, 31, 23, tzinfo=UTC), dt.datetime(2024, 2, 1, 1, tzinfo=UTC)):
        data = pa.table({"ts": pa.array([ts, ts], pa.timestamp("us", tz="UTC"))})
        builder.commit(builder.data_file(data, {"y": str(ts.year), "m": str(ts.month)}))
    convert_table(str(builder.root), catalog, "gen.t")
    table = catalog.load_table("gen.t")
    (spec_field,) = table.spec().fields
    assert isinstance(spec_field.transform, MonthTransform)
    assert table.schema().find_field(spec_field.source_id).name == "ts"
    partitions = sorted(t.file.partition[0] for t in table.scan().plan_files())
    assert partitions == [(2024 - 1970) * 12, (2024 - 1970) * 12 + 1]
    january = table.scan(row_filter="ts < '2024-02-01T00:00:00+00:00'").to_arrow()
    assert january.num_rows == 2 and set(january["y"].to_pylist()) == {2024} and set(january["m"].to_pylist()) == {1}


def test_generated_date_in_other_time_zone_is_refused(tmp_path: Path, catalog: Catalog) -> None:
    builder = generated_table(tmp_path / "t", {"d": "CAST(ts AS DATE)"}, [])
    # Written in a UTC+2 session: local date 2024-01-02 spans two UTC days.
    data = pa.table(
        {
            "ts": pa.array(
                [dt.datetime(2024, 1, 1, 22, 30, tzinfo=UTC), dt.datetime(2024, 1, 2, 12, tzinfo=UTC)],
                pa.timestamp("us", tz="UTC"),
            )
        }
    )
    builder.commit(builder.data_file(data, {"d": "2024-01-02"}))
    with pytest.raises(MappingError, match="several Iceberg day partitions"):
        convert_table(str(builder.root), catalog, "gen.t")
    assert not catalog.table_exists("gen.t")

    convert_table(str(builder.root), catalog, "gen.t", options=ConvertOptions(identity_partitions=True))
    (spec_field,) = catalog.load_table("gen.t").spec().fields
    assert isinstance(spec_field.transform, IdentityTransform)


def test_generated_cast_date_becomes_day_transform(tmp_path: Path, catalog: Catalog) -> None:
    builder = generated_table(tmp_path / "t", {"d": "CAST(ts AS DATE)"}, [])
    ts = dt.datetime(2024, 1, 2, 12, tzinfo=UTC)
    builder.commit(
        builder.data_file(pa.table({"ts": pa.array([ts], pa.timestamp("us", tz="UTC"))}), {"d": "2024-01-02"})
    )
    convert_table(str(builder.root), catalog, "gen.t")
    table = catalog.load_table("gen.t")
    assert isinstance(table.spec().fields[0].transform, DayTransform)
    assert read_snapshot(table).to_pylist() == [{"ts": ts, "d": dt.date(2024, 1, 2)}]


def test_nested_nulls_survive_in_written_files(tmp_path: Path, catalog: Catalog) -> None:
    builder = DeltaBuilder(tmp_path / "t")
    item = {"type": "struct", "fields": [field("k", "string")]}
    fields = [
        field("id", "long"),
        field("items", {"type": "array", "elementType": item, "containsNull": True}),
        field("tags", {"type": "map", "keyType": "string", "valueType": item, "valueContainsNull": True}),
    ]
    struct_type = pa.struct([("k", pa.string())])
    data = pa.table(
        {
            "id": pa.array([1, 2, 3], pa.int64()),
            "items": pa.array([None, [], [{"k": "a"}, None]], pa.list_(struct_type)),
            "tags": pa.array([None, [], [("x", {"k": None}), ("y", None)]], pa.map_(pa.string(), struct_type)),
        }
    )
    builder.commit(builder.protocol(), builder.metadata(fields), builder.data_file(data))
    convert_table(str(builder.root), catalog, "nn.t")
    (task,) = catalog.load_table("nn.t").scan().plan_files()
    written = pq.read_table(task.file.file_path.removeprefix("file://"))
    assert written["items"].to_pylist() == [None, [], [{"k": "a"}, None]]
    assert written["tags"].to_pylist() == [None, [], [("x", {"k": None}), ("y", None)]]


def test_time_travel_by_timestamp_uses_commit_times(tmp_path: Path, catalog: Catalog) -> None:
    builder = DeltaBuilder(tmp_path / "t")
    builder.commit(builder.protocol(), builder.metadata([field("id", "long")]), builder.data_file(ids_table([1])))
    builder.commit(builder.data_file(ids_table([2])))
    builder.commit(builder.data_file(ids_table([3])))
    base = dt.datetime(2024, 6, 1, tzinfo=UTC).timestamp()
    for version in range(3):
        os.utime(builder.log / f"{version:020d}.json", (base + 3600 * version, base + 3600 * version))

    table = DeltaTable(str(builder.root))
    assert table.version_at(dt.datetime(2024, 6, 1, 1, 30, tzinfo=UTC)) == 1
    assert table.version_at(dt.datetime(2024, 6, 1, 2, tzinfo=UTC)) == 2
    with pytest.raises(VersionNotFoundError, match="earliest commit is 2024-06-01T00:00:00"):
        table.version_at(dt.datetime(2024, 5, 31, tzinfo=UTC))
    result = convert_table(str(builder.root), catalog, "tt.t", timestamp=dt.datetime(2024, 6, 1, 1, 30, tzinfo=UTC))
    assert result.source.delta_version == 1
    assert_same_rows(read_snapshot(catalog.load_table("tt.t")), ids_table([1, 2]))


def test_rerun_is_a_no_op_and_replace_rewrites(tmp_path: Path, catalog: Catalog) -> None:
    builder = DeltaBuilder(tmp_path / "t")
    builder.commit(builder.protocol(), builder.metadata([field("id", "long")]), builder.data_file(ids_table([1])))
    builder.commit(builder.data_file(ids_table([2])))
    first = convert_table(str(builder.root), catalog, "re.t", version=0)
    again = convert_table(str(builder.root), catalog, "re.t", version=0)
    assert (first.status, again.status) == ("converted", "unchanged")
    assert again.snapshot_id == first.snapshot_id
    assert len(catalog.load_table("re.t").history()) == 1

    with pytest.raises(TargetExistsError, match="pass --replace"):
        convert_table(str(builder.root), catalog, "re.t")
    replaced = convert_table(str(builder.root), catalog, "re.t", options=ConvertOptions(replace=True))
    assert replaced.status == "replaced"
    assert_same_rows(read_snapshot(catalog.load_table("re.t")), ids_table([1, 2]))


def test_empty_table_gets_a_snapshot_that_records_its_source(tmp_path: Path, catalog: Catalog) -> None:
    builder = DeltaBuilder(tmp_path / "t")
    builder.commit(builder.protocol(), builder.metadata([field("id", "long")]))
    result = convert_table(str(builder.root), catalog, "empty.t")
    table = catalog.load_table("empty.t")
    assert (result.rows, result.data_files) == (0, 0)
    assert table.metadata.format_version == 2
    assert table.current_snapshot().summary["datax.source-delta-version"] == "0"
    assert read_snapshot(table).num_rows == 0


def test_in_commit_timestamps_win_over_file_times(tmp_path: Path) -> None:
    builder = DeltaBuilder(tmp_path / "t")
    first, second = 1_717_200_000_000, 1_717_203_600_000  # 2024-06-01 00:00 and 01:00 UTC
    builder.commit(
        builder.protocol(),
        builder.metadata([field("id", "long")], configuration={"delta.enableInCommitTimestamps": "true"}),
        builder.data_file(ids_table([1])),
        in_commit_timestamp=first,
    )
    builder.commit(builder.data_file(ids_table([2])), in_commit_timestamp=second)
    for version in range(2):
        os.utime(builder.log / f"{version:020d}.json", (2_000_000_000, 2_000_000_000))  # file times: 2033
    table = DeltaTable(str(builder.root))
    assert table.version_at(dt.datetime(2024, 6, 1, 0, 30, tzinfo=UTC)) == 0
    assert table.version_at(dt.datetime(2024, 6, 1, 1, 0, tzinfo=UTC)) == 1
    assert table.snapshot().commit_timestamp_ms == second
