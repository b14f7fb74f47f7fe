"""Configuration: the data directory, the embedded ``local`` catalog and catalogs from YAML.

Catalogs come from one of two places:

* ``--config FILE`` (:meth:`Config.load` with a path): a YAML file in datax-migrate's format, a
  ``catalogs:`` section mapping catalog names to pyiceberg catalog properties and an optional
  ``default_catalog``::

      catalogs:
        lake:
          type: sql
          uri: sqlite:////abs/path/catalog.db
          warehouse: file:///abs/path/wh
      default_catalog: lake

  or in pyiceberg's ``.pyiceberg.yaml`` format, a ``catalog:`` section and an optional
  ``default-catalog``. ``PYICEBERG_CATALOG__<NAME>__<KEY>`` environment variables add to and
  override the file's catalogs, as pyiceberg does. In a ``type: sql`` catalog of a file, a relative
  SQLite path (``uri: sqlite:///catalog.db``, three slashes) and a ``warehouse`` given as a relative
  folder without scheme (``warehouse: lake-warehouse``) are relative to the file's folder, so the
  file works from any working folder (:func:`relative_to_file`).
* no file: the catalogs pyiceberg itself finds (:class:`pyiceberg.utils.config.Config`): the first
  ``.pyiceberg.yaml`` in ``$PYICEBERG_HOME``, the home folder or the working folder, then the
  ``PYICEBERG_*`` environment variables on top.

The embedded catalog ``local`` (SQLite and a warehouse under :func:`datax_home`) is always defined;
a catalog called ``local`` in the configuration replaces it. The default catalog is the one the
configuration names (``default_catalog`` or ``default-catalog``), else, in pyiceberg's format, a
catalog called ``default``, else ``local``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import strictyaml
from pyiceberg.catalog import Catalog
from pyiceberg.utils.config import Config as PyicebergConfig

from datax_migrate.catalogs import open_catalog
from datax_migrate.errors import ConfigError

LOCAL_CATALOG = "local"
DATAX_HOME_ENV = "DATAX_HOME"
DEFAULT_HOME = ".datax"
OURS, PYICEBERG = "catalogs", "catalog"
"""The catalog sections of datax-migrate's config format and of pyiceberg's."""
PYICEBERG_DEFAULT = "default"
"""The catalog pyiceberg opens when no default catalog is configured."""
EXPECTED_SECTIONS = (
    "expected a 'catalogs:' section (datax-migrate: catalog names -> pyiceberg properties, "
    "optional default_catalog) or a 'catalog:' section (pyiceberg's .pyiceberg.yaml, optional default-catalog)"
)


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
        """Read a YAML config, or the configuration pyiceberg finds when ``path`` is ``None``.

        Raises:
            ConfigError: the file is missing, not YAML, defines no catalog, or a catalog or the
                default catalog is malformed or undefined.

        """
        home = datax_home()
        where = str(path) if path is not None else "pyiceberg's configuration"
        document = _pyiceberg_document() if path is None else _file_document(Path(path))
        found, default = _catalogs(document, where)
        if path is not None and not found:
            raise ConfigError(f"config file {path} defines no catalog: {EXPECTED_SECTIONS}")
        if path is not None:
            folder = Path(path).resolve().parent
            found = {name: relative_to_file(properties, folder, where) for name, properties in found.items()}
        catalogs = {LOCAL_CATALOG: local_catalog_properties(home), **found}
        if default is not None and default not in catalogs:
            raise ConfigError(f"default catalog {default!r} is not defined in {where}")
        return cls(catalogs=catalogs, default_catalog=default or LOCAL_CATALOG, home=home)

    def catalog(self, name: str | None = None) -> Catalog:
        """Open the catalog called ``name`` (the default catalog when ``None``).

        Raises:
            ConfigError: no catalog of that name is defined, or pyiceberg cannot open it.

        """
        name = self._defined_name(name)
        properties = self.catalogs[name]
        if name == LOCAL_CATALOG and properties == local_catalog_properties(self.home):
            (self.home / "warehouse").mkdir(parents=True, exist_ok=True)
        database = _SQLITE_FILE.match(properties.get("uri", ""))
        if properties.get("type") == "sql" and database and database["path"].startswith("/"):
            Path(database["path"]).parent.mkdir(parents=True, exist_ok=True)  # SQLite creates the file, not its folder
        return open_catalog(name, properties)

    def properties(self, name: str | None = None) -> dict[str, str]:
        """The config properties of catalog ``name`` (the default catalog when ``None``).

        Raises:
            ConfigError: no catalog of that name is defined.

        """
        return self.catalogs[self._defined_name(name)]

    def _defined_name(self, name: str | None) -> str:
        name = name or self.default_catalog
        if name not in self.catalogs and name.lower() in self.catalogs:
            name = name.lower()  # pyiceberg's configuration names catalogs case-insensitively
        if name not in self.catalogs:
            known = ", ".join(sorted(self.catalogs))
            raise ConfigError(f"catalog {name!r} is not defined (known: {known})")
        return name


_SQLITE_FILE = re.compile(r"^(?P<scheme>sqlite(?:\+\w+)?):///(?P<path>[^?]+)(?P<query>\?.*)?$")
"""A SQLAlchemy SQLite URI naming a file: ``sqlite:///relative.db``, ``sqlite:////absolute.db``."""


def relative_to_file(properties: dict[str, str], folder: Path, where: str) -> dict[str, str]:
    """A ``type: sql`` catalog's properties with paths relative to the config file made absolute.

    ``uri: sqlite:///catalog.db`` (three slashes and a relative path, which SQLAlchemy would take
    from the working folder) becomes ``sqlite:////<folder>/catalog.db``; a ``warehouse`` that is a
    relative folder without scheme becomes a ``file://`` URI under ``folder``. Absolute paths, other
    schemes and other catalog types are left as they are.

    Raises:
        ConfigError: the warehouse is a ``file://`` URI naming a host (``file://wh`` for ``file:///wh``).

    """
    if properties.get("type") != "sql":
        return properties
    resolved = dict(properties)
    database = _SQLITE_FILE.match(properties.get("uri", ""))
    if database and not database["path"].startswith("/") and database["path"] != ":memory:":
        path = os.path.normpath(folder / database["path"])
        resolved["uri"] = f"{database['scheme']}:///{path}{database['query'] or ''}"
    warehouse = properties.get("warehouse", "")
    if warehouse.startswith("file://") and not warehouse.startswith(("file:///", "file://localhost/")):
        raise ConfigError(
            f"warehouse {warehouse!r} in {where} names a host: write file:///absolute/path, or a folder relative "
            "to the config file without scheme"
        )
    if warehouse and ":" not in warehouse and not warehouse.startswith("/"):
        resolved["warehouse"] = Path(os.path.normpath(folder / warehouse)).as_uri()
    return resolved


def _pyiceberg_document() -> dict[str, Any]:
    """What pyiceberg's own loader finds: the first ``.pyiceberg.yaml``, then the environment."""
    try:
        return dict(PyicebergConfig().config)
    except (strictyaml.YAMLError, ValueError) as exc:
        raise ConfigError(
            f"pyiceberg's configuration (.pyiceberg.yaml, PYICEBERG_* variables) is invalid: {exc}"
        ) from exc


def _file_document(path: Path) -> dict[str, Any]:
    """The YAML mapping in ``path``; in pyiceberg's format, with the environment applied as pyiceberg does."""
    import yaml  # only where a config file is read: most runs (the embedded catalog) have none

    try:
        document: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise ConfigError(f"config file {path} must hold a mapping: {EXPECTED_SECTIONS}")
    if PYICEBERG in document:
        pyiceberg_part = {str(k).lower(): _lowercase_keys(v) for k, v in document.items() if k != OURS}
        try:
            pyiceberg_part = PyicebergConfig._from_environment_variables(pyiceberg_part)
        except ValueError as exc:
            raise ConfigError(f"PYICEBERG_* environment variables do not fit {path}: {exc}") from exc
        document = {**document, **pyiceberg_part}
    return document


def _lowercase_keys(value: Any) -> Any:
    """``value`` with every mapping key lower-cased (pyiceberg looks its configuration up case-insensitively)."""
    if isinstance(value, dict):
        return {str(k).lower(): _lowercase_keys(v) for k, v in value.items()}
    return value


def _catalogs(document: Mapping[str, Any], where: str) -> tuple[dict[str, dict[str, str]], str | None]:
    """The catalogs of both sections of ``document`` and the default catalog it names, if any."""
    catalogs: dict[str, dict[str, str]] = {}
    for section in (PYICEBERG, OURS):
        entries = document.get(section)
        if entries is None:
            continue
        if not isinstance(entries, dict):
            raise ConfigError(f"'{section}' in {where} must map catalog names to properties")
        for name, properties in entries.items():
            if not isinstance(properties, dict) or not ({"type", "uri", "py-catalog-impl"} & set(properties)):
                raise ConfigError(f"catalog {name!r} in {where} needs a mapping with at least 'type' (or 'uri')")
            if str(name) in catalogs:
                raise ConfigError(f"catalog {name!r} is defined in both 'catalog' and 'catalogs' of {where}")
            catalogs[str(name)] = {str(k): str(v) for k, v in properties.items()}
    if (named := document.get("default_catalog")) is not None:
        return catalogs, str(named)
    if (named := document.get("default-catalog")) is not None:
        return catalogs, str(named).lower()  # pyiceberg's format: its catalog names were lower-cased too
    if PYICEBERG in document and PYICEBERG_DEFAULT in catalogs:
        return catalogs, PYICEBERG_DEFAULT
    return catalogs, None
