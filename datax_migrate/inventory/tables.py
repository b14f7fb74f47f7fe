"""The inventory as Parquet files, one per kind of record, for querying with any engine."""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from datax_migrate.findings import Finding
from datax_migrate.inventory.model import Inventory

FINDINGS_TYPE = pa.list_(
    pa.struct([(f.name, pa.int64() if f.name in ("cell", "line") else pa.string()) for f in fields(Finding)])
)
"""``findings``: a list of structs with the :class:`~datax_migrate.findings.Finding` fields."""


def write_parquet(inventory: Inventory, folder: Path, stem: str) -> list[Path]:
    """Write ``<stem>.tables.parquet``, ``.notebooks``, ``.jobs`` and ``.failures`` into ``folder``.

    Columns are the fields of the JSON entries: lists of names stay lists, ``findings`` is a list of
    structs, other nested values (properties, constraints, job tasks) are JSON text.
    """
    groups: dict[str, list[dict[str, Any]]] = {
        "tables": [table.to_dict() for table in inventory.tables],
        "notebooks": [notebook.to_dict() for notebook in inventory.notebooks],
        "jobs": [asdict(job) for job in inventory.jobs],
        "failures": [asdict(failure) for failure in inventory.failures],
    }
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind, rows in groups.items():
        path = folder / f"{stem}.{kind}.parquet"
        pq.write_table(_arrow(rows), path)
        paths.append(path)
    return paths


def _arrow(rows: list[dict[str, Any]]) -> pa.Table:
    if not rows:
        return pa.table({})
    columns = {}
    for name in rows[0]:
        values = [row[name] for row in rows]
        if name == "findings":
            columns[name] = pa.array(values, FINDINGS_TYPE)
        elif any(_structured(value) for value in values):
            columns[name] = pa.array(
                [None if v is None else json.dumps(v, sort_keys=True, ensure_ascii=False) for v in values]
            )
        else:
            columns[name] = pa.array(values)
    return pa.table(columns)


def _structured(value: Any) -> bool:
    """A dict, or a list holding dicts: written as JSON text."""
    return isinstance(value, dict) or (isinstance(value, (list, tuple)) and any(isinstance(v, dict) for v in value))
