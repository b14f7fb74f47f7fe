"""The files a reconciliation leaves behind: ``report.json``, ``report.html``, ``report.md``, ``junit.xml``."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

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
    report_dir.mkdir(parents=True, exist_ok=True)
    documents = {name: render(report) for name, render in RENDERERS.items()}
    paths = []
    for name, text in documents.items():
        paths.append(report_dir / name)
        _write_atomically(paths[-1], text)
    _sync_directory(report_dir)
    return paths


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _sync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
