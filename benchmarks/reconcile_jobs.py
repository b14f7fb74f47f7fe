"""The baselines ``datax-migrate reconcile`` is compared with, each run in a fresh process by the benchmark.

    python benchmarks/reconcile_jobs.py scan|polars|pandas SPEC_JSON

``SPEC_JSON`` names the pair: ``{"delta_path", "delta_version", "catalog", "catalog_properties",
"identifier", "key"}``. Prints one JSON line: ``seconds`` (the job itself, timed inside the process
after the imports), its parts, and what it found. The benchmark times the whole process from outside
as well. Each job imports only what it uses, so the whole-process figures compare too.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any


def scan(spec: dict[str, Any]) -> dict[str, Any]:
    """Read every data file of both sides with ``pyarrow.parquet.read_table`` (default threads), one after another.

    ``seconds`` is the reading only; listing the files (Delta log replay, Iceberg catalog and manifests)
    is ``list_seconds``.
    """
    import pyarrow.parquet as pq
    from deltalake import DeltaTable

    started = time.monotonic()
    delta_paths = [
        u.removeprefix("file://") for u in DeltaTable(spec["delta_path"], version=spec["delta_version"]).file_uris()
    ]
    iceberg = _iceberg_table(spec)
    iceberg_paths = [task.file.file_path.removeprefix("file://") for task in iceberg.scan().plan_files()]
    listed = time.monotonic()
    delta_rows = sum(pq.read_table(path).num_rows for path in delta_paths)
    delta_read = time.monotonic()
    iceberg_rows = sum(pq.read_table(path).num_rows for path in iceberg_paths)
    done = time.monotonic()
    return {
        "seconds": done - listed,
        "list_seconds": listed - started,
        "delta_seconds": delta_read - listed,
        "iceberg_seconds": done - delta_read,
        "delta_files": len(delta_paths),
        "iceberg_files": len(iceberg_paths),
        "delta_rows": delta_rows,
        "iceberg_rows": iceberg_rows,
    }


def polars_compare(spec: dict[str, Any]) -> dict[str, Any]:
    """datacompy ``PolarsCompare`` joined on the key: load both sides whole, compare, ``matches()``.

    Delta is loaded by deltalake into Arrow, Iceberg by pyiceberg ``scan().to_arrow()``; both go to
    polars with ``polars.from_arrow``.
    """
    import polars as pl
    from datacompy import PolarsCompare

    return _datacompy(spec, lambda arrow: pl.from_arrow(arrow), PolarsCompare)


def pandas_compare(spec: dict[str, Any]) -> dict[str, Any]:
    """datacompy ``PandasCompare`` joined on the key: load both sides whole (pandas), compare, ``matches()``."""
    from datacompy import PandasCompare

    return _datacompy(spec, lambda arrow: arrow.to_pandas(), PandasCompare)


def _datacompy(spec: dict[str, Any], frame: Callable[[Any], Any], compare_class: Callable[..., Any]) -> dict[str, Any]:
    import pyiceberg.catalog.sql  # noqa: F401 - imported before the timer
    import pyiceberg.io.pyarrow  # noqa: F401
    from deltalake import DeltaTable

    started = time.monotonic()
    delta = frame(DeltaTable(spec["delta_path"], version=spec["delta_version"]).to_pyarrow_table())
    iceberg = frame(_iceberg_table(spec).scan().to_arrow())
    loaded = time.monotonic()
    compare = compare_class(delta, iceberg, join_columns=spec["key"], df1_name="delta", df2_name="iceberg")
    compared = time.monotonic()
    matches = bool(compare.matches())
    done = time.monotonic()
    return {
        "seconds": done - started,
        "load_seconds": loaded - started,
        "compare_seconds": compared - loaded,
        "matches_seconds": done - compared,
        "matches": matches,
        "delta_rows": len(delta),
        "iceberg_rows": len(iceberg),
    }


def _iceberg_table(spec: dict[str, Any]) -> Any:
    from pyiceberg.catalog import load_catalog

    return load_catalog(spec["catalog"], **spec["catalog_properties"]).load_table(spec["identifier"])


JOBS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "scan": scan,
    "polars": polars_compare,
    "pandas": pandas_compare,
}

if __name__ == "__main__":
    print(json.dumps(JOBS[sys.argv[1]](json.loads(sys.argv[2]))))
