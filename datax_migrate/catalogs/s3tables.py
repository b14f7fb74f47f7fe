"""Amazon S3 Tables through its control plane API (``mode: api``), as AWS's Java S3TablesCatalog does.

Over 400 lines because it implements pyiceberg's whole Catalog interface over one control-plane API.

pyiceberg has no S3 Tables catalog (apache/iceberg-python#1404). This one keeps the table list
in S3 Tables and the Iceberg metadata and data in each table's own warehouse location:

- creating a table asks S3 Tables for it (``CreateTable``), which answers with the table's
  warehouse location; files are written there; the first commit writes the metadata file and
  points the table at it (``UpdateTableMetadataLocation``, guarded by the table's version token);
- a commit reads the current metadata location and version token, stages the new metadata and
  swaps it in with that token: if someone committed meanwhile, S3 Tables answers 409 and the
  commit fails with ``CommitFailedException`` without touching the table;
- a table whose entry exists but has no metadata location yet (a conversion stopped between
  ``CreateTable`` and its commit) cannot be loaded (``NoSuchTableError``), though ``ListTables``
  lists it; the next create of the same name takes the entry over. Each reservation is marked with
  the process that made it (:mod:`.pending`), so that entries left by a ``kill -9`` can be found
  (:meth:`S3TablesCatalog.pending_entries`) and purged: the next create in the namespace purges
  those whose process has ended on this host.

Properties (pyiceberg names where they exist): ``warehouse`` (the table bucket ARN, required),
``s3tables.endpoint`` (else ``AWS_ENDPOINT_URL``), ``s3tables.region`` (else the ARN's region),
``client.profile-name``, any ``s3.*`` FileIO property, and the maintenance settings of
:mod:`.maintenance` (applied when a table gets its first metadata).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pyiceberg.catalog import Catalog, MetastoreCatalog, PropertiesUpdateSummary
from pyiceberg.exceptions import (
    CommitFailedException,
    NamespaceAlreadyExistsError,
    NamespaceNotEmptyError,
    NoSuchNamespaceError,
    NoSuchTableError,
    NoSuchViewError,
    TableAlreadyExistsError,
)
from pyiceberg.io import PY_IO_IMPL, S3_REGION
from pyiceberg.partitioning import UNPARTITIONED_PARTITION_SPEC, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.serializers import FromInputFile, ToOutputFile
from pyiceberg.table import CommitTableResponse, CreateTableTransaction, Table
from pyiceberg.table.metadata import TableMetadata
from pyiceberg.table.sorting import UNSORTED_SORT_ORDER, SortOrder
from pyiceberg.typedef import EMPTY_DICT, Identifier, Properties
from pyiceberg.view import View

from datax_migrate.catalogs import S3TABLES, TABLE_BUCKET_FILE_IO, with_aws_defaults
from datax_migrate.catalogs.maintenance import maintenance_requests
from datax_migrate.catalogs.pending import MARKER, PendingEntry, Reservation
from datax_migrate.errors import ConfigError, missing_extra

try:
    import boto3
    from botocore.config import Config as BotoConfig
    from botocore.exceptions import ClientError
except ImportError:
    raise missing_extra("boto3", "aws", "the s3tables catalog") from None

if TYPE_CHECKING:
    import pyarrow as pa
    from pyiceberg.table.update import TableRequirement, TableUpdate

S3TABLES_ENDPOINT = "s3tables.endpoint"
S3TABLES_REGION = "s3tables.region"
PROFILE_NAME = "client.profile-name"
API_ATTEMPTS = 10
COMMIT_ATTEMPTS = 4
_FEDERATED = re.compile(r"(?P<account>\d{12}):s3tablescatalog/(?P<bucket>[a-z0-9-]+)")
"""The ``glue.id`` of Glue's S3 Tables federation: ``ACCOUNT:s3tablescatalog/BUCKET``."""
_ARN = re.compile(r"^arn:aws[a-z-]*:s3tables:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):bucket/(?P<bucket>[a-z0-9-]+)$")


class S3TablesCatalog(MetastoreCatalog):
    """An Iceberg catalog over one S3 Tables table bucket."""

    def __init__(self, name: str, **properties: str) -> None:
        """Connect to the table bucket named by ``properties["warehouse"]`` (an ARN).

        Raises:
            ConfigError: ``warehouse`` is missing or not a table bucket ARN.

        """
        arn = properties.get("warehouse", "")
        region = properties.get(S3TABLES_REGION) or table_bucket_region(name, arn)
        defaults = {PY_IO_IMPL: TABLE_BUCKET_FILE_IO, S3_REGION: region}
        super().__init__(name, **with_aws_defaults({**defaults, **properties, "type": S3TABLES}))
        self.table_bucket_arn = arn
        self.client = control_plane_client(properties, region)

    # Namespaces

    def create_namespace(self, namespace: str | Identifier, properties: Properties = EMPTY_DICT) -> None:
        """Create a namespace (S3 Tables namespaces hold no properties)."""
        name = self._namespace(namespace)
        try:
            self.client.create_namespace(tableBucketARN=self.table_bucket_arn, namespace=[name])
        except ClientError as exc:
            if _code(exc) == "ConflictException":
                raise NamespaceAlreadyExistsError(f"namespace {name} already exists") from exc
            if _code(exc) == "NotFoundException":
                raise ConfigError(
                    f"table bucket {self.table_bucket_arn} does not exist: create it"
                    " (or let `datax-migrate convert --create-bucket` do it)"
                ) from None
            raise

    def drop_namespace(self, namespace: str | Identifier) -> None:
        """Delete an empty namespace."""
        name = self._namespace(namespace)
        if self.list_tables(name):
            raise NamespaceNotEmptyError(f"namespace {name} is not empty")
        try:
            self.client.delete_namespace(tableBucketARN=self.table_bucket_arn, namespace=name)
        except ClientError as exc:
            raise _translated(exc, NoSuchNamespaceError(f"namespace {name} does not exist")) from exc

    def list_namespaces(self, namespace: str | Identifier = ()) -> list[Identifier]:
        """Every namespace of the table bucket (they are single-level)."""
        if self.identifier_to_tuple(namespace):
            return []
        pages = self.client.get_paginator("list_namespaces").paginate(tableBucketARN=self.table_bucket_arn)
        return [tuple(entry["namespace"]) for page in pages for entry in page["namespaces"]]

    def load_namespace_properties(self, namespace: str | Identifier) -> Properties:
        """An empty mapping for an existing namespace."""
        name = self._namespace(namespace)
        try:
            self.client.get_namespace(tableBucketARN=self.table_bucket_arn, namespace=name)
        except ClientError as exc:
            raise _translated(exc, NoSuchNamespaceError(f"namespace {name} does not exist")) from exc
        return {}

    def update_namespace_properties(
        self, namespace: str | Identifier, removals: set[str] | None = None, updates: Properties = EMPTY_DICT
    ) -> PropertiesUpdateSummary:
        """S3 Tables namespaces have no properties."""
        raise NotImplementedError("S3 Tables namespaces have no properties")

    # Tables

    def list_tables(self, namespace: str | Identifier) -> list[Identifier]:
        """Every table entry of ``namespace`` (including one reserved by a conversion still running)."""
        name = self._namespace(namespace)
        pages = self.client.get_paginator("list_tables").paginate(tableBucketARN=self.table_bucket_arn, namespace=name)
        return [(name, table["name"]) for page in pages for table in page["tables"]]

    def load_table(self, identifier: str | Identifier) -> Table:
        """Load a table from the metadata file S3 Tables points at.

        Raises:
            NoSuchTableError: no such table, or its entry was never committed.

        """
        namespace, name = self.identifier_to_database_and_table(identifier, NoSuchTableError)
        location = self._metadata_location(namespace, name)
        if location.metadata is None:
            raise NoSuchTableError(f"table {namespace}.{name} has no committed metadata yet")
        return self._table(namespace, name, location.metadata)

    def register_table(self, identifier: str | Identifier, metadata_location: str, overwrite: bool = False) -> Table:
        """Not offered by the S3 Tables API for existing metadata outside the table's location."""
        raise NotImplementedError("S3 Tables cannot register metadata written elsewhere")

    def create_table(
        self,
        identifier: str | Identifier,
        schema: Schema | pa.Schema,
        location: str | None = None,
        partition_spec: PartitionSpec = UNPARTITIONED_PARTITION_SPEC,
        sort_order: SortOrder = UNSORTED_SORT_ORDER,
        properties: Properties = EMPTY_DICT,
    ) -> Table:
        """Create a table and commit its first (empty) metadata."""
        return self.create_table_transaction(
            identifier, schema, location, partition_spec, sort_order, properties
        ).commit_transaction()

    def create_table_transaction(
        self,
        identifier: str | Identifier,
        schema: Schema | pa.Schema,
        location: str | None = None,
        partition_spec: PartitionSpec = UNPARTITIONED_PARTITION_SPEC,
        sort_order: SortOrder = UNSORTED_SORT_ORDER,
        properties: Properties = EMPTY_DICT,
    ) -> CreateTableTransaction:
        """Reserve the table in S3 Tables and stage it in its warehouse location; nothing is readable yet.

        ``location`` must be ``None``: S3 Tables chooses it. An entry left without metadata by an
        interrupted run is taken over. Call :meth:`release` if the transaction is abandoned.

        Raises:
            TableAlreadyExistsError: a committed table of that name exists.

        """
        if location is not None:
            raise ValueError("S3 Tables chooses each table's location; do not pass one")
        namespace, name = self.identifier_to_database_and_table(identifier)
        self.purge_stale(namespace, keep=name)
        try:
            self.client.create_table(
                tableBucketARN=self.table_bucket_arn, namespace=namespace, name=name, format="ICEBERG"
            )
        except ClientError as exc:
            if _code(exc) == "NotFoundException":
                raise NoSuchNamespaceError(f"namespace {namespace} does not exist") from exc
            if _code(exc) != "ConflictException":
                raise
        current = self._metadata_location(namespace, name)
        if current.metadata is not None:
            raise TableAlreadyExistsError(f"table {namespace}.{name} already exists")
        try:
            self._mark_reserved(current.warehouse)
            staged = self._create_staged_table(
                (namespace, name), schema, current.warehouse, partition_spec, sort_order, properties
            )
        except BaseException:
            self.release((namespace, name))  # nothing may stay reserved by a run that did not start
            raise
        return CreateTableTransaction(staged)

    def release(self, identifier: str | Identifier) -> bool:
        """Delete the entry of a table that was reserved but never committed; say whether one was."""
        namespace, name = self.identifier_to_database_and_table(identifier)
        try:
            current = self._metadata_location(namespace, name)
        except NoSuchTableError:
            return False
        if current.metadata is not None:
            return False
        try:
            self.client.delete_table(
                tableBucketARN=self.table_bucket_arn, namespace=namespace, name=name, versionToken=current.token
            )
        except ClientError as exc:
            if _code(exc) in ("ConflictException", "NotFoundException"):
                return False  # someone committed it meanwhile, or it is gone already
            raise
        return True

    def pending_entries(self, namespace: str | None = None) -> list[PendingEntry]:
        """Every table entry without metadata (of ``namespace``, else of the bucket), with its datax marker.

        One ``ListTables`` page per 1,000 entries, one ``GetTableMetadataLocation`` per entry, and one
        GET of the marker per entry without metadata.
        """
        return [
            entry for summary in self._table_summaries(namespace) if (entry := self._pending_entry(summary)) is not None
        ]

    def purge_stale(self, namespace: str, keep: str | None = None) -> list[str]:
        """Delete the entries of ``namespace`` that a conversion on this host reserved and never committed.

        Only entries S3 Tables reports as never modified are looked at (``createdAt`` equal to
        ``modifiedAt``: a commit modifies the entry), and only those whose marker names a process
        of this host that has ended are deleted; ``keep`` is left alone. Returns the names deleted.
        The clean-up is opportunistic: a refused request (no ``s3tables:ListTables`` permission, say)
        ends it without an error.
        """
        purged: list[str] = []
        try:
            for summary in self._table_summaries(namespace):
                if summary["name"] == keep or summary.get("createdAt") != summary.get("modifiedAt"):
                    continue
                entry = self._pending_entry(summary)
                if entry is not None and entry.reservation is not None and entry.reservation.process_ended():
                    if self.release((entry.namespace, entry.name)):
                        purged.append(entry.name)
        except ClientError:
            pass
        return purged

    def commit_table(
        self, table: Table, requirements: tuple[TableRequirement, ...], updates: tuple[TableUpdate, ...]
    ) -> CommitTableResponse:
        """Write the new metadata file and swap it in with the version token read before.

        When another writer moved the token on first, the commit is tried again on the refreshed
        table: the requirements are checked against its metadata (so a concurrent snapshot that
        the updates did not start from fails the commit) and the updates applied on top. The
        metadata file of a lost attempt stays unreferenced (table buckets refuse deletes; S3
        Tables' unreferenced-file removal reclaims it).

        Raises:
            CommitFailedException: a requirement does not hold on the current table, or the token
                moved on in every one of :data:`COMMIT_ATTEMPTS` attempts.
            NoSuchTableError: the table's entry is gone.

        """
        namespace, name = self.identifier_to_database_and_table(table.name(), NoSuchTableError)
        for _ in range(COMMIT_ATTEMPTS):
            response = self._try_commit(namespace, name, requirements, updates)
            if response is not None:
                return response
        raise CommitFailedException(
            f"{namespace}.{name} kept changing during the commit ({COMMIT_ATTEMPTS} attempts): others commit first"
        )

    def _try_commit(
        self,
        namespace: str,
        name: str,
        requirements: tuple[TableRequirement, ...],
        updates: tuple[TableUpdate, ...],
    ) -> CommitTableResponse | None:
        """One attempt; ``None`` when the version token moved on before the swap."""
        location = self._metadata_location(namespace, name)
        current = self._table(namespace, name, location.metadata) if location.metadata is not None else None
        staged = self._update_and_stage_table(current, (namespace, name), requirements, updates)
        if current is None:
            self._configure_maintenance(namespace, name)
        if current is not None and staged.metadata == current.metadata:
            return _response(current.metadata, current.metadata_location)
        ToOutputFile.table_metadata(staged.metadata, staged.io.new_output(staged.metadata_location), overwrite=True)
        try:
            self.client.update_table_metadata_location(
                tableBucketARN=self.table_bucket_arn,
                namespace=namespace,
                name=name,
                versionToken=location.token,
                metadataLocation=staged.metadata_location,
            )
        except ClientError as exc:
            if _code(exc) == "ConflictException":
                # A retried request whose first try landed also gets 409: then the commit is done.
                if self._metadata_location(namespace, name).metadata == staged.metadata_location:
                    return _response(staged.metadata, staged.metadata_location)
                return None
            raise _translated(exc, NoSuchTableError(f"table {namespace}.{name} does not exist")) from exc
        return _response(staged.metadata, staged.metadata_location)

    def drop_table(self, identifier: str | Identifier) -> None:
        """Delete the table; S3 Tables removes its files."""
        namespace, name = self.identifier_to_database_and_table(identifier, NoSuchTableError)
        token = self._metadata_location(namespace, name).token
        try:
            self.client.delete_table(
                tableBucketARN=self.table_bucket_arn, namespace=namespace, name=name, versionToken=token
            )
        except ClientError as exc:
            raise _translated(exc, NoSuchTableError(f"table {namespace}.{name} does not exist")) from exc

    def purge_table(self, identifier: str | Identifier) -> None:
        """The same as :meth:`drop_table`: S3 Tables deletes a dropped table's files itself."""
        self.drop_table(identifier)

    def rename_table(self, from_identifier: str | Identifier, to_identifier: str | Identifier) -> Table:
        """Rename (and move between namespaces) with the table's version token."""
        namespace, name = self.identifier_to_database_and_table(from_identifier, NoSuchTableError)
        new_namespace, new_name = self.identifier_to_database_and_table(to_identifier)
        token = self._metadata_location(namespace, name).token
        try:
            self.client.rename_table(
                tableBucketARN=self.table_bucket_arn,
                namespace=namespace,
                name=name,
                newNamespaceName=new_namespace,
                newName=new_name,
                versionToken=token,
            )
        except ClientError as exc:
            if _code(exc) == "ConflictException":
                raise TableAlreadyExistsError(f"cannot rename to {new_namespace}.{new_name}: {exc}") from exc
            raise
        return self.load_table((new_namespace, new_name))

    def list_views(self, namespace: str | Identifier) -> list[Identifier]:
        """S3 Tables holds no views."""
        return []

    def drop_view(self, identifier: str | Identifier) -> None:
        """S3 Tables holds no views."""
        raise NotImplementedError("S3 Tables holds no views")

    def view_exists(self, identifier: str | Identifier) -> bool:
        """S3 Tables holds no views."""
        return False

    def load_view(self, identifier: str | Identifier) -> View:
        """S3 Tables holds no views."""
        raise NoSuchViewError(f"S3 Tables holds no views: {identifier}")

    def register_view(self, identifier: str | Identifier, metadata_location: str) -> View:
        """S3 Tables holds no views."""
        raise NotImplementedError("S3 Tables holds no views")

    # Helpers

    def _configure_maintenance(self, namespace: str, name: str) -> None:
        """Apply the catalog's maintenance settings to a table about to get its first metadata."""
        for request in maintenance_requests(self.properties):
            self.client.put_table_maintenance_configuration(
                tableBucketARN=self.table_bucket_arn, namespace=namespace, name=name, **request
            )

    def _mark_reserved(self, warehouse: str) -> None:
        """Write the marker naming this process into a reserved entry's location (see :mod:`.pending`).

        Best effort: where the marker cannot be written (or, on a taken-over entry, replaced), the
        entry is judged by the marker it has (none, or its previous owner's: then a conversion of
        another table on this host may purge it, and this run's commit fails with exit 2). The data
        files written next report any real storage error.
        """
        location = f"{warehouse}/{MARKER}"
        try:
            with self._load_file_io(location=location).new_output(location).create(overwrite=True) as stream:
                stream.write(Reservation.of_this_process().to_json())
        except OSError:
            pass

    def _table_summaries(self, namespace: str | None) -> list[dict[str, Any]]:
        scope = {"namespace": namespace} if namespace else {}
        pages = self.client.get_paginator("list_tables").paginate(tableBucketARN=self.table_bucket_arn, **scope)
        return [table for page in pages for table in page["tables"]]

    def _pending_entry(self, summary: Mapping[str, Any]) -> PendingEntry | None:
        """The entry of ``summary`` (a ``ListTables`` item) if it has no metadata, else ``None``."""
        namespace, name = summary["namespace"][0], summary["name"]
        try:
            location = self._metadata_location(namespace, name)
        except NoSuchTableError:
            return None
        if location.metadata is not None:
            return None
        marker = f"{location.warehouse}/{MARKER}"
        try:
            with self._load_file_io(location=marker).new_input(marker).open() as stream:
                reservation = Reservation.from_json(stream.read())
        except OSError:  # no marker (FileNotFoundError), or one we may not read
            reservation = None
        return PendingEntry(namespace, name, summary["createdAt"].timestamp(), reservation)

    def _namespace(self, namespace: str | Identifier) -> str:
        parts = self.identifier_to_tuple(namespace)
        if len(parts) != 1:
            raise NoSuchNamespaceError(f"S3 Tables namespaces are single-level, not {'.'.join(parts)!r}")
        return parts[0]

    def _metadata_location(self, namespace: str, name: str) -> _Location:
        try:
            answer = self.client.get_table_metadata_location(
                tableBucketARN=self.table_bucket_arn, namespace=namespace, name=name
            )
        except ClientError as exc:
            raise _translated(exc, NoSuchTableError(f"table {namespace}.{name} does not exist")) from exc
        return _Location(
            answer["versionToken"], answer.get("metadataLocation"), answer["warehouseLocation"].rstrip("/")
        )

    def _table(self, namespace: str, name: str, metadata_location: str) -> Table:
        io = self._load_file_io(location=metadata_location)
        metadata = FromInputFile.table_metadata(io.new_input(metadata_location))
        return Table((namespace, name), metadata, metadata_location, io, self)


def control_plane_client(properties: Mapping[str, str], region: str) -> Any:
    """A boto3 ``s3tables`` client for the catalog: its endpoint, profile and region, standard retries."""
    session = boto3.Session(profile_name=properties.get(PROFILE_NAME), region_name=region)
    return session.client(
        "s3tables",
        endpoint_url=properties.get(S3TABLES_ENDPOINT),
        config=BotoConfig(retries={"mode": "standard", "max_attempts": API_ATTEMPTS}),
    )


def create_table_bucket_if_missing(catalog: str, properties: Mapping[str, str]) -> bool:
    """Create the table bucket a catalog's ``warehouse`` ARN names, unless it exists; say whether it did.

    Works for both modes (``api`` and ``rest``). The bucket is created in the account and region
    of the caller's credentials.

    Raises:
        ConfigError: ``warehouse`` is not a table bucket ARN, or the bucket created has another
            ARN (the credentials belong to another account than the ARN's).
    """
    arn = properties.get("warehouse", "")
    region = properties.get(S3TABLES_REGION) or table_bucket_region(catalog, arn)
    client = control_plane_client(properties, region)
    try:
        client.get_table_bucket(tableBucketARN=arn)
        return False
    except ClientError as exc:
        if _code(exc) not in ("NotFoundException", "NoSuchTableBucket"):
            raise
    match = _ARN.match(arn)
    assert match is not None  # table_bucket_region checked it
    created = client.create_table_bucket(name=match["bucket"])["arn"]
    if created != arn:
        raise ConfigError(
            f"catalog {catalog!r}: created table bucket {created}, but warehouse names {arn}:"
            " the credentials in use belong to another account or region than the ARN's"
        )
    return True


@dataclass(frozen=True)
class TableBucket:
    """A table bucket's control plane: a boto3 ``s3tables`` client and the bucket's ARN."""

    client: Any
    arn: str


def table_bucket(catalog: Catalog) -> TableBucket:
    """The table bucket that holds ``catalog``'s tables: ``mode: api``, ``mode: rest`` or Glue's federation.

    Raises:
        ConfigError: the catalog names no table bucket.

    """
    if isinstance(catalog, S3TablesCatalog):
        return TableBucket(catalog.client, catalog.table_bucket_arn)
    arn = table_bucket_arn(catalog)
    properties = dict(catalog.properties)
    uri = properties.get("uri", "")
    if uri.endswith("/iceberg"):  # the S3 Tables Iceberg REST endpoint: the control plane is its host
        properties.setdefault(S3TABLES_ENDPOINT, uri.removesuffix("/iceberg"))
    return TableBucket(control_plane_client(properties, table_bucket_region(catalog.name, arn)), arn)


def table_bucket_arn(catalog: Catalog) -> str:
    """The ARN of the table bucket that holds ``catalog``'s tables (its warehouse, or Glue's federated bucket).

    Raises:
        ConfigError: the catalog names no table bucket.

    """
    properties = catalog.properties
    federated = _FEDERATED.fullmatch(properties.get("glue.id", ""))
    if federated is not None:
        region = properties.get("glue.region") or properties.get("s3.region") or ""
        arn = f"arn:aws:s3tables:{region}:{federated['account']}:bucket/{federated['bucket']}"
    else:
        arn = properties.get("warehouse", "")
    table_bucket_region(catalog.name, arn)  # checks it is one
    return arn


def table_bucket_region(catalog: str, arn: str) -> str:
    """The region of a table bucket ARN.

    Raises:
        ConfigError: ``arn`` is not a table bucket ARN.

    """
    match = _ARN.match(arn)
    if match is None:
        raise ConfigError(
            f"catalog {catalog!r}: warehouse must be a table bucket ARN "
            f"(arn:aws:s3tables:REGION:ACCOUNT:bucket/NAME), not {arn!r}"
        )
    return match["region"]


@dataclass(frozen=True)
class _Location:
    """What ``GetTableMetadataLocation`` says about a table."""

    token: str
    metadata: str | None
    warehouse: str


def _response(metadata: TableMetadata, location: str) -> CommitTableResponse:
    return CommitTableResponse(metadata=metadata, metadata_location=location)  # type: ignore[call-arg]


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _translated(exc: ClientError, not_found: Exception) -> Exception:
    """``not_found`` for a 404 answer, else the client error itself."""
    return not_found if _code(exc) in ("NotFoundException", "NoSuchTableException") else exc
