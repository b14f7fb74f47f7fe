"""Plain-text pieces every report format shares: cell values, row keys, labels, the verdict sentence.

Also the console summary of ``reconcile`` (:func:`console_summary`), so the console says what the
report files say, from the same :class:`~datax_migrate.reconcile.model.Report`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any, Final

from datax_migrate.reconcile.model import ColumnSummary, Difference, Report, Status
from datax_migrate.words import plural

NULL: Final = "NULL"
ABSENT: Final = object()
"""Stands for the side a row is missing from, for a row present on one side only."""
NO_ROW: Final = "no row"
"""How :data:`ABSENT` reads in every format."""
CONSOLE_SHOWN: Final = 10
"""Differences the console summary shows; the report files list every one the report holds."""

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
    """The source and target values of ``difference`` to show; :data:`ABSENT` for the side a row is missing from.

    A row present on one side only shows its values there (key and other columns, as
    ``column=value, ...``); a ``"cell"`` shows both values, a ``"duplicate_key"`` the rows per side.
    """
    if difference.kind not in ("source_only", "target_only"):
        return difference.source, difference.target
    values = difference.source if difference.kind == "source_only" else difference.target
    row = format_key({**difference.key, **(values if isinstance(values, dict) else {})})
    return (row, ABSENT) if difference.kind == "source_only" else (ABSENT, row)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def readable(name: str) -> str:
    """An identifier such as ``row_count`` as words (``row count``)."""
    return name.replace("_", " ")


def format_seconds(seconds: float) -> str:
    """A duration as ``850 ms`` or ``12.4 s``."""
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:,.1f} s"


def verdict_sentence(report: Report) -> str:
    """Plain-language sentences saying what the verdict means (and which snapshot it is about)."""
    return " ".join([_verdict(report), *snapshot_sentences(report)])


def snapshot_sentences(report: Report) -> list[str]:
    """What the reader must know about the Iceberg snapshot compared, for the verdict banner."""
    return [s for s in (converted_from_sentence(report), moved_on_sentence(report)) if s]


def converted_from_sentence(report: Report) -> str | None:
    """That the compared snapshot was converted from another Delta version than the one compared, or ``None``."""
    converted_from, compared = report.target.converted_from_version, report.source.version
    if converted_from is None or compared is None or converted_from == compared:
        return None
    return (
        f"Iceberg snapshot {report.target.snapshot_id} was converted from Delta version {converted_from}, but Delta "
        f"version {compared} was compared: differences may be Delta commits between the two versions, not "
        "conversion errors."
    )


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


def differences_sentence(report: Report) -> str:
    """How many differences were found and how many the report lists, and where the others are."""
    total, listed = report.differences_total, report.differences_listed
    if total == 0:
        return "No differences were found."
    if listed >= total:
        return f"{plural(total, 'difference')} found, {'listed' if total == 1 else f'all {total:,} listed'}."
    others = total - listed
    return (
        f"{plural(total, 'difference')} found, {listed:,} listed (--sample {report.sample_limit:,}, a reproducible "
        f"choice with seed {report.sample_seed}); the other {others:,} {'was' if others == 1 else 'were'} not kept: "
        f"rerun reconcile with --sample {total} to list them all."
    )


def shown_sentence(report: Report, shown: int, fuller: str) -> str | None:
    """That a rendering shows only ``shown`` of the listed differences, and which files (``fuller``) list them all."""
    listed = report.differences_listed
    if shown >= listed:
        return None
    return f"Shown here: the first {shown:,} of the {listed:,} listed; {fuller} list all {listed:,}."


def column_statistics_sentence(report: Report) -> str | None:
    """What the per-column statistics cover, as datacompy's column comparison says it; ``None``: no row diff ran."""
    row_diff = next((check for check in report.checks if check.name == "row_diff"), None)
    if row_diff is None or row_diff.status is Status.SKIPPED:
        return None
    if not report.column_summaries:
        return "Per-column statistics need key columns (--key): without them rows are compared whole."
    compared = report.column_summaries[0].compared
    unequal = [summary for summary in report.column_summaries if summary.unequal]
    values = sum(summary.unequal for summary in unequal)
    examined = row_diff.detail.get("examined", "the differing buckets")
    return (
        f"Over the {plural(compared, 'row')} re-read from {examined} and matched by key (the other buckets' checksums "
        f"are equal): {plural(len(unequal), 'column')} with some values unequal, "
        f"{len(report.column_summaries) - len(unequal):,} with all values equal; "
        f"{plural(values, 'value')} unequal in all."
    )


def column_statistics(report: Report) -> list[ColumnSummary]:
    """The column summaries worth a row: columns with unequal values, NULLs on one side, or any numeric difference."""
    return [s for s in report.column_summaries if s.unequal or s.null_diff or s.max_abs_diff not in (None, 0, "0")]


COLUMN_STATISTICS_HEADER: Final = [
    "Column",
    "Values compared",
    "Unequal",
    "NULL on one side",
    "Max abs diff",
    "Max rel diff",
]


def column_statistics_row(summary: ColumnSummary) -> list[str]:
    """One row of the per-column statistics, as :data:`COLUMN_STATISTICS_HEADER` names its cells."""
    return [
        summary.column,
        f"{summary.compared:,}",
        f"{summary.unequal:,}",
        f"{summary.null_diff:,}",
        "—" if summary.max_abs_diff is None else _figure(summary.max_abs_diff),
        "—" if summary.max_rel_diff is None else f"{summary.max_rel_diff:.3g}",
    ]


def _figure(value: Any) -> str:
    """A difference as text: floats to 6 significant digits, exact numbers (decimals, integers) whole."""
    return f"{value:.6g}" if isinstance(value, float) else format_value(value)


def console_summary(report: Report, report_dir: object) -> str:
    """What ``reconcile`` prints: verdict, checks, and at most :data:`CONSOLE_SHOWN` of the listed differences."""
    source, target = report.source, report.target
    lines = [
        " ".join(
            [
                f"{report.verdict.upper()}: {source.location} @ Delta version {source.version} vs {target.location} "
                f"snapshot {target.snapshot_id} ({report.seconds:.1f} s).",
                *snapshot_sentences(report),
            ]
        ),
        f"  {_verdict(report)}",
    ]
    lines += [f"  warning: {w}" for w in report.warnings]
    lines += [f"  {c.status.value:<9} {c.name:<11} {c.summary}" for c in report.checks]
    if report.proof is not None:
        lines.append(f"  proof: {PROOF_LEVELS.get(report.proof.level, report.proof.level)}")
        lines += [f"    compared: {sentence}" for sentence in report.proof.compared]
        lines += [f"    not proven: {sentence}" for sentence in report.proof.not_proven]
        lines += [f"    {line}" for line in recompute_lines(report)]
    lines.append(f"  {differences_sentence(report)}")
    shown = report.differences[:CONSOLE_SHOWN]
    for difference in shown:
        source_value, target_value = (_console_value(v) for v in difference_sides(difference))
        where = f" {difference.column}:" if difference.column is not None else ""
        lines.append(f"    {difference.kind} {format_key(difference.key)}{where} {source_value} -> {target_value}")
    more = shown_sentence(report, len(shown), "report.html and report.json")
    if more:
        lines.append(f"  {more}")
    statistics = column_statistics_sentence(report)
    if statistics:
        lines.append(f"  {statistics}")
        for summary in column_statistics(report):
            _, _, unequal, nulls, absolute, relative = column_statistics_row(summary)
            numbers = f", max abs diff {absolute}, max rel diff {relative}" if summary.max_abs_diff is not None else ""
            lines.append(f"    {summary.column}: {unequal} unequal, {nulls} NULL on one side{numbers}")
    lines.append(f"reports: {report_dir}")
    return "\n".join(lines)


def _console_value(value: Any) -> str:
    return NO_ROW if value is ABSENT else shorten(format_value(value), 80)


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
