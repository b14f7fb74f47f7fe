"""Configuration: the data directory, the embedded ``local`` catalog and catalogs from YAML.

The YAML file's ``catalogs:`` section maps a catalog name to pyiceberg catalog properties::

    catalogs:
      lake:
        type: sql
        uri: sqlite:////abs/path/catalog.db
        warehouse: file:///abs/path/wh
    default_catalog: lake
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyiceberg.catalog import Catalog

from datax_migrate.catalogs import open_catalog
from datax_migrate.errors import ConfigError

LOCAL_CATALOG = "local"
DATAX_HOME_ENV = "DATAX_HOME"
DEFAULT_HOME = ".datax"


def datax_home() -> Path:
    """The data directory: ``$DATAX_HOME``, else ``./.datax``."""
    return Path(os.environ.get(DATAX_HOME_ENV) or DEFAULT_HOME).resolve()


def local_catalog_properties(home: Path) -> dict[str, str]:
    """Pyiceberg properties of the embedded catalog: SQLite plus a warehouse folder under ``home``."""
    return {
        "type": "sql",
        "uri": f"sqlite:///{home / 'catalog.db'}",
        "warehouse": (home / "warehouse").as_uri(),
    }


@dataclass(frozen=True)
class Config:
    """Catalog definitions by name, and which one is the default."""

    catalogs: dict[str, dict[str, str]] = field(default_factory=dict)
    default_catalog: str = LOCAL_CATALOG
    home: Path = field(default_factory=datax_home)

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> Config:
        """Read a YAML config (or only the defaults when ``path`` is ``None``).

        Raises:
            ConfigError: the file is missing, not YAML, or its ``catalogs`` section is malformed.

        """
        home = datax_home()
        catalogs = {LOCAL_CATALOG: local_catalog_properties(home)}
        if path is None:
            return cls(catalogs=catalogs, home=home)
        import yaml  # only with a config file: the default catalog needs no YAML parser

        try:
            document: Any = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            raise ConfigError(f"config file {path} does not exist") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
        if not isinstance(document, dict):
            raise ConfigError(f"config file {path} must hold a mapping")
        section = document.get("catalogs") or {}
        if not isinstance(section, dict):
            raise ConfigError(f"'catalogs' in {path} must map catalog names to properties")
        for name, properties in section.items():
            if not isinstance(properties, dict) or "type" not in properties:
                raise ConfigError(f"catalog {name!r} in {path} needs a mapping with at least 'type'")
            catalogs[str(name)] = {str(k): str(v) for k, v in properties.items()}
        default = str(document.get("default_catalog", LOCAL_CATALOG))
        if default not in catalogs:
            raise ConfigError(f"default_catalog {default!r} is not defined in {path}")
        return cls(catalogs=catalogs, default_catalog=default, home=home)

    def catalog(self, name: str | None = None) -> Catalog:
        """Open the catalog called ``name`` (the default catalog when ``None``).

        Raises:
            ConfigError: no catalog of that name is defined, or pyiceberg cannot open it.

        """
        name = name or self.default_catalog
        properties = self.properties(name)
        if name == LOCAL_CATALOG and properties == local_catalog_properties(self.home):
            (self.home / "warehouse").mkdir(parents=True, exist_ok=True)
        return open_catalog(name, properties)

    def properties(self, name: str | None = None) -> dict[str, str]:
        """The config properties of catalog ``name`` (the default catalog when ``None``).

        Raises:
            ConfigError: no catalog of that name is defined.

        """
        name = name or self.default_catalog
        if name not in self.catalogs:
            known = ", ".join(sorted(self.catalogs))
            raise ConfigError(f"catalog {name!r} is not defined (known: {known})")
        return self.catalogs[name]
