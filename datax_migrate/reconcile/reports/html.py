"""``report.html``: one self-contained page (inline CSS, no scripts) a non-engineer can read and sign off."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import jinja2

from datax_migrate.reconcile.model import REPORT_SCHEMA_VERSION, Difference, Report, Status
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
    verdict_sentence,
)

VALUE_LIMIT = 160
"""Characters of a value shown in a table cell; a longer value is cut and shown whole on hover."""

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("datax_migrate.reconcile.reports", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _thousands(count: int | None) -> str | None:
    return None if count is None else f"{count:,}"


_ENVIRONMENT.filters.update(readable=readable, seconds=format_seconds, thousands=_thousands)


@dataclass(frozen=True)
class _Cell:
    """A table cell: the text shown, the whole value when that text is cut, and a CSS class."""

    text: str
    full: str | None = None
    css: str = ""


@dataclass(frozen=True)
class _Table:
    """A table of a check's figures."""

    title: str
    header: list[str]
    rows: list[list[_Cell]]


def render_html(report: Report) -> str:
    """The ``report.html`` page of ``report``."""
    return _ENVIRONMENT.get_template("report.html.j2").render(
        report=report,
        sentence=verdict_sentence(report),
        status_labels=STATUS_LABELS,
        differences=[_difference_row(difference) for difference in report.differences],
        details=[(check, _detail_tables(check.detail)) for check in report.checks],
        schema_version=REPORT_SCHEMA_VERSION,
        proof_levels=PROOF_LEVELS,
        recompute=recompute_lines(report),
        differences_sentence=differences_sentence(report),
        statistics_sentence=column_statistics_sentence(report),
        statistics=_Table(
            "",
            COLUMN_STATISTICS_HEADER,
            [[_Cell(text) for text in column_statistics_row(summary)] for summary in column_statistics(report)],
        ),
    )


def _difference_row(difference: Difference) -> list[_Cell]:
    source, target = difference_sides(difference)
    return [
        _cell(format_key(difference.key)),
        _cell(difference.column) if difference.column is not None else _Cell("—", css="absent"),
        _cell(source),
        _cell(target),
        _Cell(DIFFERENCE_KINDS.get(difference.kind, difference.kind)),
    ]


def _cell(value: Any, column: str = "") -> _Cell:
    if value is ABSENT:
        return _Cell(NO_ROW, css="absent")
    if value is None:
        return _Cell(NULL, css="null")
    if column == "status" and value in {status.value for status in Status}:
        return _Cell(STATUS_LABELS[Status(value)], css=f"badge {value}")
    text = format_value(value)
    shown = shorten(text, VALUE_LIMIT)
    return _Cell(shown, full=text if shown != text else None)


def _detail_tables(detail: dict[str, Any]) -> list[_Table]:
    """A check's figures: single figures in one two-column table, each list of records in its own table."""
    figures, tables = [], []
    for path, value in _flatten(detail):
        if _is_records(value):
            tables.append(_records_table(readable(" ".join(path)), value))
        else:
            figures.append([_Cell(readable(" ".join(path))), _cell(value, path[-1])])
    return ([_Table("", ["Figure", "Value"], figures)] if figures else []) + tables


def _records_table(title: str, records: list[dict[str, Any]]) -> _Table:
    rows = [dict(_flatten(record)) for record in records]
    columns = list(dict.fromkeys(path for row in rows for path in row))
    return _Table(
        title,
        [readable(" ".join(path)) for path in columns],
        [[_cell(row[path], path[-1]) if path in row else _Cell("") for path in columns] for row in rows],
    )


def _flatten(document: dict[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    for name, value in document.items():
        path = (*prefix, str(name))
        if isinstance(value, dict) and value:
            yield from _flatten(value, path)
        else:
            yield path, value


def _is_records(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(item, dict) for item in value)
