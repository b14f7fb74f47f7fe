"""Variant values decode to JSON text; variant columns convert only with --lossy variant-as-json."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from pathlib import Path

import pyarrow as pa
import pytest
from pyiceberg.catalog import Catalog

from datax_migrate.convert import ConvertOptions, convert_table
from datax_migrate.delta.variant import variant_to_json
from datax_migrate.errors import CorruptLogError, MappingError
from datax_migrate.iceberg.read import read_snapshot
from tests.support.delta_builder import DeltaBuilder, field
from tests.support.variant_encoder import encode


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "null"),
        (True, "true"),
        (-42, "-42"),
        (2.5, "2.5"),
        ("short", '"short"'),
        ("x" * 70, json.dumps("x" * 70)),
        (decimal.Decimal("12345678901234567890.123"), "12345678901234567890.123"),
        (dt.date(2024, 2, 29), '"2024-02-29"'),
        ({"b": [1, {"a": None}], "a": "é"}, '{"a":"é","b":[1,{"a":null}]}'),
        ([], "[]"),
    ],
)
def test_decode(value: object, text: str) -> None:
    assert variant_to_json(*encode(value)) == text


def test_garbage_is_refused() -> None:
    with pytest.raises(CorruptLogError, match="invalid variant value"):
        variant_to_json(b"\x02\xff", encode({})[1])


def test_variant_column_converts_only_on_request(tmp_path: Path, catalog: Catalog) -> None:
    builder = DeltaBuilder(tmp_path / "t")
    rows = [{"k": 1}, None, [1, "two"]]
    encoded = [encode(v) for v in rows]
    variant_type = pa.struct([("value", pa.binary()), ("metadata", pa.binary())])
    column = pa.array(
        [{"value": v, "metadata": m} if r is not None else None for (v, m), r in zip(encoded, rows, strict=True)],
        variant_type,
    )
    builder.commit(
        builder.protocol(3, 7, ["variantType"]),
        builder.metadata([field("id", "long"), field("payload", "variant")]),
        builder.data_file(pa.table({"id": pa.array([1, 2, 3], pa.int64()), "payload": column})),
    )
    with pytest.raises(MappingError, match="--lossy variant-as-json"):
        convert_table(str(builder.root), catalog, "v.t")
    convert_table(str(builder.root), catalog, "v.t", options=ConvertOptions(lossy=frozenset({"variant-as-json"})))
    got = {r["id"]: r["payload"] for r in read_snapshot(catalog.load_table("v.t")).to_pylist()}
    assert got == {1: '{"k":1}', 2: None, 3: '[1,"two"]'}
