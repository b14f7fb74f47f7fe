"""What a notebook is once read, whatever format it came in: an ordered list of typed cells."""

from __future__ import annotations

from dataclasses import dataclass

from datax_migrate.findings import Finding

LANGUAGES = ("python", "sql", "scala", "r")
"""The languages a Databricks notebook (and each of its cells) can be written in."""


@dataclass(frozen=True)
class Cell:
    """One cell of a notebook.

    Attributes:
        kind: ``"code"`` or ``"markdown"``.
        language: The language the cell body is in: one of :data:`LANGUAGES`, ``"markdown"``, or the
            name of a Databricks magic that is not a language (``sh``, ``fs``, ``pip``, ``run``, ...).
        source: The cell body without its magic line (``%sql``, ``%md``, ...), except for line
            magics such as ``%run ./x`` or ``%pip install y``, whose whole text is the body.
        index: 0-based position in the notebook.
    """

    kind: str
    language: str
    source: str
    index: int


@dataclass(frozen=True)
class Notebook:
    """A Databricks notebook.

    Attributes:
        path: Where it lives, relative to the folder it was read from, ``/``-separated, with the
            extension of its file (``etl/daily.py``; ``archive.dbc/etl/daily.py`` inside an archive).
        language: The notebook's default language (one of :data:`LANGUAGES`).
        cells: Its cells in order.
    """

    path: str
    language: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class NotebookReadFailure:
    """A file or archive entry that could not be read as a notebook; the run records it and goes on.

    Attributes:
        path: The file or entry, as :attr:`Notebook.path` would have been.
        reason: What was wrong, for a person.
        code: The finding code it is reported under: ``notebook-unreadable``, or
            ``notebook-over-limit`` when it is over a limit of the run.
    """

    path: str
    reason: str
    code: str = "notebook-unreadable"


@dataclass(frozen=True)
class OutputCell:
    """A cell of the translated notebook.

    Attributes:
        kind: ``code``, ``markdown`` or ``raw`` (kept, not run: a finding says what to do).
        source: Its text, magic line included (``%%sql``).
        origin: Index of the source cell it came from; ``None`` for added setup cells.
        tags: Jupyter cell tags (``parameters`` for papermill).
    """

    kind: str
    source: str
    origin: int | None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class TranslatedNotebook:
    """A translated notebook and everything noticed on the way.

    Attributes:
        source: The notebook translated.
        cells: The translated cells, setup cells first.
        findings: Every finding, in cell order.
        tables: Table names referenced, as written.
        paths: Databricks paths referenced.
        dbutils_calls: ``dbutils`` members called.
        widgets: Widget names and their literal defaults (``None`` when not literal).
        run_dependencies: Notebooks run or included.
        magics: Magics used.
    """

    source: Notebook
    cells: tuple[OutputCell, ...]
    findings: tuple[Finding, ...]
    tables: tuple[str, ...]
    paths: tuple[str, ...]
    dbutils_calls: tuple[str, ...]
    widgets: tuple[tuple[str, str | None], ...]
    run_dependencies: tuple[str, ...]
    magics: tuple[str, ...]
