"""Translation reports: per notebook (JSON and Markdown) and over a whole run.

The JSON is the record (every finding with code, severity, cell, line, original, replacement and
what to do); the Markdown is for a person reading it next to the notebook.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from datax_migrate.findings import Finding, Severity
from datax_migrate.notebooks.model import TranslatedNotebook

REPORT_VERSION = "datax-notebook-translation/1"


@dataclass(frozen=True)
class NotebookOutcome:
    """What happened to one input notebook in a run.

    Attributes:
        source: Its path relative to the folder given.
        output: The ``.ipynb`` written (relative to the output folder), ``None`` if it could not be read.
        findings: Its findings (one ``notebook-unreadable`` blocker when it could not be read).
    """

    source: str
    output: str | None
    findings: tuple[Finding, ...]

    @property
    def status(self) -> str:
        """``translated`` (nothing for a person), ``needs-review``, ``blocked`` or ``unreadable``."""
        if self.output is None:
            return "unreadable"
        severities = {f.severity for f in self.findings}
        if Severity.BLOCKER in severities:
            return "blocked"
        return "needs-review" if Severity.REVIEW in severities else "translated"


def notebook_report(translated: TranslatedNotebook, output: str) -> dict[str, Any]:
    """The JSON report of one translated notebook."""
    counts = Counter(f.severity.value for f in translated.findings)
    return {
        "version": REPORT_VERSION,
        "source": translated.source.path,
        "output": output,
        "source_language": translated.source.language,
        "cells": {"source": len(translated.source.cells), "output": len(translated.cells)},
        "counts": {s.value: counts.get(s.value, 0) for s in Severity},
        "tables": list(translated.tables),
        "paths": list(translated.paths),
        "widgets": [name for name, _ in translated.widgets],
        "run_dependencies": list(translated.run_dependencies),
        "findings": [f.to_dict() for f in translated.findings],
    }


def notebook_markdown(report: dict[str, Any]) -> str:
    """The Markdown summary of a notebook report (from :func:`notebook_report`)."""
    counts = report["counts"]
    lines = [
        f"# Translation of `{report['source']}`",
        "",
        f"Output: `{report['output']}` ({report['cells']['source']} source cells, {report['cells']['output']} "
        f"output cells). Findings: {counts['blocker']} blocker, {counts['review']} review, {counts['info']} info.",
        "",
    ]
    to_do = [f for f in report["findings"] if f["severity"] != "info"]
    done = [f for f in report["findings"] if f["severity"] == "info"]
    for title, findings in (("What a person must do", to_do), ("What was rewritten", done)):
        lines += [f"## {title}", ""]
        if not findings:
            lines += ["Nothing.", ""]
            continue
        lines += [
            "| cell | line | code | severity | original | replacement | what to do |",
            "|---|---|---|---|---|---|---|",
        ]
        for f in findings:
            lines.append(
                f"| {f.get('cell', '')} | {f.get('line', '')} | `{f['code']}` | {f['severity']} | "
                f"{_code(f.get('original'))} | {_code(f.get('replacement'))} | {_cell(f['message'])} |"
            )
        lines.append("")
    return "\n".join(lines)


def run_report(outcomes: list[NotebookOutcome]) -> dict[str, Any]:
    """The JSON summary of a whole run."""
    findings = [f for o in outcomes for f in o.findings]
    return {
        "version": REPORT_VERSION,
        "notebooks": len(outcomes),
        "status": dict(sorted(Counter(o.status for o in outcomes).items())),
        "findings": dict(sorted(Counter(f.code for f in findings).items())),
        "severities": {s.value: sum(f.severity is s for f in findings) for s in Severity},
        "outcomes": [
            {
                "source": o.source,
                "output": o.output,
                "status": o.status,
                "blocker": sum(f.severity is Severity.BLOCKER for f in o.findings),
                "review": sum(f.severity is Severity.REVIEW for f in o.findings),
                "info": sum(f.severity is Severity.INFO for f in o.findings),
            }
            for o in outcomes
        ],
    }


def run_markdown(report: dict[str, Any]) -> str:
    """The Markdown summary of a run (from :func:`run_report`)."""
    lines = [
        "# Notebook translation summary",
        "",
        f"{report['notebooks']} notebook(s): "
        + ", ".join(f"{count} {status}" for status, count in report["status"].items()),
        "",
        "| notebook | status | blocker | review | info | output |",
        "|---|---|---|---|---|---|",
    ]
    for o in report["outcomes"]:
        lines.append(
            f"| `{o['source']}` | {o['status']} | {o['blocker']} | {o['review']} | {o['info']} | {_code(o['output'])} |"
        )
    lines += ["", "| finding | count |", "|---|---|"]
    lines += [f"| `{code}` | {count} |" for code, count in report["findings"].items()]
    return "\n".join(lines) + "\n"


def _code(text: str | None) -> str:
    if not text:
        return ""
    flat = " ".join(text.split())
    flat = flat if len(flat) <= 120 else flat[:117] + "..."
    return "`" + flat.replace("|", "\\|").replace("`", "'") + "`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")
