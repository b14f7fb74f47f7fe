"""Run the generated Trino SQL on DuckDB, offline: sqlglot transpiles it, DuckDB executes it.

No Trino server runs here. DuckDB executes the statement for real: the CTEs, the lambdas
(``transform``, ``reduce`` become ``list_transform``, ``list_reduce``), the BIGINT arithmetic, which
fails on overflow as Trino's does, the bitwise operations, dates and timestamps, and the
aggregation. Three fix-ups make DuckDB read it as Trino means it:

- sqlglot renders ``bitwise_and(a, b)`` and its kin as the operators ``&``, ``|``, which bind more
  loosely than ``*`` and ``+`` in DuckDB; every binary expression is put in parentheses first so
  that the statement keeps Trino's evaluation order.
- The Trino functions DuckDB lacks are defined with Trino's documented semantics: the shifts and
  ``with_timezone`` as DuckDB macros, ``length`` of a VARBINARY as ``octet_length``, ``reverse`` by
  code points (DuckDB's reverses grapheme clusters, Trino's code points), and the byte-level
  ``crc32``, ``to_ieee754_64`` and ``from_big_endian_64`` as Python functions (zlib, struct).
- The Delta and Iceberg extensions come from their PyPI packages, loaded by path with
  ``autoinstall_known_extensions`` off, so nothing is downloaded.
"""

from __future__ import annotations

import importlib
import struct
import zlib
from pathlib import Path
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp

Figures = list[tuple[int, int, int, int]]

_MACROS = [
    "CREATE MACRO bitwise_left_shift(a, b) AS (a << b)",
    "CREATE MACRO bitwise_right_shift(a, b) AS (a >> b)",
    "CREATE MACRO with_timezone(ts, zone) AS timezone(zone, ts)",
    "CREATE MACRO length(x) AS octet_length(x)",
    "CREATE MACRO reverse(x) AS array_to_string(list_reverse(string_split(x, '')), '')",
]


def transpile(trino_sql: str) -> str:
    """``trino_sql`` in DuckDB's dialect, every binary expression parenthesised (Trino's order)."""
    tree = sqlglot.parse_one(trino_sql, read="trino")
    for node in reversed(list(tree.find_all(exp.Binary))):  # deepest first: parents copy wrapped children
        if not isinstance(node.parent, exp.Paren):
            node.replace(exp.Paren(this=node.copy()))
    return tree.sql(dialect="duckdb")


def connection(extensions: tuple[str, ...] = ()) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the Trino functions it lacks, and ``extensions`` loaded from PyPI packages."""
    con = duckdb.connect(config={"autoinstall_known_extensions": False, "allow_unsigned_extensions": True})
    for name in extensions:
        module = importlib.import_module(f"duckdb_extension_{name}")
        (path,) = Path(module.__file__ or "").parent.glob(f"extensions/*/{name}.duckdb_extension")
        con.execute(f"LOAD '{path}'")
    con.create_function("crc32", lambda data: zlib.crc32(data), ["BLOB"], "BIGINT")
    con.create_function("to_ieee754_64", lambda value: struct.pack(">d", value), ["DOUBLE"], "BLOB")
    con.create_function("from_big_endian_64", lambda data: struct.unpack(">q", data)[0], ["BLOB"], "BIGINT")
    for macro in _MACROS:
        con.execute(macro)
    return con


def run_trino(con: duckdb.DuckDBPyConnection, trino_sql: str) -> Figures:
    """The ``(bucket, row_count, lane_1, lane_2)`` rows of a generated Trino statement, run on DuckDB."""
    rows: list[tuple[Any, ...]] = con.sql(transpile(trino_sql)).fetchall()
    return [(int(b), int(n), int(l1), int(l2)) for b, n, l1, l2 in rows]
