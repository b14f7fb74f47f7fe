"""The renderings of an :class:`~datax_migrate.estate.status.EstateStatus`: console text and the control-tower page.

The page is one self-contained HTML file (inline CSS and script, nothing fetched). The summary
(counts by state per wave, failures by reason, throughput) is rendered on the server; the tables
travel as one compact JSON array of arrays that the page's script filters, sorts and shows a page
at a time, so 10,000 tables stay a page of 100 rows in the DOM.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import jinja2

from datax_migrate.words import format_bytes, plural

if TYPE_CHECKING:
    from datax_migrate.estate.status import EstateStatus

PAGE_COLUMNS = (
    "target",
    "databricks_name",
    "catalog",
    "wave",
    "state",
    "reason",
    "attempts",
    "rows",
    "bytes",
    "report_path",
    "verdict",
    "signed_off_by",
)
"""The fields of each table row in the page's data, in order."""
DICTIONARY_COLUMNS = ("catalog", "state", "reason", "verdict", "signed_off_by")
"""Columns with few distinct values: the page's data holds an index into a list of them."""
TEXT_LIMIT = 20
"""Failures and mismatches the console lists by name before it says how many more there are."""
TEXT_WIDTH = 80
"""Columns the console's table of counts keeps to."""

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("datax_migrate.estate", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def format_duration(seconds: float) -> str:
    """A duration for people: ``45 s``, ``12 min``, ``3 h 20 min``, ``2 d 4 h``."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def throughput_sentence(status: EstateStatus) -> str:
    """Throughput and ETA in one sentence."""
    return "; ".join(_throughput_and_eta(status))


def _throughput_and_eta(status: EstateStatus) -> tuple[str, str]:
    if status.tables_per_hour is None:
        speed = "throughput: not measured yet (no table has finished)"
    else:
        speed = (
            f"throughput: {status.tables_per_hour:,.1f} tables/hour, {status.rows_per_second or 0:,.0f} rows/s, "
            f"{format_bytes(status.bytes_per_second or 0)}/s over {format_duration(status.busy_seconds)} busy"
        )
    if status.remaining == 0:
        eta = "nothing left to run"
    elif status.eta_seconds is None:
        eta = f"ETA unknown for {plural(status.remaining, 'table')} left"
    else:
        eta = f"ETA {format_duration(status.eta_seconds)} for {plural(status.remaining, 'table')} left"
    return speed, eta


def render_text(status: EstateStatus) -> str:
    """The console rendering: the per-wave counts, what was moved, throughput, failures and mismatches.

    The counts are a table when it fits :data:`TEXT_WIDTH` columns, else a block per wave (a table with
    a column for each of many states would not).
    """
    scope = f"wave {status.wave}" if status.wave is not None else plural(len(status.waves), "wave")
    lines = [f"{status.plan_dir}: {plural(len(status.tables), 'table')} in {scope} (at {status.generated_at})"]
    lines += _counts(status)
    lines.append(f"moved: {status.rows:,} rows, {format_bytes(status.bytes)}")
    lines += _throughput_and_eta(status)  # a line each: together they pass 80 columns
    if status.failures:
        lines.append(f"failed or blocked: {plural(len(status.failures), 'table')}, by reason:")
        for reason, count in status.failure_reasons()[:TEXT_LIMIT]:
            lines.append(f"  {count:>6,}  {reason}")
        failures = status.failures
        for record in failures[:TEXT_LIMIT]:
            lines.append(
                f"  {record.state:<10} {record.catalog}.{record.target} (wave {record.wave}, "
                f"attempts {record.attempts}): {record.reason or 'no reason recorded'}"
            )
        if len(failures) > TEXT_LIMIT:
            lines.append(f"  ... and {len(failures) - TEXT_LIMIT:,} more (--output json lists them all)")
    if status.mismatches:
        lines.append(
            f"mismatched: {plural(len(status.mismatches), 'table')} (sign off only with --accept-differences):"
        )
        for record in status.mismatches[:TEXT_LIMIT]:
            lines.append(f"  {record.catalog}.{record.target} (wave {record.wave}): report {record.report_path or '-'}")
        if len(status.mismatches) > TEXT_LIMIT:
            lines.append(f"  ... and {len(status.mismatches) - TEXT_LIMIT:,} more")
    return "\n".join(lines) + "\n"


def _counts(status: EstateStatus) -> list[str]:
    """The counts by state of each wave and of all: a table, or a block per wave when the table is too wide."""
    states = [state for state, count in status.counts.items() if count]
    groups = [(str(w.wave), w.tables, w.counts, w.rows, w.bytes) for w in status.waves]
    groups.append(("all", len(status.tables), status.counts, status.rows, status.bytes))
    header = ["wave", "tables", *states, "rows", "bytes"]
    body = [
        [label, f"{tables:,}", *(f"{counts.get(s, 0):,}" for s in states), f"{rows:,}", format_bytes(size)]
        for label, tables, counts, rows, size in groups
    ]
    widths = [max(len(row[i]) for row in (header, *body)) for i in range(len(header))]
    table = ["  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)) for row in (header, *body)]
    if max(len(line) for line in table) <= TEXT_WIDTH:
        return table
    blocks = []
    for label, tables, counts, rows, size in groups:
        name = "all waves" if label == "all" else f"wave {label}"
        blocks.append(f"{name}: {plural(tables, 'table')}, {rows:,} rows, {format_bytes(size)}")
        line = ""
        for item in (f"{s} {counts[s]:,}" for s in states if counts.get(s, 0)):
            if line and len(line) + len(item) + 2 > TEXT_WIDTH:
                blocks.append(line + ",")
                line = ""
            line = f"{line}, {item}" if line else f"  {item}"
        blocks.append(line)
    return blocks


def render_status_page(status: EstateStatus) -> str:
    """The control-tower page ``status.html``."""
    states = [state for state, count in status.counts.items() if count] or list(status.counts)[:1]
    return _ENVIRONMENT.get_template("status.html.j2").render(
        status=status,
        states=states,
        all_states=list(status.counts),
        throughput=throughput_sentence(status),
        reasons=status.failure_reasons()[:50],
        data=_page_data(status),
        signed_off=sum(1 for r in status.tables if r.signed_off_by),
        format_bytes=format_bytes,
        format_duration=format_duration,
    )


def _page_data(status: EstateStatus) -> str:
    """The tables as compact JSON, safe inside a ``<script>`` element (no ``<``, ``>`` or ``&`` as such).

    ``rows`` is one array per table in :data:`PAGE_COLUMNS` order; a column of
    :data:`DICTIONARY_COLUMNS` holds an index into ``dictionaries[column]`` (``null`` stays ``null``),
    and ``report_path`` is ``1`` when it is the runner's usual ``reports/CATALOG/NAMESPACE/TABLE``.
    """
    dictionaries: dict[str, dict[Any, int]] = {name: {} for name in DICTIONARY_COLUMNS}
    rows: list[list[Any]] = []
    for record in status.tables:
        row: list[Any] = []
        for name in PAGE_COLUMNS:
            value = getattr(record, name)
            if value is not None and name in dictionaries:
                value = dictionaries[name].setdefault(value, len(dictionaries[name]))
            elif name == "report_path" and value == f"reports/{record.catalog}/{record.target.replace('.', '/')}":
                value = 1
            row.append(value)
        rows.append(row)
    document = {
        "columns": PAGE_COLUMNS,
        "dictionaries": {name: list(values) for name, values in dictionaries.items()},
        "rows": rows,
    }
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
