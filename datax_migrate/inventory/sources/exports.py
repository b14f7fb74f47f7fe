"""Notebook export folders: SOURCE files, ``.ipynb``, ``.dbc`` and ``.zip`` archives, read by the notebooks package.

Reading the formats (and refusing hostile archive entries) belongs to
:mod:`datax_migrate.notebooks.formats`; what a notebook holds comes from
:func:`datax_migrate.notebooks.analysis.summarize`. Nothing is extracted to disk here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from datax_migrate.errors import InventoryError
from datax_migrate.inventory.model import CrawlFailure, NotebookRecord, Record
from datax_migrate.inventory.sources.base import AlreadyDone, Source

if TYPE_CHECKING:
    from datax_migrate.notebooks.limits import NotebookLimits
    from datax_migrate.notebooks.model import Notebook


class ExportSource(Source):
    """The notebooks in a folder of exports (Databricks SOURCE files, ``.ipynb``, ``.dbc``, ``.zip``).

    Example:
        >>> records = list(ExportSource(Path("exports/")).crawl(lambda key: False))
    """

    name = "export"

    def __init__(self, root: Path, limits: NotebookLimits | None = None) -> None:
        """Read the notebooks below ``root``, within ``limits`` (default: the default limits)."""
        self.root = root
        self.limits = limits

    @property
    def description(self) -> str:
        """``export <folder>``."""
        return f"export {self.root.resolve()}"

    def crawl(self, done: AlreadyDone) -> Iterator[Record]:
        """A :class:`NotebookRecord` per notebook, a failure per file or archive entry that cannot be read.

        A file or archive entry skipped as not a notebook is a failure at stage ``skipped``, and a
        folder without any notebook one at stage ``no-notebooks``, so that nothing is left out
        without a word.
        """
        from datax_migrate.notebooks.formats import iter_notebooks
        from datax_migrate.notebooks.model import Notebook

        if not self.root.is_dir():
            raise InventoryError(f"{self.root} is not a folder")
        skipped: list[tuple[str, str]] = []
        found = 0
        for item in iter_notebooks(self.root, self.limits, lambda path, reason: skipped.append((path, reason))):
            yield from (CrawlFailure(self.name, path, "skipped", reason) for path, reason in skipped)
            skipped.clear()
            found += 1
            if isinstance(item, Notebook):
                if not done(f"notebook:export:{item.path}"):
                    yield summarized(item, item.path, "export", self.limits)
            else:
                yield CrawlFailure(self.name, str(item.path), "read-notebook", item.reason)
        yield from (CrawlFailure(self.name, path, "skipped", reason) for path, reason in skipped)
        if not found:
            yield CrawlFailure(
                self.name,
                str(self.root),
                "no-notebooks",
                "no notebooks in the folder (expected Databricks SOURCE .py/.sql/.scala/.r, .ipynb, .dbc or .zip)",
            )


def summarized(notebook: Notebook, path: str, origin: str, limits: NotebookLimits | None = None) -> NotebookRecord:
    """The inventory record of ``notebook``: what the notebook analysis finds in it, within ``limits``."""
    from datax_migrate.notebooks.analysis import summarize
    from datax_migrate.notebooks.context import TranslateOptions
    from datax_migrate.notebooks.limits import NotebookLimits

    summary = summarize(notebook, TranslateOptions(limits=limits or NotebookLimits()))
    return NotebookRecord(
        path=path,
        origin=origin,
        language=summary.language,
        cell_count=summary.cell_count,
        magics=tuple(summary.magics),
        tables_referenced=tuple(summary.tables_referenced),
        paths_referenced=tuple(summary.paths_referenced),
        dbutils_calls=tuple(summary.dbutils_calls),
        widgets=tuple(summary.widgets),
        run_dependencies=tuple(summary.run_dependencies),
        findings=tuple(summary.findings),
    )


def notebook_record(text: str, path: str, origin: str, language: str) -> NotebookRecord:
    """The record of a notebook exported as SOURCE text, in ``language`` (``python``, ``sql``, ``scala``, ``r``)."""
    from datax_migrate.notebooks.formats import parse_source

    return summarized(parse_source(text, path, language), path, origin)
