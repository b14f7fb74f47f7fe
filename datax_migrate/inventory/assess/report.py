"""The files an assessment leaves behind: ``assessment.json``, ``assessment.md`` and ``assessment.html``."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import jinja2

from datax_migrate.files import write_documents
from datax_migrate.findings import Finding, Severity
from datax_migrate.inventory.assess.assessment import Assessment
from datax_migrate.inventory.assess.rules import BLOCKED, RECREATE_VIEW, REWRITE, UNKNOWN

MARKDOWN_ROWS = 50
"""Rows per table in ``assessment.md``; the HTML page and the JSON hold every one."""

STRATEGY_MEANINGS = {
    REWRITE: "datax-migrate convert rewrites it into Iceberg",
    RECREATE_VIEW: "a view: create it again from its translated SQL",
    BLOCKED: "the converter would refuse it: see its blocker findings",
    UNKNOWN: "its Delta log was not read: run the inventory with access to it",
}

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")


def _markdown(text: str) -> str:
    """``text`` as literal inline Markdown that stays inside one table cell."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text)).replace("\r\n", "<br>").replace("\n", "<br>")


def _size(count: int) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            return f"{count / scale:,.1f} {unit}"
    return f"{count:,} B"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:,.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:,.1f} min"
    return f"{seconds / 3600:,.1f} h"


def _dollars(amount: float) -> str:
    return "< $0.01" if 0 < amount < 0.005 else f"${amount:,.2f}"


def _environment(autoescape: bool) -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("datax_migrate.inventory.assess", "templates"),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(md=_markdown, size=_size, duration=_duration, dollars=_dollars)
    return environment


_HTML = _environment(autoescape=True)
_TEXT = _environment(autoescape=False)


def _blockers(assessment: Assessment) -> list[Finding]:
    return [f for f in assessment.all_findings() if f.severity is Severity.BLOCKER]


def render_markdown(assessment: Assessment) -> str:
    """``assessment.md``: the summary, estimates, findings by code and the first rows of each list."""
    return _TEXT.get_template("assessment.md.j2").render(
        a=assessment,
        codes=assessment.code_counts(),
        blockers=_blockers(assessment),
        strategy_meanings=STRATEGY_MEANINGS,
        limit=MARKDOWN_ROWS,
    )


def render_html(assessment: Assessment) -> str:
    """``assessment.html``: one self-contained page (inline CSS, no scripts) with every object."""
    return _HTML.get_template("assessment.html.j2").render(a=assessment, codes=assessment.code_counts())


RENDERERS: dict[str, Callable[[Assessment], str]] = {
    "assessment.json": Assessment.to_json,
    "assessment.md": render_markdown,
    "assessment.html": render_html,
}
"""Every report file by name, with the function that renders it."""


def write_reports(assessment: Assessment, report_dir: Path) -> list[Path]:
    """Write every report file into ``report_dir`` (created if needed), each atomically; return their paths."""
    return write_documents(report_dir, {name: render(assessment) for name, render in RENDERERS.items()})
