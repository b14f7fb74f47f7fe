"""Iceberg catalogs: S3 Tables, Glue, REST, SQL (the name plan is in :mod:`datax_migrate.plan.names`).

A ``type: sql`` catalog on a SQLite file (the embedded default among them) opens as
:class:`~datax_migrate.catalogs.sqlite.SqliteCatalog`: pyiceberg's layout without SQLAlchemy.

A catalog is a name and pyiceberg properties (the config's ``catalogs:`` section). Beyond
pyiceberg's own types, ``type: s3tables`` opens an S3 Tables table bucket:

- ``mode: api`` (default): :class:`~datax_migrate.catalogs.s3tables.S3TablesCatalog`, over the
  S3 Tables control plane;
- ``mode: rest``: pyiceberg's REST catalog on the S3 Tables Iceberg REST endpoint
  (``https://s3tables.REGION.amazonaws.com/iceberg``, or ``s3tables.endpoint`` + ``/iceberg``),
  signed with SigV4 for the ``s3tables`` service.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from pyiceberg.catalog import Catalog, load_catalog
from pyiceberg.io import PY_IO_IMPL
from pyiceberg.typedef import Identifier

from datax_migrate.catalogs import sqlite
from datax_migrate.errors import ConfigError

S3TABLES = "s3tables"
MODES = ("api", "rest")
STAGE_CREATE = "datax.stage-create"
"""Catalog property: ``false`` for catalogs that refuse staged table creation (the S3 Tables and Glue
Iceberg REST endpoints, Glue's S3 Tables federation). A conversion then creates the table empty,
marked pending, and fills it in its one commit; see :class:`~datax_migrate.iceberg.target.IcebergTarget`."""
TABLE_BUCKET_FILE_IO = "datax_migrate.catalogs.fileio.NoListFileIO"
"""The FileIO (``py-io-impl``) of every catalog that writes into S3 Tables storage: uploads without
``Expect: 100-continue``, which S3 Tables refuses, and no listing; see :mod:`.fileio`."""
LAZY_FOLDER_FILE_IO = "datax_migrate.catalogs.localfs.LazyFolderFileIO"
"""The FileIO of SQLite catalogs (the embedded one included) unless their config names one: a local
file's folder is created only when missing; see :mod:`.localfs`."""
_REGION_KEYS = ("s3.region", "client.region", "glue.region", "rest.signing-region")


@runtime_checkable
class ReservingCatalog(Protocol):
    """A catalog whose create-table transactions reserve the name before the commit (S3 Tables)."""

    def release(self, identifier: str | Identifier) -> bool:
        """Drop the reservation of a table never committed; say whether there was one."""


def open_catalog(name: str, properties: Mapping[str, str]) -> Catalog:
    """Open catalog ``name`` from its config properties.

    Raises:
        ConfigError: the properties are incomplete or contradictory, or pyiceberg cannot open it.

    """
    try:
        if properties.get("type") == S3TABLES:
            mode = properties.get("mode", "api")
            if mode not in MODES:
                raise ConfigError(f"catalog {name!r}: mode must be one of {', '.join(MODES)}, not {mode!r}")
            if mode == "api":
                from datax_migrate.catalogs.s3tables import S3TablesCatalog

                return S3TablesCatalog(name, **_without(properties, "type", "mode"))
            return load_catalog(name, **with_aws_defaults(s3tables_rest_properties(name, properties)))
        if sqlite.serves(properties):
            return sqlite.SqliteCatalog(name, **with_aws_defaults({PY_IO_IMPL: LAZY_FOLDER_FILE_IO, **properties}))
        if writes_into_table_bucket(properties):
            properties = {STAGE_CREATE: "false", PY_IO_IMPL: TABLE_BUCKET_FILE_IO, **properties}
        return load_catalog(name, **with_aws_defaults(properties))
    except (ValueError, ImportError, OSError) as exc:
        raise ConfigError(f"catalog {name!r} cannot be opened: {exc}") from exc


def federates_s3_tables(properties: Mapping[str, str]) -> bool:
    """Whether a Glue catalog is Glue's S3 Tables federation (``glue.id: ACCOUNT:s3tablescatalog/BUCKET``)."""
    return properties.get("type") == "glue" and ":s3tablescatalog/" in properties.get("glue.id", "")


def writes_into_table_bucket(properties: Mapping[str, str]) -> bool:
    """Whether a Glue or REST catalog's tables live in an S3 table bucket.

    Glue's S3 Tables federation, or a REST catalog signing for ``s3tables`` (the S3 Tables Iceberg
    endpoint configured by hand): neither can stage a table, and their files go through the table
    bucket FileIO.
    """
    rest_on_s3_tables = properties.get("type") == "rest" and properties.get("rest.signing-name") == "s3tables"
    return federates_s3_tables(properties) or rest_on_s3_tables


def stages_creates(catalog: Catalog) -> bool:
    """Whether ``catalog`` can stage a new table and make it visible only with its first commit."""
    return catalog.properties.get(STAGE_CREATE, "true").lower() != "false"


def s3tables_rest_properties(name: str, properties: Mapping[str, str]) -> dict[str, str]:
    """The REST catalog properties for an S3 Tables bucket (``mode: rest``)."""
    region = _region_of(name, properties)
    endpoint = properties.get("s3tables.endpoint") or f"https://s3tables.{region}.amazonaws.com"
    return {
        "uri": endpoint.rstrip("/") + "/iceberg",
        "rest.sigv4-enabled": "true",
        "rest.signing-name": S3TABLES,
        "rest.signing-region": region,
        "s3.region": region,
        STAGE_CREATE: "false",
        PY_IO_IMPL: TABLE_BUCKET_FILE_IO,
        **_without(properties, "type", "mode", "s3tables.endpoint", "s3tables.region"),
        "type": "rest",
    }


def with_aws_defaults(properties: Mapping[str, str]) -> dict[str, str]:
    """``properties`` with ``s3.region`` and ``s3.endpoint`` filled in from the environment when unset.

    The region comes from the catalog's own region properties, else ``AWS_REGION`` /
    ``AWS_DEFAULT_REGION`` (without one pyiceberg asks real AWS for each bucket's region); the
    endpoint from ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL``, as the AWS SDKs do.
    """
    result = dict(properties)
    region = next((properties[k] for k in _REGION_KEYS if properties.get(k)), None) or _env(
        "AWS_REGION", "AWS_DEFAULT_REGION"
    )
    endpoint = _env("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
    for key, value in (("s3.region", region), ("s3.endpoint", endpoint)):
        if value and key not in result:
            result[key] = value
    return result


def _env(*names: str) -> str | None:
    return next((os.environ[n] for n in names if os.environ.get(n)), None)


def _region_of(name: str, properties: Mapping[str, str]) -> str:
    from datax_migrate.catalogs.s3tables import table_bucket_region

    return properties.get("s3tables.region") or table_bucket_region(name, properties.get("warehouse", ""))


def _without(properties: Mapping[str, str], *keys: str) -> dict[str, str]:
    return {k: v for k, v in properties.items() if k not in keys}
