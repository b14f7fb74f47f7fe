"""``report.md``: the verdict, identity, checks and first differences, to paste into a ticket or PR."""

from __future__ import annotations

import re
from typing import Any

from datax_migrate.delta.commit_times import COMMIT_INFO_TIMESTAMP
from datax_migrate.reconcile.model import Report
from datax_migrate.reconcile.reports.text import (
    ABSENT,
    COLUMN_STATISTICS_HEADER,
    DIFFERENCE_KINDS,
    NO_ROW,
    NULL,
    PROOF_LEVELS,
    STATUS_LABELS,
    column_statistics,
    column_statistics_row,
    column_statistics_sentence,
    difference_sides,
    differences_sentence,
    format_key,
    format_seconds,
    format_value,
    readable,
    recompute_lines,
    shorten,
    shown_sentence,
    verdict_sentence,
)

DIFFERENCES_SHOWN = 20
"""Differences listed in ``report.md``; the HTML page and ``report.json`` list every sampled one."""
VALUE_LIMIT = 80
"""Characters of a value shown in a cell."""

_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")


def render_markdown(report: Report) -> str:
    """The ``report.md`` document of ``report``."""
    word = "MATCH" if report.matches else "MISMATCH"
    source, target = report.source, report.target
    lines = [
        f"# {'✅' if report.matches else '❌'} {word}: {_escape(report.table)}",
        "",
        _escape(verdict_sentence(report)),
        "",
        "| | Source: Delta | Target: Iceberg |",
        "|---|---|---|",
        f"| Location | {_escape(source.location)} | {_escape(target.location)} |",
        f"| Version / snapshot | version {_optional(source.version)} | snapshot {_optional(target.snapshot_id)} |",
        f"| Committed at | {_optional(source.commit_timestamp)}{_by(source.commit_time_source)} "
        f"| {_optional(target.commit_timestamp)} |",
        f"| Rows read | {_rows(source.rows)} | {_rows(target.rows)} |",
        "",
        "## Checks",
        "",
        "| Check | Result | What it found |",
        "|---|---|---|",
        *(f"| {_escape(readable(c.name))} | {STATUS_LABELS[c.status]} | {_escape(c.summary)} |" for c in report.checks),
        "",
        *_proof(report),
        "## Differences",
        "",
        _escape(differences_sentence(report)),
        "",
    ]
    shown = report.differences[:DIFFERENCES_SHOWN]
    if shown:
        lines += ["| Row key | Column | Delta value | Iceberg value | Kind |", "|---|---|---|---|---|"]
        for difference in shown:
            source_value, target_value = difference_sides(difference)
            column = _escape(difference.column) if difference.column is not None else "—"
            kind = DIFFERENCE_KINDS.get(difference.kind, difference.kind)
            key = _escape(shorten(format_key(difference.key), VALUE_LIMIT))
            lines.append(f"| {key} | {column} | {_value(source_value)} | {_value(target_value)} | {kind} |")
        lines.append("")
    more = shown_sentence(report, len(shown), "report.html and report.json")
    if more:
        lines += [_escape(more), ""]
    lines += _statistics(report)
    lines += [
        f"datax-migrate {_escape(report.tool_version)}, started {report.started_at}, took "
        f"{format_seconds(report.seconds)}. Sign off with `datax-migrate signoff REPORT_DIR --by NAME`"
        + ("." if report.matches else ' and `--accept-differences "reason"`.'),
    ]
    if report.warnings:
        lines += ["", "## Warnings", "", *(f"- {_escape(warning)}" for warning in report.warnings)]
    return "\n".join(lines) + "\n"


def _proof(report: Report) -> list[str]:
    """The "What this proves" section: what was compared, what it does not prove, the recompute figures."""
    proof = report.proof
    if proof is None:
        return []
    lines = [f"## What this proves ({_escape(PROOF_LEVELS.get(proof.level, proof.level))})", ""]
    lines += [f"- {_escape(sentence)}" for sentence in proof.compared]
    lines += ["", "It does not prove:", ""]
    lines += [f"- {_escape(sentence)}" for sentence in proof.not_proven]
    recompute = recompute_lines(report)
    if recompute:
        lines += ["", _escape(recompute[0]), "", *(f"- {_escape(line)}" for line in recompute[1:])]
    return [*lines, ""]


def _statistics(report: Report) -> list[str]:
    """The "Column statistics" section, when a row diff ran."""
    sentence = column_statistics_sentence(report)
    if sentence is None:
        return []
    lines = ["## Column statistics", "", _escape(sentence), ""]
    rows = [column_statistics_row(summary) for summary in column_statistics(report)]
    if rows:
        lines += ["| " + " | ".join(COLUMN_STATISTICS_HEADER) + " |", "|---|" + "---:|" * (len(rows[0]) - 1)]
        lines += ["| " + " | ".join(_escape(cell) for cell in row) + " |" for row in rows]
        lines.append("")
    return lines


def _value(value: Any) -> str:
    if value is ABSENT:
        return f"*{NO_ROW}*"
    if value is None:
        return f"*{NULL}*"
    return _escape(shorten(format_value(value), VALUE_LIMIT))


def _by(commit_time_source: str | None) -> str:
    """`` (from commitInfo.timestamp)`` when the Delta commit time is not the protocol's own."""
    return f" (from {COMMIT_INFO_TIMESTAMP})" if commit_time_source == COMMIT_INFO_TIMESTAMP else ""


def _optional(value: int | str | None) -> str:
    return "—" if value is None else _escape(str(value))


def _rows(count: int | None) -> str:
    return "—" if count is None else f"{count:,}"


def _escape(text: str) -> str:
    """``text`` as literal inline Markdown that stays inside one table cell."""
    return _SPECIAL.sub(r"\\\1", text).replace("\r\n", "<br>").replace("\n", "<br>")
