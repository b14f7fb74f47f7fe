"""Writing files so that a crash never leaves half of one."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def write_documents(folder: Path, documents: dict[str, str]) -> list[Path]:
    """Write each ``{name: text}`` into ``folder`` (created if needed) atomically; return the paths.

    Every document was rendered before this is called, so a rendering error writes nothing.
    """
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in documents.items():
        paths.append(folder / name)
        write_atomically(paths[-1], text)
    sync_directory(folder)
    return paths


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to a temporary file beside ``path``, flush it to disk, rename it over ``path``.

    A crash leaves either the previous file or the new one, never half of one.
    """
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def sync_directory(directory: Path) -> None:
    """Flush ``directory``'s entries (the renames into it) to disk."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_folder(folder: Path, documents: dict[str, str], marker: str) -> list[Path]:
    """Write the ``{name: text}`` documents as ``folder``, so that no reader sees half of it.

    A new folder is written under a temporary name beside it and renamed into place. An existing
    folder first loses its ``marker`` file (the document that says the folder is complete), then
    gets every other document, each atomically, and the ``marker`` last. Either way an interrupted
    write leaves a folder without ``marker`` or none at all, never a partial one that claims to be
    complete.

    Args:
        folder: the folder to write.
        documents: file name -> text; must include ``marker``.
        marker: the document written last.

    Returns:
        The paths of the documents in ``folder``.

    """
    if folder.is_dir():
        (folder / marker).unlink(missing_ok=True)
        sync_directory(folder)
        others = {name: text for name, text in documents.items() if name != marker}
        write_documents(folder, {**others, marker: documents[marker]})
        return [folder / name for name in documents]
    folder.parent.mkdir(parents=True, exist_ok=True)
    temporary = folder.with_name(f".{folder.name}.{secrets.token_hex(6)}.tmp")
    try:
        write_documents(temporary, documents)
        os.rename(temporary, folder)
    except BaseException:
        if temporary.is_dir():
            for path in temporary.iterdir():
                path.unlink(missing_ok=True)
            temporary.rmdir()
        raise
    sync_directory(folder.parent)
    return [folder / name for name in documents]
