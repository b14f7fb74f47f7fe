"""The competing jobs, each run in a fresh process: ``python benchmarks/jobs.py JOB DELTA_PATH WORKDIR``.

Prints one JSON line: the job's own seconds (measured inside the process, after imports) and its
peak RSS. Our engine is timed from outside instead, as the whole ``datax-migrate convert`` process.
"""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow.parquet as pq


def floor(delta_path: Path, workdir: Path) -> None:
    """The floor: read every Delta data file with pyarrow and write it back (zstd), on two threads."""
    from deltalake import DeltaTable

    files = [uri.removeprefix("file://") for uri in DeltaTable(str(delta_path)).file_uris()]
    out = workdir / "floor"
    out.mkdir(parents=True)

    def rewrite(item: tuple[int, str]) -> None:
        index, path = item
        pq.write_table(pq.read_table(path), out / f"{index}.parquet", compression="zstd")

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(rewrite, enumerate(files)))
    _report(time.monotonic() - started)


def pyiceberg_append(delta_path: Path, workdir: Path) -> None:
    """Naive pyiceberg: deltalake reads the table, pyiceberg appends it with the same partitioning."""
    from deltalake import DeltaTable
    from pyiceberg.catalog.sql import SqlCatalog
    from pyiceberg.partitioning import PartitionField, PartitionSpec
    from pyiceberg.transforms import IdentityTransform

    started = time.monotonic()
    data = DeltaTable(str(delta_path)).to_pyarrow_table()
    (workdir / "wh").mkdir(parents=True)
    catalog = SqlCatalog("bench", uri=f"sqlite:///{workdir / 'catalog.db'}", warehouse=(workdir / "wh").as_uri())
    catalog.create_namespace("bench")
    partition_columns = DeltaTable(str(delta_path)).metadata().partition_columns
    table = catalog.create_table("bench.naive", schema=data.schema)
    if partition_columns:
        schema = table.schema()
        spec = PartitionSpec(
            *(
                PartitionField(schema.find_field(c).field_id, 1000 + i, IdentityTransform(), c)
                for i, c in enumerate(partition_columns)
            )
        )
        catalog.drop_table("bench.naive")
        table = catalog.create_table("bench.naive", schema=schema, partition_spec=spec)
    table.append(data)
    _report(time.monotonic() - started)


def peak_rss_mb(pid: int | str = "self") -> float:
    """High-water RSS of a process's own memory (``VmHWM``; unlike ``ru_maxrss`` it does not
    carry over the parent's RSS from before ``exec``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _report(seconds: float) -> None:
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak_rss_mb()}))


JOBS = {"floor": floor, "pyiceberg": pyiceberg_append}

if __name__ == "__main__":
    JOBS[sys.argv[1]](Path(sys.argv[2]), Path(sys.argv[3]))
