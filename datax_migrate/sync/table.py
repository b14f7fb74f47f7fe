"""Incremental sync: replay the Delta commits after the last synced version onto the Iceberg table.

    >>> from datax_migrate.sync import sync_table
    >>> result = sync_table("s3://lake/sales", catalog, "finance.sales")

The sync state lives in the Iceberg table's properties (:data:`SYNC_SOURCE_TABLE_ID`,
:data:`SYNC_SOURCE_LOCATION`, :data:`SYNC_LAST_VERSION`, :data:`SYNC_LAST_SNAPSHOT_ID`, the schema
and partition spec ids the last sync left, the conversion options ``--lossy`` and
``--identity-partitions``, which every sync replays with, and the lineage file), so any machine can
continue. A sync refuses, changing nothing, when:

- the table changed since the last sync: a snapshot after the last synced one that is not table
  maintenance (a ``replace`` without data change, as compaction and S3 Tables make them), the last
  synced snapshot is no longer an ancestor of the current one, or the schema or partition spec was
  altered (which adds no snapshot);
- the Delta log no longer holds a version the sync needs (log clean-up);
- the Delta table was replaced (its ``metaData.id`` differs from the one synced);
- a change cannot be expressed exactly in Iceberg.

Maintenance snapshots are folded into the lineage (the files a compaction replaced become one group
with the files it wrote), and the sync continues on top of them. A missing table is created by
converting the wanted version (one snapshot), so a first sync and a later one are the same call.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass

from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import CommitFailedException
from pyiceberg.manifest import DataFileContent, ManifestEntryStatus
from pyiceberg.table import Table
from pyiceberg.table.snapshots import Operation, Snapshot

from datax_migrate.catalogs.retention import with_history_kept
from datax_migrate.convert.changes import ChangeReader, VersionChange
from datax_migrate.convert.engine import Engine
from datax_migrate.convert.history import (
    SYNC_IDENTITY_PARTITIONS,
    SYNC_LAST_SCHEMA_ID,
    SYNC_LAST_SNAPSHOT_ID,
    SYNC_LAST_SPEC_ID,
    SYNC_LAST_VERSION,
    SYNC_LOSSY,
    SYNC_SOURCE_LOCATION,
    SYNC_SOURCE_TABLE_ID,
    TAG_PREFIX,
    HistoryReplay,
    ReplayOutcome,
    ReplaySettings,
    current_data_files,
)
from datax_migrate.convert.lineage import LINEAGE_PROPERTY, Lineage
from datax_migrate.convert.table import ConversionResult, InterruptedAfterCommit, ProgressCallback, ProgressTracker
from datax_migrate.convert.table import convert_table as convert
from datax_migrate.delta.commit_times import AUTO
from datax_migrate.delta.table import DeltaSnapshot, DeltaTable
from datax_migrate.errors import (
    CorruptLogError,
    DataxError,
    MappingError,
    TargetError,
    UnsupportedFeatureError,
    VersionNotFoundError,
)
from datax_migrate.iceberg.target import IcebergTarget, SourceIdentity

__all__ = [
    "SYNC_LAST_SNAPSHOT_ID",
    "SYNC_LAST_VERSION",
    "SYNC_SOURCE_LOCATION",
    "SYNC_SOURCE_TABLE_ID",
    "InterruptedAfterSync",
    "SyncRefused",
    "SyncResult",
    "sync_table",
]

COMMIT_ATTEMPTS = 3
"""A sync whose commit meets a concurrent commit (S3 Tables compaction) plans again on top of it, this often."""


class SyncRefused(DataxError):
    """The sync would not be exact; nothing was changed. The message names the cause."""


@dataclass(frozen=True)
class SyncResult:
    """What a sync did.

    Attributes:
        status: ``synced`` (snapshots added) or ``in-step`` (nothing new; no snapshot added).
        target: ``namespace.table``.
        source_location: The Delta table's location.
        from_version: The Delta version synced before this run (``None``: this run created the table).
        to_version: The Delta version the table is now in step with.
        snapshot_ids: The Iceberg snapshots added, oldest first.
        snapshot_id: The table's current snapshot after the run.
        data_files_written: Iceberg data files added.
        bytes_written: Their bytes.
        rows_added: Rows in the data files added.
        rows_removed: Rows in the data files removed (a rewritten file counts its old rows).
        seconds: Wall time of the run.
        notes: What a reader should know: maintenance snapshots folded in, the commit-time source.

    """

    status: str
    target: str
    source_location: str
    from_version: int | None
    to_version: int
    snapshot_ids: tuple[int, ...]
    snapshot_id: int | None
    data_files_written: int
    bytes_written: int
    rows_added: int
    rows_removed: int
    seconds: float
    notes: tuple[str, ...]


def sync_table(
    source: str,
    catalog: Catalog,
    identifier: str,
    *,
    to_version: int | None = None,
    to_timestamp: dt.datetime | None = None,
    squash: bool = False,
    engine: Engine | None = None,
    progress: ProgressCallback | None = None,
    commit_times: str = AUTO,
) -> SyncResult:
    """Bring the Iceberg table ``identifier`` in step with the Delta table at ``source``.

    Args:
        source: Delta table path or URI.
        catalog: Target pyiceberg catalog.
        identifier: ``namespace.table``; created (from the wanted version) when missing.
        to_version: Sync up to this Delta version (default: latest).
        to_timestamp: Sync up to the version current at this time instead.
        squash: One snapshot for all versions synced, instead of one per version.
        engine: Where data files are written (default: threads here).
        progress: Called after each data file.
        commit_times: How Delta commit times are read (``auto``, ``mtime``, ``commit-info``).

    Returns:
        What was synced; ``in-step`` (and no snapshot added) when there was nothing new.

    Raises:
        SyncRefused: the sync cannot be exact (drift, truncated log, replaced table, inexpressible change).
        InterruptedAfterSync: Ctrl-C or SIGTERM arrived during the commit, which landed.

    """
    started = time.monotonic()
    delta = DeltaTable(source, commit_times=commit_times)
    if to_timestamp is not None:
        to_version = delta.version_at(to_timestamp)
    wanted = delta.latest_version if to_version is None else to_version
    if not 0 <= wanted <= delta.latest_version:
        raise VersionNotFoundError(f"Delta version {wanted} does not exist (latest is {delta.latest_version})")
    for attempt in range(1, COMMIT_ATTEMPTS + 1):
        target = IcebergTarget(catalog, identifier)
        table = target.existing()
        if table is None:
            return _create(delta, catalog, identifier, wanted, engine, progress, started)
        try:
            result = _sync(delta, target, table, wanted, squash, engine, progress, started)
            return with_history_kept(result, catalog, identifier)
        except TargetError as exc:
            if attempt == COMMIT_ATTEMPTS or not isinstance(exc.__cause__, CommitFailedException):
                raise
    raise AssertionError("unreachable")


class InterruptedAfterSync(BaseException):
    """Ctrl-C or SIGTERM arrived during the sync's commit, and the commit landed: the sync is done.

    Attributes:
        result: What was synced.
        interrupt: The interrupt that arrived.
    """

    def __init__(self, result: SyncResult, interrupt: BaseException) -> None:
        """Carry ``result`` and the ``interrupt``."""
        super().__init__(f"interrupted after the sync commit to {result.target} landed")
        self.result = result
        self.interrupt = interrupt


@dataclass(frozen=True)
class _SyncState:
    """The sync state a table's properties record."""

    table_id: str
    location: str
    version: int
    snapshot_id: int
    lineage: str
    schema_id: int | None
    spec_id: int | None
    lossy: frozenset[str]
    identity_partitions: bool

    @classmethod
    def read(cls, name: str, table: Table) -> _SyncState:
        properties = table.properties
        try:
            return cls(
                table_id=properties[SYNC_SOURCE_TABLE_ID],
                location=properties[SYNC_SOURCE_LOCATION],
                version=int(properties[SYNC_LAST_VERSION]),
                snapshot_id=int(properties[SYNC_LAST_SNAPSHOT_ID]),
                lineage=properties[LINEAGE_PROPERTY],
                schema_id=_optional_int(properties.get(SYNC_LAST_SCHEMA_ID)),
                spec_id=_optional_int(properties.get(SYNC_LAST_SPEC_ID)),
                lossy=frozenset(n for n in properties.get(SYNC_LOSSY, "").split(",") if n),
                identity_partitions=properties.get(SYNC_IDENTITY_PARTITIONS) == "true",
            )
        except (KeyError, ValueError):
            converted = SourceIdentity.from_properties(properties)
            what = f"was converted from {converted.location}" if converted else "was not written by datax-migrate"
            raise SyncRefused(
                f"{name} has no sync state ({what}, without lineage); convert --replace (or drop the table and "
                "convert --history) to start a sync"
            ) from None


def _optional_int(value: str | None) -> int | None:
    """A recorded id; ``None`` for tables synced before it was recorded."""
    return None if value is None else int(value)


def _same_shape(name: str, table: Table, state: _SyncState) -> None:
    """Refuse when the table's schema or partition spec changed since the last sync (an ALTER adds no snapshot).

    Raises:
        SyncRefused: the current schema or default partition spec is not the one the last sync left.

    """
    metadata = table.metadata
    for what, recorded, current in (
        ("schema", state.schema_id, metadata.current_schema_id),
        ("partition spec", state.spec_id, metadata.default_spec_id),
    ):
        if recorded is not None and recorded != current:
            raise SyncRefused(
                f"{name} changed since the last sync: its {what} is {current}, the last sync left {recorded} "
                "(altered by another writer); convert --replace to start again"
            )


def _create(
    delta: DeltaTable,
    catalog: Catalog,
    identifier: str,
    version: int,
    engine: Engine | None,
    progress: ProgressCallback | None,
    started: float,
) -> SyncResult:
    """Create the table from Delta ``version``: one snapshot, written as a history of one version."""
    try:
        result = convert(
            delta.storage.uri,
            catalog,
            identifier,
            history=True,
            from_version=version,
            version=version,
            engine=engine,
            progress=progress,
            commit_times=delta.clock.mode,
        )
    except InterruptedAfterCommit as landed:
        raise InterruptedAfterSync(_created(landed.result, version, started), landed.interrupt) from landed
    return _created(result, version, started)


def _created(result: ConversionResult, version: int, started: float) -> SyncResult:
    """The sync result of a table created from Delta ``version``."""
    return SyncResult(
        status="synced",
        target=result.target,
        source_location=result.source.location,
        from_version=None,
        to_version=version,
        snapshot_ids=result.snapshot_ids,
        snapshot_id=result.snapshot_id,
        data_files_written=result.data_files,
        bytes_written=result.bytes_written,
        rows_added=result.rows,
        rows_removed=0,
        seconds=time.monotonic() - started,
        notes=result.notes,
    )


def _sync(
    delta: DeltaTable,
    target: IcebergTarget,
    table: Table,
    wanted: int,
    squash: bool,
    engine: Engine | None,
    progress: ProgressCallback | None,
    started: float,
) -> SyncResult:
    state = _SyncState.read(target.name, table)
    location = delta.storage.display_uri
    if state.location != location:
        raise SyncRefused(f"{target.name} is synced from {state.location}, not from {location}")
    maintenance = _maintenance_since(target.name, table, state.snapshot_id)
    _same_shape(target.name, table, state)
    if wanted < state.version:
        raise SyncRefused(f"{target.name} is already synced to Delta version {state.version}, after {wanted}")
    base = _base(delta, state, wanted, target.name)
    lineage = Lineage.read(table.io, state.lineage)
    notes = [_fold(lineage, table, snapshot) for snapshot in maintenance]
    current_files = current_data_files(table)
    if lineage.iceberg_paths() != set(current_files) or lineage.delta_keys() != {a.key for a in base.files}:
        raise SyncRefused(
            f"{target.name} does not hold Delta version {state.version} of {location} as its sync state says "
            "(its data files differ from the recorded lineage); convert --replace to start again"
        )
    if wanted == state.version:
        current = table.current_snapshot()
        return SyncResult(
            "in-step",
            target.name,
            location,
            state.version,
            wanted,
            (),
            current.snapshot_id if current else None,
            0,
            0,
            0,
            0,
            time.monotonic() - started,
            tuple(notes),
        )
    target.begin_update(table)
    active = {add.key: add for add in base.files}
    tagged = any(name.startswith(TAG_PREFIX) for name in table.metadata.refs)  # convert --history --tag-versions
    settings = ReplaySettings(
        lossy=state.lossy, identity_partitions=state.identity_partitions, squash=squash, tag_versions=tagged
    )
    replay = HistoryReplay(target, lineage, current_files, active, settings, base)
    outcome: ReplayOutcome | None = None

    def result() -> SyncResult:
        return SyncResult(
            status="synced",
            target=target.name,
            source_location=location,
            from_version=state.version,
            to_version=wanted,
            snapshot_ids=target.snapshot_ids,
            snapshot_id=target.snapshot_id,
            data_files_written=outcome.data_files_written if outcome else 0,
            bytes_written=outcome.bytes_written if outcome else 0,
            rows_added=outcome.rows_added if outcome else 0,
            rows_removed=outcome.rows_removed if outcome else 0,
            seconds=time.monotonic() - started,
            notes=tuple(notes),
        )

    try:
        _plan(replay, _same_table(ChangeReader(delta, base).changes(wanted), state.table_id, target.name))
        tracker = ProgressTracker(replay.groups, progress, target)
        replay.write(engine, tracker.done)
        outcome = replay.commit({})
    except BaseException as exc:
        if target.committed:
            raise InterruptedAfterSync(result(), exc) from exc
        target.discard()
        raise
    _delete_quietly(table, state.lineage)
    if outcome.versions and (note := _commit_time_note(delta, wanted)):
        notes.append(note)
    return result()


def _plan(replay: HistoryReplay, changes: Iterator[VersionChange]) -> None:
    """Plan the replay of ``changes``; a change that cannot be expressed exactly is a refusal.

    Raises:
        SyncRefused: a version's schema change or reader feature cannot be replayed exactly.

    """
    try:
        replay.plan(changes)
    except (MappingError, UnsupportedFeatureError) as exc:
        raise SyncRefused(str(exc)) from exc


def _maintenance_since(name: str, table: Table, last_synced: int) -> list[Snapshot]:
    """The snapshots after the last synced one, oldest first: each must be maintenance (``replace``).

    The last synced snapshot itself may have been expired meanwhile (S3 Tables expires snapshots on
    its own): it is found as the parent of the oldest maintenance snapshot.

    Raises:
        SyncRefused: another writer changed the table, or the last synced snapshot is gone from its history.

    """
    found: list[Snapshot] = []
    snapshot = table.current_snapshot()
    while snapshot is not None and snapshot.snapshot_id != last_synced:
        operation = snapshot.summary.operation if snapshot.summary else None
        if operation != Operation.REPLACE:
            what = operation.value if operation else "a write"
            raise SyncRefused(
                f"{name} changed since the last sync: snapshot {snapshot.snapshot_id} ({what}) was written by "
                "another writer; convert --replace to start again, or roll the table back to snapshot "
                f"{last_synced}"
            )
        found.append(snapshot)
        if snapshot.parent_snapshot_id == last_synced:
            return found[::-1]
        snapshot = table.snapshot_by_id(snapshot.parent_snapshot_id) if snapshot.parent_snapshot_id else None
    if snapshot is None:
        raise SyncRefused(
            f"{name} changed since the last sync: its last synced snapshot {last_synced} is no longer in the history "
            "of the current one; convert --replace to start again"
        )
    return found[::-1]


def _fold(lineage: Lineage, table: Table, snapshot: Snapshot) -> str:
    """Fold a maintenance snapshot (compaction) into the lineage; describe it."""
    deleted: list[str] = []
    added: list[str] = []
    for manifest in snapshot.manifests(table.io):
        for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=False):
            if entry.snapshot_id != snapshot.snapshot_id:
                continue
            if entry.data_file.content != DataFileContent.DATA:
                raise SyncRefused(
                    f"maintenance snapshot {snapshot.snapshot_id} of {table.name()} wrote delete files; "
                    "it cannot be told from a change of data"
                )
            if entry.status == ManifestEntryStatus.DELETED:
                deleted.append(entry.data_file.file_path)
            elif entry.status == ManifestEntryStatus.ADDED:
                added.append(entry.data_file.file_path)
    try:
        lineage.rewrite(deleted, added)
    except TargetError as exc:
        raise SyncRefused(f"maintenance snapshot {snapshot.snapshot_id}: {exc}") from exc
    return f"maintenance snapshot {snapshot.snapshot_id} (replace: {len(deleted)} files rewritten as {len(added)})"


def _base(delta: DeltaTable, state: _SyncState, wanted: int, name: str) -> DeltaSnapshot:
    """The Delta table at the last synced version, checked to be the same table and still in the log.

    Raises:
        SyncRefused: the log no longer holds what the sync needs, or the table was replaced.

    """
    latest = delta.latest_version
    if state.version > latest:
        raise SyncRefused(
            f"{name} is synced to Delta version {state.version}, but the log of {state.location} ends at {latest}: "
            "the Delta table was replaced; convert --replace to start again"
        )
    missing = [v for v in range(state.version + 1, wanted + 1) if v not in delta.log.commits]
    try:
        if missing:
            raise VersionNotFoundError(f"commit {missing[0]} is gone")
        base = delta.snapshot(state.version)
    except (VersionNotFoundError, CorruptLogError) as exc:
        raise SyncRefused(
            f"the Delta log of {state.location} no longer holds version {missing[0] if missing else state.version} "
            f"that the sync of {name} needs (log clean-up: {exc}); convert --replace (or drop the table and "
            "convert --history) to start again"
        ) from exc
    if base.metadata.id != state.table_id:
        raise SyncRefused(
            f"the Delta table at {state.location} was replaced: its metaData.id is {base.metadata.id}, "
            f"{name} was synced from {state.table_id}; convert --replace to start again"
        )
    return base


def _same_table(changes: Iterator[VersionChange], table_id: str, name: str) -> Iterator[VersionChange]:
    """The changes, refusing at the first version whose Delta table is another one (replaced)."""
    for change in changes:
        if change.snapshot.metadata.id != table_id:
            raise SyncRefused(
                f"the Delta table at {change.snapshot.location} was replaced at version {change.version} (its "
                f"metaData.id became {change.snapshot.metadata.id}); {name} cannot follow it: convert --replace"
            )
        yield change


def _commit_time_note(delta: DeltaTable, version: int) -> str:
    return delta.clock.time(version).note


def _delete_quietly(table: Table, path: str) -> None:
    """Delete the lineage file the previous sync wrote (no snapshot's reader needs it)."""
    try:
        table.io.delete(path)
    except OSError:
        pass
