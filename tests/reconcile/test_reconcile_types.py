"""The row diff on every type of the type map: one changed cell is one difference, with its real values.

Keys and column names keep their identity in report.json, HTML, Markdown and the console: an int key
stays an int, a NULL key is NULL (not NaN), ``ByteType`` keeps its case.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from datax_migrate.cli import main
from tests.support.delta_builder import DeltaBuilder, field
from tests.support.reconcile import reconcile
from tests.support.variant_encoder import encode

ROWS = 30
UTC = dt.timezone.utc
VARIANT = pa.struct([("value", pa.binary()), ("metadata", pa.binary())])
ELEMENT = pa.struct([("x", pa.int32())])


def _variant(value: Any) -> dict[str, bytes]:
    encoded_value, metadata = encode(value)
    return {"value": encoded_value, "metadata": metadata}


# column -> (Delta type, Arrow type, value of row r, a different value for the changed row)
Column = tuple[Any, pa.DataType, Callable[[int], Any], Any]
COLUMNS: dict[str, Column] = {
    "ByteType": ("byte", pa.int8(), lambda r: r - 10, 99),
    "ShortType": ("short", pa.int16(), lambda r: r * 100, -1),
    "IntType": ("integer", pa.int32(), lambda r: r * 1000, 7),
    "LongType": ("long", pa.int64(), lambda r: r * 10**12, 5),
    "FloatType": ("float", pa.float32(), lambda r: float("nan") if r == 3 else r / 4, 0.125),
    "DoubleType": ("double", pa.float64(), lambda r: r / 3, -0.0),
    "DecimalType": (
        "decimal(12,2)",
        pa.decimal128(12, 2),
        lambda r: decimal.Decimal(r).scaleb(-2),
        decimal.Decimal("1"),
    ),
    "StringType": ("string", pa.string(), lambda r: f"s{r}", "changed"),
    "BinaryType": ("binary", pa.binary(), lambda r: b"A" * (r % 4), b"B"),
    "BooleanType": ("boolean", pa.bool_(), lambda r: r % 2 == 0, None),
    "DateType": ("date", pa.date32(), lambda r: dt.date(2024, 1, 1) + dt.timedelta(days=r), dt.date(1999, 1, 1)),
    "TimestampType": (
        "timestamp",
        pa.timestamp("us", tz="UTC"),
        lambda r: dt.datetime(2024, 1, 1, tzinfo=UTC) + dt.timedelta(seconds=r),
        dt.datetime(2000, 1, 1, tzinfo=UTC),
    ),
    "TimestampNtzType": (
        "timestamp_ntz",
        pa.timestamp("us"),
        lambda r: dt.datetime(2024, 1, 1) + dt.timedelta(microseconds=r),
        dt.datetime(2024, 1, 1, 0, 0, 1),
    ),
    "ArrayType": (
        {"type": "array", "elementType": {"type": "struct", "fields": [field("x", "integer")]}, "containsNull": True},
        pa.list_(ELEMENT),
        lambda r: [None, [], [None], [{"x": r}]][r % 4],
        [{"x": -1}],
    ),
    "MapType": (
        {"type": "map", "keyType": "string", "valueType": "long", "valueContainsNull": True},
        pa.map_(pa.string(), pa.int64()),
        lambda r: [None, [], [("k", None)], [("k", r)]][r % 4],
        [("k", -5)],
    ),
    "StructType": (
        {
            "type": "struct",
            "fields": [
                field("a", "long"),
                field("b", {"type": "array", "elementType": "string", "containsNull": True}),
            ],
        },
        pa.struct([("a", pa.int64()), ("b", pa.list_(pa.string()))]),
        lambda r: [None, {"a": None, "b": None}, {"a": r, "b": []}, {"a": r, "b": [None, "z"]}][r % 4],
        {"a": 1, "b": ["changed"]},
    ),
    "VariantType": ("variant", VARIANT, lambda r: _variant({"n": r}), _variant([1, "two"])),
}


def _table(changed: bool) -> pa.Table:
    data: dict[str, pa.Array] = {"Id": pa.array(range(ROWS), pa.int64())}
    for position, (name, (_, arrow_type, value, other)) in enumerate(COLUMNS.items()):
        values = [value(r) for r in range(ROWS)]
        if changed:
            values[position] = other
        data[name] = pa.array(values, arrow_type)
    return pa.table(data)


def _delta(root: Path) -> DeltaBuilder:
    builder = DeltaBuilder(root)
    fields = [field("Id", "long")] + [field(name, spec[0]) for name, spec in COLUMNS.items()]
    first = builder.data_file(_table(changed=False))
    builder.commit(builder.protocol(3, 7, ["timestampNtz", "variantType"]), builder.metadata(fields), first)
    assert main(["convert", str(root), "types.t", "--lossy", "variant-as-json"]) == 0
    builder.commit(builder.remove(first), builder.data_file(_table(changed=True)))
    return builder


def test_one_changed_cell_per_type_is_exactly_one_difference(tmp_path: Path, datax_home: Path) -> None:
    root = tmp_path / "types"
    _delta(root)
    code, same = reconcile(str(root), "types.t", "--key", "Id", "--version", "0", "--report-dir", str(tmp_path / "a"))
    assert code == 0 and same["verdict"] == "match" and same["differences"] == []
    code, report = reconcile(
        str(root), "types.t", "--key", "Id", "--sample", "100", "--report-dir", str(tmp_path / "b")
    )
    assert code == 1
    found = {(d["key"]["Id"], d["column"]): d for d in report["differences"]}
    assert report["differences_total"] == len(COLUMNS) == len(found)
    assert set(found) == {(position, name) for position, name in enumerate(COLUMNS)}
    assert all(d["kind"] == "cell" and d["source"] != d["target"] for d in found.values())
    assert found[(COLUMNS_INDEX["BinaryType"], "BinaryType")]["source"] == b"B".hex()
    assert (
        found[(COLUMNS_INDEX["BinaryType"], "BinaryType")]["target"] == (b"A" * (COLUMNS_INDEX["BinaryType"] % 4)).hex()
    )
    assert found[(COLUMNS_INDEX["ByteType"], "ByteType")] == {
        "kind": "cell",
        "key": {"Id": 0},
        "column": "ByteType",
        "source": 99,
        "target": -10,
    }
    assert found[(COLUMNS_INDEX["BooleanType"], "BooleanType")]["source"] is None


COLUMNS_INDEX = {name: position for position, name in enumerate(COLUMNS)}


@pytest.fixture
def key_report(tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, str]:
    """A reconcile whose differences have an int key (3), a NULL key and a mixed-case column name."""
    builder = DeltaBuilder(tmp_path / "keys")
    schema = pa.schema([("Id", pa.int32()), ("ByteType", pa.int8()), ("Payload", pa.binary())])
    rows = {"Id": [None, 1, 2, 3, 4], "ByteType": [1, 2, 3, 4, 5], "Payload": [b"A", b"B", b"", None, b"E"]}
    first = builder.data_file(pa.table(rows, schema=schema))
    builder.commit(
        builder.protocol(),
        builder.metadata([field("Id", "integer"), field("ByteType", "byte"), field("Payload", "binary")]),
        first,
    )
    assert main(["convert", str(builder.root), "keys.t"]) == 0
    changed = {"Id": [1, 2, 3, 4], "ByteType": [2, 3, -4, 5], "Payload": [b"B", b"", None, b"E"]}
    builder.commit(builder.remove(first), builder.data_file(pa.table(changed, schema=schema)))
    capsys.readouterr()
    report_dir = tmp_path / "r"
    assert main(["reconcile", str(builder.root), "keys.t", "--key", "Id", "--report-dir", str(report_dir)]) == 1
    return report_dir, capsys.readouterr().out


def test_report_json_keeps_int_and_null_keys_and_column_case(key_report: tuple[Path, str]) -> None:
    report = json.loads((key_report[0] / "report.json").read_text())
    assert sorted(report["differences"], key=lambda d: d["kind"]) == [
        {"kind": "cell", "key": {"Id": 3}, "column": "ByteType", "source": -4, "target": 4},
        {
            "kind": "target_only",
            "key": {"Id": None},
            "column": None,
            "source": None,
            "target": {"ByteType": 1, "Payload": b"A".hex()},
        },
    ]


@pytest.mark.parametrize("rendering", ["report.html", "report.md", "console"])
def test_every_rendering_keeps_keys_and_column_names(key_report: tuple[Path, str], rendering: str) -> None:
    report_dir, console = key_report
    text = console if rendering == "console" else (report_dir / rendering).read_text()
    assert "Id=3" in text and "Id=NULL" in text and "ByteType" in text
    assert "Id=NULL, ByteType=1, Payload=41" in text  # the row only in Iceberg, with its values
    for wrong in ("Id=3.0", "Id=NaN", "Id=nan", "bytetype", "id=3", "Payload=NULL"):
        assert wrong not in text
