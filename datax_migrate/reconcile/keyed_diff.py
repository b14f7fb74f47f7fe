"""The keyed row comparison: datacompy over the rows of the differing buckets, with tolerances."""

from __future__ import annotations

import json
from typing import Any

import datacompy
import numpy as np
import pandas as pd
import pyarrow as pa

from datax_migrate.reconcile.model import Difference
from datax_migrate.reconcile.tolerance import Tolerance
from datax_migrate.reconcile.values import plain


def keyed_differences(
    source: pa.Table, target: pa.Table, keys: list[str], tolerances: dict[str, Tolerance]
) -> list[Difference]:
    """Rows only in ``source``, only in ``target``, duplicate keys, and cells that differ beyond ``tolerances``."""
    left, right = _frame(source, tolerances), _frame(target, tolerances)
    differences = _duplicates(left, keys, "source") + _duplicates(right, keys, "target")
    compare = datacompy.PandasCompare(
        left,
        right,
        join_columns=keys,
        abs_tol={c: t.absolute for c, t in tolerances.items()},
        rel_tol={c: t.relative for c, t in tolerances.items()},
        df1_name="source",
        df2_name="target",
        cast_column_names_lower=False,
    )
    for kind, frame in (("source_only", compare.df1_unq_rows), ("target_only", compare.df2_unq_rows)):
        for row in frame[left.columns].to_dict("records"):
            differences.append(Difference(kind, _key(row, keys)))
    rows = compare.intersect_rows
    for column in left.columns:
        if column in keys or f"{column}_match" not in rows:
            continue
        for row in rows.loc[~rows[f"{column}_match"]].to_dict("records"):
            differences.append(
                Difference(
                    "cell",
                    _key(row, keys),
                    column,
                    plain(_cell(row[f"{column}_source"])),
                    plain(_cell(row[f"{column}_target"])),
                )
            )
    return differences


def _frame(table: pa.Table, tolerances: dict[str, Tolerance]) -> pd.DataFrame:
    columns = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_nested(column.type):
            columns[name] = pd.Series([json.dumps(plain(v), sort_keys=True) for v in column.to_pylist()], dtype=object)
        elif pa.types.is_decimal(column.type) and name in tolerances:
            columns[name] = column.cast(pa.float64()).to_pandas()
        else:
            columns[name] = column.to_pandas()
    return pd.DataFrame(columns)


def _duplicates(frame: pd.DataFrame, keys: list[str], side: str) -> list[Difference]:
    repeated = frame[frame.duplicated(keys, keep=False)]
    counts = repeated.groupby(keys, dropna=False).size() if len(repeated) else []
    result = []
    for key, count in getattr(counts, "items", lambda: [])():
        values = key if isinstance(key, tuple) else (key,)
        result.append(
            Difference(
                "duplicate_key",
                {k: plain(_cell(v)) for k, v in zip(keys, values, strict=True)},
                None,
                int(count) if side == "source" else None,
                int(count) if side == "target" else None,
            )
        )
    return result


def _key(row: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    return {k: plain(_cell(row[k])) for k in keys}


def _cell(value: Any) -> Any:
    """A pandas cell as a Python value (``None`` for missing, native scalars for numpy ones)."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    try:
        if pd.isna(value) and not isinstance(value, float):
            return None
    except (TypeError, ValueError):
        pass
    return value
