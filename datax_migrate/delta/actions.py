"""The Delta log actions the reader needs, as typed dataclasses built from their JSON form."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from datax_migrate.delta.schema import StructType, parse_schema
from datax_migrate.errors import CorruptLogError


@dataclass(frozen=True)
class DeletionVectorDescriptor:
    """Where the deletion vector of a data file lives (PROTOCOL.md, "Deletion Vectors").

    ``storage_type`` is ``u`` (relative path derived from a UUID), ``i`` (inline, Z85 encoded) or
    ``p`` (absolute path).
    """

    storage_type: str
    path_or_inline_dv: str
    offset: int | None
    size_in_bytes: int
    cardinality: int

    @property
    def unique_id(self) -> str:
        """The identifier that, with the file path, keys an add/remove pair during replay."""
        if self.offset is None:
            return f"{self.storage_type}{self.path_or_inline_dv}"
        return f"{self.storage_type}{self.path_or_inline_dv}@{self.offset}"

    @classmethod
    def from_json(cls, document: dict[str, Any] | None) -> DeletionVectorDescriptor | None:
        """Build a descriptor from the ``deletionVector`` field of an add/remove action."""
        if not document:
            return None
        try:
            return cls(
                storage_type=str(document["storageType"]),
                path_or_inline_dv=str(document["pathOrInlineDv"]),
                offset=int(document["offset"]) if document.get("offset") is not None else None,
                size_in_bytes=int(document["sizeInBytes"]),
                cardinality=int(document["cardinality"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CorruptLogError(f"malformed deletionVector descriptor {document!r}: {exc}") from exc


@dataclass(frozen=True)
class AddFile:
    """An ``add`` action: a data file that is part of the table."""

    path: str
    partition_values: dict[str, str | None]
    size: int
    modification_time: int
    stats: str | None = None
    deletion_vector: DeletionVectorDescriptor | None = None

    @property
    def key(self) -> tuple[str, str | None]:
        """Replay key: the decoded path plus the deletion vector's unique id."""
        return file_key(self.path, self.deletion_vector)

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> AddFile:
        """Build an add action from its JSON (or checkpoint row) form."""
        try:
            partition_values = document.get("partitionValues") or {}
            if isinstance(partition_values, list):  # checkpoint maps read as [(key, value), ...]
                partition_values = dict(partition_values)
            return cls(
                path=_path(document),
                partition_values=dict(partition_values),
                size=int(document.get("size") or 0),
                modification_time=int(document.get("modificationTime") or 0),
                stats=document.get("stats"),
                deletion_vector=DeletionVectorDescriptor.from_json(document.get("deletionVector")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CorruptLogError(f"malformed add action {str(document)[:200]}: {exc}") from exc


@dataclass(frozen=True)
class RemoveFile:
    """A ``remove`` action: a data file (with a given deletion vector) leaves the table."""

    path: str
    deletion_vector: DeletionVectorDescriptor | None = None

    @property
    def key(self) -> tuple[str, str | None]:
        """Replay key, matching :attr:`AddFile.key`."""
        return file_key(self.path, self.deletion_vector)

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> RemoveFile:
        """Build a remove action from its JSON (or checkpoint row) form."""
        try:
            return cls(
                path=_path(document),
                deletion_vector=DeletionVectorDescriptor.from_json(document.get("deletionVector")),
            )
        except (KeyError, TypeError) as exc:
            raise CorruptLogError(f"malformed remove action {str(document)[:200]}: {exc}") from exc


def _path(document: dict[str, Any]) -> str:
    path = document["path"]
    if not isinstance(path, str):
        raise TypeError(f"path {path!r} is not a string")
    return path


def file_key(path: str, deletion_vector: DeletionVectorDescriptor | None) -> tuple[str, str | None]:
    """Key that identifies a logical file across add and remove actions."""
    return unquote(path), deletion_vector.unique_id if deletion_vector else None


@dataclass(frozen=True)
class Protocol:
    """The ``protocol`` action: reader/writer versions and table features."""

    min_reader_version: int
    min_writer_version: int
    reader_features: frozenset[str] = frozenset()
    writer_features: frozenset[str] = frozenset()

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> Protocol:
        """Build a protocol action from its JSON form."""
        try:
            return cls(
                min_reader_version=int(document["minReaderVersion"]),
                min_writer_version=int(document["minWriterVersion"]),
                reader_features=frozenset(document.get("readerFeatures") or ()),
                writer_features=frozenset(document.get("writerFeatures") or ()),
            )
        except KeyError as exc:
            raise CorruptLogError(f"the effective protocol action has no {exc}: {document!r}") from exc
        except (TypeError, ValueError) as exc:
            raise CorruptLogError(f"malformed protocol action {document!r}: {exc}") from exc


@dataclass(frozen=True)
class Metadata:
    """The ``metaData`` action: schema, partition columns and configuration."""

    id: str
    schema: StructType
    partition_columns: tuple[str, ...]
    configuration: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    name: str | None = None
    description: str | None = None
    created_time: int | None = None
    schema_string: str = field(default="", compare=False, repr=False)
    """The schema as the log wrote it (Delta's JSON form)."""

    @property
    def column_mapping_mode(self) -> str:
        """``none``, ``name`` or ``id``."""
        return self.configuration.get("delta.columnMapping.mode", "none").lower()

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> Metadata:
        """Build a metadata action from its JSON form."""
        try:
            configuration = document.get("configuration") or {}
            if isinstance(configuration, list):
                configuration = dict(configuration)
            fmt = (document.get("format") or {}).get("provider", "parquet")
            if fmt != "parquet":
                raise CorruptLogError(f"data file format {fmt!r} is not parquet")
            schema_string = document.get("schemaString")
            if not isinstance(schema_string, str):
                raise KeyError("schemaString")
            return cls(
                id=str(document.get("id", "")),
                schema=parse_schema(schema_string),
                partition_columns=tuple(document.get("partitionColumns") or ()),
                configuration={str(k): str(v) for k, v in configuration.items()},
                name=document.get("name"),
                description=document.get("description"),
                created_time=document.get("createdTime"),
                schema_string=schema_string,
            )
        except KeyError as exc:
            raise CorruptLogError(f"the effective metaData action has no {exc}") from exc
        except TypeError as exc:
            raise CorruptLogError(f"malformed metaData action: {exc}") from exc
