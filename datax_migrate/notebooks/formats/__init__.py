"""Reading Databricks notebooks: SOURCE exports, ``.ipynb`` exports, ``.dbc`` archives and ``.zip`` exports.

:func:`read_notebook` reads one file; :func:`iter_notebooks` walks a folder tree (or a single
file), reads every notebook in it including those inside ``.dbc`` archives and ``.zip`` exports
(a zip of SOURCE or ``.ipynb`` files in folders, as the workspace exports a folder, read with the
``.dbc`` reader's protections), and reports what it
cannot read as a :class:`~datax_migrate.notebooks.model.NotebookReadFailure` instead of stopping.
Nothing is ever extracted to disk; symbolic links leading out of the tree are not followed.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

from datax_migrate.errors import NotebookFormatError
from datax_migrate.notebooks.formats.dbc import EntryParser, iter_archive, iter_dbc
from datax_migrate.notebooks.formats.ipynb import parse_ipynb
from datax_migrate.notebooks.formats.source import is_source_notebook, language_of, parse_source
from datax_migrate.notebooks.limits import NotebookLimitError, NotebookLimits
from datax_migrate.notebooks.model import Notebook, NotebookReadFailure

__all__ = ["iter_notebooks", "parse_source", "read_notebook"]


def read_notebook(path: Path, relative_to: Path | None = None, limits: NotebookLimits | None = None) -> Notebook:
    """Read one SOURCE (``.py``, ``.sql``, ``.scala``, ``.r``) or ``.ipynb`` notebook.

    Args:
        path: The file.
        relative_to: The folder the notebook's :attr:`~Notebook.path` is relative to (default:
            the file's own folder, so the path is its name).
        limits: The size and cell-count limits (default: :class:`NotebookLimits` defaults).

    Raises:
        NotebookLimitError: the file is over a limit.
        NotebookFormatError: the file is not a regular file, not UTF-8, or not a notebook.
    """
    limits = limits or NotebookLimits()
    relative = _relative(path, relative_to)
    try:
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):  # a FIFO or device would block or never end
            raise NotebookFormatError(f"{relative}: not a regular file; not read")
        limits.check_file(relative, status.st_size)
        with path.open("rb") as file:
            data = file.read(limits.file_bytes + 1)
    except OSError as exc:
        raise NotebookFormatError(f"{relative}: cannot read it ({exc.strerror or exc})") from None
    limits.check_file(relative, len(data))
    notebook = _parse(data, relative)
    if notebook is None:
        raise NotebookFormatError(f"{relative}: not a Databricks notebook (no 'Databricks notebook source' header)")
    limits.check_cells(relative, len(notebook.cells))
    return notebook


def _parse(data: bytes, relative: str) -> Notebook | None:
    """The notebook in a file's bytes; ``None`` for a SOURCE-named file without the SOURCE header.

    Raises:
        NotebookFormatError: not UTF-8, or an ``.ipynb`` that is not a notebook.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotebookFormatError(
            f"{relative}: not UTF-8 ({exc.reason} at byte {exc.start}); re-export it or convert it to UTF-8"
        ) from None
    if relative.lower().endswith(".ipynb"):
        return parse_ipynb(text, relative)
    language = language_of(relative)
    if language is None or not is_source_notebook(text, language):
        return None
    return parse_source(text, relative, language)


def _zip_entry(path: str) -> Callable[[str], tuple[str, EntryParser] | None]:
    """How to read the entries of a ``.zip`` export at ``path``: SOURCE and ``.ipynb`` files."""

    def notebook_of(name: str) -> tuple[str, EntryParser] | None:
        if name.lower().endswith(".ipynb") or language_of(name) is not None:
            return f"{path}/{name}", _parse
        return None

    return notebook_of


def iter_notebooks(
    root: Path, limits: NotebookLimits | None = None, skipped: Callable[[str, str], None] | None = None
) -> Iterator[Notebook | NotebookReadFailure]:
    """Read every notebook under ``root`` (a folder or one file), in path order.

    Plain ``.py``/``.sql``/``.scala``/``.r`` files without the SOURCE header are not notebooks and
    are skipped, as are other files; ``.ipynb`` files and the notebooks inside ``.dbc`` archives and
    ``.zip`` exports are read. Paths are relative to ``root`` (to its folder when ``root`` is a file).

    Args:
        root: A folder or one file.
        limits: The size and cell-count limits (default: :class:`NotebookLimits` defaults).
        skipped: Called with the relative path and the reason of each file or archive entry skipped
            as not a notebook.

    Yields:
        Each notebook, or a failure for a file or entry that cannot be read: not UTF-8, damaged,
        over a limit of ``limits``, a symbolic link leading out of ``root``, an archive entry
        escaping the archive.
    """
    limits = limits or NotebookLimits()
    base = root.parent if root.is_file() else root
    for path in _files(root):
        relative = _relative(path, base)
        if path.is_symlink() and not _inside(path.resolve(), base.resolve()):
            yield NotebookReadFailure(relative, "symbolic link leading out of the folder; not followed")
            continue
        suffix = path.suffix.lower()
        if not path.is_file():  # a pipe or device would block or never end; a broken link has nothing
            if suffix in (".dbc", ".zip", ".ipynb") or language_of(relative) is not None:
                yield NotebookReadFailure(relative, "not a regular file (a pipe, device or broken link); not read")
            continue
        try:
            if suffix == ".dbc":
                yield from iter_dbc(path, relative, limits, skipped)
            elif suffix == ".zip":
                yield from iter_archive(path, relative, "SOURCE .zip", _zip_entry(relative), limits, skipped)
            elif suffix == ".ipynb":
                yield read_notebook(path, base, limits)
            elif language_of(relative) is not None and _has_source_header(path):
                yield read_notebook(path, base, limits)
            elif skipped is not None:
                skipped(relative, _skip_reason(relative))
        except NotebookLimitError as exc:
            yield NotebookReadFailure(relative, str(exc), "notebook-over-limit")
        except NotebookFormatError as exc:
            yield NotebookReadFailure(relative, str(exc))


def _skip_reason(relative: str) -> str:
    if language_of(relative) is not None:
        return "no 'Databricks notebook source' header: not a notebook"
    return "not a notebook file (.py, .sql, .scala, .r, .ipynb, .dbc or .zip)"


def _files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    found: list[Path] = []
    for folder, folders, names in os.walk(root, followlinks=False):
        folders.sort()
        found.extend(Path(folder) / name for name in names)
    return sorted(found)


def _has_source_header(path: Path) -> bool:
    try:
        with path.open("rb") as file:
            head = file.read(200).decode("utf-8", errors="replace")
    except OSError:
        return True  # read_notebook reports why it cannot be read
    return "Databricks notebook source" in head.split("\n", 1)[0]


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _relative(path: Path, relative_to: Path | None) -> str:
    if relative_to is None:
        return path.name
    try:
        return path.relative_to(relative_to).as_posix()
    except ValueError:
        return path.name
