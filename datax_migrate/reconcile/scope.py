"""What a reconciliation covers: the columns it compares, and the proof level its report states."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pyarrow as pa

from datax_migrate.errors import ReconcileError
from datax_migrate.reconcile.model import Check, ProofLevel, Status
from datax_migrate.words import plural

COLLISION_BITS = 64
"""Bits of a bucket checksum: two lane sums of 32 bits each (docs/reconcile-checksum.md)."""


def common_columns(source: pa.Schema, target: pa.Schema) -> list[str]:
    """The source's columns that the target has too (case-insensitively), in source order."""
    theirs = {name.lower() for name in target.names}
    return [name for name in source.names if name.lower() in theirs]


def select_columns(
    common: Sequence[str], keep: Sequence[str], exclude: Sequence[str], keys: Sequence[str]
) -> tuple[list[str], list[str]]:
    """The compared columns and the ones left out on purpose, from ``--columns`` and ``--exclude``.

    Args:
        common: the columns both sides have, in source order.
        keep: compare only these (empty: every common column); key columns are always compared.
        exclude: leave these out.
        keys: the key columns.

    Returns:
        ``(compared, excluded)``, both in source order with the source's spelling.

    Raises:
        ReconcileError: a name is in neither side's common columns (all such names at once), a key
            column is excluded, or nothing is left to compare.

    """
    by_lower = {name.lower(): name for name in common}
    unknown = [name for name in [*keep, *exclude] if name.lower() not in by_lower]
    if unknown:
        raise ReconcileError(
            f"--columns/--exclude name(s) {', '.join(repr(n) for n in unknown)} not in both tables "
            f"(common columns: {', '.join(common)})"
        )
    key_names = {key.lower() for key in keys}
    excluded_keys = [name for name in exclude if name.lower() in key_names]
    if excluded_keys:
        raise ReconcileError(f"key column(s) {', '.join(excluded_keys)} cannot be excluded: keys are always compared")
    wanted = {name.lower() for name in keep} | key_names if keep else set(by_lower)
    wanted -= {name.lower() for name in exclude}
    compared = [name for name in common if name.lower() in wanted]
    if not compared:
        raise ReconcileError("--columns/--exclude leave no column to compare")
    return compared, [name for name in common if name.lower() not in wanted]


def proof_level(
    checks: Sequence[Check],
    compared: Sequence[str],
    excluded: Sequence[str],
    keys: Sequence[str],
    buckets: int,
    listed: int,
    total: int,
    sql_unavailable: str | None = None,
    tolerances: Mapping[str, str] | None = None,
) -> ProofLevel:
    """The proof level of a reconciliation: what it compared and what it does not prove.

    Args:
        checks: the checks run, by name (``row_diff`` detail says which buckets were diffed).
        compared: the compared columns.
        excluded: the common columns left out on purpose.
        keys: the key columns (empty: whole-row comparison).
        buckets: the bucket count of the checksum.
        listed: differences listed in the report.
        total: differences found in all.
        sql_unavailable: why the report folder holds no checksum SQL, if it does not.
        tolerances: column -> tolerance given (``abs:X`` / ``rel:Y``).

    """
    by_name = {check.name: check for check in checks}
    rows = by_name["row_count"].detail.get("scanned", {}) if "row_count" in by_name else {}
    columns = plural(len(compared), "column") + (f" ({', '.join(compared)})" if excluded else "")
    compared_text = [
        f"Every row of both sides was read ({_rows(rows.get('source'))} source rows, "
        f"{_rows(rows.get('target'))} target rows) and the schemas were compared.",
        f"Row counts, per-column aggregates and a checksum of every row over {columns} were compared, in "
        f"{plural(buckets, 'bucket')} "
        f"{'by the hash of the key ' + ', '.join(keys) if keys else 'by the hash of each row'}.",
    ]
    not_proven = [
        f"Equal checksums are strong evidence, not a proof: two different sets of rows give the same checksum "
        f"of a bucket with a probability of about 2^-{COLLISION_BITS} per bucket (at most {buckets:,} x "
        f"2^-{COLLISION_BITS} for the table).",
        "Table metadata beyond the schema is not compared: table properties, partition spec, sort order, "
        "snapshot history, statistics and file layout.",
        "It covers the Delta version and the Iceberg snapshot named above only, not later commits.",
    ]
    row_diff = by_name.get("row_diff")
    if row_diff is not None and row_diff.status is not Status.SKIPPED:
        examined = row_diff.detail.get("examined", "the differing buckets")
        compared_text.append(f"Rows of {examined} were compared value by value{' by key' if keys else ''}.")
        if total > listed:
            not_proven.append(f"Only {listed:,} of the {plural(total, 'difference')} found are listed.")
    if excluded:
        not_proven.append(
            f"{'Column' if len(excluded) == 1 else 'Columns'} {', '.join(excluded)} "
            f"{'was' if len(excluded) == 1 else 'were'} left out on purpose (--columns/--exclude): "
            f"{'its' if len(excluded) == 1 else 'their'} values were not compared."
        )
    if tolerances:
        given = ", ".join(f"{column} ({tolerance})" for column, tolerance in tolerances.items())
        not_proven.append(f"Values may differ within the tolerances given: {given}.")
    if sql_unavailable:
        not_proven.append(f"The report folder holds no checksum SQL to recompute it elsewhere: {sql_unavailable}.")
    return ProofLevel(
        level="narrowed" if excluded else "every_row",
        compared=compared_text,
        not_proven=not_proven,
        columns_compared=list(compared),
        columns_excluded=list(excluded),
    )


def _rows(count: object) -> str:
    return f"{count:,}" if isinstance(count, int) else "?"
