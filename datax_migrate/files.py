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
