"""The SQL catalog on a SQLite file, through the standard library's :mod:`sqlite3`.

pyiceberg's ``SqlCatalog`` goes through SQLAlchemy, whose import and engine set-up cost about
0.3 s of CPU in every process that opens it: a noticeable share of a short command (a sync, a
small conversion). :class:`SqliteCatalog` keeps the same two tables with the same columns, keys and
meaning (``iceberg_tables``, ``iceberg_namespace_properties``; the ``iceberg_type`` column of
pyiceberg's v1 layout when the file has it; the layout of Iceberg's JDBC catalog), so pyiceberg's
``SqlCatalog`` and earlier versions of this program open the same file and see the same tables.
Each operation opens its own connection (one per call is cheap, and a conversion's threads never
share one); a commit swaps the metadata location only if it is still the one the table was loaded
with.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from pyiceberg.catalog import Catalog, MetastoreCatalog, PropertiesUpdateSummary
from pyiceberg.exceptions import (
    CommitFailedException,
    NamespaceAlreadyExistsError,
    NamespaceNotEmptyError,
    NoSuchNamespaceError,
    NoSuchTableError,
    TableAlreadyExistsError,
)
from pyiceberg.io import load_file_io
from pyiceberg.partitioning import UNPARTITIONED_PARTITION_SPEC, PartitionSpec
from pyiceberg.serializers import FromInputFile
from pyiceberg.table import CommitTableResponse, Table, TableProperties
from pyiceberg.table.locations import load_location_provider
from pyiceberg.table.metadata import new_table_metadata
from pyiceberg.table.sorting import UNSORTED_SORT_ORDER, SortOrder
from pyiceberg.typedef import EMPTY_DICT, Identifier, Properties

if TYPE_CHECKING:
    import pyarrow as pa
    from pyiceberg.schema import Schema
    from pyiceberg.table.metadata import TableMetadata
    from pyiceberg.table.update import TableRequirement, TableUpdate
    from pyiceberg.view import View
    from pyiceberg.view.metadata import ViewVersion

SQLITE_FILE = re.compile(r"sqlite(?:\+pysqlite)?:///(?P<path>[^?]+)")
"""A SQLAlchemy SQLite URI naming a file, without options: the URIs :class:`SqliteCatalog` serves."""
SQLALCHEMY_OPTIONS = frozenset({"echo", "pool_pre_ping", "init_catalog_tables", "schema_version", "py-catalog-impl"})
"""Properties about SQLAlchemy, schema migration or another catalog class: a catalog that sets one stays pyiceberg's."""
BUSY_SECONDS = 30.0
"""How long an operation waits for another writer of the file (a parallel conversion) before failing."""
_TABLE_TYPE = "TABLE"
_NAMESPACE_MARKER = {"exists": "true"}
_TABLES_DDL = """CREATE TABLE IF NOT EXISTS iceberg_tables (
	catalog_name VARCHAR(255) NOT NULL,
	table_namespace VARCHAR(255) NOT NULL,
	table_name VARCHAR(255) NOT NULL,
	metadata_location VARCHAR(1000),
	previous_metadata_location VARCHAR(1000),
	iceberg_type VARCHAR(5),
	PRIMARY KEY (catalog_name, table_namespace, table_name)
)"""
_NAMESPACES_DDL = """CREATE TABLE IF NOT EXISTS iceberg_namespace_properties (
	catalog_name VARCHAR(255) NOT NULL,
	namespace VARCHAR(255) NOT NULL,
	property_key VARCHAR(255) NOT NULL,
	property_value VARCHAR(1000) NOT NULL,
	PRIMARY KEY (catalog_name, namespace, property_key)
)"""


def serves(properties: Mapping[str, str]) -> bool:
    """Whether a catalog's properties describe a SQL catalog that :class:`SqliteCatalog` can open."""
    match = SQLITE_FILE.fullmatch(properties.get("uri", ""))
    return (
        properties.get("type", "").lower() == "sql"
        and match is not None
        and not unquote(match["path"]).startswith((":memory:", "file:"))  # SQLite's own names, not files
        and not SQLALCHEMY_OPTIONS & properties.keys()
    )


class SqliteCatalog(MetastoreCatalog):
    """pyiceberg's SQL catalog layout in a SQLite file, without SQLAlchemy (see the module docstring)."""

    def __init__(self, name: str, **properties: str) -> None:
        """Open (and if new, create) the catalog tables in the file named by the ``uri`` property.

        Raises:
            ValueError: the URI names no SQLite file, or the file cannot be opened as a database.

        """
        super().__init__(name, **properties)
        match = SQLITE_FILE.fullmatch(properties.get("uri", ""))
        if match is None:
            raise ValueError(f"catalog {name!r}: uri {properties.get('uri')!r} is not a sqlite:/// file URI")
        self.database = os.path.abspath(unquote(match["path"]))  # as SQLAlchemy reads it: once, at open
        try:
            with self._transaction() as connection:
                connection.execute(_TABLES_DDL)
                connection.execute(_NAMESPACES_DDL)
                columns = {row[1] for row in connection.execute("PRAGMA table_info(iceberg_tables)")}
        except sqlite3.Error as exc:  # not a database, no such folder, no permission
            raise ValueError(f"SQLite file {self.database}: {exc}") from exc
        self._typed = "iceberg_type" in columns  # False for a file made by an early pyiceberg (its v0 layout)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A connection in one transaction: committed when the block ends, rolled back if it raises."""
        with closing(sqlite3.connect(self.database, timeout=BUSY_SECONDS)) as connection, connection:
            yield connection

    def _rows(self, sql: str, *parameters: Any) -> list[tuple[Any, ...]]:
        with self._transaction() as connection:
            return connection.execute(sql, parameters).fetchall()

    @property
    def _type_filter(self) -> str:
        return " AND (iceberg_type = 'TABLE' OR iceberg_type IS NULL)" if self._typed else ""

    def _insert_table(self, namespace: str, table_name: str, metadata_location: str) -> None:
        row = {
            "catalog_name": self.name,
            "table_namespace": namespace,
            "table_name": table_name,
            "metadata_location": metadata_location,
        }
        if self._typed:
            row["iceberg_type"] = _TABLE_TYPE
        try:
            with self._transaction() as connection:
                connection.execute(
                    f"INSERT INTO iceberg_tables ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                    tuple(row.values()),
                )
        except sqlite3.IntegrityError as exc:
            raise TableAlreadyExistsError(f"Table {namespace}.{table_name} already exists") from exc

    def _names(self, identifier: str | Identifier) -> tuple[str, str]:
        """The namespace string and table name of ``identifier``."""
        return Catalog.namespace_to_string(Catalog.namespace_from(identifier)), Catalog.table_name_from(identifier)

    def create_table(
        self,
        identifier: str | Identifier,
        schema: Schema | pa.Schema,
        location: str | None = None,
        partition_spec: PartitionSpec = UNPARTITIONED_PARTITION_SPEC,
        sort_order: SortOrder = UNSORTED_SORT_ORDER,
        properties: Properties = EMPTY_DICT,
    ) -> Table:
        """Create an empty table: write its first metadata file, then register it.

        As pyiceberg's ``SqlCatalog`` does, and unlike a staged create (``create_table_transaction``): it
        takes nested namespaces, and a name already taken is ``TableAlreadyExistsError``.
        """
        format_version = int(properties.get(TableProperties.FORMAT_VERSION, TableProperties.DEFAULT_FORMAT_VERSION))
        iceberg_schema = self._convert_schema_if_needed(schema, format_version)  # type: ignore[arg-type]
        if not self.namespace_exists(Catalog.namespace_from(identifier)):
            raise NoSuchNamespaceError(f"Namespace does not exist: {Catalog.namespace_from(identifier)}")
        namespace, table_name = self._names(identifier)
        location = self._resolve_table_location(location, namespace, table_name)
        metadata_location = load_location_provider(location, properties).new_table_metadata_file_location()
        metadata = new_table_metadata(
            location=location,
            schema=iceberg_schema,
            partition_spec=partition_spec,
            sort_order=sort_order,
            properties=properties,
        )
        self._write_metadata(metadata, load_file_io(self.properties, metadata_location), metadata_location)
        self._insert_table(namespace, table_name, metadata_location)
        return self.load_table(identifier)

    def register_table(self, identifier: str | Identifier, metadata_location: str, overwrite: bool = False) -> Table:
        """Register an existing metadata file as a new table."""
        if overwrite:
            raise NotImplementedError("`overwrite` isn't supported")
        namespace, table_name = self._names(identifier)
        if not self.namespace_exists(namespace):
            raise NoSuchNamespaceError(f"Namespace does not exist: {namespace}")
        self._insert_table(namespace, table_name, metadata_location)
        return self.load_table(identifier)

    def load_table(self, identifier: str | Identifier) -> Table:
        """The table's current metadata (no data is read)."""
        namespace, table_name = self._names(identifier)
        rows = self._rows(
            "SELECT metadata_location FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? "
            f"AND table_name = ?{self._type_filter}",
            self.name,
            namespace,
            table_name,
        )
        if not rows:
            raise NoSuchTableError(f"Table does not exist: {namespace}.{table_name}")
        metadata_location = rows[0][0]
        if not metadata_location:
            raise NoSuchTableError(f"Table property metadata_location is missing: {namespace}.{table_name}")
        metadata_file = load_file_io(self.properties, metadata_location).new_input(metadata_location)
        metadata = FromInputFile.table_metadata(metadata_file)
        return Table(
            identifier=Catalog.identifier_to_tuple(namespace) + (table_name,),
            metadata=metadata,
            metadata_location=metadata_location,
            io=self._load_file_io(metadata.properties, metadata_location),
            catalog=self,
        )

    def drop_table(self, identifier: str | Identifier) -> None:
        """Remove the table from the catalog (its files stay)."""
        namespace, table_name = self._names(identifier)
        with self._transaction() as connection:
            dropped = connection.execute(
                "DELETE FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? "
                f"AND table_name = ?{self._type_filter}",
                (self.name, namespace, table_name),
            ).rowcount
        if dropped < 1:
            raise NoSuchTableError(f"Table does not exist: {namespace}.{table_name}")

    def rename_table(self, from_identifier: str | Identifier, to_identifier: str | Identifier) -> Table:
        """Give a table another name (and namespace)."""
        from_namespace, from_name = self._names(from_identifier)
        to_namespace, to_name = self._names(to_identifier)
        if not self.namespace_exists(to_namespace):
            raise NoSuchNamespaceError(f"Namespace does not exist: {to_namespace}")
        try:
            with self._transaction() as connection:
                renamed = connection.execute(
                    "UPDATE iceberg_tables SET table_namespace = ?, table_name = ? WHERE catalog_name = ? "
                    f"AND table_namespace = ? AND table_name = ?{self._type_filter}",
                    (to_namespace, to_name, self.name, from_namespace, from_name),
                ).rowcount
        except sqlite3.IntegrityError as exc:
            raise TableAlreadyExistsError(f"Table {to_namespace}.{to_name} already exists") from exc
        if renamed < 1:
            raise NoSuchTableError(f"Table does not exist: {from_name}")
        return self.load_table(to_identifier)

    def commit_table(
        self, table: Table, requirements: tuple[TableRequirement, ...], updates: tuple[TableUpdate, ...]
    ) -> CommitTableResponse:
        """Write the updated metadata, then point the table at it if nobody else committed meanwhile.

        Raises:
            CommitFailedException: a requirement does not hold, or another writer committed first.
            TableAlreadyExistsError: a staged table's name was taken before its first commit.

        """
        namespace, table_name = self._names(table.name())
        try:
            current: Table | None = self.load_table(table.name())
        except NoSuchTableError:
            current = None
        staged = self._update_and_stage_table(current, table.name(), requirements, updates)
        if current is not None and staged.metadata == current.metadata:
            return _response(current.metadata, current.metadata_location)
        self._write_metadata(metadata=staged.metadata, io=staged.io, metadata_path=staged.metadata_location)
        if current is None:
            self._insert_table(namespace, table_name, staged.metadata_location)
        else:
            with self._transaction() as connection:
                swapped = connection.execute(
                    "UPDATE iceberg_tables SET metadata_location = ?, previous_metadata_location = ? "
                    "WHERE catalog_name = ? AND table_namespace = ? AND table_name = ? AND metadata_location = ?",
                    (
                        staged.metadata_location,
                        current.metadata_location,
                        self.name,
                        namespace,
                        table_name,
                        current.metadata_location,
                    ),
                ).rowcount
            if swapped < 1:
                raise CommitFailedException(f"Table has been updated by another process: {namespace}.{table_name}")
        return _response(staged.metadata, staged.metadata_location)

    def namespace_exists(self, namespace: str | Identifier) -> bool:
        """Whether the namespace, or a namespace below it, holds a table or has properties."""
        name = Catalog.namespace_to_string(Catalog.identifier_to_tuple(namespace), NoSuchNamespaceError)
        below = name.replace("!", "!!").replace("_", "!_").replace("%", "!%") + ".%"
        return any(
            self._rows(
                f"SELECT 1 FROM {table} WHERE catalog_name = ? "
                f"AND ({column} = ? OR {column} LIKE ? ESCAPE '!') LIMIT 1",
                self.name,
                name,
                below,
            )
            for table, column in (
                ("iceberg_tables", "table_namespace"),
                ("iceberg_namespace_properties", "namespace"),
            )
        )

    def create_namespace(self, namespace: str | Identifier, properties: Properties = EMPTY_DICT) -> None:
        """Create a namespace (with ``exists: true`` when it has no properties)."""
        if self.namespace_exists(namespace):
            raise NamespaceAlreadyExistsError(f"Namespace {namespace} already exists")
        name = Catalog.namespace_to_string(namespace, NoSuchNamespaceError)
        try:
            with self._transaction() as connection:
                connection.executemany(
                    "INSERT INTO iceberg_namespace_properties VALUES (?, ?, ?, ?)",
                    [(self.name, name, key, value) for key, value in (properties or _NAMESPACE_MARKER).items()],
                )
        except sqlite3.IntegrityError as exc:  # created by another writer since the check
            raise NamespaceAlreadyExistsError(f"Namespace {namespace} already exists") from exc

    def drop_namespace(self, namespace: str | Identifier) -> None:
        """Drop an empty namespace."""
        if not self.namespace_exists(namespace):
            raise NoSuchNamespaceError(f"Namespace does not exist: {namespace}")
        name = Catalog.namespace_to_string(namespace)
        if tables := self.list_tables(namespace):
            raise NamespaceNotEmptyError(f"Namespace {name} is not empty. {len(tables)} tables exist.")
        with self._transaction() as connection:
            connection.execute(
                "DELETE FROM iceberg_namespace_properties WHERE catalog_name = ? AND namespace = ?", (self.name, name)
            )

    def list_tables(self, namespace: str | Identifier) -> list[Identifier]:
        """The tables directly in ``namespace``."""
        if namespace and not self.namespace_exists(namespace):
            raise NoSuchNamespaceError(f"Namespace does not exist: {namespace}")
        name = Catalog.namespace_to_string(namespace)
        rows = self._rows(
            f"SELECT table_namespace, table_name FROM iceberg_tables WHERE catalog_name = ? "
            f"AND table_namespace = ?{self._type_filter}",
            self.name,
            name,
        )
        return [Catalog.identifier_to_tuple(ns) + (table,) for ns, table in rows]

    def list_namespaces(self, namespace: str | Identifier = ()) -> list[Identifier]:
        """The namespaces one level below ``namespace`` (the top level when empty)."""
        if namespace and not self.namespace_exists(namespace):
            raise NoSuchNamespaceError(f"Namespace does not exist: {namespace}")
        like = Catalog.namespace_to_string(namespace, NoSuchNamespaceError) + "%" if namespace else "%"
        rows = self._rows(
            "SELECT table_namespace FROM iceberg_tables WHERE catalog_name = ? AND table_namespace LIKE ? "
            "UNION SELECT namespace FROM iceberg_namespace_properties WHERE catalog_name = ? AND namespace LIKE ?",
            self.name,
            like,
            self.name,
            like,
        )
        parent = Catalog.identifier_to_tuple(namespace)
        level = len(parent) + 1
        found = {Catalog.identifier_to_tuple(row[0]) for row in rows}
        return list({ns[:level] for ns in found if len(ns) >= level and ns[: level - 1] == parent})

    def load_namespace_properties(self, namespace: str | Identifier) -> Properties:
        """The namespace's properties."""
        name = Catalog.namespace_to_string(namespace)
        if not self.namespace_exists(namespace):
            raise NoSuchNamespaceError(f"Namespace {name} does not exists")
        rows = self._rows(
            "SELECT property_key, property_value FROM iceberg_namespace_properties WHERE catalog_name = ? "
            "AND namespace = ?",
            self.name,
            name,
        )
        return dict(rows)

    def update_namespace_properties(
        self, namespace: str | Identifier, removals: set[str] | None = None, updates: Properties = EMPTY_DICT
    ) -> PropertiesUpdateSummary:
        """Remove and set namespace properties in one transaction."""
        name = Catalog.namespace_to_string(namespace)
        current = self.load_namespace_properties(namespace)
        summary, _ = self._get_updated_props_and_update_summary(
            current_properties=current, removals=removals, updates=updates
        )
        gone = sorted({*(removals or ()), *updates})
        with self._transaction() as connection:
            connection.executemany(
                "DELETE FROM iceberg_namespace_properties "
                "WHERE catalog_name = ? AND namespace = ? AND property_key = ?",
                [(self.name, name, key) for key in gone],
            )
            connection.executemany(
                "INSERT INTO iceberg_namespace_properties VALUES (?, ?, ?, ?)",
                [(self.name, name, key, value) for key, value in updates.items()],
            )
        return summary

    def create_view(
        self,
        identifier: str | Identifier,
        schema: Schema | pa.Schema,
        view_version: ViewVersion,
        location: str | None = None,
        properties: Properties = EMPTY_DICT,
    ) -> View:
        """Views are not kept in this catalog (as in pyiceberg's ``SqlCatalog``)."""
        raise NotImplementedError

    def list_views(self, namespace: str | Identifier) -> list[Identifier]:
        """Views are not kept in this catalog."""
        raise NotImplementedError

    def view_exists(self, identifier: str | Identifier) -> bool:
        """Views are not kept in this catalog."""
        raise NotImplementedError

    def register_view(self, identifier: str | Identifier, metadata_location: str) -> View:
        """Views are not kept in this catalog."""
        raise NotImplementedError

    def drop_view(self, identifier: str | Identifier) -> None:
        """Views are not kept in this catalog."""
        raise NotImplementedError

    def load_view(self, identifier: str | Identifier) -> View:
        """Views are not kept in this catalog."""
        raise NotImplementedError

    def close(self) -> None:
        """Nothing to release: every operation closes its own connection."""


def _response(metadata: TableMetadata, location: str) -> CommitTableResponse:
    return CommitTableResponse(metadata=metadata, **{"metadata-location": location})
