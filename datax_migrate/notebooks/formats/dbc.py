"""Databricks ``.dbc`` archives: a zip of JSON notebooks, one entry per notebook.

An entry is named after the notebook's folder path with the language as extension
(``etl/daily.python``) and holds ``{"language": ..., "commands": [{"command": text, "position":
float}, ...]}``; the commands, ordered by position, are the cells with their magics. Entries are
read in memory and never extracted; an entry whose name leaves the archive (``..``, an absolute
path, a drive, a symbolic link) or that is too large is reported, not read. The size is counted
over the bytes really decompressed, chunk by chunk, never taken from the entry's header.
"""

from __future__ import annotations

import json
import os
import stat
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath

from datax_migrate.errors import NotebookFormatError
from datax_migrate.notebooks.limits import NotebookLimitError, NotebookLimits
from datax_migrate.notebooks.magics import cell_from_text
from datax_migrate.notebooks.model import LANGUAGES, Cell, Notebook, NotebookReadFailure

EXTENSIONS = {".python": ("python", ".py"), ".sql": ("sql", ".sql"), ".scala": ("scala", ".scala"), ".r": ("r", ".r")}
"""Entry extensions, the language they stand for and the SOURCE extension the notebook gets."""
COMPRESSIONS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}
"""Compression methods read: zipfile decompresses these a bounded chunk at a time (bzip2 and lzma not)."""
_END_RECORD_SEARCH = 22 + 0xFFFF
"""The end record is in the last 22 bytes of an archive, after at most a 64 KiB comment."""
CHUNK_BYTES = 64 * 1024
"""Bytes asked of an entry at a time while it is decompressed."""


def iter_dbc(
    archive: Path,
    path: str,
    limits: NotebookLimits | None = None,
    skipped: Callable[[str, str], None] | None = None,
) -> Iterator[Notebook | NotebookReadFailure]:
    """Read every notebook of a ``.dbc`` archive.

    Args:
        archive: The archive file.
        path: Its relative path; notebooks get ``<path>/<entry path>.<py|sql|scala|r>``.
        limits: The size and cell-count limits of an entry (default: :class:`NotebookLimits` defaults).
        skipped: Called with the path and reason of each entry that is not a notebook.

    Yields:
        A notebook per notebook entry, a failure per entry that cannot be read safely; other
        entries (folders, resources) are skipped.

    Raises:
        NotebookFormatError: the file is not a zip archive.
    """

    def notebook_of(name: str) -> tuple[str, EntryParser] | None:
        suffix = PurePosixPath(name).suffix.lower()
        if suffix not in EXTENSIONS:
            return None
        language, extension = EXTENSIONS[suffix]
        return f"{path}/{name[: -len(suffix)]}{extension}", lambda data, at: parse_dbc_entry(data, at, language)

    yield from iter_archive(archive, path, ".dbc", notebook_of, limits, skipped)


EntryParser = Callable[[bytes, str], "Notebook | None"]
"""Reads an entry's decompressed bytes as the notebook at the given path (``None``: not a notebook)."""


def iter_archive(
    archive: Path,
    path: str,
    kind: str,
    notebook_of: Callable[[str], tuple[str, EntryParser] | None],
    limits: NotebookLimits | None = None,
    skipped: Callable[[str, str], None] | None = None,
) -> Iterator[Notebook | NotebookReadFailure]:
    """Read the notebooks of a zip archive safely: entry names checked, sizes counted as decompressed.

    Args:
        archive: The archive file.
        path: Its relative path.
        kind: What the archive should be, for messages (``.dbc``, ``SOURCE .zip``).
        notebook_of: For an entry name, the notebook's path and how to read its bytes, or ``None``
            when the entry is not a notebook (skipped); the reader too may find it is not one.
        limits: The size and cell-count limits (default: :class:`NotebookLimits` defaults).
        skipped: Called with the path and reason of each entry that is not a notebook.

    Yields:
        A notebook per notebook entry, a failure per entry that cannot be read safely.

    Raises:
        NotebookFormatError: the file is not a zip archive, or its list of entries is over the limit.
    """
    limits = limits or NotebookLimits()
    try:
        limits.check_directory(path, directory_size(archive))
        zipped = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise NotebookFormatError(f"{path}: not a {kind} archive ({exc})") from None
    with zipped:
        for info in zipped.infolist():
            if info.is_dir():
                continue
            name = info.filename
            problem = unsafe_entry(info)
            if problem:
                yield NotebookReadFailure(f"{path}/{name}", problem)
                continue
            found = notebook_of(name)
            if found is None:
                if skipped is not None:
                    skipped(f"{path}/{name}", f"not a notebook in a {kind} archive")
                continue
            notebook_path, parse = found
            try:
                notebook = parse(read_entry(zipped, info, notebook_path, limits), notebook_path)
                if notebook is None:
                    if skipped is not None:
                        skipped(f"{path}/{name}", "no 'Databricks notebook source' header: not a notebook")
                    continue
                limits.check_cells(notebook_path, len(notebook.cells))
                yield notebook
            except NotebookLimitError as exc:
                yield NotebookReadFailure(notebook_path, str(exc), "notebook-over-limit")
            except (NotebookFormatError, zipfile.BadZipFile, OSError, RuntimeError, EOFError, zlib.error) as exc:
                yield NotebookReadFailure(notebook_path, str(exc) or type(exc).__name__)


def directory_size(archive: Path) -> int:
    """The size of a zip archive's central directory, as its end record says (0 when there is none).

    zipfile reads the whole directory into memory and makes an object per entry before anything can
    be checked, so its size is read first, from the end record (ZIP64 included).
    """
    with archive.open("rb") as file:
        file.seek(0, os.SEEK_END)
        size = file.tell()
        file.seek(max(0, size - _END_RECORD_SEARCH))
        tail = file.read()
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < 22:
            return 0
        (directory,) = struct.unpack_from("<I", tail, at + 12)
        if directory != 0xFFFFFFFF or at < 20 or tail[at - 20 : at - 16] != b"PK\x06\x07":
            return int(directory)
        (record_at,) = struct.unpack_from("<Q", tail, at - 12)
        file.seek(record_at)
        record = file.read(56)
    if len(record) < 56 or record[:4] != b"PK\x06\x06":
        return int(directory)
    return int(struct.unpack_from("<Q", record, 40)[0])


def read_entry(zipped: zipfile.ZipFile, info: zipfile.ZipInfo, path: str, limits: NotebookLimits) -> bytes:
    """The decompressed bytes of an entry, counted as they come out, never more than the limit.

    Raises:
        NotebookLimitError: the entry decompresses to more than :attr:`NotebookLimits.file_bytes`,
            whatever its header says.
        zipfile.BadZipFile: the data does not match the header (size or CRC).
    """
    limits.check_file(path, info.file_size)
    chunks: list[bytes] = []
    total = 0
    with zipped.open(info) as entry:
        while chunk := entry.read(CHUNK_BYTES):
            total += len(chunk)
            limits.check_file(path, total)
            chunks.append(chunk)
    return b"".join(chunks)


def unsafe_entry(info: zipfile.ZipInfo) -> str | None:
    """Why a zip entry must not be read, or ``None`` when it is safe to decompress (within the limits)."""
    name = info.filename
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in parts:
        return "entry name escapes the archive (absolute path or '..'); not read"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "entry is a symbolic link; not read"
    if info.compress_type not in COMPRESSIONS:
        return f"entry compressed with zip method {info.compress_type} (only stored and deflated are read); not read"
    return None


def parse_dbc_entry(data: bytes, path: str, language: str) -> Notebook:
    """Read one notebook entry of a ``.dbc`` archive.

    Raises:
        NotebookFormatError: the entry is not UTF-8 JSON with a ``commands`` list.
    """
    try:
        document = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise NotebookFormatError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise NotebookFormatError(f"{path}: not a notebook: invalid JSON ({exc})") from None
    if not isinstance(document, dict) or not isinstance(document.get("commands"), list):
        raise NotebookFormatError(f"{path}: not a notebook: no 'commands' list")
    declared = str(document.get("language", language)).lower()
    language = declared if declared in LANGUAGES else language
    commands = [c for c in document["commands"] if isinstance(c, dict) and isinstance(c.get("command"), str)]
    commands.sort(key=lambda c: float(c.get("position", 0)) if isinstance(c.get("position"), int | float) else 0.0)
    cells: list[Cell] = []
    for command in commands:
        if command["command"].strip():
            cells.append(cell_from_text(command["command"], language, len(cells)))
    return Notebook(path=path, language=language, cells=tuple(cells))
