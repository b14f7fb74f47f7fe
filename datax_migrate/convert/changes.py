"""The changes a range of Delta commits makes: per version, the files added and removed.

Each commit of the range is applied to the set of active files the version before it had (the
log's own replay rules: an add or remove is keyed by path and deletion-vector id), and the change is
the difference between the two sets. A file re-added with a new deletion vector is a removal of the
old (path, DV) and an addition of the new one. The operation (``commitInfo.operation``), whether
any action changed data (``dataChange``), a new ``metaData`` and the commit time come with it.

A version can be converted only when every data file active at it still exists: :func:`history_start`
finds the first version from which every version up to the last one can be reconstructed, and says
why the versions before it cannot (vacuumed files, an expired log).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow.fs as pafs

from datax_migrate.delta.actions import AddFile, Metadata, Protocol, RemoveFile
from datax_migrate.delta.deletion_vectors import deletion_vector_path
from datax_migrate.delta.protocol import check_readable
from datax_migrate.delta.table import DeltaSnapshot, DeltaTable
from datax_migrate.errors import CorruptLogError, DeltaError, MissingFileError, VersionNotFoundError

FileKey = tuple[str, str | None]
"""A Delta file as the log keys it: decoded path and deletion-vector id."""


@dataclass(frozen=True)
class VersionChange:
    """What one Delta version changed, relative to the version before it.

    Attributes:
        snapshot: The table at this version (its ``files`` left empty: see ``active``).
        added: Files (path + deletion vector) active now that were not before.
        removed: Keys of files active before that are not any more.
        data_change: Whether any add or remove of the commit changed data (``dataChange``).
        operation: ``commitInfo.operation`` (e.g. ``WRITE``, ``DELETE``, ``OPTIMIZE``).
    """

    snapshot: DeltaSnapshot
    added: tuple[AddFile, ...]
    removed: frozenset[FileKey]
    data_change: bool
    operation: str

    @property
    def version(self) -> int:
        """The Delta version."""
        return self.snapshot.version


class ChangeReader:
    """Walks a Delta table's log forward from one version, commit by commit.

    Example:
        >>> reader = ChangeReader(DeltaTable("s3://lake/sales"), base_version=4)
        >>> for change in reader.changes(to_version=9): ...
    """

    def __init__(self, table: DeltaTable, base: DeltaSnapshot) -> None:
        """Start from ``base`` (a snapshot of ``table``)."""
        self.table = table
        self.base = base
        self.active: dict[FileKey, AddFile] = {add.key: add for add in base.files}

    def changes(self, to_version: int) -> Iterator[VersionChange]:
        """The change of every version after the base up to ``to_version``, oldest first.

        Raises:
            VersionNotFoundError: the log no longer holds a commit of the range.
            UnsupportedFeatureError: a version needs a reader feature this reader lacks.

        """
        log = self.table.log
        missing = [v for v in range(self.base.version + 1, to_version + 1) if v not in log.commits]
        if missing:
            raise VersionNotFoundError(
                f"the Delta log of {self.table.storage.uri} no longer holds commit {missing[0]} (expired by log "
                "clean-up)"
            )
        protocol, metadata = self.base.protocol, self.base.metadata
        for version in range(self.base.version + 1, to_version + 1):
            before: dict[FileKey, AddFile | None] = {}
            data_change = False
            operation = ""
            new_metadata: Metadata | None = None
            for action in log.commit_actions(log.commits[version].name):
                if (add := action.get("add")) is not None:
                    parsed = AddFile.from_json(add)
                    before.setdefault(parsed.key, self.active.get(parsed.key))
                    self.active[parsed.key] = parsed
                    data_change |= bool(add.get("dataChange", True))
                elif (remove := action.get("remove")) is not None:
                    key = RemoveFile.from_json(remove).key
                    before.setdefault(key, self.active.get(key))
                    self.active.pop(key, None)
                    data_change |= bool(remove.get("dataChange", True))
                elif (found := action.get("metaData")) is not None:
                    new_metadata = Metadata.from_json(found)
                elif (found := action.get("protocol")) is not None:
                    protocol = Protocol.from_json(found)
                    check_readable(protocol)
                elif (info := action.get("commitInfo")) is not None and isinstance(info, dict):
                    operation = str(info.get("operation") or "")
            if new_metadata is not None:
                metadata = new_metadata
            added = tuple(
                sorted((self.active[k] for k, was in before.items() if was is None and k in self.active), key=_path)
            )
            removed = frozenset(k for k, was in before.items() if was is not None and k not in self.active)
            committed = self.table.clock.time(version)
            snapshot = DeltaSnapshot(
                storage=self.table.storage,
                version=version,
                protocol=protocol,
                metadata=metadata,
                files=(),
                commit_timestamp_ms=committed.ms,
                commit_time_source=committed.source,
                commit_time_note=committed.note,
            )
            yield VersionChange(snapshot, added, removed, data_change, operation)


def initial_change(snapshot: DeltaSnapshot, operation: str) -> VersionChange:
    """The first version of a history: every active file is added."""
    files = dataclasses.replace(snapshot, files=())
    return VersionChange(files, snapshot.files, frozenset(), True, operation)


def operation_of(table: DeltaTable, version: int) -> str:
    """``commitInfo.operation`` of ``version`` (empty when the commit is gone or has none)."""
    log = table.log
    if version not in log.commits:
        return ""
    for action in log.commit_actions(log.commits[version].name):
        if (info := action.get("commitInfo")) is not None and isinstance(info, dict):
            return str(info.get("operation") or "")
    return ""


LOOK_UPS = 100
"""Up to this many data files are looked up one by one; more, and the table's folder is listed once instead."""


@dataclass(frozen=True)
class HistoryStart:
    """Where a history can start, and why earlier versions cannot be reconstructed."""

    version: int
    skipped: tuple[str, ...]


def history_start(table: DeltaTable, to_version: int, from_version: int | None = None) -> HistoryStart:
    """The first version from which every version up to ``to_version`` can be reconstructed.

    The log must hold that version (a checkpoint at or before it, or commit 0) and every commit
    after it; every data file active at any version of the range must exist, and its deletion vector
    file when it has one on disk. With
    ``from_version``, only the versions from it on are examined (a history asked to start there).

    Raises:
        DeltaError: not even ``to_version`` can be reconstructed (a file it needs is missing).

    """
    earliest = _earliest_reconstructable(table, to_version)
    skipped: list[str] = []
    if earliest > 0 and (from_version is None or from_version < earliest):
        skipped.append(f"Delta versions 0..{earliest - 1}: the log no longer holds them (log clean-up)")
    if from_version is not None and from_version > earliest:
        earliest = from_version
    base = table.snapshot(earliest)
    died: dict[FileKey, int] = {add.key: to_version + 1 for add in base.files}
    paths = {add.key: _files_of(table, add) for add in base.files}
    for change in ChangeReader(table, base).changes(to_version):
        for add in change.added:
            died[add.key] = to_version + 1
            paths[add.key] = _files_of(table, add)
        for key in change.removed:
            died[key] = change.version
    existing = _listed_files(table) if len(died) > LOOK_UPS else set()
    start = earliest
    gone = ""
    for key, death in died.items():
        path = next((p for p in paths[key] if p not in existing and not table.storage.exists(p)), None)
        if path is None:
            continue
        if death > to_version:
            raise MissingFileError(
                f"{_kind(path, paths[key])} {path} is missing (referenced by version {to_version}); "
                "the version cannot be converted"
            )
        if death > start:
            start, gone = death, f"{_kind(path, paths[key])} {path}"
    if start > earliest:
        skipped.append(f"Delta versions {earliest}..{start - 1}: their {gone} is gone (vacuumed)")
    return HistoryStart(start, tuple(skipped))


def _files_of(table: DeltaTable, add: AddFile) -> tuple[str, ...]:
    """The files ``add`` reads: its data file, then its deletion vector file when on disk (``u``, ``p``)."""
    data = table.storage.resolve(add.path)
    dv = add.deletion_vector
    if dv is None or dv.storage_type not in ("u", "p"):
        return (data,)
    return data, deletion_vector_path(table.storage, dv)


def _kind(path: str, files: tuple[str, ...]) -> str:
    return "data file" if path == files[0] else "deletion vector file"


def _earliest_reconstructable(table: DeltaTable, to_version: int) -> int:
    log = table.log
    candidates = sorted({0, *(c.version for c in log._complete_checkpoints())})
    for candidate in candidates:
        if candidate > to_version:
            break
        if all(v in log.commits for v in range(candidate + 1, to_version + 1)):
            try:
                log.segment(candidate)
            except (VersionNotFoundError, CorruptLogError):
                continue
            return candidate
    raise VersionNotFoundError(f"no version of {table.storage.uri} up to {to_version} can be reconstructed")


def _listed_files(table: DeltaTable) -> set[str]:
    """Every file under the table's root, by one recursive listing (cheaper than a look-up per file)."""
    storage = table.storage
    try:
        infos = storage.filesystem.get_file_info(pafs.FileSelector(storage.root, recursive=True))
    except (OSError, DeltaError):
        return set()
    return {info.path for info in infos if info.type == pafs.FileType.File}


def _path(add: AddFile) -> str:
    return add.path
