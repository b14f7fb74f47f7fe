"""The target of a convert or reconcile: its catalog and its table name, checked before any write."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from datax_migrate.config import Config
from datax_migrate.errors import ConfigError
from datax_migrate.plan.names import NameMapping, TargetName, resolve_target, rules_for_catalog

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog


@dataclass(frozen=True)
class Target:
    """A resolved target.

    Attributes:
        catalog: The opened target catalog.
        name: The target table's name under the catalog's naming rules.
        created_bucket: The S3 Tables table bucket ARN created on the way, if one was.
    """

    catalog: Catalog
    name: TargetName
    created_bucket: str | None = None


def open_target(
    target: str,
    config_file: str | None = None,
    catalog: str | None = None,
    name_map: str | None = None,
    create_bucket: bool = False,
) -> Target:
    """Open the catalog of ``target`` and resolve its name (through ``name_map`` when given).

    Args:
        target: ``NAMESPACE.TABLE``, or with ``name_map`` the Databricks name.
        config_file: The YAML catalog config (default: the catalogs pyiceberg finds and ``local``).
        catalog: The catalog's name in the config (default: the config's default).
        name_map: A name mapping file written by ``datax-migrate names``.
        create_bucket: Create the S3 Tables table bucket the catalog's warehouse ARN names, if missing.

    Raises:
        ConfigError: The name is not valid in the catalog, or ``create_bucket`` for a catalog of
            another type.
    """
    config = Config.load(config_file)
    properties = config.properties(catalog)
    mapping = NameMapping.load(name_map) if name_map else None
    name = resolve_target(target, rules_for_catalog(properties), mapping)
    created = None
    if create_bucket:
        from datax_migrate.catalogs.s3tables import create_table_bucket_if_missing

        if properties.get("type") != "s3tables":
            raise ConfigError("--create-bucket needs an s3tables catalog")
        if create_table_bucket_if_missing(catalog or config.default_catalog, properties):
            created = properties["warehouse"]
    return Target(config.catalog(catalog), name, created)
