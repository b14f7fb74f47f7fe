"""How much of a notebook is read and parsed: bounds that keep memory and time in check on hostile input.

The expensive parts of a translation are libcst (about 500 bytes of memory per byte of Python
parsed, and recursion as deep as the syntax tree) and sqlglot (recursion as deep as the SQL). The
defaults are far above real notebooks (Databricks itself exports SOURCE and ``.dbc`` notebooks up to
10 MB and takes cell inputs up to 6 MB) and keep a run under 1 GB of memory:

- a file or ``.dbc`` entry over :attr:`NotebookLimits.file_bytes` (counted as really decompressed)
  or with more than :attr:`NotebookLimits.cells` cells, and a ``.dbc`` archive whose list of
  entries is over :attr:`NotebookLimits.archive_directory_bytes`, are not read (``notebook-over-limit``);
- a code cell over :attr:`NotebookLimits.cell_bytes`, or Python nested deeper than
  :attr:`NotebookLimits.depth`, is kept as is, not translated (``cell-over-limit``);
- once :attr:`NotebookLimits.parse_bytes` of code has been parsed in a notebook, its remaining
  code cells are kept as they are (``cell-over-limit``).

Each limit can be changed through an environment variable (:data:`ENVIRONMENT`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

from datax_migrate.errors import ConfigError, NotebookFormatError

MIB = 1024 * 1024


class NotebookLimitError(NotebookFormatError):
    """A notebook file or archive entry is over a limit of :class:`NotebookLimits`; it is not read."""


@dataclass(frozen=True)
class NotebookLimits:
    """The bounds of one run.

    Attributes:
        file_bytes: Largest notebook file or ``.dbc`` entry read, in bytes (decompressed).
        archive_directory_bytes: Largest central directory of a ``.dbc`` archive (its list of
            entries, about 100 bytes an entry), in bytes.
        cells: Most cells a notebook may have.
        cell_bytes: Largest code cell translated, in bytes of UTF-8; larger ones are kept as they are.
        parse_bytes: Code parsed per notebook, in bytes; later code cells are kept as they are.
        depth: Deepest Python syntax tree translated (nesting of expressions and statements).
    """

    file_bytes: int = 16 * MIB
    archive_directory_bytes: int = 8 * MIB
    cells: int = 2_000
    cell_bytes: int = 256 * 1024
    parse_bytes: int = 512 * 1024
    depth: int = 150

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> NotebookLimits:
        """The defaults, each overridden by its variable of :data:`ENVIRONMENT` when set.

        Raises:
            ConfigError: a variable is not a positive whole number.
        """
        environ = os.environ if environ is None else environ
        values: dict[str, int] = {}
        for field in fields(cls):
            variable = ENVIRONMENT[field.name]
            text = environ.get(variable)
            if text is None or not text.strip():
                continue
            try:
                value = int(text.replace("_", ""))
            except ValueError:
                value = 0
            if value < 1:
                raise ConfigError(f"{variable}={text!r}: expected a positive whole number")
            values[field.name] = value
        return cls(**values)

    def check_file(self, path: str, size: int) -> None:
        """Refuse a file or entry of ``size`` bytes when it is over :attr:`file_bytes`.

        Raises:
            NotebookLimitError: it is.
        """
        if size > self.file_bytes:
            raise NotebookLimitError(
                f"{path}: over {self.file_bytes:,} bytes, the notebook size limit "
                f"({ENVIRONMENT['file_bytes']}); not read"
            )

    def check_directory(self, path: str, size: int) -> None:
        """Refuse an archive whose central directory is over :attr:`archive_directory_bytes`.

        Raises:
            NotebookLimitError: it is.
        """
        if size > self.archive_directory_bytes:
            raise NotebookLimitError(
                f"{path}: its list of entries is {size:,} bytes, over the {self.archive_directory_bytes:,}-byte "
                f"archive directory limit ({ENVIRONMENT['archive_directory_bytes']}); not read"
            )

    def check_cells(self, path: str, count: int) -> None:
        """Refuse a notebook of ``count`` cells when it has more than :attr:`cells`.

        Raises:
            NotebookLimitError: it has.
        """
        if count > self.cells:
            raise NotebookLimitError(
                f"{path}: {count:,} cells, over the {self.cells:,}-cell limit ({ENVIRONMENT['cells']}); not read"
            )


ENVIRONMENT = {
    "file_bytes": "DATAX_NOTEBOOK_MAX_FILE_BYTES",
    "archive_directory_bytes": "DATAX_NOTEBOOK_MAX_ARCHIVE_DIRECTORY_BYTES",
    "cells": "DATAX_NOTEBOOK_MAX_CELLS",
    "cell_bytes": "DATAX_NOTEBOOK_MAX_CELL_BYTES",
    "parse_bytes": "DATAX_NOTEBOOK_MAX_PARSE_BYTES",
    "depth": "DATAX_NOTEBOOK_MAX_DEPTH",
}
"""The environment variable that sets each limit."""
