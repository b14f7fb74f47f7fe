"""Databricks SOURCE exports: ``.py``, ``.sql``, ``.scala`` and ``.r`` files.

A SOURCE file starts with ``<comment> Databricks notebook source``; cells are separated by a
``<comment> COMMAND ----------`` line; a cell in another language than the notebook's has each line
prefixed with ``<comment> MAGIC `` (its first line being the magic, such as ``%sql``). A
``<comment> DBTITLE 1,Title`` line at the top of a cell holds its title and is not part of its body.
"""

from __future__ import annotations

from datax_migrate.notebooks.magics import cell_from_text
from datax_migrate.notebooks.model import Cell, Notebook

COMMENTS = {"python": "#", "sql": "--", "scala": "//", "r": "#"}
"""The line-comment marker of each notebook language."""
EXTENSIONS = {".py": "python", ".sql": "sql", ".scala": "scala", ".r": "r"}
"""File extensions of SOURCE exports (lower-cased) and their languages."""
HEADER = "Databricks notebook source"


def language_of(path: str) -> str | None:
    """The notebook language a SOURCE file's extension stands for, or ``None``."""
    dot = path.rfind(".")
    return EXTENSIONS.get(path[dot:].lower()) if dot >= 0 else None


def is_source_notebook(text: str, language: str) -> bool:
    """Whether ``text`` starts with the SOURCE header for ``language``."""
    first = text.lstrip("\ufeff").split("\n", 1)[0].strip()
    return first == f"{COMMENTS[language]} {HEADER}"


def parse_source(text: str, path: str, language: str | None = None) -> Notebook:
    """Read a SOURCE export's text.

    Args:
        text: The file's text.
        path: The notebook's relative path; its extension gives the language unless ``language`` does.
        language: The notebook's language, when the path does not tell.

    Returns:
        The notebook. Text without the header is read as one notebook whose cells are separated the
        same way (a plain script is then a one-cell notebook).

    Raises:
        ValueError: neither ``language`` nor the extension of ``path`` names a notebook language.
    """
    language = language or language_of(path)
    if language is None:
        raise ValueError(f"{path}: not a SOURCE notebook (expected .py, .sql, .scala or .r)")
    comment = COMMENTS[language]
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").split("\n")
    if lines and lines[0].strip() == f"{comment} {HEADER}":
        lines = lines[1:]
    separator = f"{comment} COMMAND ----------"
    chunks: list[list[str]] = [[]]
    for line in lines:
        if line.rstrip() == separator:
            chunks.append([])
        else:
            chunks[-1].append(line)
    cells: list[Cell] = []
    for chunk in chunks:
        body = _unmagic(_drop_title(chunk, comment), comment)
        text_of_cell = "\n".join(body).strip("\n")
        if text_of_cell.strip():
            cells.append(cell_from_text(text_of_cell, language, len(cells)))
    return Notebook(path=path, language=language, cells=tuple(cells))


def _drop_title(lines: list[str], comment: str) -> list[str]:
    """The cell's lines without a leading ``DBTITLE`` line."""
    for position, line in enumerate(lines):
        if line.strip():
            if line.startswith(f"{comment} DBTITLE "):
                return lines[:position] + lines[position + 1 :]
            break
    return lines


def _unmagic(lines: list[str], comment: str) -> list[str]:
    """Strip the ``MAGIC`` prefix when every non-blank line of the cell carries it."""
    marker = f"{comment} MAGIC"
    content = [line for line in lines if line.strip()]
    if not content or not all(line.startswith(marker) for line in content):
        return lines
    return [line[len(marker) + 1 :] if line.startswith(marker + " ") else line[len(marker) :] for line in lines]
