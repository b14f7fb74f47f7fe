"""Translated notebooks as nbformat v4 ``.ipynb`` documents for EMR Studio and SageMaker Unified Studio.

The kernel is the PySpark kernel of EMR Studio's Spark kernels (sparkmagic): ``pysparkkernel``;
SQL cells are ``%%sql`` cells, Scala and R cells ``%%scalaspark``/``%%rspark``. The notebook's
metadata says where it came from (``datax_migrate.source``).
"""

from __future__ import annotations

import hashlib
from typing import Any

from datax_migrate.notebooks.model import TranslatedNotebook

KERNELSPEC = {"name": "pysparkkernel", "display_name": "PySpark", "language": "python"}
# "python", not sparkmagic's "pyspark": papermill finds its parameter translator by this name, and the
# kernel rewrites language_info when it runs the notebook anyway.
LANGUAGE_INFO = {
    "name": "python",
    "mimetype": "text/x-python",
    "codemirror_mode": {"name": "python", "version": 3},
    "pygments_lexer": "python3",
    "file_extension": ".py",
}


def to_ipynb(translated: TranslatedNotebook) -> dict[str, Any]:
    """The translated notebook as an nbformat 4.5 document (a JSON-ready dict)."""
    cells = []
    for position, cell in enumerate(translated.cells):
        cell_id = hashlib.sha1(f"{translated.source.path}:{position}".encode()).hexdigest()[:12]  # noqa: S324
        metadata: dict[str, Any] = {"tags": list(cell.tags)} if cell.tags else {}
        if cell.origin is not None:
            metadata["datax_migrate"] = {"source_cell": cell.origin}
        entry: dict[str, Any] = {
            "cell_type": cell.kind,
            "id": cell_id,
            "metadata": metadata,
            "source": cell.source,
        }
        if cell.kind == "code":
            entry.update(execution_count=None, outputs=[])
        cells.append(entry)
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": KERNELSPEC,
            "language_info": LANGUAGE_INFO,
            "datax_migrate": {"source": translated.source.path, "source_language": translated.source.language},
        },
        "cells": cells,
    }
