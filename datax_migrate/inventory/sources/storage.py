"""Storage scan: the tables under a local folder or an ``s3://`` prefix.

The scan goes one folder level at a time, the folders of a level examined in parallel (listed, and a
Delta table's log read, by up to ``workers`` threads). A folder holding ``_delta_log`` is a Delta
table: its log is read with our reader and the scan does not descend into it, so Parquet files
and folders inside a Delta table are never reported on their own. A folder without a log whose
only subfolders are ``column=value`` partitions, and that holds data files (directly or in those
partitions), is a table of another format (a plain Parquet folder, even one beside a Delta table,
is such a table). Other folders are searched further, down to ``max_depth``; names starting with
``_`` or ``.`` are skipped, and so are folders matching an ``exclude`` pattern.
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial

import pyarrow.fs as pafs

from datax_migrate.delta.storage import TableStorage
from datax_migrate.errors import DataxError, InventoryError
from datax_migrate.inventory import DEFAULT_WORKERS
from datax_migrate.inventory.delta_facts import read_delta_facts
from datax_migrate.inventory.model import CrawlFailure, Record, TableRecord
from datax_migrate.inventory.naming import storage_table_name
from datax_migrate.inventory.sources.base import AlreadyDone, Source, ordered_map

DATA_FORMATS = {
    ".parquet": "parquet",
    ".csv": "csv",
    ".json": "json",
    ".orc": "orc",
    ".avro": "avro",
    ".txt": "text",
}
"""File name endings of data files, and the format each one means."""


class StorageSource(Source):
    """Delta (and other) tables found by listing a folder tree.

    Example:
        >>> records = list(StorageSource("s3://lake/warehouse").crawl(lambda key: False))
    """

    name = "storage"

    def __init__(
        self,
        root: str,
        filesystem: pafs.FileSystem | None = None,
        max_depth: int = 10,
        workers: int = DEFAULT_WORKERS,
        exclude: Sequence[str] = (),
    ) -> None:
        """Scan below ``root`` (a local path, ``file://`` or ``s3://`` URI).

        Args:
            root: Where to scan.
            filesystem: The filesystem to list through, when the caller has one open.
            max_depth: Folder levels below ``root`` to search at most.
            workers: Folders examined at once.
            exclude: ``fnmatch`` patterns of folder paths relative to ``root`` to leave out
                (``*/expected`` leaves out every folder named ``expected``).
        """
        self.root = root
        self.storage = TableStorage(root, filesystem)
        self.max_depth = max_depth
        self.workers = workers
        self.exclude = tuple(exclude)

    @property
    def description(self) -> str:
        """``storage <root>``, and the patterns it leaves out."""
        excluding = f" (excluding {', '.join(self.exclude)})" if self.exclude else ""
        return f"storage {self.storage.display_uri}{excluding}"

    def crawl(self, done: AlreadyDone) -> Iterator[Record]:
        """Yield a :class:`TableRecord` per table found, a failure per unreadable folder or log."""
        fs = self.storage.filesystem
        if fs.get_file_info(self.storage.root).type != pafs.FileType.Directory:
            raise InventoryError(f"{self.root} is not a folder that can be listed")
        level = [self.storage.root]
        for depth in range(self.max_depth + 1):
            deeper: list[str] = []
            for folder in ordered_map(partial(self._examine, depth=depth, done=done), level, self.workers):
                yield from folder.records
                deeper += folder.subfolders
            if not deeper:
                return
            level = deeper

    def _examine(self, path: str, depth: int, done: AlreadyDone) -> _Folder:
        """What one folder is: a table (its record or failure) or a folder to search further."""
        try:
            children = self.storage.filesystem.get_file_info(pafs.FileSelector(path))
        except OSError as exc:
            return _Folder((CrawlFailure(self.name, self._uri(path), "list", f"cannot list: {exc}"),))
        folders = sorted(c.base_name for c in children if c.type == pafs.FileType.Directory)
        files = [c.base_name for c in children if c.type == pafs.FileType.File]
        if "_delta_log" in folders:
            return _Folder(tuple(self._delta_table(path, done)))
        visible = [name for name in folders if not name.startswith(("_", "."))]
        data_format = None
        if all("=" in name for name in visible):  # only partition folders, or none
            data_format = _data_format(files)
            if data_format is None and visible:
                data_format = self._partitioned_format(f"{path}/{visible[0]}", depth)
        if data_format is not None:
            record = TableRecord(self._table_name(path), "storage", "external", data_format, self._uri(path))
            return _Folder(() if done(record.key) else (record,))
        if depth >= self.max_depth:
            return _Folder()
        return _Folder(subfolders=tuple(f"{path}/{name}" for name in visible if not self._excluded(f"{path}/{name}")))

    def _excluded(self, path: str) -> bool:
        relative = posixpath.relpath(path, self.storage.root)
        return any(fnmatch.fnmatchcase(relative, pattern.strip("/")) for pattern in self.exclude)

    def _delta_table(self, path: str, done: AlreadyDone) -> Iterator[Record]:
        name = self._table_name(path)
        uri = self._uri(path)
        if done(TableRecord(name, "storage", "external", "delta", uri).key):
            return
        try:
            facts, schema_json = read_delta_facts(uri, self.storage.filesystem)
        except (DataxError, OSError) as exc:
            yield CrawlFailure(self.name, uri, "read-log", f"the Delta log cannot be read: {exc}")
            return
        yield TableRecord(
            name=name,
            origin="storage",
            kind="external",
            format="delta",
            location=uri,
            schema_json=schema_json,
            properties=dict(facts.configuration),
            delta=facts,
        )

    def _partitioned_format(self, path: str, depth: int) -> str | None:
        """The format of the data files below a ``column=value`` folder, or ``None``."""
        try:
            children = self.storage.filesystem.get_file_info(pafs.FileSelector(path))
        except OSError:
            return None
        found = _data_format([c.base_name for c in children if c.type == pafs.FileType.File])
        partitions = sorted(c.base_name for c in children if c.type == pafs.FileType.Directory and "=" in c.base_name)
        if found is None and partitions and depth < self.max_depth:
            return self._partitioned_format(f"{path}/{partitions[0]}", depth + 1)
        return found

    def _table_name(self, path: str) -> str:
        """``schema.table`` from the folders (:mod:`datax_migrate.inventory.naming`), each part quoted."""
        schema, table = storage_table_name(self.storage.root, path)
        return f"`{_quote(schema)}`.`{_quote(table)}`"

    def _uri(self, path: str) -> str:
        if isinstance(self.storage.filesystem, pafs.LocalFileSystem):
            return path
        scheme = self.storage.uri.split("://", 1)[0] if "://" in self.storage.uri else "s3"
        return f"{scheme}://{path}"


@dataclass(frozen=True)
class _Folder:
    """What examining one folder found: records (a table or a failure), or subfolders to search."""

    records: tuple[Record, ...] = ()
    subfolders: tuple[str, ...] = ()


def _data_format(files: list[str]) -> str | None:
    for name in sorted(files):
        if name.startswith(("_", ".")):
            continue
        for ending, data_format in DATA_FORMATS.items():
            if name.endswith(ending) or f"{ending}." in name:
                return data_format
    return None


def _quote(part: str) -> str:
    return part.replace("`", "``")
