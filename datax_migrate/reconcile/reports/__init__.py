"""The files a reconciliation leaves behind: ``report.json``, ``report.html``, ``report.md``, ``junit.xml``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from datax_migrate.files import write_documents
from datax_migrate.reconcile.model import Report
from datax_migrate.reconcile.reports.html import render_html
from datax_migrate.reconcile.reports.junit import render_junit
from datax_migrate.reconcile.reports.markdown import render_markdown

REPORT_JSON = "report.json"
RENDERERS: dict[str, Callable[[Report], str]] = {
    REPORT_JSON: Report.to_json,
    "report.html": render_html,
    "report.md": render_markdown,
    "junit.xml": render_junit,
}
"""Every report file by name, with the function that renders it."""

__all__ = ["RENDERERS", "REPORT_JSON", "render_html", "render_junit", "render_markdown", "write_reports"]


def write_reports(report: Report, report_dir: Path) -> list[Path]:
    """Write every report file of ``report`` into ``report_dir`` (created if needed); return their paths.

    Each file is rendered first, then written to a temporary file and renamed over the old one, so
    a crash leaves either the previous file or the new one, never half of one.
    """
    return write_documents(report_dir, {name: render(report) for name, render in RENDERERS.items()})
