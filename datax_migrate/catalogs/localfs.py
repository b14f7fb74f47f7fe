"""File IO for warehouses on the local file system: a file's folder is created only when it is missing.

pyiceberg's ``PyArrowFileIO`` asks the local file system to create the folder of every file it
writes, whether or not it exists: several system calls per file, about a quarter of a millisecond of
CPU here, which a sync or a partitioned conversion writing hundreds of small files pays each time.
:class:`LazyFolderFileIO` opens the file first and creates its folder only when opening finds it
missing. Other file systems (S3 and the rest) are pyiceberg's as they are.
"""

from __future__ import annotations

import os
from typing import Any

import pyarrow as pa
from pyarrow.fs import FileSystem, LocalFileSystem
from pyiceberg.io.pyarrow import PyArrowFileIO, PyArrowLocalFileSystem


class LazyFolderFileSystem(PyArrowLocalFileSystem):
    """The local file system, creating a file's parent folders only when opening it finds them missing."""

    def open_output_stream(self, path: str, *args: Any, **kwargs: Any) -> pa.NativeFile:
        """Open ``path`` for writing; create its folder first only if it does not exist."""
        try:
            return LocalFileSystem.open_output_stream(self, path, *args, **kwargs)
        except FileNotFoundError:
            self.create_dir(os.path.dirname(path), recursive=True)
            return LocalFileSystem.open_output_stream(self, path, *args, **kwargs)


class LazyFolderFileIO(PyArrowFileIO):
    """pyiceberg's ``PyArrowFileIO`` with :class:`LazyFolderFileSystem` for local paths."""

    def _initialize_local_fs(self) -> FileSystem:
        return LazyFolderFileSystem()
