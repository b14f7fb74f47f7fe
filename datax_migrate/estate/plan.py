"""The estate plan: ``plan.csv`` (one row per table, edited by people) and ``plan.json`` (its validated form).

``plan.csv`` has a header row and these columns, in this order (:data:`COLUMNS`)::

    databricks_name,location,catalog,namespace,table,strategy,wave,key_columns,tolerances,owner,notes

- ``strategy``: ``convert``, ``history``, ``sync`` or ``skip`` (:data:`STRATEGIES`);
- ``wave``: a whole number from 1;
- ``key_columns``: reconcile key columns, ``;``-separated (empty: whole rows are compared);
- ``tolerances``: absolute numeric tolerances of the reconciliation, ``col=0.01;col2=0.5``;
- ``notes``: free text; for a table the assessment blocks, the blocker's finding code comes first
  (``not-delta-format: ...``).

``plan.json`` holds the validated rows, the SHA-256 of ``plan.csv`` they were read from, the SHA-256 of
the ``plan.csv`` that ``plan`` wrote (kept when a run validates an edited ``plan.csv`` again), and the
naming rules of each target catalog. A plan edited by hand is validated again by :meth:`Plan.load` on every
use; every bad row is reported with its line number (:class:`PlanError`).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import io
import json
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datax_migrate.errors import ConfigError, DataxError
from datax_migrate.files import write_atomically
from datax_migrate.plan.names import (
    GLUE,
    REST,
    S3_TABLES,
    SQL,
    NameRules,
    check_identifier,
    parse_name,
    rules_for_catalog,
)

if TYPE_CHECKING:
    from datax_migrate.config import Config

PLAN_CSV = "plan.csv"
PLAN_JSON = "plan.json"
PLAN_VERSION = "datax-plan/1"
COLUMNS = (
    "databricks_name",
    "location",
    "catalog",
    "namespace",
    "table",
    "strategy",
    "wave",
    "key_columns",
    "tolerances",
    "owner",
    "notes",
)
CONVERT, HISTORY, SYNC, SKIP = "convert", "history", "sync", "skip"
_CODE_FIRST = re.compile(r"^([a-z][a-z0-9]*(?:-[a-z0-9]+)*):")
STRATEGIES = (CONVERT, HISTORY, SYNC, SKIP)
NAMING_RULES: dict[str, NameRules] = {"s3tables": S3_TABLES, "glue": GLUE, "sql": SQL, "rest": REST}
"""Naming rules by the key ``plan.json`` records for each catalog."""
_MAX_PROBLEMS = 50


class PlanError(DataxError):
    """A plan is missing, unreadable or invalid; the message lists the bad rows with their line numbers."""


@dataclass(frozen=True)
class PlannedTable:
    """One row of ``plan.csv``.

    Attributes:
        line: Line number in ``plan.csv`` (the header is line 1).
        databricks_name: ``catalog.schema.table`` or ``schema.table``.
        location: The Delta table's location (may be empty for a skipped table).
        catalog: Target catalog's name in the config.
        namespace: Target namespace.
        table: Target table name.
        strategy: ``convert``, ``history``, ``sync`` or ``skip``.
        wave: Wave number, from 1.
        key_columns: Reconcile key columns (empty: whole rows are compared).
        tolerances: Absolute numeric tolerances of the reconciliation, by column.
        owner: Who owns the table.
        notes: Free text; for a blocked table, the blocker's code first.
    """

    line: int
    databricks_name: str
    location: str
    catalog: str
    namespace: str
    table: str
    strategy: str
    wave: int
    key_columns: tuple[str, ...]
    tolerances: dict[str, float]
    owner: str
    notes: str

    @property
    def target(self) -> str:
        """``namespace.table``."""
        return f"{self.namespace}.{self.table}"

    def csv_row(self) -> list[str]:
        """The row as ``plan.csv`` holds it, in :data:`COLUMNS` order."""
        tolerances = ";".join(f"{column}={_number(value)}" for column, value in self.tolerances.items())
        return [
            self.databricks_name,
            self.location,
            self.catalog,
            self.namespace,
            self.table,
            self.strategy,
            str(self.wave),
            ";".join(self.key_columns),
            tolerances,
            self.owner,
            self.notes,
        ]


_FIELDS = tuple(f.name for f in fields(PlannedTable))


@dataclass(frozen=True)
class Plan:
    """A validated estate plan.

    Attributes:
        directory: PLAN_DIR.
        tables: Every row of ``plan.csv``, in file order.
        content_sha256: SHA-256 of the ``plan.csv`` bytes the rows were read from.
        naming_rules: Key of :data:`NAMING_RULES` per target catalog, as ``plan`` recorded them.
        planned_sha256: SHA-256 of the ``plan.csv`` that ``plan`` wrote, as ``plan.json`` records it
            (empty when there is no ``plan.json``).
    """

    directory: Path
    tables: tuple[PlannedTable, ...]
    content_sha256: str
    naming_rules: dict[str, str] = field(default_factory=dict)
    planned_sha256: str = ""

    @classmethod
    def load(cls, directory: Path, catalog_rules: Callable[[str], str | None] | None = None) -> Plan:
        """Read and validate ``directory/plan.csv`` (with the naming rules ``plan.json`` records).

        Args:
            directory: PLAN_DIR.
            catalog_rules: The key of :data:`NAMING_RULES` of a catalog ``plan.json`` does not record
                (``None``: not known), e.g. :func:`config_rules`; without it, or when it does not know
                the catalog, names in such a catalog are checked against the loosest rules (REST).

        Raises:
            PlanError: no ``plan.csv``, or bad rows; the message lists every bad row (up to 50)
                with its line number.
        """
        directory = Path(directory)
        try:
            data = (directory / PLAN_CSV).read_bytes()
        except OSError as exc:
            raise PlanError(
                f"no plan in {directory}: {exc.strerror or exc} (write one with `datax-migrate plan`)"
            ) from None
        recorded = _recorded(directory / PLAN_JSON)
        naming_rules = _recorded_rules(recorded)
        rules: Mapping[str, str] = naming_rules if catalog_rules is None else _Rules(naming_rules, catalog_rules)
        tables = parse_csv(data, rules, str(directory / PLAN_CSV))
        return cls(directory, tables, hashlib.sha256(data).hexdigest(), naming_rules, _planned(recorded))

    def wave(self, number: int | None) -> tuple[PlannedTable, ...]:
        """The tables of wave ``number`` (every table when ``None``)."""
        return self.tables if number is None else tuple(t for t in self.tables if t.wave == number)

    @property
    def waves(self) -> tuple[int, ...]:
        """The wave numbers in the plan, ascending."""
        return tuple(sorted({t.wave for t in self.tables}))

    @property
    def json_current(self) -> bool:
        """Whether ``plan.json`` records this very ``plan.csv`` (not edited since)."""
        try:
            document = json.loads((self.directory / PLAN_JSON).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return isinstance(document, dict) and document.get("content_sha256") == self.content_sha256

    def to_json(self) -> str:
        """``plan.json``: the validated rows, the content hashes of ``plan.csv`` (read, planned), the naming rules."""
        document = {
            "version": PLAN_VERSION,
            "content_sha256": self.content_sha256,
            "planned_sha256": self.planned_sha256,
            "validated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "naming_rules": dict(sorted(self.naming_rules.items())),
            "waves": list(self.waves),
            "tables": [_table_json(t) for t in self.tables],
        }
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _table_json(table: PlannedTable) -> dict[str, Any]:
    """One row as ``plan.json`` holds it (field by field: ``dataclasses.asdict`` is slow for 10,000 rows)."""
    document: dict[str, Any] = {name: getattr(table, name) for name in _FIELDS}
    document["key_columns"] = list(table.key_columns)
    document["tolerances"] = dict(table.tolerances)
    return document


def write_plan(directory: Path, tables: Iterable[PlannedTable], naming_rules: Mapping[str, str]) -> Plan:
    """Write ``plan.csv`` and ``plan.json`` into ``directory`` (created if needed); return the plan as read back.

    The rows get their line numbers from the file; the plan is validated as :meth:`Plan.load` does.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerows(table.csv_row() for table in tables)
    text = buffer.getvalue()
    data = text.encode("utf-8")
    rules = dict(naming_rules)
    digest = hashlib.sha256(data).hexdigest()
    plan = Plan(directory, parse_csv(data, rules, str(directory / PLAN_CSV)), digest, rules, digest)
    # Each file is replaced whole; a crash between the two leaves a plan.json whose hash is not plan.csv's,
    # which `plan` then refuses to overwrite, as it would a plan.csv someone edited.
    write_atomically(directory / PLAN_JSON, plan.to_json())
    write_atomically(directory / PLAN_CSV, text)
    return plan


def refresh_json(plan: Plan) -> bool:
    """Write ``plan.json`` again when ``plan.csv`` was edited since; return whether it was written.

    The hash of the ``plan.csv`` that ``plan`` wrote is carried over, so ``plan`` still sees the edits.
    A ``plan.json`` that is missing or cannot be read is not written: the naming rules it records would be lost.
    """
    document = _recorded(plan.directory / PLAN_JSON)
    if not document or document.get("content_sha256") == plan.content_sha256:
        return False
    write_atomically(plan.directory / PLAN_JSON, plan.to_json())
    return True


def parse_csv(data: bytes, naming_rules: Mapping[str, str], where: str) -> tuple[PlannedTable, ...]:
    """Parse and validate the bytes of a ``plan.csv``.

    Args:
        data: The file's bytes (UTF-8, a byte order mark is accepted).
        naming_rules: Key of :data:`NAMING_RULES` per catalog; names in other catalogs are checked
            when the table is migrated.
        where: The file, for messages.

    Raises:
        PlanError: the header is not :data:`COLUMNS`, or rows are bad; every problem with its line.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PlanError(f"{where} is not UTF-8: {exc}") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != COLUMNS:
            raise PlanError(f"{where} line 1: the header must be {','.join(COLUMNS)}")
        problems: list[str] = []
        tables: list[PlannedTable] = []
        line = reader.line_num + 1
        for row in reader:
            if any(cell.strip() for cell in row):
                try:
                    tables.append(_row(line, row, naming_rules))
                except ConfigError as exc:
                    problems.append(f"line {line}: {exc}")
            line = reader.line_num + 1
    except csv.Error as exc:
        raise PlanError(f"{where} line {reader.line_num}: {exc}") from None
    problems += _duplicates(tables)
    if problems:
        shown = "; ".join(problems[:_MAX_PROBLEMS])
        more = f"; and {len(problems) - _MAX_PROBLEMS} more" if len(problems) > _MAX_PROBLEMS else ""
        raise PlanError(f"{where}: {len(problems)} bad row(s): {shown}{more}")
    return tuple(tables)


def _row(line: int, row: list[str], naming_rules: Mapping[str, str]) -> PlannedTable:
    """One validated row; raises ConfigError naming the first problem (the caller adds the line)."""
    if len(row) != len(COLUMNS):
        raise ConfigError(f"{len(row)} columns, expected {len(COLUMNS)} ({','.join(COLUMNS)})")
    cells = dict(zip(COLUMNS, (cell.strip() for cell in row), strict=True))
    source_key(cells["databricks_name"])
    strategy = cells["strategy"].lower()
    if strategy not in STRATEGIES:
        raise ConfigError(f"strategy {cells['strategy']!r} is not one of {', '.join(STRATEGIES)}")
    if strategy != SKIP and not cells["location"]:
        raise ConfigError(f"strategy {strategy} needs the Delta table's location")
    if not cells["catalog"]:
        raise ConfigError("catalog is empty")
    identifier = f"{cells['namespace']}.{cells['table']}"
    rules_key = naming_rules.get(cells["catalog"])
    check_identifier(identifier, NAMING_RULES.get(rules_key or "", REST))
    try:
        wave = int(cells["wave"])
    except ValueError:
        wave = 0
    if wave < 1:
        raise ConfigError(f"wave {cells['wave']!r} is not a whole number from 1")
    keys = tuple(key.strip() for key in cells["key_columns"].split(";")) if cells["key_columns"] else ()
    if not all(keys):
        raise ConfigError(f"key_columns {cells['key_columns']!r} has an empty column name (separate them with ';')")
    return PlannedTable(
        line=line,
        databricks_name=cells["databricks_name"],
        location=cells["location"],
        catalog=cells["catalog"],
        namespace=cells["namespace"],
        table=cells["table"],
        strategy=strategy,
        wave=wave,
        key_columns=keys,
        tolerances=_tolerances(cells["tolerances"]),
        owner=cells["owner"],
        notes=cells["notes"],
    )


@functools.lru_cache(maxsize=1 << 16)
def source_key(name: str) -> tuple[str, ...]:
    """What identifies a Databricks table: its parts, unquoted and lower-cased (Databricks ignores case).

    Raises:
        ConfigError: ``name`` is not a table name.
    """
    return tuple(part.lower() for part in parse_name(name))


def _tolerances(text: str) -> dict[str, float]:
    tolerances: dict[str, float] = {}
    for spec in filter(None, (part.strip() for part in text.split(";"))):
        column, equals, number = spec.partition("=")
        try:
            value = float(number)
        except ValueError:
            value = -1.0
        if not equals or not column.strip() or not (value >= 0 and math.isfinite(value)):
            raise ConfigError(f"tolerance {spec!r}: expected COL=NUMBER (an absolute tolerance, 0 or more)")
        tolerances[column.strip()] = value
    return tolerances


def _duplicates(tables: list[PlannedTable]) -> list[str]:
    """A problem per Databricks table planned twice and per target claimed by more than one row."""
    problems = []
    by_source: dict[tuple[str, ...], list[int]] = defaultdict(list)
    by_target: dict[tuple[str, str], list[int]] = defaultdict(list)
    for table in tables:
        by_source[source_key(table.databricks_name)].append(table.line)
        by_target[(table.catalog, table.target)].append(table.line)
    for source, lines in by_source.items():
        if len(lines) > 1:
            problems.append(f"lines {', '.join(map(str, lines))}: table {'.'.join(source)} is planned more than once")
    for (catalog, target), lines in by_target.items():
        if len(lines) > 1:
            problems.append(
                f"lines {', '.join(map(str, lines))}: target {catalog}:{target} would hold more than one table"
            )
    return problems


def config_rules(config: Config) -> Callable[[str], str | None]:
    """The key of :data:`NAMING_RULES` of a catalog as ``config`` defines it (``None``: not defined there)."""

    def rules(name: str) -> str | None:
        try:
            properties = config.properties(name)
        except ConfigError:
            return None
        found = rules_for_catalog(properties)
        return next((key for key, value in NAMING_RULES.items() if value == found), None)

    return rules


class _Rules(Mapping[str, str]):
    """The naming rules ``plan.json`` records, and for other catalogs what ``lookup`` says (asked once each)."""

    def __init__(self, recorded: Mapping[str, str], lookup: Callable[[str], str | None]) -> None:
        self.known: dict[str, str | None] = dict(recorded)
        self.lookup = lookup

    def __getitem__(self, name: str) -> str:
        if name not in self.known:
            self.known[name] = self.lookup(name)
        found = self.known[name]
        if found is None:
            raise KeyError(name)
        return found

    def __iter__(self) -> Iterator[str]:
        return (name for name, key in self.known.items() if key is not None)

    def __len__(self) -> int:
        return sum(key is not None for key in self.known.values())


def _recorded(path: Path) -> dict[str, Any]:
    """The ``plan.json`` document at ``path`` (empty when it is missing or unreadable)."""
    try:
        document: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return document if isinstance(document, dict) else {}


def planned_sha256(directory: Path) -> str:
    """The hash of the ``plan.csv`` that ``plan`` wrote into ``directory`` (empty: no readable ``plan.json``)."""
    return _planned(_recorded(Path(directory) / PLAN_JSON))


def _planned(document: Mapping[str, Any]) -> str:
    """``planned_sha256`` of a ``plan.json`` document; files older than that key give their ``content_sha256``."""
    return str(document.get("planned_sha256") or document.get("content_sha256") or "")


def _recorded_rules(document: Mapping[str, Any]) -> dict[str, str]:
    """The naming rules a ``plan.json`` document records per catalog."""
    rules = document.get("naming_rules")
    if not isinstance(rules, dict):
        return {}
    return {str(name): str(key) for name, key in rules.items() if key in NAMING_RULES}


def _number(value: float) -> str:
    """``value`` as short as it reads back exactly (``0.01``, ``1``)."""
    short = f"{value:g}"
    return short if float(short) == value else repr(value)


def blocker_code(notes: str) -> str | None:
    """The finding code a skipped row's notes start with (``not-delta-format: ...``), if any."""
    found = _CODE_FIRST.match(notes)
    return found.group(1) if found else None
