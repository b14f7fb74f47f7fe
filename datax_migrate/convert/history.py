"""Replay Delta versions onto an Iceberg table: one snapshot per version, all in one commit.

The replay is planned before anything is written: walking the versions' changes
(:mod:`~datax_migrate.convert.changes`) through the table's lineage
(:mod:`~datax_migrate.convert.lineage`) gives, per version, the Iceberg data files to delete and the
Delta files to write, one Iceberg data file each (a file added by the version, or a file of a lineage
group that a removal broke up). An engine then writes every planned file (the same
:class:`~datax_migrate.convert.task.GroupTask` a conversion runs, locally or on Spark), and one
transaction stages the snapshots, oldest first, with the schema and partition evolution a version
needs, the sync state and the new lineage file: the catalog sees one commit, so a crash leaves no
partial history (and the target's clean-up deletes what the run wrote).

Snapshot operations follow the change: files added only -> ``append``; removed only -> ``delete``;
both -> ``overwrite``; no action with ``dataChange`` (OPTIMIZE and the like) -> ``replace``. A data
file is written once and every later snapshot that still holds it shares it.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pyiceberg.io import FileIO
from pyiceberg.manifest import DataFile
from pyiceberg.partitioning import PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.table import Table, Transaction
from pyiceberg.table.metadata import TableMetadata
from pyiceberg.table.refs import SnapshotRefType
from pyiceberg.table.snapshots import Operation, Summary
from pyiceberg.table.update import (
    AddPartitionSpecUpdate,
    AddSchemaUpdate,
    AssertCurrentSchemaId,
    AssertDefaultSpecId,
    SetCurrentSchemaUpdate,
    SetDefaultSpecUpdate,
    SetPropertiesUpdate,
    SetSnapshotRefUpdate,
)
from pyiceberg.table.update.snapshot import _FastAppendFiles, _OverwriteFiles
from pyiceberg.transforms import IdentityTransform

from datax_migrate import __version__
from datax_migrate.convert.changes import FileKey, VersionChange
from datax_migrate.convert.engine import Engine, LocalEngine
from datax_migrate.convert.evolution import evolve_schema, evolve_spec
from datax_migrate.convert.lineage import LINEAGE_PROPERTY, Lineage, lineage_file
from datax_migrate.convert.plan import FileGroup
from datax_migrate.convert.task import GroupTask, GroupWriter
from datax_migrate.delta.actions import AddFile
from datax_migrate.delta.scan import FileReader
from datax_migrate.delta.table import DeltaSnapshot
from datax_migrate.iceberg.datafile import DataFileLayout, ParquetSettings
from datax_migrate.iceberg.partitioning import PartitionColumn, plan_partitioning
from datax_migrate.iceberg.schema import TypeMapOptions
from datax_migrate.iceberg.target import (
    SOURCE_COMMIT_TIME_SOURCE,
    SOURCE_COMMIT_TIMESTAMP,
    SOURCE_LOCATION,
    SOURCE_TABLE_ID,
    SOURCE_VERSION,
    DataFilePaths,
    IcebergTarget,
)

SOURCE_OPERATION = "datax.source-operation"
"""Snapshot summary entry: the Delta operation (``commitInfo.operation``) of the version."""
SYNC_SOURCE_TABLE_ID = "datax.sync.source-table-id"
SYNC_SOURCE_LOCATION = "datax.sync.source-location"
SYNC_LAST_VERSION = "datax.sync.last-version"
SYNC_LAST_SNAPSHOT_ID = "datax.sync.last-snapshot-id"
SYNC_LAST_SCHEMA_ID = "datax.sync.last-schema-id"
"""The table's current schema id as the last sync left it: an Iceberg-side schema change is drift."""
SYNC_LAST_SPEC_ID = "datax.sync.last-spec-id"
"""The table's default partition spec id as the last sync left it: an Iceberg-side spec change is drift."""
SYNC_LOSSY = "datax.sync.lossy"
"""The lossy type mappings the table was converted with (comma-separated); a sync maps types the same way."""
SYNC_IDENTITY_PARTITIONS = "datax.sync.identity-partitions"
"""``true`` when the table was converted with identity partitions; a sync partitions the same way."""
TAG_PREFIX = "delta-v"
"""``--tag-versions`` tags each snapshot ``delta-v<N>``."""


def shape_state(metadata: TableMetadata) -> dict[str, str]:
    """The sync state entries that record the table's current schema and partition spec."""
    return {SYNC_LAST_SCHEMA_ID: str(metadata.current_schema_id), SYNC_LAST_SPEC_ID: str(metadata.default_spec_id)}


def options_state(lossy: frozenset[str], identity_partitions: bool) -> dict[str, str]:
    """The sync state entries that record the conversion options a later sync must replay with."""
    return {SYNC_LOSSY: ",".join(sorted(lossy)), SYNC_IDENTITY_PARTITIONS: str(identity_partitions).lower()}


@dataclass(frozen=True)
class ReplaySettings:
    """How versions are replayed.

    Attributes:
        lossy: Accepted lossy type mappings.
        identity_partitions: Keep generated partition columns as identity partitions.
        parquet: Parquet writer settings.
        squash: One snapshot for every version replayed, instead of one per version.
        tag_versions: Tag each snapshot ``delta-v<N>``.

    """

    lossy: frozenset[str] = frozenset()
    identity_partitions: bool = False
    parquet: ParquetSettings = field(default_factory=ParquetSettings)
    squash: bool = False
    tag_versions: bool = False


@dataclass
class _Epoch:
    """A stretch of versions with one Delta schema and partitioning, and the Iceberg schema and spec of it."""

    snapshot: DeltaSnapshot
    schema: Schema
    spec: PartitionSpec
    writer: GroupWriter
    groups: list[FileGroup] = field(default_factory=list)


@dataclass
class _Step:
    change: VersionChange
    epoch: _Epoch
    deleted: set[str]
    written: list[int]


@dataclass(frozen=True)
class ReplayOutcome:
    """What a replay committed.

    Attributes:
        snapshot_ids: The snapshots added, oldest first.
        data_files_written: Iceberg data files the snapshots added.
        bytes_written: Their bytes.
        rows_added: Rows in the data files added.
        rows_removed: Rows in the data files removed (a rewritten lineage group counts its old file).
        versions: The Delta versions replayed.
        total_rows: Rows in the table's last snapshot.
        lineage_path: The lineage file the commit wrote.

    """

    snapshot_ids: tuple[int, ...]
    data_files_written: int
    bytes_written: int
    rows_added: int
    rows_removed: int
    versions: tuple[int, ...]
    total_rows: int
    lineage_path: str


class HistoryReplay:
    """Plans, writes and stages the snapshots of a range of Delta versions on one staged Iceberg target.

    Example:
        >>> replay = HistoryReplay(target, Lineage(), {}, {}, settings)
        >>> replay.plan(changes)
        >>> replay.write(engine)
        >>> outcome = replay.commit(extra_properties)
    """

    def __init__(
        self,
        target: IcebergTarget,
        lineage: Lineage,
        current_files: dict[str, DataFile],
        active: dict[FileKey, AddFile],
        settings: ReplaySettings,
        base: DeltaSnapshot,
    ) -> None:
        """Replay onto ``target`` (staged: created, or opened with ``begin_update``).

        Args:
            target: The staged Iceberg table.
            lineage: Lineage of the table's current snapshot (empty for a new table).
            current_files: The data files of the table's current snapshot, by path.
            active: The Delta files the current snapshot holds (empty for a new table).
            settings: How to replay.
            base: The Delta version the table holds now (for a new table: the first version replayed).

        """
        self.target, self.lineage, self.settings = target, lineage, settings
        self.files_by_path = dict(current_files)
        self.active = dict(active)
        metadata = target.metadata
        self._last_column_id = metadata.last_column_id
        self._last_partition_id = metadata.last_partition_id
        self._specs = list(metadata.partition_specs)
        self._epoch = self._new_epoch(base, target.schema, target.spec)
        self._epochs = [self._epoch]
        self._steps: list[_Step] = []
        self._indexes = itertools.count()
        self._written: dict[int, DataFile | None] = {}

    def plan(self, changes: Iterable[VersionChange]) -> None:
        """Work out, per version, the Iceberg files to delete and the Delta files to write."""
        for change in changes:
            if self._changes_shape(change.snapshot):
                rewrites_all = not self.active or self.active.keys() <= change.removed
                self._epoch = self._evolve(change.snapshot, rewrites_all)
                self._epochs.append(self._epoch)
            else:
                self._epoch.snapshot = change.snapshot  # same shape: the newest version reads its files
            deleted, kept = self.lineage.release(change.removed)
            for key in change.removed:
                self.active.pop(key, None)
            for add in change.added:
                self.active[add.key] = add
            written = [
                self._plan_write(add) for add in (*change.added, *(self.active[k] for k in sorted(kept, key=str)))
            ]
            self._steps.append(_Step(change, self._epoch, deleted, written))

    def write(
        self, engine: Engine | None = None, on_done: Callable[[FileGroup, list[DataFile]], None] | None = None
    ) -> None:
        """Write every planned data file (with ``squash``: only those the last version still holds)."""
        engine = engine or LocalEngine()

        def done(group: FileGroup, data_files: list[DataFile]) -> None:
            for data_file in data_files:
                self.target.remember(data_file.file_path)
            if on_done is not None:
                on_done(group, data_files)

        for epoch in self._epochs:
            groups = self._to_write(epoch)
            if not groups:
                continue
            task = GroupTask(epoch.writer, None, self.target)
            for group, files in zip(groups, engine.run(groups, task, done), strict=True):
                (data_file,) = files or (None,)  # one-file groups of one part: one data file, or none
                if data_file is not None:
                    data_file.spec_id = epoch.spec.spec_id  # DataFile.from_args drops it; deletes need it
                self._written[group.index] = data_file

    @property
    def groups(self) -> list[FileGroup]:
        """Every data file the plan writes, as one-file groups."""
        return [g for e in self._epochs for g in self._to_write(e)]

    def _to_write(self, epoch: _Epoch) -> list[FileGroup]:
        """The planned files of ``epoch`` to write: all, or with ``squash`` those the last version holds."""
        if not self.settings.squash:
            return epoch.groups
        live = {int(p[1:]) for p in self.lineage.iceberg_paths() if p.startswith("#")}
        return [g for g in epoch.groups if g.index in live]

    def commit(self, properties: dict[str, str]) -> ReplayOutcome:
        """Stage every snapshot, the sync state, ``properties`` and the lineage file; commit once."""
        lineage = self._resolved_lineage()
        lineage_path = lineage_file(self.target.location, self.target.run_id)
        self.target.remember(lineage_path)
        lineage.write(self.target.io, lineage_path)
        counts: dict[str, int] = {"files": 0, "bytes": 0, "added": 0, "removed": 0, "total": 0}

        def stage(transaction: Transaction, run: dict[str, str]) -> None:
            last: int | None = None
            for epoch, change, deleted, added in self._snapshots():
                self._stage_shape(transaction, epoch)
                summary = {**_summary(change), **run, "datax.converter": f"datax-migrate {__version__}"}
                removed = [self.files_by_path[p] for p in sorted(deleted)]
                last = stage_snapshot(
                    transaction, self.target.io, _operation(change, added, removed), summary, removed, added
                )
                counts["files"] += len(added)
                counts["bytes"] += sum(f.file_size_in_bytes for f in added)
                counts["added"] += sum(f.record_count for f in added)
                counts["removed"] += sum(f.record_count for f in removed)
                for data_file in added:
                    self.files_by_path[data_file.file_path] = data_file
                if self.settings.tag_versions and not self.settings.squash:
                    transaction._apply(
                        (
                            SetSnapshotRefUpdate.model_validate(
                                {
                                    "ref-name": f"{TAG_PREFIX}{change.version}",
                                    "type": SnapshotRefType.TAG,
                                    "snapshot-id": last,
                                }
                            ),
                        )
                    )
            final = self._steps[-1].change.snapshot if self._steps else self._epoch.snapshot
            state = {
                **properties,
                SYNC_SOURCE_TABLE_ID: final.metadata.id,
                SYNC_SOURCE_LOCATION: final.location,
                SYNC_LAST_VERSION: str(final.version),
                LINEAGE_PROPERTY: lineage_path,
                **shape_state(transaction.table_metadata),
                **options_state(self.settings.lossy, self.settings.identity_partitions),
                SOURCE_LOCATION: final.location,
                SOURCE_VERSION: str(final.version),
                SOURCE_COMMIT_TIMESTAMP: str(final.commit_timestamp_ms),
                SOURCE_TABLE_ID: final.metadata.id,
            }
            if last is not None:
                state[SYNC_LAST_SNAPSHOT_ID] = str(last)
                summary_of_last = transaction.table_metadata.snapshot_by_id(last)
                if summary_of_last is not None and summary_of_last.summary is not None:
                    counts["total"] = int(summary_of_last.summary.get("total-records") or 0)
            transaction._apply((SetPropertiesUpdate(updates=state),))

        self.target.commit_staged(stage)
        return ReplayOutcome(
            snapshot_ids=self.target.snapshot_ids,
            data_files_written=counts["files"],
            bytes_written=counts["bytes"],
            rows_added=counts["added"],
            rows_removed=counts["removed"],
            versions=tuple(s.change.version for s in self._steps),
            total_rows=counts["total"],
            lineage_path=lineage_path,
        )

    def _snapshots(self) -> Iterable[tuple[_Epoch, VersionChange, set[str], list[DataFile]]]:
        """Per snapshot: the shape it is written in, its change, the paths it deletes and the files it adds."""
        if not self._steps:
            return
        if not self.settings.squash:
            for step in self._steps:
                deleted = {p for p in (self._resolve(t) for t in step.deleted) if p is not None}
                added = [f for f in (self._written.get(i) for i in step.written) if f is not None]
                yield step.epoch, step.change, deleted, added
            return
        deleted = {p for step in self._steps for p in step.deleted if not p.startswith("#")}
        live = sorted(int(p[1:]) for p in self.lineage.iceberg_paths() if p.startswith("#"))
        added = [f for f in (self._written.get(i) for i in live) if f is not None]
        last = self._steps[-1].change
        squashed = dataclasses.replace(
            last,
            data_change=any(s.change.data_change for s in self._steps),
            operation=",".join(dict.fromkeys(s.change.operation for s in self._steps if s.change.operation)),
        )
        yield self._steps[-1].epoch, squashed, deleted, added

    def _resolve(self, token: str) -> str | None:
        if not token.startswith("#"):
            return token
        written = self._written.get(int(token[1:]))
        return written.file_path if written is not None else None

    def _resolved_lineage(self) -> Lineage:
        resolved = Lineage()
        for group in self.lineage.groups:
            resolved.add({p for p in (self._resolve(t) for t in group.iceberg) if p is not None}, group.delta)
        return resolved

    def _plan_write(self, add: AddFile) -> int:
        index = next(self._indexes)
        values = tuple(sorted(self._epoch.writer.reader.partition_values(add).items()))
        self._epoch.groups.append(FileGroup(index, (add,), values))
        self.lineage.add({f"#{index}"}, {add.key})
        return index

    def _changes_shape(self, snapshot: DeltaSnapshot) -> bool:
        old, new = self._epoch.snapshot.metadata, snapshot.metadata
        return (old.schema, old.partition_columns) != (new.schema, new.partition_columns)

    def _evolve(self, snapshot: DeltaSnapshot, rewrites_all: bool) -> _Epoch:
        options = TypeMapOptions(self.settings.lossy)
        old = self._epoch.snapshot.metadata
        schema = evolve_schema(
            self._epoch.schema,
            self._last_column_id,
            old.schema,
            snapshot.metadata.schema,
            column_mapping=snapshot.metadata.column_mapping_mode != "none",
            options=options,
            rewrites_all=rewrites_all,
        )
        if schema.as_struct() == self._epoch.schema.as_struct():
            schema = self._epoch.schema
        self._last_column_id = max(self._last_column_id, schema.highest_field_id)
        if snapshot.metadata.partition_columns == old.partition_columns:
            spec = self._epoch.spec
        else:
            partitioning = partition_plan(snapshot, self.settings.identity_partitions)
            spec = evolve_spec(partitioning, schema, self._specs, self._last_partition_id)
        if spec not in self._specs:
            self._specs.append(spec)
            self._last_partition_id = max([self._last_partition_id or 0, *(f.field_id for f in spec.fields)])
        return self._new_epoch(snapshot, schema, spec)

    def _new_epoch(self, snapshot: DeltaSnapshot, schema: Schema, spec: PartitionSpec) -> _Epoch:
        target = self.target
        writer = GroupWriter(
            reader=FileReader(dataclasses.replace(snapshot, files=())),
            layout=DataFileLayout.for_table(schema, spec, target.properties, self.settings.parquet),
            paths=DataFilePaths(target.location, spec, schema, target.run_id),
            io_properties={**target.catalog.properties, **target.properties},
            identity_sources={
                f.field_id: schema.find_column_name(f.source_id) or ""
                for f in spec.fields
                if isinstance(f.transform, IdentityTransform)
            },
        )
        return _Epoch(snapshot, schema, spec, writer)

    def _stage_shape(self, transaction: Transaction, epoch: _Epoch) -> None:
        """Make ``epoch``'s schema and spec current in ``transaction`` (schema and partition evolution)."""
        metadata = transaction.table_metadata
        updates: list[Any] = []
        if metadata.schema().as_struct() != epoch.schema.as_struct():
            known = next((s for s in metadata.schemas if s.as_struct() == epoch.schema.as_struct()), None)
            if known is None:
                fresh = Schema(*epoch.schema.fields, schema_id=max(s.schema_id for s in metadata.schemas) + 1)
                updates += [
                    AddSchemaUpdate.model_validate({"schema": fresh}),
                    SetCurrentSchemaUpdate.model_validate({"schema-id": -1}),
                ]
            else:
                updates.append(SetCurrentSchemaUpdate.model_validate({"schema-id": known.schema_id}))
        if metadata.default_spec_id != epoch.spec.spec_id:
            if all(s.spec_id != epoch.spec.spec_id for s in metadata.partition_specs):
                updates.append(AddPartitionSpecUpdate(spec=epoch.spec))
            updates.append(SetDefaultSpecUpdate.model_validate({"spec-id": epoch.spec.spec_id}))
        if updates:
            transaction._apply(
                tuple(updates),
                (
                    AssertCurrentSchemaId.model_validate({"current-schema-id": metadata.current_schema_id}),
                    AssertDefaultSpecId.model_validate({"default-spec-id": metadata.default_spec_id}),
                ),
            )


class _Relabelled(_OverwriteFiles):
    """An overwrite labelled with another operation (pyiceberg 0.12 sums up only append, overwrite, delete)."""

    label: Operation = Operation.OVERWRITE

    def _summary(self, snapshot_properties: dict[str, str] = {}) -> Summary:  # noqa: B006 - as pyiceberg declares it
        summary = super()._summary(snapshot_properties)
        return Summary(self.label, **summary.additional_properties)


def stage_snapshot(
    transaction: Transaction,
    io: FileIO,
    operation: Operation,
    summary: dict[str, str],
    deleted: list[DataFile],
    added: list[DataFile],
) -> int:
    """Stage one snapshot on ``main`` that deletes ``deleted`` and adds ``added``; return its id.

    ``operation`` labels it (``replace`` for a rewrite without data change). The deleted files must
    be in the current snapshot.
    """
    producer: _FastAppendFiles | _OverwriteFiles
    if operation == Operation.APPEND and not deleted:
        producer = _FastAppendFiles(
            operation=Operation.APPEND, transaction=transaction, io=io, snapshot_properties=summary
        )
    else:
        producer = _Relabelled(
            operation=Operation.OVERWRITE, transaction=transaction, io=io, snapshot_properties=summary
        )
        producer.label = operation
    for data_file in deleted:
        producer.delete_data_file(data_file)
    for data_file in added:
        producer.append_data_file(data_file)
    producer.commit()
    return producer.snapshot_id


def current_data_files(table: Table) -> dict[str, DataFile]:
    """The data files of ``table``'s current snapshot, by path."""
    snapshot = table.current_snapshot()
    if snapshot is None:
        return {}
    return {
        entry.data_file.file_path: entry.data_file
        for manifest in snapshot.manifests(table.io)
        for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True)
    }


def _operation(change: VersionChange, added: list[DataFile], removed: list[DataFile]) -> Operation:
    if not change.data_change:
        return Operation.REPLACE
    if added and removed:
        return Operation.OVERWRITE
    if removed:
        return Operation.DELETE
    return Operation.APPEND


def _summary(change: VersionChange) -> dict[str, str]:
    snapshot = change.snapshot
    return {
        SOURCE_LOCATION: snapshot.location,
        SOURCE_VERSION: str(snapshot.version),
        SOURCE_COMMIT_TIMESTAMP: str(snapshot.commit_timestamp_ms),
        SOURCE_TABLE_ID: snapshot.metadata.id,
        SOURCE_OPERATION: change.operation,
        **({SOURCE_COMMIT_TIME_SOURCE: snapshot.commit_time_source} if snapshot.commit_time_source else {}),
    }


def partition_plan(snapshot: DeltaSnapshot, identity_partitions: bool) -> list[PartitionColumn]:
    """The Iceberg partitioning of a Delta snapshot (identity for every column when asked)."""
    columns = snapshot.metadata.partition_columns
    if identity_partitions:
        schema = snapshot.metadata.schema
        return [PartitionColumn(schema.field(c).name, IdentityTransform(), (c,)) for c in columns]
    return plan_partitioning(snapshot.metadata.schema, columns)
