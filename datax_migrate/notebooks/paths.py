"""Where Databricks tables and paths go on AWS: the migration name map and the configured path maps.

Three-level (``catalog.schema.table``) and two-level (``schema.table``) names are looked up in the
migration's :class:`~datax_migrate.plan.names.NameMapping`; a name not in it is mapped by the
default rule (:func:`~datax_migrate.plan.names.map_name` for S3 Tables, the same rule
``plan_names`` uses) and reported. The result is ``<spark catalog>.<namespace>.<table>``.

Databricks paths (``dbfs:/...``, ``/dbfs/...`` through the FUSE mount, ``/mnt/...``,
``/Volumes/...``) are one namespace: ``/dbfs/mnt/x``, ``dbfs:/mnt/x`` and ``/mnt/x`` are the same
file. A path map gives S3 prefixes for Databricks prefixes (longest prefix wins) and may name the
table a Delta table location was migrated to, so that reads and writes by path become reads and
writes by name. An inventory (``datax-migrate inventory``) names them too: each table's
``location``. Locations are compared in one form (:func:`location_key`): Databricks paths as
``dbfs:/``, ``s3a://``/``s3n://`` as ``s3://``, without a trailing ``/``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from datax_migrate.errors import ConfigError
from datax_migrate.plan.names import S3_TABLES, NameMapping, map_name, parse_name

DATABRICKS_PREFIXES = ("dbfs:/", "/dbfs/", "/mnt/", "/Volumes/", "/FileStore/", "/databricks-datasets/")
"""Strings starting with one of these are Databricks paths."""


def is_databricks_path(text: str) -> bool:
    """Whether ``text`` is a Databricks file path (DBFS, a mount, a Unity Catalog volume)."""
    return text.startswith(DATABRICKS_PREFIXES)


STORAGE_SCHEMES = ("s3://", "s3a://", "s3n://", "abfss://", "abfs://", "wasbs://", "gs://")
"""Object store URIs a Delta table can be read from by path."""


def is_storage_path(text: str) -> bool:
    """Whether ``text`` is a Databricks path or an object store URI (``s3://...``)."""
    return is_databricks_path(text) or text.lower().startswith(STORAGE_SCHEMES)


def location_key(text: str) -> str:
    """The form storage locations are compared in.

    Databricks paths in their ``dbfs:/`` form, ``s3a://`` and ``s3n://`` as ``s3://``, no trailing ``/``.
    """
    lowered = text.lower()
    if is_databricks_path(text):
        text = canonical_path(text)
    elif lowered.startswith(("s3a://", "s3n://")):
        text = "s3://" + text.split("://", 1)[1]
    return text.rstrip("/")


def canonical_path(text: str) -> str:
    """The ``dbfs:/`` form of a Databricks path (``/dbfs/x`` and ``/x`` both give ``dbfs:/x``)."""
    if text.startswith("dbfs:/"):
        rest = text[len("dbfs:") :]
    elif text.startswith("/dbfs/"):
        rest = text[len("/dbfs") :]
    else:
        rest = text
    return "dbfs:/" + rest.lstrip("/")


@dataclass(frozen=True)
class TableTarget:
    """Where a table name goes.

    Attributes:
        source: The name as written.
        target: ``catalog.namespace.table`` on AWS.
        unmapped: A name map was given but did not hold the name (the default rule mapped it).
        by_default_rule: The default S3 Tables naming rule mapped the name (no name map, or not in it).
    """

    source: str
    target: str
    unmapped: bool
    by_default_rule: bool


@dataclass(frozen=True)
class Locations:
    """The maps a translation resolves names and paths through.

    Attributes:
        catalog: The Spark catalog name the migrated tables are reached by on AWS (as configured
            on EMR, e.g. ``spark.sql.catalog.s3tablesbucket``).
        names: The migration name map; ``None`` maps every name by the default rule.
        default_catalog: The Databricks catalog two-level names are in (``hive_metastore`` or a
            Unity Catalog catalog such as ``main``).
        prefixes: Databricks path prefix (``dbfs:/`` form) to S3 prefix, longest first.
        tables: Delta table location (:func:`location_key` form) to the Databricks name of the table.
    """

    catalog: str = "s3tablesbucket"
    names: NameMapping | None = None
    default_catalog: str = "hive_metastore"
    prefixes: tuple[tuple[str, str], ...] = ()
    tables: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_files(
        cls,
        catalog: str = "s3tablesbucket",
        name_map: Path | None = None,
        path_map: Path | None = None,
        default_catalog: str = "hive_metastore",
        inventory: Mapping[str, str] | None = None,
    ) -> Locations:
        """Load the name map (``NameMapping`` JSON) and the path map; take an inventory's table locations.

        ``inventory`` maps the location of each table an inventory holds to the table's name.

        The path map is JSON: ``{"prefixes": {"dbfs:/mnt/raw": "s3://bucket/raw"}, "tables":
        {"dbfs:/mnt/lake/orders": "main.sales.orders"}}``; both keys are optional. Its ``tables``
        win over the inventory's locations.

        Raises:
            ConfigError: a file cannot be read or is not in the expected form.
        """
        names = NameMapping.from_json(_read(name_map)) if name_map else None
        prefixes: dict[str, str] = {}
        tables = {location_key(location): name for location, name in (inventory or {}).items()}
        if path_map:
            try:
                document = json.loads(_read(path_map))
            except json.JSONDecodeError as exc:
                raise ConfigError(f"path map {path_map}: invalid JSON ({exc})") from None
            if not isinstance(document, dict) or not all(
                isinstance(document.get(k, {}), dict) for k in ("prefixes", "tables")
            ):
                raise ConfigError(f"path map {path_map}: expected {{'prefixes': {{...}}, 'tables': {{...}}}}")
            prefixes = {canonical_path(str(k)): str(v) for k, v in document.get("prefixes", {}).items()}
            tables.update({location_key(str(k)): str(v) for k, v in document.get("tables", {}).items()})
        ordered = tuple(sorted(prefixes.items(), key=lambda item: -len(item[0])))
        return cls(catalog=catalog, names=names, default_catalog=default_catalog, prefixes=ordered, tables=tables)

    def table(self, name: str) -> TableTarget | None:
        """Where a table name goes, or ``None`` for a one-part name (left to the current namespace).

        Raises:
            ConfigError: ``name`` is not a valid table name.
        """
        parts = parse_name(name) if "." in name or "`" in name else (name,)
        if len(parts) < 2:
            return None
        candidates = [name] if len(parts) == 3 else [name, f"{_quote(self.default_catalog)}.{name}"]
        if self.names is not None:
            for candidate in candidates:
                try:
                    entry = self.names.target_for(candidate)
                except ConfigError:
                    continue
                return TableTarget(name, f"{self.catalog}.{entry.identifier}", False, False)
        entry = map_name(name, S3_TABLES)
        return TableTarget(name, f"{self.catalog}.{entry.identifier}", self.names is not None, True)

    def path(self, text: str) -> str | None:
        """The S3 location of a Databricks path, or ``None`` when no prefix covers it."""
        canonical = canonical_path(text)
        for prefix, target in self.prefixes:
            bare = prefix.rstrip("/")
            if canonical == bare or canonical.startswith(bare + "/"):
                return target.rstrip("/") + canonical[len(bare) :]
        return None

    def table_at(self, text: str) -> str | None:
        """The Databricks name of the table stored at a Delta location, when the path map says."""
        return self.tables.get(location_key(text))


def _quote(part: str) -> str:
    return part if part.replace("_", "").isalnum() else "`" + part.replace("`", "``") + "`"


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
