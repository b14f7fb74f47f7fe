"""The DuckDB engine: Delta through DuckDB's delta extension, Iceberg through its iceberg extension.

The extensions come from their PyPI packages (``duckdb-extension-delta``, ``-iceberg``, ``-avro``,
``-tpch``) and are loaded by file path with automatic install and load off, so nothing is downloaded.
Each side is a schema of views (``source.orders`` over ``delta_scan``, ``target.orders`` over
``iceberg_scan`` of the metadata file the catalog records); a query runs with the search path
set to one side, so both sides run the same text on the same connection and settings.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

import pyarrow as pa

from datax_migrate.benchmark.model import SIDES, BenchmarkError, EngineInfo
from datax_migrate.benchmark.pairs import OpenedPair
from datax_migrate.benchmark.queries import Query, query
from datax_migrate.errors import missing_extra

EXTENSIONS = ("delta", "avro", "iceberg")
"""Loaded in this order: avro before iceberg (iceberg reads its manifests through it)."""
TPCH_SCALES = (0.01, 0.1, 1.0)
"""Scale factors DuckDB's tpch extension has reference answers for."""


def duckdb_connection(extensions: tuple[str, ...] = EXTENSIONS, threads: int | None = None) -> Any:
    """A DuckDB connection with ``extensions`` loaded from their PyPI packages by path (offline).

    Raises:
        ConfigError: DuckDB or an extension package is not installed.
    """
    try:
        import duckdb
    except ImportError:
        raise missing_extra("duckdb", "benchmark", "the duckdb benchmark engine") from None
    settings: dict[str, Any] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "allow_unsigned_extensions": True,
    }
    if threads:
        settings["threads"] = threads
    con = duckdb.connect(config=settings)
    for name in extensions:
        con.execute(f"LOAD '{extension_path(name)}'")
    return con


def extension_path(name: str) -> Path:
    """The extension file the ``duckdb-extension-<name>`` package ships.

    Raises:
        ConfigError: the package is not installed.
    """
    try:
        module = importlib.import_module(f"duckdb_extension_{name}")
    except ImportError:
        raise missing_extra(f"duckdb-extension-{name}", "benchmark", "the duckdb benchmark engine") from None
    found = sorted(Path(module.__file__ or "").parent.glob(f"extensions/*/{name}.duckdb_extension"))
    if not found:
        raise BenchmarkError(f"duckdb-extension-{name} ships no {name}.duckdb_extension file")
    return found[-1]


class DuckDBEngine:
    """Both sides of every pair as views of one DuckDB connection.

    Example:
        >>> engine = DuckDBEngine(open_pairs(load_pairs("pairs.yaml")))
        >>> engine.run("target", "SELECT count(*) FROM orders")
    """

    def __init__(self, pairs: tuple[OpenedPair, ...], threads: int | None = None) -> None:
        """Open a connection (``threads``: DuckDB's default, every core, when ``None``) and define both sides."""
        remote = [p.pair.source for p in pairs if "://" in p.pair.source and not p.pair.source.startswith("file:")]
        remote += [p.metadata_location for p in pairs if not p.metadata_location.startswith(("file:", "/"))]
        if remote:
            raise BenchmarkError(
                f"the duckdb engine reads local tables; {remote[0]} is remote (use --engine spark, or the EMR mode)"
            )
        self.con = duckdb_connection(threads=threads)
        self._side: str | None = None
        for side in SIDES:
            self.con.execute(f"CREATE SCHEMA {side}")
        for opened in pairs:
            source = _local(opened.pair.source)
            self.con.execute(f"CREATE VIEW source.{opened.pair.name} AS SELECT * FROM delta_scan({_literal(source)})")
            metadata = _local(opened.metadata_location)
            self.con.execute(
                f"CREATE VIEW target.{opened.pair.name} AS SELECT * FROM iceberg_scan({_literal(metadata)})"
            )

    def info(self) -> EngineInfo:
        """DuckDB's version and settings."""
        import duckdb

        names = ("threads", "memory_limit", "preserve_insertion_order")
        settings = {name: str(self.con.execute(f"SELECT current_setting('{name}')").fetchone()[0]) for name in names}
        settings["extensions"] = ", ".join(f"{name} (duckdb-extension-{name})" for name in EXTENSIONS)
        return EngineInfo(
            name="duckdb",
            version=duckdb.__version__,
            settings=settings,
            source_reader="DuckDB delta extension: delta_scan (delta-kernel-rs) of the Delta table",
            target_reader="DuckDB iceberg extension: iceberg_scan of the metadata file the catalog records",
        )

    def run(self, side: str, sql: str) -> pa.Table:
        """Run ``sql`` against ``side``'s views."""
        if side != self._side:
            self.con.execute(f"SET search_path = '{side}'")
            self._side = side
        result: pa.Table = self.con.sql(sql).to_arrow_table()
        return result

    def close(self) -> None:
        """Close the connection."""
        self.con.close()


def tpch_queries() -> tuple[Query, ...]:
    """The 22 queries derived from TPC-H, as DuckDB's tpch extension ships them (``q01`` ... ``q22``)."""
    con = duckdb_connection(("tpch",))
    try:
        found = con.execute("SELECT query_nr, query FROM tpch_queries() ORDER BY query_nr").fetchall()
    finally:
        con.close()
    return tuple(query(f"q{number:02d}", text) for number, text in found)


def tpch_answers(scale: float) -> dict[str, str]:
    """The reference answer of each TPC-H query at ``scale`` (empty for a scale the extension has none for)."""
    if scale not in TPCH_SCALES:
        return {}
    con = duckdb_connection(("tpch",))
    try:
        found = con.execute(
            "SELECT query_nr, answer FROM tpch_answers() WHERE scale_factor = ? ORDER BY query_nr", [scale]
        ).fetchall()
    finally:
        con.close()
    return {f"q{number:02d}": answer for number, answer in found}


def _local(location: str) -> str:
    if location.startswith("file://"):
        from urllib.parse import unquote, urlparse

        return unquote(urlparse(location).path)
    return os.path.abspath(location)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
