"""Storage scan: the tables under a local folder or an ``s3://`` prefix.

The scan lists one folder level at a time. A folder holding ``_delta_log`` is a Delta table: its log
is read with our reader and the scan does not descend into it. A folder without a log whose only
subfolders are ``column=value`` partitions, and that holds data files (directly or in those
partitions), is a table of another format. Other folders are searched further, down to
``max_depth``; names starting with ``_`` or ``.`` are skipped.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

import pyarrow.fs as pafs

from datax_migrate.delta.storage import TableStorage
from datax_migrate.errors import DataxError, InventoryError
from datax_migrate.inventory.delta_facts import read_delta_facts
from datax_migrate.inventory.model import CrawlFailure, Record, TableRecord
from datax_migrate.inventory.sources.base import AlreadyDone, Source

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

    def __init__(self, root: str, filesystem: pafs.FileSystem | None = None, max_depth: int = 10) -> None:
        """Scan below ``root`` (a local path, ``file://`` or ``s3://`` URI), at most ``max_depth`` levels."""
        self.root = root
        self.storage = TableStorage(root, filesystem)
        self.max_depth = max_depth

    @property
    def description(self) -> str:
        """``storage <root>``."""
        return f"storage {self.storage.display_uri}"

    def crawl(self, done: AlreadyDone) -> Iterator[Record]:
        """Yield a :class:`TableRecord` per table found, a failure per unreadable folder or log."""
        fs = self.storage.filesystem
        if fs.get_file_info(self.storage.root).type != pafs.FileType.Directory:
            raise InventoryError(f"{self.root} is not a folder that can be listed")
        yield from self._walk(self.storage.root, 0, done)

    def _walk(self, path: str, depth: int, done: AlreadyDone) -> Iterator[Record]:
        try:
            children = self.storage.filesystem.get_file_info(pafs.FileSelector(path))
        except OSError as exc:
            yield CrawlFailure(self.name, self._uri(path), "list", f"cannot list: {exc}")
            return
        folders = sorted(c.base_name for c in children if c.type == pafs.FileType.Directory)
        files = [c.base_name for c in children if c.type == pafs.FileType.File]
        if "_delta_log" in folders:
            yield from self._delta_table(path, done)
            return
        visible = [name for name in folders if not name.startswith(("_", "."))]
        data_format = None
        if all("=" in name for name in visible):  # only partition folders, or none
            data_format = _data_format(files)
            if data_format is None and visible:
                data_format = self._partitioned_format(f"{path}/{visible[0]}", depth)
        if data_format is not None:
            record = TableRecord(self._table_name(path), "storage", "external", data_format, self._uri(path))
            if not done(record.key):
                yield record
            return
        if depth < self.max_depth:
            for name in visible:
                yield from self._walk(f"{path}/{name}", depth + 1, done)

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
        """``schema.table``: the folder path from the scan root to the table's parent, and its own folder."""
        parent, leaf = posixpath.split(path.rstrip("/"))
        relative = posixpath.relpath(parent, self.storage.root) if parent.startswith(self.storage.root) else parent
        if relative in (".", ""):
            relative = posixpath.basename(self.storage.root) or "storage"
        return f"`{_quote(relative)}`.`{_quote(leaf or 'table')}`"

    def _uri(self, path: str) -> str:
        if isinstance(self.storage.filesystem, pafs.LocalFileSystem):
            return path
        scheme = self.storage.uri.split("://", 1)[0] if "://" in self.storage.uri else "s3"
        return f"{scheme}://{path}"


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
