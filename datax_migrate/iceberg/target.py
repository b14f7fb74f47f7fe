"""The Iceberg side of a conversion: a staged table, its data-file locations and the one commit.

A new table is created by a create-table transaction whose only commit also adds the data files:
until that commit, no table is visible in the catalog. Catalogs that cannot stage a table (the S3
Tables and Glue Iceberg REST endpoints) see it created empty and marked pending instead, and filled
by that one commit; readers never see part of the data. A replace rewrites an existing table in one
overwrite snapshot. Either way the source (location, Delta version, commit time) is recorded in the
snapshot summary and the table properties.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from typing import Any

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
from pyiceberg.manifest import DataFile
from pyiceberg.partitioning import PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.table import Table, Transaction
from pyiceberg.typedef import Record

from datax_migrate.catalogs import ReservingCatalog, stages_creates
from datax_migrate.catalogs.names import check_identifier, rules_for_catalog
from datax_migrate.errors import TargetError, TargetExistsError
from datax_migrate.iceberg.arrow import arrow_schema_with_ids
from datax_migrate.signals import deferred_signals

SOURCE_LOCATION = "datax.source-location"
SOURCE_VERSION = "datax.source-delta-version"
SOURCE_COMMIT_TIMESTAMP = "datax.source-commit-timestamp"
SOURCE_TABLE_ID = "datax.source-delta-table-id"
SOURCE_COMMIT_TIME_SOURCE = "datax.source-commit-time-source"
"""Where the source commit time comes from: in-commit timestamp, file time, or commitInfo.timestamp."""
SOURCE_NAME = "datax.source-name"
PENDING = "datax.conversion-pending"
"""Marks a table created empty by a conversion that has not committed yet (holds its run id)."""
"""The Databricks name of the source table, when the conversion was given one (``--name-map``)."""


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
    """Names the data files of one conversion run: one file per file group, named by the group.

    A retried task writes the same path again instead of leaving a second file behind.
    """

    location: str
    spec: PartitionSpec
    schema: Schema
    run_id: str

    def path(self, partition: Record, group_index: int) -> str:
        """The data file of file group ``group_index``, in its partition's folder."""
        folder = f"{self.location}/data"
        if self.spec.fields:
            folder = f"{folder}/{self.spec.partition_to_path(partition, self.schema)}"
        return f"{folder}/{self.run_id}-{group_index:05d}.parquet"


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
        self._replacing: Table | None = None
        self._written: set[str] = set()
        self._lock = threading.Lock()
        self._created_namespace: str | None = None
        self._committed = False
        self._placeholder = False
        self.schema: Schema
        self.spec: PartitionSpec
        self.location: str
        self.io: FileIO
        self.properties: dict[str, str]

    @property
    def name(self) -> str:
        """``catalog.namespace.table``."""
        return f"{self.catalog.name}.{self.identifier}"

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
        """Prepare to rewrite ``table`` in place; its schema and partitioning must match."""
        if not _same_shape(table.schema(), schema) or not _same_partitioning(table, spec, schema):
            raise TargetExistsError(
                f"{self.name} exists with a different schema or partitioning; drop it first to convert again"
            )
        transaction = table.transaction()
        transaction.set_properties(properties)
        self._replacing = table
        self._start(transaction, {**table.properties, **properties})

    def _start(self, transaction: Transaction, properties: dict[str, str]) -> None:
        metadata = transaction.table_metadata
        self._transaction = transaction
        self.schema = metadata.schema()
        self.spec = metadata.spec()
        self.location = metadata.location.rstrip("/")
        self.properties = dict(properties)
        self.io = load_file_io({**self.catalog.properties, **self.properties}, self.location)

    @property
    def paths(self) -> DataFilePaths:
        """Where this run's data files go."""
        return DataFilePaths(self.location, self.spec, self.schema, self.run_id)

    def remember(self, path: str) -> None:
        """Note a data file this run created, for :meth:`discard`; safe from any thread."""
        with self._lock:
            self._written.add(path)

    def commit(self, data_files: list[DataFile], summary: dict[str, str]) -> int | None:
        """Commit all data files in one snapshot; return its id.

        Raises:
            TargetError: the catalog refused the commit (e.g. the table appeared meanwhile).

        """
        assert self._transaction is not None, "begin_create or begin_replace first"
        transaction = self._transaction
        with deferred_signals():
            table = self._commit(transaction, data_files, summary)
            self._committed = True
        snapshot = table.current_snapshot()
        return snapshot.snapshot_id if snapshot else None

    def _commit(self, transaction: Transaction, data_files: list[DataFile], summary: dict[str, str]) -> Table:
        try:
            if self._replacing is not None:
                with transaction.update_snapshot(snapshot_properties=summary).overwrite() as overwrite:
                    for task in self._replacing.scan().plan_files():
                        overwrite.delete_data_file(task.file)
                    for data_file in data_files:
                        overwrite.append_data_file(data_file)
            else:
                with transaction.update_snapshot(snapshot_properties=summary).fast_append() as append:
                    for data_file in data_files:
                        append.append_data_file(data_file)
            return transaction.commit_transaction()
        except TableAlreadyExistsError as exc:
            raise TargetExistsError(f"{self.name} was created by someone else during the conversion") from exc
        except (CommitFailedException, ValidationException) as exc:
            raise TargetError(f"commit to {self.name} failed: {exc}") from exc

    def discard(self) -> int:
        """Undo a failed run: delete the data files it wrote, its table reservation, and the namespace it created.

        Returns how many data files were removed. After a successful commit it does nothing: the
        files belong to the table then.
        """
        if self._committed:
            return 0
        if self._placeholder:
            self._purge_placeholder()
        elif self._transaction is not None and self._replacing is None and isinstance(self.catalog, ReservingCatalog):
            self.catalog.release(self.identifier)
        if self._created_namespace is not None:
            try:
                if not self.catalog.list_tables(self._created_namespace):
                    self.catalog.drop_namespace(self._created_namespace)
            except (NoSuchNamespaceError, NamespaceNotEmptyError):
                pass
        removed = 0
        for path in sorted(self._written):
            try:
                self.io.delete(path)
                removed += 1
            except (FileNotFoundError, OSError):
                continue
        self._written.clear()
        return removed + self._sweep_unreported()

    def _sweep_unreported(self) -> int:
        """Delete this run's data files nobody reported (a Spark task cancelled mid-write), where storage lists.

        Only files named with this run's id are touched. S3 Tables storage refuses listing; there S3
        Tables' own removal of unreferenced files reclaims them.
        """
        if self._transaction is None or not isinstance(self.io, PyArrowFileIO):
            return 0
        scheme, netloc, root = PyArrowFileIO.parse_location(f"{self.location}/data")
        try:
            filesystem = self.io.fs_by_scheme(scheme, netloc)  # the catalog's endpoint, region and credentials
            found = filesystem.get_file_info(pafs.FileSelector(root, recursive=True, allow_not_found=True))
        except (OSError, ValueError):
            return 0
        removed = 0
        for info in found:
            if info.is_file and info.base_name.startswith(self.run_id):
                try:
                    filesystem.delete_file(info.path)
                    removed += 1
                except OSError:
                    continue
        return removed

    def _purge_placeholder(self) -> None:
        try:
            self.catalog.purge_table(self.identifier)
        except NoSuchTableError:
            pass


def _same_shape(left: Schema, right: Schema) -> bool:
    return arrow_schema_with_ids(left).equals(arrow_schema_with_ids(right), check_metadata=False)


def _same_partitioning(table: Table, spec: PartitionSpec, schema: Schema) -> bool:
    def describe(s: PartitionSpec, sch: Schema) -> list[tuple[Any, ...]]:
        return [(sch.find_field(f.source_id).name, str(f.transform)) for f in s.fields]

    return describe(table.spec(), table.schema()) == describe(spec, schema)
