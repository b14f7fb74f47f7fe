"""Reconciling NULL, empty and non-empty nested values at several depths: no false alarm, real changes found."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from deltalake import write_deltalake
from pyiceberg.catalog import Catalog

from datax_migrate.cli import main
from datax_migrate.config import Config
from datax_migrate.iceberg.read import read_snapshot
from tests.support.tables import assert_same_rows

LEAF = pa.struct([("d", pa.string()), ("n", pa.list_(pa.int64()))])
INNER = pa.struct([("c", pa.list_(LEAF)), ("e", pa.map_(pa.string(), LEAF))])
SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("items", pa.list_(pa.struct([("name", pa.string()), ("leaves", pa.list_(LEAF))]))),
        ("attrs", pa.map_(pa.string(), pa.struct([("v", pa.int64()), ("inner", INNER)]))),
        ("info", pa.struct([("a", pa.int32()), ("b", INNER)])),
        ("numbers", pa.list_(pa.int64())),
    ]
)

LEAVES: list[Any] = [None, {"d": None, "n": None}, {"d": "x", "n": []}, {"d": "y", "n": [1, None]}]
LEAF_LISTS: list[Any] = [None, [], [None], LEAVES[1:], [LEAVES[3], None]]
INNERS: list[Any] = [
    None,
    {"c": None, "e": None},
    {"c": [], "e": []},
    {"c": [None], "e": [("k", None)]},
    {"c": LEAVES[1:], "e": [("k", LEAVES[2]), ("l", LEAVES[3])]},
]
ITEMS: list[Any] = [
    None,
    [],
    [None],
    [{"name": None, "leaves": None}],
    [{"name": "i", "leaves": lists} for lists in LEAF_LISTS],
]
ATTRS: list[Any] = [None, [], [("a", None)], [("a", {"v": None, "inner": inner}) for inner in INNERS[:2]]]
ATTRS += [[("a", {"v": 1, "inner": inner})] for inner in INNERS]
INFOS: list[Any] = [None, {"a": None, "b": None}] + [{"a": 7, "b": inner} for inner in INNERS]
NUMBERS: list[Any] = [None, [], [None], [1, 2]]


def nested_rows() -> pa.Table:
    """Every value of every pool, each next to NULL, empty and full values of the other columns."""
    pools = [ITEMS, ATTRS, INFOS, NUMBERS]
    longest = max(len(p) for p in pools)
    rows = []
    for shift, index in itertools.product(range(longest), range(longest)):
        values = [pool[(index + shift * column) % len(pool)] for column, pool in enumerate(pools, start=1)]
        rows.append({"id": len(rows), **dict(zip(SCHEMA.names[1:], values, strict=True))})
    return pa.Table.from_pylist(rows, schema=SCHEMA)


def converted(root: Path, table: pa.Table) -> None:
    write_deltalake(root, table)
    assert main(["convert", str(root), "lake.nested"]) == 0


def reconcile(source: Path, report_dir: Path, *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["reconcile", str(source), "lake.nested", "--report-dir", str(report_dir), *args])
    return code, json.loads((report_dir / "report.json").read_text())


def current_table(catalog: Catalog) -> pa.Table:
    return read_snapshot(catalog.load_table("lake.nested"))


@pytest.mark.parametrize("keys", [["--key", "id"], []], ids=["keyed", "whole-rows"])
def test_null_empty_and_full_nested_values_reconcile_as_a_match(
    tmp_path: Path, datax_home: Path, keys: list[str]
) -> None:
    table = nested_rows()
    converted(tmp_path / "nested", table)
    assert_same_rows(current_table(Config.load().catalog()), table)
    code, report = reconcile(tmp_path / "nested", tmp_path / "r", *keys)
    assert report["verdict"] == "match" and code == 0, report["checks"]
    assert report["differences"] == []


def duckdb_rows(metadata_location: str) -> pa.Table:
    """The table as DuckDB's Iceberg reader sees it (its extensions come from PyPI, loaded offline)."""
    duckdb = pytest.importorskip("duckdb")
    connection = duckdb.connect()
    for name in ("avro", "iceberg"):
        module = pytest.importorskip(f"duckdb_extension_{name}")
        (extension,) = Path(module.__file__).parent.glob("extensions/*/*.duckdb_extension")
        connection.execute(f"LOAD '{extension}'")
    return connection.execute(f"SELECT * FROM iceberg_scan('{metadata_location}')").to_arrow_table()


def test_duckdb_reads_the_converted_table_as_our_reader_does(tmp_path: Path, datax_home: Path) -> None:
    table = nested_rows()
    converted(tmp_path / "nested", table)
    iceberg = Config.load().catalog().load_table("lake.nested")
    assert_same_rows(duckdb_rows(iceberg.metadata_location), table)
    assert_same_rows(read_snapshot(iceberg), table)


def test_the_reader_keeps_what_pyiceberg_scan_empties(tmp_path: Path, datax_home: Path) -> None:
    table = nested_rows()
    converted(tmp_path / "nested", table)
    iceberg = Config.load().catalog().load_table("lake.nested")
    ours = read_snapshot(iceberg).sort_by("id")
    assert ours.to_pylist() == table.to_pylist()
    theirs = iceberg.scan().to_arrow().sort_by("id")  # apache/iceberg-python 3833, pyiceberg <= 0.12
    null_items = [row["id"] for row in table.to_pylist() if row["items"] is None]
    assert null_items and all(theirs.column("items")[i].as_py() == [] for i in null_items)


@pytest.mark.parametrize(
    ("column", "row", "value"),
    [
        ("items", 3, [{"name": "i", "leaves": [{"d": "x", "n": [1]}]}]),
        ("attrs", 5, [("a", {"v": 1, "inner": {"c": [None], "e": [("k", {"d": "changed", "n": None})]}})]),
        ("info", 8, None),
        ("numbers", 2, [None, None]),
    ],
)
def test_a_change_deep_inside_a_nested_value_is_found(
    tmp_path: Path, datax_home: Path, column: str, row: int, value: Any
) -> None:
    table = nested_rows()
    converted(tmp_path / "nested", table)
    rows = table.to_pylist()
    before = rows[row][column]
    assert before != value
    rows[row][column] = value
    write_deltalake(tmp_path / "nested", pa.Table.from_pylist(rows, schema=SCHEMA), mode="overwrite")
    code, report = reconcile(tmp_path / "nested", tmp_path / "r", "--key", "id")
    assert code == 1 and report["verdict"] == "mismatch"
    assert report["differences_total"] == 1
    (difference,) = report["differences"]
    assert difference["kind"] == "cell" and difference["key"] == {"id": row} and difference["column"] == column
