"""The inventory as Parquet files, one per kind of record, for querying with any engine."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from datax_migrate.inventory.model import Inventory


def write_parquet(inventory: Inventory, folder: Path, stem: str) -> list[Path]:
    """Write ``<stem>.tables.parquet``, ``.notebooks``, ``.jobs`` and ``.failures`` into ``folder``.

    Nested values (properties, Delta facts, findings, tasks) become JSON text columns, so every file
    has a flat schema.
    """
    groups: dict[str, list[dict[str, Any]]] = {
        "tables": [asdict(table) for table in inventory.tables],
        "notebooks": [notebook.to_dict() for notebook in inventory.notebooks],
        "jobs": [asdict(job) for job in inventory.jobs],
        "failures": [asdict(failure) for failure in inventory.failures],
    }
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind, rows in groups.items():
        flat = [{key: _flat(value) for key, value in row.items()} for row in rows]
        path = folder / f"{stem}.{kind}.parquet"
        pq.write_table(pa.Table.from_pylist(flat) if flat else pa.table({}), path)
        paths.append(path)
    return paths


def _flat(value: Any) -> Any:
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return value
