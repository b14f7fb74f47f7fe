"""The output folder of a translation: files are written inside it and never through a symbolic link.

A symbolic link found inside the folder, at an output file or at a folder above it, is refused, not
followed and not replaced (it may be someone's on purpose): the notebook whose output it is gets a
finding, and a link at the run summary stops the run before anything is translated. The last
component is opened with ``O_NOFOLLOW``, so a link created between the check and the write fails
the write instead of being followed. The folder given itself may be a link: the user named it.
"""

from __future__ import annotations

import os
from pathlib import Path


class OutputFolder:
    """Where a translation writes.

    Example:
        >>> folder = OutputFolder(Path("out"))
        >>> target = folder.path("etl/daily.ipynb")
    """

    def __init__(self, root: Path) -> None:
        """Write below ``root`` (created if missing)."""
        root.mkdir(parents=True, exist_ok=True)
        self.root = root.resolve()

    def path(self, relative: str) -> Path | None:
        """``relative`` inside the folder, ``..`` resolved without following links; ``None`` if it leaves it."""
        path = Path(os.path.normpath(self.root / relative))
        return path if self.root in path.parents else None

    def link_at(self, path: Path) -> str | None:
        """The first symbolic link at ``path`` or a folder between it and the root, relative to the root."""
        current = self.root
        for part in path.relative_to(self.root).parts:
            current = current / part
            if current.is_symlink():
                return current.relative_to(self.root).as_posix()
        return None

    def write(self, path: Path, text: str) -> None:
        """Write ``text`` to ``path`` (inside the folder, checked with :meth:`link_at`), creating its folders.

        Raises:
            OSError: the file is a symbolic link by now (``ELOOP``), or cannot be written.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o666)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
