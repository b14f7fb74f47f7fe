"""What a notebook uses and what in it would need a person, without writing anything.

The summary is read off a translation (:func:`~datax_migrate.notebooks.translate.translate_notebook`)
whose output is thrown away: the analysis and the translator share every detection rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from datax_migrate.findings import Finding, Severity
from datax_migrate.notebooks.context import TranslateOptions
from datax_migrate.notebooks.model import Notebook
from datax_migrate.notebooks.translate import TranslatedNotebook, translate_notebook


@dataclass(frozen=True)
class NotebookSummary:
    """What one notebook uses.

    Attributes:
        path: The notebook's relative path.
        language: Its default language.
        cell_count: Number of cells.
        magics: Magics used (``sql``, ``md``, ``run``, ``pip``, ...), in first-seen order.
        tables_referenced: Table names (two- and three-level as written, or as resolved from the
            notebook's constants and widget defaults when built at run time; ``delta.`/path```
            tables count under :attr:`paths_referenced`) in first-seen order.
        paths_referenced: Databricks paths (``dbfs:/``, ``/dbfs/``, ``/mnt/``, ``/Volumes/``).
        dbutils_calls: ``dbutils`` members called (``fs.ls``, ``secrets.get``, ...).
        widgets: Widget names.
        run_dependencies: Notebooks run or included (``%run``, ``dbutils.notebook.run``).
        findings: What would need a person (blocker and review findings).
    """

    path: str
    language: str
    cell_count: int
    magics: tuple[str, ...]
    tables_referenced: tuple[str, ...]
    paths_referenced: tuple[str, ...]
    dbutils_calls: tuple[str, ...]
    widgets: tuple[str, ...]
    run_dependencies: tuple[str, ...]
    findings: tuple[Finding, ...]


def summarize(notebook: Notebook, options: TranslateOptions | None = None) -> NotebookSummary:
    """Summarize a notebook: what it uses and what would need a person to move it to AWS.

    Args:
        notebook: The notebook.
        options: Name and path maps to judge names and paths against (default: none, so every
            Databricks path counts as unmapped).
    """
    return summary_of(translate_notebook(notebook, options))


def summary_of(translated: TranslatedNotebook) -> NotebookSummary:
    """The summary of a translation already made."""
    notebook = translated.source
    return NotebookSummary(
        path=notebook.path,
        language=notebook.language,
        cell_count=len(notebook.cells),
        magics=translated.magics,
        tables_referenced=translated.tables,
        paths_referenced=translated.paths,
        dbutils_calls=translated.dbutils_calls,
        widgets=tuple(name for name, _ in translated.widgets),
        run_dependencies=translated.run_dependencies,
        findings=tuple(f for f in translated.findings if f.severity is not Severity.INFO),
    )
