"""The Iceberg side of a conversion: a staged table, its data-file locations and the one commit.

Over 400 lines because the staged table's commit protocol (create, replace, append, the idempotence
marker, clean-up) is one sequence whose order matters.

A new table is created by a create-table transaction whose only commit also adds the data files:
until that commit, no table is visible in the catalog. Catalogs that cannot stage a table (the S3
Tables and Glue Iceberg REST endpoints) see it created empty and marked pending instead, and filled
by that one commit; readers never see part of the data. A replace with the same schema and
partitioning is one overwrite snapshot on top of the current one. Across a schema or partitioning
change it replaces the table the way Iceberg's replace-table does, also in one commit: the new schema
and partition spec (column and partition field ids kept where the column is the same) and a snapshot
without parent holding only the new data files, the old snapshots kept for time travel and rollback.
Either way the source (location, Delta version, commit time) and the run's id are recorded in the
snapshot summary, the source also in the table properties.

When the commit call fails or is interrupted, the table is reloaded to learn whether this run's
snapshot landed; only when it did not are the run's files (data files, manifests, manifest list and
an unreferenced metadata file) deleted.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow.fs as pafs
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import (
    CommitFailedException,
    NamespaceAlreadyExistsError,
    NamespaceNotEmptyError,
    NoSuchNamespaceError,
    NoSuchTableError,
    TableAlreadyExistsError,
    ValidationException,
)
from pyiceberg.io import FileIO, load_file_io
from pyiceberg.io.pyarrow import PyArrowFileIO
from pyiceberg.manifest import DataFile, read_manifest_list
from pyiceberg.partitioning import PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.table import CreateTableTransaction, Table, Transaction
from pyiceberg.table.metadata import TableMetadata
from pyiceberg.table.snapshots import Operation, Snapshot
from pyiceberg.table.sorting import NullOrder, SortOrder
from pyiceberg.table.update import SetPropertiesUpdate
from pyiceberg.transforms import IdentityTransform
from pyiceberg.typedef import Record

from datax_migrate.catalogs import ReservingCatalog, stages_creates
from datax_migrate.errors import TargetError, TargetExistsError
from datax_migrate.iceberg.replace import replace_table_updates
from datax_migrate.plan.names import check_identifier, rules_for_catalog
from datax_migrate.signals import deferred_signals

SOURCE_LOCATION = "datax.source-location"
SOURCE_VERSION = "datax.source-delta-version"
SOURCE_COMMIT_TIMESTAMP = "datax.source-commit-timestamp"
SOURCE_TABLE_ID = "datax.source-delta-table-id"
SOURCE_COMMIT_TIME_SOURCE = "datax.source-commit-time-source"
"""Where the source commit time comes from: in-commit timestamp, file time, or commitInfo.timestamp."""
SOURCE_NAME = "datax.source-name"
"""The Databricks name of the source table, when the conversion was given one (``--name-map``)."""
PENDING = "datax.conversion-pending"
"""Marks a table created empty by a conversion that has not committed yet (holds its run id)."""
RUN_ID = "datax.run-id"
"""Snapshot summary entry: the id of the conversion run that wrote the snapshot (and names its data files)."""
FORMAT_VERSION = "format-version"


@dataclass(frozen=True)
class SourceIdentity:
    """Which Delta table and version an Iceberg snapshot was converted from."""

    location: str
    delta_version: int
    commit_timestamp_ms: int
    delta_table_id: str
    commit_time_source: str = ""
    commit_time_note: str = ""

    def properties(self) -> dict[str, str]:
        """The identity as Iceberg table properties / snapshot summary entries."""
        return {
            SOURCE_LOCATION: self.location,
            SOURCE_VERSION: str(self.delta_version),
            SOURCE_COMMIT_TIMESTAMP: str(self.commit_timestamp_ms),
            SOURCE_TABLE_ID: self.delta_table_id,
            **({SOURCE_COMMIT_TIME_SOURCE: self.commit_time_source} if self.commit_time_source else {}),
        }

    @classmethod
    def from_properties(cls, properties: dict[str, str]) -> SourceIdentity | None:
        """Read an identity back; ``None`` if the table was not written by a conversion."""
        try:
            return cls(
                location=properties[SOURCE_LOCATION],
                delta_version=int(properties[SOURCE_VERSION]),
                commit_timestamp_ms=int(properties.get(SOURCE_COMMIT_TIMESTAMP, "0")),
                delta_table_id=properties.get(SOURCE_TABLE_ID, ""),
                commit_time_source=properties.get(SOURCE_COMMIT_TIME_SOURCE, ""),
            )
        except (KeyError, ValueError):
            return None

    def same_source(self, other: SourceIdentity | None) -> bool:
        """Whether ``other`` names the same table at the same version."""
        return other is not None and (self.location, self.delta_version) == (other.location, other.delta_version)


@dataclass(frozen=True)
class DataFilePaths:
    """Names the data files of one conversion run: one file per file group (or part of it), named by the group.

    A retried task writes the same path again instead of leaving a second file behind.
    """

    location: str
    spec: PartitionSpec
    schema: Schema
    run_id: str

    def path(self, partition: Record, group_index: int, part: int = 0) -> str:
        """The data file of file group ``group_index`` (its part ``part``), in its partition's folder."""
        folder = f"{self.location}/data"
        if self.spec.fields:
            folder = f"{folder}/{self.spec.partition_to_path(partition, self.schema)}"
        suffix = f"-{part}" if part else ""
        return f"{folder}/{self.run_id}-{group_index:05d}{suffix}.parquet"


class IcebergTarget:
    """One Iceberg table being written by a conversion."""

    def __init__(self, catalog: Catalog, identifier: str) -> None:
        """Address ``identifier`` (``namespace.table``) in ``catalog``."""
        if "." not in identifier:
            raise TargetError(f"target {identifier!r} must be NAMESPACE.TABLE")
        check_identifier(identifier, rules_for_catalog(catalog.properties))  # before anything is created
        self.catalog = catalog
        self.identifier = identifier
        self.run_id = uuid.uuid4().hex
        self._transaction: Transaction | None = None
        self._replacing = False
        self._overwriting: Table | None = None
        self._written: set[str] = set()
        self._lock = threading.Lock()
        self._created_namespace: str | None = None
        self._snapshots: list[Snapshot] = []  # every snapshot this run staged, oldest first
        self._committed = False
        self._outcome_unknown = False
        self._placeholder = False
        self.schema: Schema
        self.spec: PartitionSpec
        self.location: str
        self.io: FileIO
        self.properties: dict[str, str]
        self.sort_order: SortOrder

    @property
    def name(self) -> str:
        """``catalog.namespace.table``."""
        return f"{self.catalog.name}.{self.identifier}"

    @property
    def committed(self) -> bool:
        """Whether this run's snapshot is in the table (the commit landed)."""
        return self._committed

    @property
    def snapshot_id(self) -> int | None:
        """The id of this run's snapshot, once :meth:`commit` has staged it."""
        return self._snapshots[-1].snapshot_id if self._snapshots else None

    @property
    def snapshot_ids(self) -> tuple[int, ...]:
        """The ids of every snapshot this run staged, oldest first (several for a history or a sync)."""
        return tuple(s.snapshot_id for s in self._snapshots)

    def existing(self) -> Table | None:
        """The table as it is in the catalog now, or ``None``.

        An empty table still marked :data:`PENDING` was left by a conversion killed before its
        commit (on a catalog that cannot stage tables): it is purged and counts as absent.
        """
        try:
            table = self.catalog.load_table(self.identifier)
        except NoSuchTableError:
            return None
        if PENDING in table.properties and table.current_snapshot() is None:
            self._purge_placeholder()
            return None
        return table

    def begin_create(self, schema: Schema, spec: PartitionSpec, properties: dict[str, str]) -> None:
        """Stage a new table (creating the namespace if needed); nothing readable exists yet.

        A catalog that cannot stage a table (see :func:`~datax_migrate.catalogs.stages_creates`)
        gets it created empty with the :data:`PENDING` property; the commit adds the data and
        removes the mark in one metadata change, and :meth:`discard` purges it again.
        """
        namespace = self.identifier.rsplit(".", 1)[0]
        if not self.catalog.namespace_exists(namespace):
            try:
                self.catalog.create_namespace(namespace)
                self._created_namespace = namespace
            except NamespaceAlreadyExistsError:
                pass
            except Exception:  # a concurrent create can fail otherwise (the SQL catalog: IntegrityError)
                if not self.catalog.namespace_exists(namespace):
                    raise
        if stages_creates(self.catalog):
            staged = self.catalog.create_table_transaction(
                self.identifier, schema=schema, partition_spec=spec, properties=properties
            )
            self._start(staged, staged.table_metadata.properties)
            return
        try:
            table = self.catalog.create_table(
                self.identifier, schema=schema, partition_spec=spec, properties={**properties, PENDING: self.run_id}
            )
        except TableAlreadyExistsError as exc:
            raise TargetExistsError(f"{self.name} was created by someone else meanwhile") from exc
        self._placeholder = True
        transaction = table.transaction()
        transaction.remove_properties(PENDING)
        self._start(transaction, {k: v for k, v in table.properties.items() if k != PENDING})

    def begin_replace(self, table: Table, schema: Schema, spec: PartitionSpec, properties: dict[str, str]) -> None:
        """Prepare to replace ``table``'s content in one commit.

        With the same schema and partitioning, the commit is an overwrite snapshot whose parent is
        the current one. Otherwise it is Iceberg's replace-table (see
        :func:`~datax_migrate.iceberg.replace.replace_table_updates`): ``schema`` and ``spec`` become
        current (a column keeps its id when its name and type carry over, a partition field when its
        source and transform do), the ``main`` branch is removed and a snapshot without parent holds
        only this run's data files. Earlier snapshots, schemas and specs stay: time travel reaches
        the table as it was. The commit fails if anyone changed the table's current snapshot, schema
        or spec meanwhile.

        Raises:
            TargetExistsError: the table has a higher format version than asked for; Iceberg cannot lower it.

        """
        metadata = table.metadata
        wanted = int(properties.get(FORMAT_VERSION, metadata.format_version))
        if wanted < metadata.format_version:
            raise TargetExistsError(
                f"{self.name} is Iceberg format v{metadata.format_version} and a replace cannot lower it to "
                f"v{wanted}; drop the table first to convert it at v{wanted}"
            )
        updates, requirements = replace_table_updates(metadata, schema, spec, wanted)
        settings = {k: v for k, v in properties.items() if k != FORMAT_VERSION}
        transaction = table.transaction()
        # pyiceberg 0.12 has no replace-table: stage the updates its builders would, on this transaction.
        transaction._apply((*updates, SetPropertiesUpdate(updates=settings)), requirements)
        self._replacing = True
        self._overwriting = None if updates else table  # same shape: overwrite, the old snapshot stays the parent
        self._start(transaction, dict(transaction.table_metadata.properties))

    def begin_update(self, table: Table) -> None:
        """Prepare to add snapshots on top of ``table``'s current one (a history or sync commit).

        The commit fails if anyone changed the table's ``main`` branch meanwhile.
        """
        self._replacing = True  # the table is not this run's: discard never drops it
        self._start(table.transaction(), dict(table.properties))

    def _start(self, transaction: Transaction, properties: dict[str, str]) -> None:
        metadata = transaction.table_metadata
        self._transaction = transaction
        self.schema = metadata.schema()
        self.spec = metadata.spec()
        self.location = metadata.location.rstrip("/")
        self.properties = dict(properties)
        self.io = load_file_io({**self.catalog.properties, **self.properties}, self.location)
        self.sort_order = metadata.sort_order()

    def sort_by(self, columns: tuple[str, ...]) -> SortOrder:
        """Make ``columns`` (full names from :func:`~datax_migrate.iceberg.sorting.sort_columns`) the sort order.

        Ascending, nulls first; no columns means unsorted. It is staged with the data's commit.
        """
        assert self._transaction is not None, "begin_create or begin_replace first"
        update = self._transaction.update_sort_order()
        for column in columns:
            update.asc(column, IdentityTransform(), NullOrder.NULLS_FIRST)
        # Without pyiceberg's requirement on the default sort order: a replace may have reset it on
        # this transaction already, and the requirement would be checked against the table before.
        updates, _ = update._commit()
        self._transaction._apply(updates)
        self.sort_order = self._transaction.table_metadata.sort_order()
        return self.sort_order

    @property
    def metadata(self) -> TableMetadata:
        """The table's metadata as this run has staged it so far."""
        assert self._transaction is not None, "begin_create, begin_replace or begin_update first"
        return self._transaction.table_metadata

    @property
    def paths(self) -> DataFilePaths:
        """Where this run's data files go."""
        return DataFilePaths(self.location, self.spec, self.schema, self.run_id)

    def remember(self, path: str) -> None:
        """Note a data file this run created, for :meth:`discard`; safe from any thread."""
        with self._lock:
            self._written.add(path)

    def commit(
        self,
        data_files: list[DataFile],
        summary: dict[str, str],
        then: Callable[[Transaction, int], None] | None = None,
    ) -> int | None:
        """Commit all data files in one snapshot; return its id.

        ``then(transaction, snapshot_id)`` may stage more metadata updates (properties) in the same commit.

        Ctrl-C and SIGTERM wait until the catalog has answered. When the commit call fails or is
        interrupted, the table is reloaded: if this run's snapshot is in it, the commit landed
        (:attr:`committed`), an error is ignored and an interrupt raised on; otherwise the failure
        is raised.

        Raises:
            TargetError: the catalog refused the commit (e.g. the table appeared meanwhile), or the
                commit's outcome cannot be learnt (then nothing is deleted).

        """

        def stage(transaction: Transaction, run: dict[str, str]) -> None:
            snapshot_id = self._stage_files(transaction, data_files, {**summary, **run})
            if then is not None:
                then(transaction, snapshot_id)

        return self.commit_staged(stage, single_attempt=False)

    def commit_staged(
        self, stage: Callable[[Transaction, dict[str, str]], None], single_attempt: bool = True
    ) -> int | None:
        """Commit what ``stage(transaction, run_summary)`` stages in one catalog commit; return the last snapshot id.

        ``stage`` adds snapshots (each with ``run_summary`` in its summary, which marks it as this
        run's) and any other metadata updates. With ``single_attempt`` a concurrent change to the
        table fails the commit instead of pyiceberg rebasing the staged snapshots onto it. The
        interrupt, failure and clean-up rules of :meth:`commit` apply.
        """
        assert self._transaction is not None, "begin_create, begin_replace or begin_update first"
        transaction = self._transaction
        try:
            with deferred_signals():
                self._commit(transaction, stage, single_attempt)
                self._committed = True
        except Exception as exc:
            if self._committed or isinstance(exc, TargetError) or not self._landed(exc):  # TargetError: refused
                raise
            self._committed = True  # the catalog took it; only its answer was lost
        except BaseException as interrupt:
            if not self._committed:
                self._committed = self._landed(interrupt)
            raise
        return self.snapshot_id

    def _commit(
        self, transaction: Transaction, stage: Callable[[Transaction, dict[str, str]], None], single_attempt: bool
    ) -> None:
        try:
            stage(transaction, {RUN_ID: self.run_id})
            self._snapshots = [
                s for s in transaction.table_metadata.snapshots if s.summary and s.summary.get(RUN_ID) == self.run_id
            ]
            if single_attempt:
                transaction._snapshot_producers.clear()  # no rebase of staged snapshots onto a concurrent commit
            transaction.commit_transaction()
        except TableAlreadyExistsError as exc:
            raise TargetExistsError(f"{self.name} was created by someone else during the conversion") from exc
        except (CommitFailedException, ValidationException) as exc:
            if isinstance(transaction, CreateTableTransaction) and self.catalog.table_exists(self.identifier):
                raise TargetExistsError(f"{self.name} was created by someone else during the conversion") from exc
            raise TargetError(f"commit to {self.name} failed: {exc}") from exc

    def _stage_files(self, transaction: Transaction, data_files: list[DataFile], summary: dict[str, str]) -> int:
        """Stage one snapshot adding ``data_files`` (replacing the old ones when overwriting); return its id."""
        if self._overwriting is not None:
            with transaction.update_snapshot(snapshot_properties=summary).overwrite() as overwrite:
                for task in self._overwriting.scan().plan_files():
                    overwrite.delete_data_file(task.file)
                for data_file in data_files:
                    overwrite.append_data_file(data_file)
            return overwrite.snapshot_id
        with transaction.update_snapshot(snapshot_properties=summary).fast_append() as append:
            for data_file in data_files:
                append.append_data_file(data_file)
        return append.snapshot_id

    def _landed(self, failure: BaseException) -> bool:
        """Reload the table after ``failure`` cut the commit short: is this run's snapshot in it?

        Raises:
            TargetError: the table cannot be reloaded, so the outcome is unknown; every file is kept.

        """
        if not self._snapshots:
            return False
        try:
            table = self.catalog.load_table(self.identifier)
        except NoSuchTableError:
            return False
        except Exception as exc:
            self._outcome_unknown = True
            raise TargetError(
                f"the outcome of the commit to {self.name} is unknown ({type(failure).__name__}, then reloading "
                f"failed: {exc}); its files were kept: run the conversion again, it says unchanged if it landed"
            ) from exc
        snapshot = table.snapshot_by_id(self._snapshots[-1].snapshot_id)
        return snapshot is not None and snapshot.summary is not None and snapshot.summary[RUN_ID] == self.run_id

    def discard(self) -> int:
        """Undo a failed run: delete the files it wrote, its table reservation, and the namespace it created.

        The files are the data files, and the manifests, manifest list and metadata file of a commit
        that did not land (where storage lists and deletes; S3 Tables' own removal of unreferenced
        files reclaims them there). Returns how many data files were removed. After the commit landed
        it does nothing: the files belong to the table then.
        """
        if self._committed or self._outcome_unknown:
            return 0
        self._discard_commit_files()
        if self._placeholder:
            self._purge_placeholder()
        elif self._transaction is not None and not self._replacing and isinstance(self.catalog, ReservingCatalog):
            self.catalog.release(self.identifier)
        if self._created_namespace is not None:
            try:
                if not self.catalog.list_tables(self._created_namespace):
                    self.catalog.drop_namespace(self._created_namespace)
            except (NoSuchNamespaceError, NamespaceNotEmptyError):
                pass
        removed = sum(self._delete(path) for path in sorted(self._written))
        self._written.clear()
        return removed + self._sweep_unreported()

    def _discard_commit_files(self) -> None:
        """Delete the manifests and manifest lists of this run's snapshot, and a metadata file that names it."""
        if not self._snapshots:
            return
        listed = self._list(f"{self.location}/metadata") or []
        for snapshot in self._snapshots:
            marker = f"snap-{snapshot.snapshot_id}-"  # every commit attempt's manifest list
            for manifest_list in {snapshot.manifest_list, *(p for p in listed if _base_name(p).startswith(marker))}:
                try:
                    manifests = list(read_manifest_list(self.io.new_input(manifest_list)))
                except (OSError, ValueError):
                    continue
                for manifest in manifests:
                    if manifest.added_snapshot_id == snapshot.snapshot_id:
                        self._delete(manifest.manifest_path)
                self._delete(manifest_list)
        referenced = self._referenced_metadata()
        for path in listed:
            name = _base_name(path)
            if name.endswith(".metadata.json") and name not in referenced and self._names_this_run(path):
                self._delete(path)

    def _referenced_metadata(self) -> set[str]:
        try:
            table = self.catalog.load_table(self.identifier)
        except NoSuchTableError:
            return set()
        earlier = (entry.metadata_file for entry in table.metadata.metadata_log)
        return {_base_name(table.metadata_location), *(_base_name(path) for path in earlier)}

    def _names_this_run(self, path: str) -> bool:
        try:
            with self.io.new_input(path).open() as stream:
                return self.run_id.encode() in stream.read()
        except OSError:
            return False

    def _sweep_unreported(self) -> int:
        """Delete this run's data files nobody reported (a Spark task cancelled mid-write), where storage lists.

        Only files named with this run's id are touched.
        """
        if self._transaction is None:
            return 0
        listed = self._list(f"{self.location}/data") or []
        return sum(self._delete(path) for path in listed if _base_name(path).startswith(self.run_id))

    def _list(self, folder: str) -> list[str] | None:
        """Every file under ``folder``; ``None`` where storage refuses listing (S3 Tables).

        Listed through the target's own FileIO: the catalog's endpoint, region and credentials.
        """
        if not isinstance(self.io, PyArrowFileIO):
            return None
        scheme, netloc, root = PyArrowFileIO.parse_location(folder)
        try:
            filesystem = self.io.fs_by_scheme(scheme, netloc)
            found = filesystem.get_file_info(pafs.FileSelector(root, recursive=True, allow_not_found=True))
        except (OSError, ValueError):
            return None
        return [f"{scheme}://{info.path}" for info in found if info.is_file]

    def _delete(self, path: str) -> int:
        try:
            self.io.delete(path)
        except (FileNotFoundError, OSError):
            return 0
        return 1

    def _purge_placeholder(self) -> None:
        try:
            self.catalog.purge_table(self.identifier)
        except NoSuchTableError:
            pass


def current_conversion(table: Table) -> tuple[Snapshot | None, SourceIdentity | None]:
    """The snapshot that defines the table's current data, and the source it was converted from (if it was).

    Snapshots that only rewrite files without changing data (operation ``replace``: compaction,
    S3 Tables maintenance) are looked through to their parent, unless they record the Delta version
    they hold (a history or sync snapshot of a Delta version without data change, e.g. OPTIMIZE).
    """
    snapshot = table.current_snapshot()
    while (
        snapshot is not None
        and snapshot.summary is not None
        and snapshot.summary.operation == Operation.REPLACE
        and SOURCE_VERSION not in snapshot.summary.additional_properties
        and snapshot.parent_snapshot_id is not None
    ):
        snapshot = table.snapshot_by_id(snapshot.parent_snapshot_id)
    if snapshot is None or snapshot.summary is None:
        return snapshot, None
    return snapshot, SourceIdentity.from_properties(snapshot.summary.additional_properties)


def _base_name(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]
