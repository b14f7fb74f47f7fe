"""Databricks cell magics: which language a cell body is in, and how it maps to a Jupyter cell.

A Databricks cell may start with a magic line: a language switch (``%python``, ``%sql``,
``%scala``, ``%r``), markdown (``%md``, ``%md-sandbox``), a shell (``%sh``), or a line magic whose
arguments are the whole cell (``%run``, ``%pip``, ``%fs``, ...). :func:`cell_from_text` is the one
place that reads them, for every input format.
"""

from __future__ import annotations

from datax_migrate.notebooks.model import Cell

CELL_MAGICS = {"python": "python", "sql": "sql", "scala": "scala", "r": "r", "md": "markdown", "md-sandbox": "markdown"}
"""Magics that switch the language of the rest of the cell, and the language they switch to."""
SHELL_MAGICS = ("sh",)
"""Magics whose body is a shell script."""
LINE_MAGICS = ("run", "pip", "fs", "conda", "lsmagic", "config", "env")
"""Magics whose arguments are the whole cell; the cell keeps its magic line."""


def cell_from_text(text: str, default_language: str, index: int) -> Cell:
    """Read a Databricks cell's text, magic line included, into a :class:`Cell`.

    Args:
        text: The cell as Databricks shows it.
        default_language: The notebook's language, for cells without a magic.
        index: The cell's 0-based position.

    Returns:
        A markdown cell for ``%md``; otherwise a code cell in the magic's language (body without the
        magic line), in the magic's name with the whole text for line magics, or in
        ``default_language`` with the whole text when there is no magic.
    """
    stripped = text.lstrip("\n")
    if not stripped.startswith("%") or stripped.startswith("%%"):
        return Cell("code", default_language, text, index)
    first, _, rest = stripped.partition("\n")
    name, _, arguments = first[1:].partition(" ")
    name = name.strip().lower()
    if name in CELL_MAGICS:
        language = CELL_MAGICS[name]
        return Cell("markdown" if language == "markdown" else "code", language, _body(arguments, rest), index)
    if name in SHELL_MAGICS:
        return Cell("code", name, _body(arguments, rest), index)
    return Cell("code", name or default_language, stripped, index)


def _body(arguments: str, rest: str) -> str:
    """A cell body from the text after the magic on its line and the lines below."""
    return "\n".join(part for part in (arguments.strip(), rest) if part)
