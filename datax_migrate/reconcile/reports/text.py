"""Plain-text pieces every report format shares: cell values, row keys, labels, the verdict sentence."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any, Final

from datax_migrate.reconcile.model import Difference, Report, Status

NULL: Final = "NULL"
ABSENT: Final = object()
"""Stands for a value a difference does not have, e.g. either side of a row present on one side only."""

STATUS_LABELS: Final = {
    Status.PASS: "Pass",
    Status.EXPECTED: "Expected",
    Status.TOLERATED: "Within tolerance",
    Status.FAIL: "Fail",
    Status.SKIPPED: "Skipped",
}
DIFFERENCE_KINDS: Final = {
    "cell": "Different value",
    "source_only": "Row only in Delta",
    "target_only": "Row only in Iceberg",
    "duplicate_key": "Key repeated (rows per side)",
}


def format_value(value: Any) -> str:
    """``value`` as text.

    ``None`` is ``NULL``; booleans and non-finite floats are spelled as in JSON (``true``,
    ``NaN``, ``-Infinity``); bytes are ``0x`` hex; dates and times ISO-8601; lists and maps JSON.
    """
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return repr(value) if math.isfinite(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, bytes | bytearray | memoryview):
        return "0x" + bytes(value).hex()
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, default=format_value)
    return str(value)


def format_key(key: dict[str, Any]) -> str:
    """A row key as ``column=value, ...``."""
    return ", ".join(f"{column}={format_value(value)}" for column, value in key.items())


def difference_sides(difference: Difference) -> tuple[Any, Any]:
    """The source and target values of ``difference`` to show; :data:`ABSENT` where it has none.

    Only a ``"cell"`` difference compares two values, so only there does ``None`` mean NULL.
    """
    if difference.kind == "cell":
        return difference.source, difference.target
    return (
        ABSENT if difference.source is None else difference.source,
        ABSENT if difference.target is None else difference.target,
    )


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def readable(name: str) -> str:
    """An identifier such as ``row_count`` as words (``row count``)."""
    return name.replace("_", " ")


def format_seconds(seconds: float) -> str:
    """A duration as ``850 ms`` or ``12.4 s``."""
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:,.1f} s"


def plural(count: int, noun: str) -> str:
    """``count`` and ``noun``, with an ``s`` unless there is exactly one (``1 check``, ``2 checks``)."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def verdict_sentence(report: Report) -> str:
    """Plain-language sentences saying what the verdict means (and which snapshot it is about)."""
    moved_on = moved_on_sentence(report)
    return _verdict(report) + (f" {moved_on}" if moved_on else "")


def moved_on_sentence(report: Report) -> str | None:
    """That the compared snapshot is no longer the table's current one, or ``None`` when it is."""
    current = report.target.current_snapshot_id
    if current is None:
        return None
    return (
        f"This compared Iceberg snapshot {report.target.snapshot_id}, an older snapshot: the table has moved on "
        f"since, and readers see its current snapshot {current}, which was not compared."
    )


def _verdict(report: Report) -> str:
    delta = f"Delta version {report.source.version}" if report.source.version is not None else "the Delta table"
    if not report.matches:
        failed = [check.name for check in report.checks if check.status is Status.FAIL]
        checks = (
            f": {len(failed)} of {plural(len(report.checks), 'check')} failed ({', '.join(failed)})" if failed else ""
        )
        total = report.differences_total
        found = f", and {plural(total, 'difference')} {'was' if total == 1 else 'were'} found" if total else ""
        return f"The Iceberg table does not hold the same data as {delta}{checks}{found}."
    rows = report.target.rows if report.target.rows is not None else report.source.rows
    what = plural(rows, "row") if rows is not None else "rows"
    statuses = {check.status for check in report.checks}
    if Status.TOLERATED in statuses:
        return (
            f"The Iceberg table holds the same {what} as {delta}, with some values differing within the "
            "tolerances given."
        )
    if Status.EXPECTED in statuses:
        return (
            f"The Iceberg table holds the same {what} as {delta}, differing only where the documented "
            "Delta-to-Iceberg mapping says it must."
        )
    return f"The Iceberg table holds exactly the same {what} as {delta}."


PROOF_LEVELS: Final = {
    "every_row": "every row, every common column",
    "narrowed": "every row, chosen columns only",
}


def recompute_lines(report: Report) -> list[str]:
    """How to recompute the checksums elsewhere: the SQL files and the figures they must return."""
    recompute = report.recompute
    if not recompute or "unavailable" in recompute:
        return []
    lines = [f"To recompute the checksums in your own warehouse, run {', '.join(recompute['files'])} there:"]
    for side in ("source", "target"):
        figures = recompute[side]
        lines.append(
            f"{side}: row_count {figures['row_count']}, lane_1 {figures['lane_1']}, lane_2 {figures['lane_2']} "
            f"(digest {figures['digest']})"
        )
    return lines
