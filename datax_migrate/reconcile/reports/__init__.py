"""The files a reconciliation leaves behind.

``report.json``, ``report.html``, ``report.md``, ``junit.xml``, the checksum SQL of both sides
(``checksum-source.spark.sql``, ...), and ``manifest.json``, written last, which lists every other
file with its SHA-256: a folder without it, or whose files differ from it, is incomplete.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from datax_migrate.files import write_folder
from datax_migrate.reconcile.model import Report
from datax_migrate.reconcile.reports.html import render_html
from datax_migrate.reconcile.reports.junit import render_junit
from datax_migrate.reconcile.reports.markdown import render_markdown

REPORT_JSON = "report.json"
MANIFEST = "manifest.json"
"""Written last: ``{"complete": true, "files": {name: sha256}}`` of every other report file."""
RENDERERS: dict[str, Callable[[Report], str]] = {
    REPORT_JSON: Report.to_json,
    "report.html": render_html,
    "report.md": render_markdown,
    "junit.xml": render_junit,
}
"""Every report file by name, with the function that renders it."""

__all__ = [
    "MANIFEST",
    "RENDERERS",
    "REPORT_JSON",
    "manifest",
    "render_html",
    "render_junit",
    "render_markdown",
    "write_reports",
]


def manifest(documents: dict[str, str]) -> str:
    """The ``manifest.json`` of ``documents`` (file name -> text)."""
    files = {name: hashlib.sha256(text.encode("utf-8")).hexdigest() for name, text in sorted(documents.items())}
    return json.dumps({"complete": True, "files": files}, indent=2) + "\n"


def write_reports(report: Report, report_dir: Path) -> list[Path]:
    """Write every report file of ``report`` into ``report_dir``, :data:`MANIFEST` last; return their paths.

    Every file is rendered first. A new folder appears whole (written under a temporary name,
    then renamed); an existing one loses its manifest first and gets it back last. So an
    interrupted write never leaves a folder that ``signoff`` accepts.
    """
    documents = {name: render(report) for name, render in RENDERERS.items()}
    documents.update(report.checksum_sql)
    for earlier in report_dir.glob("checksum-*.sql") if report_dir.is_dir() else ():
        if earlier.name not in documents:  # an earlier run's SQL that this report has none of
            earlier.unlink()
    return write_folder(report_dir, {**documents, MANIFEST: manifest(documents)}, MANIFEST)
