"""The checks of a reconciliation, each turning what both sides hold into a :class:`Check`."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from datax_migrate.delta import schema as delta_schema
from datax_migrate.errors import MappingError
from datax_migrate.iceberg.partitioning import partition_spec, plan_partitioning
from datax_migrate.iceberg.schema import LOSSY_MAPPINGS, TypeMapOptions, iceberg_schema
from datax_migrate.reconcile.delta_side import DeltaSide
from datax_migrate.reconcile.model import Check, Status
from datax_migrate.reconcile.scan import ScanSummary, numeric, sized
from datax_migrate.reconcile.sides import IcebergSide
from datax_migrate.reconcile.tolerance import Tolerance
from datax_migrate.reconcile.values import plain
from datax_migrate.words import plural

FLOAT_SUM_RELATIVE = 1e-9
"""Float sums depend on the order rows are added in; they agree when within this relative error."""


def schema_check(delta: DeltaSide, iceberg: IcebergSide) -> Check:
    """Names, types (through the Delta -> Iceberg type map), nullability and partitioning."""
    delta_schema = delta.snapshot.metadata.schema
    actual = iceberg.iceberg_schema
    try:
        expected = iceberg_schema(delta_schema, TypeMapOptions(lossy=frozenset(LOSSY_MAPPINGS)))
    except MappingError as exc:
        return Check("schema", Status.FAIL, f"the Delta schema has no Iceberg equivalent: {exc}")
    actual_fields = {f.name.lower(): f for f in actual.fields}
    columns, statuses = [], []
    for delta_field, want in zip(delta_schema.fields, expected.fields, strict=True):
        got = actual_fields.pop(delta_field.name.lower(), None)
        row: dict[str, Any] = {
            "column": delta_field.name,
            "delta_type": delta_field.type.name,
            "expected_iceberg_type": str(want.field_type),
            "iceberg_type": str(got.field_type) if got else None,
            "delta_nullable": delta_field.nullable,
            "iceberg_required": got.required if got else None,
        }
        if got is None:
            row["status"] = Status.FAIL.value
            row["note"] = "missing in Iceberg"
        elif str(got.field_type) != str(want.field_type) or got.required != want.required:
            row["status"] = Status.FAIL.value
        elif _converted_values(delta_field.type, delta_field.metadata):
            row["status"] = Status.EXPECTED.value
            row["note"] = "values converted as the documented type map says (docs/type-mapping.md)"
        else:
            row["status"] = Status.PASS.value
            if delta_field.type.name != str(got.field_type).replace(" ", ""):
                row["note"] = f"the same type: Iceberg's name for Delta {delta_field.type.name} (docs/type-mapping.md)"
        columns.append(row)
        statuses.append(row["status"])
    for extra in actual_fields.values():
        columns.append(
            {"column": extra.name, "iceberg_type": str(extra.field_type), "status": "fail", "note": "only in Iceberg"}
        )
        statuses.append(Status.FAIL.value)
    partitioning = _partitioning(delta, iceberg, expected)
    statuses.append(partitioning["status"])
    status = _worst(statuses)
    failing = [c["column"] for c in columns if c["status"] == "fail"]
    renamed = sorted({f"{c['delta_type']} = {c['iceberg_type']}" for c in columns if "same type" in c.get("note", "")})
    equivalents = f" ({', '.join(renamed)}: the same types under Iceberg's names, docs/type-mapping.md)"
    summary = {
        Status.PASS: f"{plural(len(columns), 'column')} with the same names, types and nullability"
        + (equivalents if renamed else "")
        + "; same partitioning",
        Status.EXPECTED: f"{plural(len(columns), 'column')} match; some values are converted exactly as the type map "
        "says (docs/type-mapping.md)",
        Status.FAIL: "schemas differ: " + (", ".join(failing) if failing else "partitioning"),
    }[status]
    return Check("schema", status, summary, {"columns": columns, "partitioning": partitioning})


def _converted_values(delta_type: delta_schema.DeltaType, metadata: dict[str, Any] | None = None) -> bool:
    """Whether the type map changes the values' type (widening, lossy mappings), not only the type's name."""
    if isinstance(delta_type, delta_schema.StructType):
        return any(_converted_values(f.type, f.metadata) for f in delta_type.fields)
    if isinstance(delta_type, delta_schema.ArrayType):
        return _converted_values(delta_type.element_type)
    if isinstance(delta_type, delta_schema.MapType):
        return _converted_values(delta_type.key_type) or _converted_values(delta_type.value_type)
    if isinstance(delta_type, delta_schema.DecimalType):
        return False
    return delta_type.name in _WIDENED_OR_LOSSY or bool(
        delta_type.name == "string" and metadata and delta_schema.COLLATIONS in metadata
    )


_WIDENED_OR_LOSSY = {"byte", "short", "variant"}
"""Delta types whose values the type map converts: widened to ``int``, or (with ``--lossy``) to JSON text."""


def _partitioning(delta: DeltaSide, iceberg: IcebergSide, expected_schema: Any) -> dict[str, Any]:
    metadata = delta.snapshot.metadata
    plan = plan_partitioning(metadata.schema, tuple(metadata.partition_columns))
    expected = _describe_spec(partition_spec(plan, expected_schema), expected_schema)
    actual = _describe_spec(iceberg.spec, iceberg.iceberg_schema)
    if actual == expected:
        status = Status.PASS
    elif [source for source, _ in actual] == [c.lower() for c in metadata.partition_columns]:
        status = Status.EXPECTED  # converted with --identity-partitions
    else:
        status = Status.FAIL
    return {
        "delta_partition_columns": list(metadata.partition_columns),
        "expected_iceberg": [f"{t}({s})" for s, t in expected],
        "iceberg": [f"{t}({s})" for s, t in actual],
        "status": status.value,
    }


def _describe_spec(spec: Any, schema: Any) -> list[tuple[str, str]]:
    return [(schema.find_column_name(f.source_id).lower(), str(f.transform)) for f in spec.fields]


def row_count_check(
    delta: DeltaSide, iceberg: IcebergSide, source: ScanSummary, target: ScanSummary, partition_columns: list[str]
) -> Check:
    """Row counts from metadata and from the scan, and per partition."""
    from_metadata = {"source": delta.metadata_rows(), "target": iceberg.metadata_rows()}
    detail: dict[str, Any] = {
        "metadata": from_metadata,
        "scanned": {"source": source.rows, "target": target.rows},
    }
    problems = []
    if source.rows != target.rows:
        problems.append(f"scanned {plural(source.rows, 'row')} in Delta, {target.rows:,} in Iceberg")
    if None not in from_metadata.values() and from_metadata["source"] != from_metadata["target"]:
        problems.append(f"metadata says {from_metadata['source']:,} vs {from_metadata['target']:,}")
    for side, counted in (("source", source.rows), ("target", target.rows)):
        recorded = from_metadata[side]
        if recorded is not None and recorded != counted:
            problems.append(
                f"{side} metadata says {plural(recorded, 'row')} but {counted:,} "
                f"{'was' if counted == 1 else 'were'} read"
            )
    if partition_columns:
        keys = sorted(set(source.partition_rows) | set(target.partition_rows), key=repr)
        differing = [
            {
                "partition": dict(zip(partition_columns, (plain(v) for v in key), strict=True)),
                "source": source.partition_rows.get(key, 0),
                "target": target.partition_rows.get(key, 0),
            }
            for key in keys
            if source.partition_rows.get(key, 0) != target.partition_rows.get(key, 0)
        ]
        detail["partitions"] = {"compared": len(keys), "differing": differing[:100], "differing_total": len(differing)}
        if differing:
            problems.append(
                f"{len(differing):,} of {plural(len(keys), 'partition')} "
                f"{'has a' if len(differing) == 1 else 'have'} different row count{'' if len(differing) == 1 else 's'}"
            )
    if problems:
        return Check("row_count", Status.FAIL, "; ".join(problems), detail)
    partitions = f", per partition in {_all(len(source.partition_rows), 'partition')}" if partition_columns else ""
    return Check("row_count", Status.PASS, f"{plural(source.rows, 'row')} on both sides{partitions}", detail)


def _all(count: int, noun: str) -> str:
    """``all 3 buckets``, but ``the single bucket``."""
    return f"the single {noun}" if count == 1 else f"all {plural(count, noun)}"


def aggregates_check(source: ScanSummary, target: ScanSummary, tolerances: dict[str, Tolerance]) -> Check:
    """NULL counts, minimum, maximum and (numeric columns) sum of every column."""
    rows: list[dict[str, Any]] = []
    statuses: list[str] = []
    for column, mine in source.aggregates.items():
        theirs = target.aggregates[column]
        kind = source.kinds.get(column, target.kinds.get(column, ""))
        status = Status.PASS
        for name in ("nulls", "minimum", "maximum", "total"):
            a, b = getattr(mine, name), getattr(theirs, name)
            if _same(a, b):
                continue
            tolerance = tolerances.get(column.lower())
            if kind == "float" and name == "total" and _close(a, b, FLOAT_SUM_RELATIVE):
                continue
            if (
                tolerance is not None
                and name != "nulls"
                and tolerance.accepts(a, b, rows=source.rows if name == "total" else 1)
            ):
                status = max(status, Status.TOLERATED, key=_rank)
                continue
            status = Status.FAIL
        rows.append(
            {
                "column": column,
                "kind": kind,
                "min_max_of": "byte length" if sized(kind) else "value",
                "source": {
                    "nulls": mine.nulls,
                    "min": plain(mine.minimum),
                    "max": plain(mine.maximum),
                    "sum": plain(mine.total),
                },
                "target": {
                    "nulls": theirs.nulls,
                    "min": plain(theirs.minimum),
                    "max": plain(theirs.maximum),
                    "sum": plain(theirs.total),
                },
                "status": status.value,
            }
        )
        statuses.append(status.value)
    status = _worst(statuses)
    failing = [r["column"] for r in rows if r["status"] == "fail"]
    numeric_columns = sum(1 for r in rows if numeric(r["kind"]))
    summary = {
        Status.PASS: f"NULL counts, min and max of {plural(len(rows), 'column')}, sums of "
        f"{plural(numeric_columns, 'numeric one')} agree",
        Status.EXPECTED: "aggregates agree",
        Status.TOLERATED: "aggregates agree within the given tolerances",
        Status.FAIL: "aggregates differ in " + ", ".join(failing),
    }[status]
    return Check("aggregates", status, summary, {"columns": rows})


def checksum_check(source: ScanSummary, target: ScanSummary) -> tuple[Check, np.ndarray]:
    """Table checksums and per-bucket checksums; also returns the differing buckets."""
    mine, theirs = source.checksums.total(), target.checksums.total()
    differing = source.checksums.differing(target.checksums)
    buckets = len(source.checksums.rows)
    detail = {
        "encoding": "datax-rowhash-1 (docs/reconcile-checksum.md)",
        "source": {"rows": mine.rows, "digest": mine.digest},
        "target": {"rows": theirs.rows, "digest": theirs.digest},
        "buckets": buckets,
        "differing_buckets": len(differing),
        "differing_bucket_ids": differing[:50].tolist(),
    }
    if mine == theirs and not len(differing):
        return Check(
            "checksum",
            Status.PASS,
            f"table checksum {mine.digest} on both sides, {_all(buckets, 'bucket')} equal",
            detail,
        ), differing
    summary = (
        f"checksums differ ({mine.digest} vs {theirs.digest}) in {len(differing):,} of {plural(buckets, 'bucket')}"
    )
    return Check("checksum", Status.FAIL, summary, detail), differing


_RANKS = [Status.SKIPPED, Status.PASS, Status.EXPECTED, Status.TOLERATED, Status.FAIL]


def _rank(status: Status) -> int:
    return _RANKS.index(status)


def _worst(statuses: list[str]) -> Status:
    return max((Status(s) for s in statuses), key=_rank, default=Status.PASS)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


def _close(a: Any, b: Any, relative: float) -> bool:
    if a is None or b is None:
        return False
    a, b = float(a), float(b)
    return math.isclose(a, b, rel_tol=relative, abs_tol=0.0) or (math.isnan(a) and math.isnan(b))
