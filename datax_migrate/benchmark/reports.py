"""report.json, report.html and report.md of a query benchmark, all rendered from one :class:`BenchmarkReport`.

report.html is one self-contained page (inline CSS and SVG charts, no scripts): the verdict line,
the bar chart of per-query medians on both sides, the ratio chart, the table of figures and how
each side is stored.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import jinja2

from datax_migrate.benchmark.charts import Charts, render_charts
from datax_migrate.benchmark.model import BenchmarkReport, TableLayout
from datax_migrate.files import write_documents
from datax_migrate.words import format_bytes

REPORT_FILES = ("report.json", "report.html", "report.md")

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("datax_migrate.benchmark", "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def verdict(report: BenchmarkReport) -> str:
    """One line: whether the answers agree, and the geometric-mean ratio."""
    equal = "yes" if report.answers_equal else "NO"
    line = f"Answers equal: {equal}"
    if report.reference_equal is not None:
        line += f"; equal to the reference answers: {'yes' if report.reference_equal else 'NO'}"
    line += f". Geometric-mean ratio Iceberg/Delta: {_ratio(report.geomean_ratio)}"
    if math.isfinite(report.geomean_ratio):
        line += " (Iceberg faster)" if report.geomean_ratio < 1 else " (Iceberg not faster)"
    return line + "."


def render_json(report: BenchmarkReport) -> str:
    """report.json."""
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False, allow_nan=True) + "\n"


def render_markdown(report: BenchmarkReport) -> str:
    """report.md."""
    return _ENVIRONMENT.get_template("report.md.j2").render(_context(report))


def render_html(report: BenchmarkReport, charts: Charts | None = None) -> str:
    """report.html (charts drawn now unless given)."""
    charts = charts or render_charts(report.queries)
    return _ENVIRONMENT.get_template("report.html.j2").render(_context(report), charts=charts)


def write_reports(report: BenchmarkReport, folder: Path, charts: Charts | None = None) -> None:
    """Write report.json, report.html and report.md into ``folder`` (created if missing)."""
    documents = {
        "report.json": render_json(report),
        "report.html": render_html(report, charts),
        "report.md": render_markdown(report),
    }
    write_documents(folder, documents)


def _context(report: BenchmarkReport) -> dict[str, Any]:
    return {
        "report": report,
        "verdict": verdict(report),
        "ratio": _ratio,
        "seconds": _seconds,
        "size": format_bytes,
        "memory": format_bytes(report.machine.memory_bytes),
        "layouts": [_layout_row(layout) for layout in report.layouts],
        "reference_mark": _reference_mark,
    }


def _layout_row(layout: TableLayout) -> dict[str, str]:
    low, median, high = layout.row_group_rows
    return {
        "name": layout.name,
        "side": "Delta (source)" if layout.side == "source" else "Iceberg (target)",
        "files": f"{layout.files:,}",
        "bytes": format_bytes(layout.bytes),
        "rows": f"{layout.rows:,}",
        "codecs": ", ".join(layout.codecs) or "-",
        "row_groups": f"{layout.row_groups:,}",
        "row_group_rows": f"{low:,} / {median:,} / {high:,}",
        "row_group_bytes": format_bytes(layout.row_group_bytes_median),
        "partitioning": layout.partitioning,
        "sort_order": layout.sort_order,
        "location": layout.location,
        "version": str(layout.version),
    }


def _reference_mark(reference: dict[str, bool]) -> str:
    if not reference:
        return "-"
    return ", ".join(f"{side} {'yes' if ok else 'NO'}" for side, ok in reference.items())


def _ratio(value: float) -> str:
    return f"{value:.3f}" if math.isfinite(value) else "n/a"


def _seconds(value: float) -> str:
    return f"{value:.4f}" if value < 1 else f"{value:.3f}"
