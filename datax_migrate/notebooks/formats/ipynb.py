"""Jupyter ``.ipynb`` files as Databricks exports them.

Databricks keeps its magics in the cell text (a code cell starting with ``%sql``), the notebook
language in ``metadata["application/vnd.databricks.v1+notebook"]["language"]``, and writes ``%md``
cells as markdown cells. Notebooks from elsewhere are read too, their language from the kernel spec.
"""

from __future__ import annotations

import json
from typing import Any

from datax_migrate.errors import NotebookFormatError
from datax_migrate.notebooks.magics import cell_from_text
from datax_migrate.notebooks.model import LANGUAGES, Cell, Notebook

DATABRICKS_NOTEBOOK = "application/vnd.databricks.v1+notebook"


def parse_ipynb(text: str, path: str) -> Notebook:
    """Read an ``.ipynb`` file's text.

    Raises:
        NotebookFormatError: it is not JSON or not a notebook (no ``cells`` list).
    """
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookFormatError(f"{path}: not a notebook: invalid JSON ({exc})") from None
    if not isinstance(document, dict) or not isinstance(document.get("cells"), list):
        raise NotebookFormatError(f"{path}: not a notebook: no 'cells' list")
    metadata = document.get("metadata")
    language = _language(metadata if isinstance(metadata, dict) else {})
    cells: list[Cell] = []
    for raw in document["cells"]:
        if not isinstance(raw, dict):
            raise NotebookFormatError(f"{path}: cell {len(cells)} is not a JSON object")
        source = raw.get("source", "")
        if isinstance(source, list) and not all(isinstance(line, str) for line in source):
            raise NotebookFormatError(f"{path}: cell {len(cells)} has a source that is not text")
        text_of_cell = "".join(source) if isinstance(source, list) else str(source)
        if not text_of_cell.strip():
            continue
        if raw.get("cell_type") == "markdown":
            cells.append(Cell("markdown", "markdown", text_of_cell, len(cells)))
        elif raw.get("cell_type") == "code":
            cells.append(cell_from_text(text_of_cell, language, len(cells)))
    return Notebook(path=path, language=language, cells=tuple(cells))


def _language(metadata: dict[str, Any]) -> str:
    sections = [metadata.get(DATABRICKS_NOTEBOOK), metadata.get("kernelspec"), metadata.get("language_info")]
    candidates = [
        section.get(key) if isinstance(section, dict) else None
        for section, key in zip(sections, ("language", "language", "name"), strict=True)
    ]
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.lower() in LANGUAGES:
            return candidate.lower()
    return "python"
