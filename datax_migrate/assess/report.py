"""The files an assessment leaves behind: ``assessment.json``, ``assessment.md`` and ``assessment.html``."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import jinja2
from markupsafe import Markup, escape
from rich.console import Console
from rich.table import Table

from datax_migrate.assess.assessment import Assessment, BlockerGroup
from datax_migrate.assess.rules import BLOCKED, RECREATE_VIEW, REWRITE, UNKNOWN
from datax_migrate.files import write_documents
from datax_migrate.words import format_bytes, plural

MARKDOWN_ROWS = 50
"""Rows per table in ``assessment.md``; the HTML page and the JSON hold every one."""

STRATEGY_MEANINGS = {
    REWRITE: "datax-migrate convert rewrites it into Iceberg",
    RECREATE_VIEW: "a view: create it again from its translated SQL",
    BLOCKED: "the converter would refuse it: see its blocker findings",
    UNKNOWN: "its Delta log was not read: run the inventory with access to it",
}

EMPTY = "The inventory holds no tables, notebooks or jobs, and its crawl reported nothing: there is nothing to assess."
"""What every report says instead of empty tables."""
CONSOLE_NAMES = 10
"""Objects named per blocker on the console; the reports name every one."""

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")
_SEPARATOR = re.compile(r"([./_\-:=])")
_LONG_WORD = re.compile(r"\S{20,}")


def _markdown(text: str) -> str:
    """``text`` as literal inline Markdown that stays inside one table cell."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text)).replace("\r\n", "<br>").replace("\n", "<br>")


def _identifier(text: object) -> Markup:
    """An identifier or path for HTML that wraps only after ``. / _ - : =`` (``<wbr>``), never inside a word."""
    return Markup('<span class="id">{}</span>').format(Markup(_SEPARATOR.sub(r"\1<wbr>", str(escape(str(text))))))


def _prose(text: object) -> Markup:
    """Running text for HTML: words wrap as words; long identifiers in it wrap at their separators only."""
    escaped = str(escape(str(text)))
    return Markup(_LONG_WORD.sub(lambda word: _SEPARATOR.sub(r"\1<wbr>", word.group(0)), escaped))


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
        loader=jinja2.PackageLoader("datax_migrate.assess", "templates"),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        md=_markdown, size=format_bytes, duration=_duration, dollars=_dollars, id=_identifier, prose=_prose
    )
    environment.globals.update(empty=EMPTY, estimate_rows=estimate_rows, objects=_objects)
    return environment


def estimate_rows(assessment: Assessment) -> list[tuple[str, str]]:
    """The estimate for the tables to rewrite, ``(what, how much)``, in the units every report uses."""
    totals = assessment.totals
    unsized = f" (+{totals.unsized_tables:,} of unknown size)" if totals.unsized_tables else ""
    return [
        ("Tables", f"{totals.tables:,}{unsized}"),
        ("Delta data", f"{format_bytes(totals.total_bytes)} in {totals.file_count:,} files"),
        ("Conversion time, one table at a time on 2 cores", _duration(totals.seconds)),
        ("S3 Tables storage", f"{_dollars(totals.storage_per_month)} a month"),
        (
            f"S3 Tables object monitoring ({totals.target_objects:,} objects)",
            f"{_dollars(totals.monitoring_per_month)} a month",
        ),
        ("PUT requests of the conversion", f"{_dollars(totals.conversion_requests)} once"),
    ]


def _objects(assessment: Assessment, group: BlockerGroup) -> str:
    """``19 tables`` or ``3 objects``: what a blocker group blocks, counted."""
    noun = "table" if all(subject in assessment.table_names for subject in group.subjects) else "object"
    return plural(len(group.subjects), noun)


def _shared_blockers(assessment: Assessment) -> dict[tuple[str, str], int]:
    """``(code, subject)`` -> the index of its blocker group, for blockers stated once for many objects."""
    return {
        (group.code, subject): index
        for index, group in enumerate(assessment.blocker_groups)
        if len(group.subjects) > 1
        for subject in group.subjects
    }


_HTML = _environment(autoescape=True)
_TEXT = _environment(autoescape=False)


def render_markdown(assessment: Assessment) -> str:
    """``assessment.md``: the summary, estimates, findings by code and the first rows of each list."""
    return _TEXT.get_template("assessment.md.j2").render(
        a=assessment,
        codes=assessment.code_counts(),
        groups=assessment.blocker_groups,
        strategy_meanings=STRATEGY_MEANINGS,
        limit=MARKDOWN_ROWS,
    )


def render_html(assessment: Assessment) -> str:
    """``assessment.html``: one self-contained page (inline CSS, no scripts) with every object."""
    return _HTML.get_template("assessment.html.j2").render(
        a=assessment,
        codes=assessment.code_counts(),
        groups=assessment.blocker_groups,
        shared=_shared_blockers(assessment),
        strategy_meanings=STRATEGY_MEANINGS,
    )


def print_console(assessment: Assessment, console: Console | None = None) -> None:
    """The console summary: strategies, findings by code, each blocker once, the estimate (as in the reports)."""
    console = console or Console(soft_wrap=True)
    if assessment.is_empty:
        console.print(EMPTY)
        return
    strategies = Table(title="Tables by strategy", title_justify="left")
    strategies.add_column("Strategy")
    strategies.add_column("Tables", justify="right")
    for strategy, count in assessment.strategy_counts().items():
        strategies.add_row(strategy, f"{count:,}")
    console.print(strategies)
    codes = Table(title="Findings by code", title_justify="left")
    for column in ("Code", "Severity", "Count"):
        codes.add_column(column, justify="right" if column == "Count" else "left")
    for code, severity, count in assessment.code_counts():
        codes.add_row(code, severity, f"{count:,}")
    console.print(codes)
    for group in assessment.blocker_groups:
        names = ", ".join(group.subjects[:CONSOLE_NAMES])
        more = f" and {len(group.subjects) - CONSOLE_NAMES:,} more" if len(group.subjects) > CONSOLE_NAMES else ""
        console.print(
            f"blocker {group.code} ({_objects(assessment, group)}: {names}{more}): {group.message}",
            markup=False,
            highlight=False,
        )
    console.print("Estimate for the tables to rewrite:")
    for what, amount in estimate_rows(assessment):
        console.print(f"  {what}: {amount}", markup=False, highlight=False)
    console.print(
        f"{assessment.blockers:,} blocker finding(s), {len(assessment.notebooks):,} notebooks, "
        f"{len(assessment.jobs):,} jobs.",
        highlight=False,
    )


RENDERERS: dict[str, Callable[[Assessment], str]] = {
    "assessment.json": Assessment.to_json,
    "assessment.md": render_markdown,
    "assessment.html": render_html,
}
"""Every report file by name, with the function that renders it."""


def write_reports(assessment: Assessment, report_dir: Path) -> list[Path]:
    """Write every report file into ``report_dir`` (created if needed), each atomically; return their paths."""
    return write_documents(report_dir, {name: render(assessment) for name, render in RENDERERS.items()})
