"""Table pairs: the names queries use, each mapped to a Delta source and an Iceberg target.

``PAIRS.yaml``::

    pairs:
      orders:                          # the name the queries use
        source: s3://lake/sales/orders # Delta table (path or URI)
        target: finance.orders         # Iceberg table (namespace.table)
        catalog: lake                  # optional: the config's default catalog otherwise

Catalogs are the ones ``convert`` uses: ``--config FILE`` (or pyiceberg's configuration) and ``local``.
An estate plan (``PLAN_DIR/plan.csv``) can stand in for the file: :func:`pairs_from_plan`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from datax_migrate.benchmark.model import BenchmarkError

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_KEYS = {"source", "target", "catalog"}


@dataclass(frozen=True)
class TablePair:
    """One table as the queries name it, on both sides.

    Attributes:
        name: The name the queries use (an SQL identifier).
        source: The Delta table's path or URI.
        target: The Iceberg table, ``namespace.table``.
        catalog: The target's catalog name (``None``: the config's default).
    """

    name: str
    source: str
    target: str
    catalog: str | None = None


@dataclass(frozen=True)
class OpenedPair:
    """A pair with its Iceberg table loaded from its catalog."""

    pair: TablePair
    table: Table

    @property
    def metadata_location(self) -> str:
        """The target's current metadata file, as the catalog records it."""
        return str(self.table.metadata_location)


def load_pairs(path: str | Path) -> tuple[TablePair, ...]:
    """Read a pairs file.

    Raises:
        BenchmarkError: the file is missing, not YAML, or a pair is malformed (named in the message).
    """
    try:
        document: Any = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BenchmarkError(f"pairs file {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise BenchmarkError(f"pairs file {path} is not valid YAML: {' '.join(str(exc).split())}") from None
    entries = document.get("pairs") if isinstance(document, dict) else None
    if not isinstance(entries, dict) or not entries:
        raise BenchmarkError(f"pairs file {path}: expected a 'pairs:' mapping of query names to source and target")
    return tuple(_pair(str(name), entry, path) for name, entry in entries.items())


def pairs_from_plan(plan_dir: str | Path, wave: int | None = None) -> tuple[TablePair, ...]:
    """The pairs an estate plan maps (``datax-migrate plan``): each planned table, by its target table name.

    The queries name each table by the last part of its target (``finance.orders`` is ``orders``);
    skipped tables are left out.

    Raises:
        BenchmarkError: two planned tables share a name, a name is no SQL identifier, or nothing is planned.
        PlanError: ``plan.csv`` is invalid (every bad row listed).
    """
    from datax_migrate.estate.plan import SKIP, Plan

    plan = Plan.load(Path(plan_dir))
    tables = [table for table in plan.wave(wave) if table.strategy != SKIP]
    if not tables:
        raise BenchmarkError(f"plan {plan_dir}: no table planned{f' in wave {wave}' if wave is not None else ''}")
    pairs: dict[str, TablePair] = {}
    for table in tables:
        where = f"plan {plan_dir}, line {table.line} ({table.target})"
        if not _NAME.match(table.table):
            raise BenchmarkError(f"{where}: the table name must be an SQL identifier for the queries; use --pairs")
        if table.table in pairs:
            raise BenchmarkError(
                f"{where}: the name {table.table!r} is also {pairs[table.table].target}; use --pairs to name them apart"
            )
        pairs[table.table] = TablePair(table.table, table.location, table.target, table.catalog)
    return tuple(pairs.values())


def _pair(name: str, entry: Any, path: str | Path) -> TablePair:
    where = f"pairs file {path}, pair {name!r}"
    if not _NAME.match(name):
        raise BenchmarkError(f"{where}: the name must be an SQL identifier (letters, digits, _)")
    if not isinstance(entry, dict):
        raise BenchmarkError(f"{where}: expected 'source:' and 'target:'")
    unknown = set(entry) - _KEYS
    if unknown:
        raise BenchmarkError(f"{where}: unknown key {sorted(unknown)[0]!r} (known: catalog, source, target)")
    for key in ("source", "target"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise BenchmarkError(f"{where}: '{key}:' is missing")
    catalog = entry.get("catalog")
    return TablePair(name, entry["source"].strip(), entry["target"].strip(), str(catalog) if catalog else None)


def open_pairs(pairs: tuple[TablePair, ...], config_file: str | None = None) -> tuple[OpenedPair, ...]:
    """Load every pair's Iceberg table from its catalog (names checked as ``convert`` checks them).

    Raises:
        BenchmarkError: a target table does not exist.
        ConfigError: a catalog is not defined or a name is not valid in it.
    """
    from pyiceberg.exceptions import NoSuchTableError

    from datax_migrate.config import Config
    from datax_migrate.plan.names import resolve_target, rules_for_catalog

    config = Config.load(config_file)
    catalogs: dict[str | None, Catalog] = {}
    opened = []
    for pair in pairs:
        name = resolve_target(pair.target, rules_for_catalog(config.properties(pair.catalog)), None)
        if pair.catalog not in catalogs:
            catalogs[pair.catalog] = config.catalog(pair.catalog)
        try:
            table = catalogs[pair.catalog].load_table(name.identifier)
        except NoSuchTableError:
            raise BenchmarkError(
                f"pair {pair.name!r}: Iceberg table {pair.target} does not exist in catalog "
                f"{pair.catalog or config.default_catalog} (convert it first)"
            ) from None
        opened.append(OpenedPair(pair, table))
    return tuple(opened)
