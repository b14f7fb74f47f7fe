"""Shredded variant columns (Delta ``variantShredding``) are reassembled into the unshredded encoding.

Columns are shredded by the tests' own writer (tests/support/variant_encoder.py, after VariantShredding.md),
reassembled by the reader, and compared with the unshredded encoding of the same values: decoded by
the tests' own decoder, leaf by leaf, then converted end to end under the same rules as unshredded
variant columns.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyiceberg.catalog import Catalog

from datax_migrate.cli import main
from datax_migrate.convert import ConvertOptions, convert_table
from datax_migrate.delta.shredding import unshred_variant_column
from datax_migrate.delta.variant import variant_to_json
from datax_migrate.errors import CorruptLogError, MappingError, UnsupportedFeatureError
from tests.support.delta_builder import DeltaBuilder, field
from tests.support.variant_encoder import SQL_NULL, describe, encode, shred_column

UTC = dt.timezone.utc

OBJECT_SHAPE = {
    "a": pa.int64(),
    "b": pa.string(),
    "nested": {"c": pa.bool_(), "d": pa.float64()},
    "tags": [pa.string()],
    "raw": None,  # shredded field with a value column only
}
OBJECTS = [
    {"a": 1, "b": "x", "nested": {"c": True, "d": 2.5}, "tags": ["p", "q"], "raw": [1, {"z": None}]},  # fully
    {"a": 2, "b": "y", "extra": [1, 2], "more": {"k": "v"}, "nested": {"c": False, "other": 7}},  # partially
    {"a": "not an int", "b": None, "tags": ["ok", None, 3]},  # wrong types and a present null
    {"extra": "only unshredded fields"},
    {},
    "not an object",
    [1, "two"],
    None,  # a variant null
    SQL_NULL,  # the column is NULL
    {"b": "é" * 40, "nested": "a string where an object is shredded", "tags": "not a list"},
]
ARRAYS = [[1, 2, 3], [], [None, "x", 4, [5]], "scalar", None, SQL_NULL, [{"k": 1}, {"k": 2, "l": [3]}]]
NESTED_ARRAYS_SHAPE = [{"k": pa.int64(), "l": [pa.int64()]}]

PRIMITIVES: list[tuple[pa.DataType, Any]] = [
    (pa.bool_(), False),
    (pa.int8(), np.int8(-5)),
    (pa.int16(), np.int16(300)),
    (pa.int32(), np.int32(-70000)),
    (pa.int64(), 2**40),
    (pa.float32(), np.float32(1.5)),
    (pa.float64(), -0.25),
    (pa.decimal128(9, 2), decimal.Decimal("-1234567.89")),
    (pa.decimal128(18, 4), decimal.Decimal("12345678901234.5678")),
    (pa.decimal128(38, 10), decimal.Decimal("1234567890123456789012345678.0123456789")),
    (pa.date32(), dt.date(2024, 2, 29)),
    (pa.time64("us"), dt.time(23, 59, 58, 999999)),
    (pa.timestamp("us", tz="UTC"), dt.datetime(2024, 3, 31, 23, 59, 59, 123456, tzinfo=UTC)),
    (pa.timestamp("us"), dt.datetime(1969, 12, 31, 23, 59, 59, 1)),
    (pa.string(), "short"),
    (pa.string(), "long " * 30),
    (pa.binary(), b"\x00\xffbytes"),
    (pa.binary(16), uuid.UUID("12345678-1234-5678-1234-567812345678")),
]


def assert_reassembles(values: list[Any], shape: Any) -> pa.StructArray:
    column = shred_column(values, shape)
    rebuilt = unshred_variant_column(column)
    assert rebuilt.type == pa.struct([("value", pa.binary()), ("metadata", pa.binary())])
    for original, row in zip(values, rebuilt.to_pylist(), strict=True):
        if original is SQL_NULL:
            assert row is None
            continue
        expected_value, expected_metadata = encode(original)
        assert describe(row["value"], row["metadata"]) == describe(expected_value, expected_metadata), original
        assert variant_to_json(row["value"], row["metadata"]) == variant_to_json(expected_value, expected_metadata)
    return rebuilt


def test_shredded_objects_partially_shredded_and_not_objects() -> None:
    column = shred_column(OBJECTS, OBJECT_SHAPE)
    typed = column.field("typed_value").to_pylist()
    assert typed[1]["a"] == {"value": None, "typed_value": 2} and column.field("value")[1].is_valid  # partial
    assert typed[5] is None and typed[4] is not None  # a string is not shredded, {} is
    assert_reassembles(OBJECTS, OBJECT_SHAPE)


def test_shredded_arrays_and_arrays_of_shredded_objects() -> None:
    assert_reassembles(ARRAYS, [pa.int64()])
    assert_reassembles(ARRAYS, NESTED_ARRAYS_SHAPE)


@pytest.mark.parametrize(("arrow", "value"), PRIMITIVES, ids=lambda p: str(p)[:20])
def test_shredded_primitives(arrow: pa.DataType, value: Any) -> None:
    column = shred_column([value, "other type", None, SQL_NULL], arrow)
    assert column.field("typed_value").to_pylist()[0] is not None
    assert_reassembles([value, "other type", None, SQL_NULL], arrow)


def test_missing_top_level_value_is_variant_null() -> None:
    column = shred_column([1], pa.int64())
    empty = pa.StructArray.from_arrays(
        [column.field("metadata"), pa.nulls(1, pa.binary()), pa.nulls(1, pa.int64())],
        names=["metadata", "value", "typed_value"],
    )
    [row] = unshred_variant_column(empty).to_pylist()
    assert row["value"] == b"\x00" and variant_to_json(row["value"], row["metadata"]) == "null"


def test_both_value_and_typed_value_for_a_primitive_is_corrupt() -> None:
    column = shred_column([1], pa.int64())
    value, metadata = encode(2)
    broken = pa.StructArray.from_arrays(
        [column.field("metadata"), pa.array([value]), column.field("typed_value")],
        names=["metadata", "value", "typed_value"],
    )
    with pytest.raises(CorruptLogError, match="both value and typed_value are set"):
        unshred_variant_column(broken)


@pytest.mark.parametrize("shredded", [{"a": 1, "b": 2}, {"b": 2}], ids=["present", "missing"])
def test_shredded_field_also_in_value_is_corrupt(shredded: dict[str, int]) -> None:
    column = shred_column([shredded], {"a": pa.int64()})
    value, _ = encode({"a": 5, "b": 2})  # same sorted keys, so the same ids
    broken = pa.StructArray.from_arrays(
        [column.field("metadata"), pa.array([value]), column.field("typed_value")],
        names=["metadata", "value", "typed_value"],
    )
    with pytest.raises(CorruptLogError, match="field 'a' is both shredded and in the object's value"):
        unshred_variant_column(broken)


@pytest.mark.parametrize(
    "typed_type",
    [pa.uint32(), pa.timestamp("ms"), pa.map_(pa.string(), pa.int64()), pa.struct([("a", pa.int64())])],
    ids=["uint32", "timestamp-ms", "map", "object-field-not-a-group"],
)
def test_layouts_the_spec_does_not_define_are_refused_by_name(typed_type: pa.DataType) -> None:
    column = pa.StructArray.from_arrays(
        [pa.array([encode(1)[1]]), pa.nulls(1, pa.binary()), pa.nulls(1, typed_type)],
        names=["metadata", "value", "typed_value"],
    )
    with pytest.raises(UnsupportedFeatureError, match="cannot be reassembled"):
        unshred_variant_column(column)


def shredded_table(root: Path, feature: str = "variantShredding-preview") -> DeltaBuilder:
    builder = DeltaBuilder(root)
    payload = shred_column(OBJECTS, OBJECT_SHAPE)
    items = shred_column(ARRAYS + [[7]] * (len(OBJECTS) - len(ARRAYS)), NESTED_ARRAYS_SHAPE)
    data = pa.table({"id": pa.array(range(len(OBJECTS)), pa.int64()), "payload": payload, "items": items})
    builder.commit(
        builder.protocol(3, 7, ["variantType-preview", feature]),
        builder.metadata([field("id", "long"), field("payload", "variant"), field("items", "variant")]),
        builder.data_file(data),
    )
    return builder


def expected_json(values: list[Any]) -> list[str | None]:
    return [None if v is SQL_NULL else variant_to_json(*encode(v)) for v in values]


@pytest.mark.parametrize("feature", ["variantShredding", "variantShredding-preview"])
def test_shredded_table_converts_under_the_variant_rules(feature: str, tmp_path: Path, catalog: Catalog) -> None:
    builder = shredded_table(tmp_path / "t", feature)
    with pytest.raises(MappingError, match="--lossy variant-as-json"):
        convert_table(str(builder.root), catalog, "v.t")
    convert_table(str(builder.root), catalog, "v.t", options=ConvertOptions(lossy=frozenset({"variant-as-json"})))
    (task,) = catalog.load_table("v.t").scan().plan_files()
    written = pq.read_table(task.file.file_path.removeprefix("file://")).sort_by("id")
    assert written["payload"].to_pylist() == expected_json(OBJECTS)
    arrays = ARRAYS + [[7]] * (len(OBJECTS) - len(ARRAYS))
    assert written["items"].to_pylist() == expected_json(arrays)
    assert json.loads(written["payload"][0].as_py())["nested"] == {"c": True, "d": 2.5}


def test_unreassemblable_shredding_is_refused_with_the_column(
    tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    builder = DeltaBuilder(tmp_path / "t")
    column = pa.StructArray.from_arrays(
        [pa.array([encode(1)[1]]), pa.nulls(1, pa.binary()), pa.array([1], pa.uint32())],
        names=["metadata", "value", "typed_value"],
    )
    builder.commit(
        builder.protocol(3, 7, ["variantType", "variantShredding"]),
        builder.metadata([field("id", "long"), field("payload", "variant")]),
        builder.data_file(pa.table({"id": pa.array([1], pa.int64()), "payload": column})),
    )
    assert main(["convert", str(builder.root), "bad.t", "--lossy", "variant-as-json"]) == 2
    err = capsys.readouterr().err.strip()
    assert "column 'payload': variant shredded as uint32 cannot be reassembled" in err and "\n" not in err


def test_inventory_lists_a_shredded_table(tmp_path: Path) -> None:
    shredded_table(tmp_path / "lake" / "shredded")
    out = tmp_path / "inv.json"
    assert main(["inventory", "--storage", str(tmp_path / "lake"), "--out", str(out)]) == 0
    document = json.loads(out.read_text())
    assert document["failures"] == []
    [table] = document["tables"]
    assert "variantShredding-preview" in table["reader_features"] and table["num_files"] == 1
    # the same finding as an unshredded variant column: convertible with --lossy variant-as-json
    assert [(f["code"], "--lossy variant-as-json" in f["message"]) for f in table["findings"]] == [
        ("unmappable-type", True)
    ]


def test_shredded_variant_nested_in_a_struct_and_an_array(tmp_path: Path, catalog: Catalog) -> None:
    values = [{"a": 1, "z": "rest"}, "text", None, {"a": "x"}]
    shredded = shred_column(values, {"a": pa.int64()})
    struct_column = pa.StructArray.from_arrays([shredded], names=["v"])
    list_column = pa.ListArray.from_arrays(
        pa.array([0, 2, 2, 4, 4], pa.int32()), shredded, mask=pa.array([False, False, False, True])
    )
    builder = DeltaBuilder(tmp_path / "t")
    builder.commit(
        builder.protocol(3, 7, ["variantType", "variantShredding"]),
        builder.metadata(
            [
                field("id", "long"),
                field("s", {"type": "struct", "fields": [field("v", "variant")]}),
                field("l", {"type": "array", "elementType": "variant", "containsNull": True}),
            ]
        ),
        builder.data_file(pa.table({"id": pa.array(range(4), pa.int64()), "s": struct_column, "l": list_column})),
    )
    convert_table(str(builder.root), catalog, "v.n", options=ConvertOptions(lossy=frozenset({"variant-as-json"})))
    (task,) = catalog.load_table("v.n").scan().plan_files()
    written = pq.read_table(task.file.file_path.removeprefix("file://")).sort_by("id")
    texts = expected_json(values)
    assert written["s"].to_pylist() == [{"v": t} for t in texts]
    assert written["l"].to_pylist() == [texts[0:2], [], texts[2:4], None]
