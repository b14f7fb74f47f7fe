"""The jobs ours is compared with, each run in a fresh process by the benchmark.

    python benchmarks/jobs.py floor DELTA_PATH WORKDIR CODEC
    python benchmarks/jobs.py pyiceberg DELTA_PATH WORKDIR

Prints one JSON line: ``seconds`` (the job itself, timed inside the process after the imports)
and what it wrote. The benchmark times the whole process from outside as well. Each job imports
only what it uses, so the whole-process figures compare too.
"""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

FLOOR_WORKERS = 2
NAIVE_IDENTIFIER = "bench.naive"


def naive_catalog_properties(workdir: Path) -> dict[str, str]:
    """The SQL catalog (SQLite + file warehouse) the naive pyiceberg job writes into."""
    return {
        "type": "sql",
        "uri": f"sqlite:///{workdir / 'catalog.db'}",
        "warehouse": (workdir / "warehouse").as_uri(),
    }


def floor(delta_path: Path, workdir: Path, codec: str) -> dict[str, object]:
    """Read every active Delta data file with pyarrow and write it back with ``codec``, on two threads."""
    import pyarrow.parquet as pq
    from deltalake import DeltaTable

    files = [uri.removeprefix("file://") for uri in DeltaTable(str(delta_path)).file_uris()]
    out = workdir / "floor"
    out.mkdir(parents=True)

    def rewrite(item: tuple[int, str]) -> int:
        index, path = item
        table = pq.read_table(path)
        pq.write_table(table, out / f"{index:05d}.parquet", compression=codec)
        return table.num_rows

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=FLOOR_WORKERS) as pool:
        rows = sum(pool.map(rewrite, enumerate(files)))
    seconds = time.monotonic() - started
    return {"seconds": seconds, "rows": rows, "output_files": len(files), **_folder_bytes(out)}


def naive_pyiceberg(delta_path: Path, workdir: Path) -> dict[str, object]:
    """Read the table with deltalake, create a pyiceberg SQL-catalog table with the same partitioning, append."""
    import pyiceberg.catalog.sql  # noqa: F401 - imported before the timer, like the floor's pyarrow
    import pyiceberg.io.pyarrow  # noqa: F401
    from deltalake import DeltaTable
    from pyiceberg.catalog import load_catalog

    started = time.monotonic()
    delta = DeltaTable(str(delta_path))
    data = delta.to_pyarrow_table()
    read_seconds = time.monotonic() - started
    (workdir / "warehouse").mkdir(parents=True, exist_ok=True)
    catalog = load_catalog("bench", **naive_catalog_properties(workdir))
    catalog.create_namespace("bench")
    table = catalog.create_table(NAIVE_IDENTIFIER, schema=data.schema)
    partition_columns = delta.metadata().partition_columns
    if partition_columns:
        with table.update_spec() as spec:
            for column in partition_columns:
                spec.add_identity(column)
    table.append(data)
    seconds = time.monotonic() - started
    return {"seconds": seconds, "read_seconds": read_seconds, "rows": data.num_rows}


def _folder_bytes(folder: Path) -> dict[str, int]:
    return {"output_bytes": sum(f.stat().st_size for f in folder.iterdir())}


JOBS = {"floor": floor, "pyiceberg": naive_pyiceberg}

if __name__ == "__main__":
    print(json.dumps(JOBS[sys.argv[1]](Path(sys.argv[2]), Path(sys.argv[3]), *sys.argv[4:])))
