"""How Databricks table names map onto Iceberg catalog names, decided before anything is written.

Over 400 lines because each target catalog's naming rules, with their sources, and the collision-
checked plan are one rule set.

A Databricks name is ``catalog.schema.table`` (Unity Catalog) or ``schema.table`` (e.g.
``hive_metastore``); a part may be backtick-quoted (``'`my.schema`.t'``; a doubled backtick inside
quotes is a literal one) and hold any character. Target catalogs accept far less:

- **Amazon S3 Tables** (:data:`S3_TABLES`), per AWS's "Amazon S3 table bucket, table, and namespace
  naming rules" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-tables-buckets-naming.html)
  and "Creating a namespace"
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-tables-namespace-create.html): names of
  tables and namespaces are 1 to 255 characters of lowercase letters, digits and ``_``, begin and
  end with a letter or digit, and a namespace must not start with the reserved prefix ``aws``.
  Namespaces are single-level (https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-tables-namespace.html).
- **AWS Glue Data Catalog** (:data:`GLUE`): Glue itself takes any UTF-8 string of 1 to 255 bytes,
  lowercase "for Hive compatibility" (Glue API ``TableName``); Athena's "Name databases, tables, and
  columns" (https://docs.aws.amazon.com/athena/latest/ug/tables-databases-columns-names.html) adds
  that names starting with ``_`` need backticks. We keep to the S3 Tables character rules there
  too, without the reserved prefix: names that work unquoted in every engine.

Mapping one part (:func:`map_name`):

1. Lower-case it. Databricks names are case-insensitive, so if lower-casing alone makes the part
   valid, that is the target (``Sales`` -> ``sales``): valid names map to themselves, no hash.
2. Otherwise normalise: decompose (NFKD) and drop accents (``Café`` -> ``cafe``), replace every run
   of characters other than ``a-z0-9_`` with ``_``, strip ``_`` at both ends; an empty result
   becomes ``t`` (table) or ``ns`` (namespace), and a namespace starting with a reserved prefix gets
   ``ns_`` in front (``aws_raw`` -> ``ns_aws_raw``). Then truncate and append ``_`` and the first 8
   hex digits of the SHA-256 of the lower-cased part (UTF-8), within the length limit, so that
   distinct parts that normalise alike (``a-b``, ``a b``) stay distinct: ``日本`` -> ``t_<digest>``,
   ``a-b`` -> ``a_b_<digest>``. The digest is of the lower-cased part, not the part as typed, so
   ``Sales-EU`` and ``sales-eu`` (one Databricks schema) map to one target.

The namespace is the schema, or with ``namespace_from="catalog_schema"`` the catalog and the
schema joined by ``_`` and mapped as one part, so that two Unity Catalog catalogs do not collide.
:func:`plan_names` maps a whole migration and refuses it when two tables would land on one name
(such as ``a_b.c.t`` and ``a.b_c.t`` under ``catalog_schema``); :class:`NameMapping` records the
result as JSON next to the migration.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from datax_migrate.errors import ConfigError

MAPPING_VERSION = "datax-name-mapping/1"
NAMESPACE_FROM = ("schema", "catalog_schema")
KINDS = ("namespace", "table")
_FALLBACK = {"namespace": "ns", "table": "t"}
_DIGEST_CHARS = 8
_ADVICE = "Leave tables out or rename them."
_ADVICE_WITH_CATALOG = (
    "Map namespaces from catalog and schema (namespace_from='catalog_schema'), leave tables out or rename them."
)
_INVISIBLE = frozenset({"Cc", "Cf", "Zl", "Zp"})
_PATH_CHARACTERS = ("/", "\\", "#", "?", "%")
_DISALLOWED = re.compile(r"[^a-z0-9_]+")
_VALID = re.compile(r"[a-z0-9](?:[a-z0-9_]*[a-z0-9])?")


@dataclass(frozen=True)
class NameRules:
    r"""What a target catalog accepts as a namespace or table name.

    Every target takes ``a-z``, ``0-9`` and ``_``, beginning and ending with a letter or digit.
    Strict rules (S3 Tables, Glue) take nothing else; the others (:data:`SQL`, :data:`REST`) take any
    other character except the ones that would let two names share a warehouse folder or break a
    location URI: control and invisible format characters (``urlsplit`` drops a tab, so ``a<TAB>b``
    and ``ab`` would share a folder), ``/`` and ``\`` (path separators), ``#``, ``?`` and ``%``
    (fragment, query and percent-escape in a URI); and names must be in Unicode NFC form (two
    spellings of ``é``).

    Attributes:
        label: The catalog's name, for messages.
        max_length: Longest namespace level or table name, in bytes of UTF-8 (characters, for the
            strict rules' ASCII); ``None`` for no limit of ours.
        reserved_namespace_prefixes: Prefixes no namespace may start with.
        namespace_levels: How many levels a namespace may have (``a.b`` has two); ``None`` for any.
        strict: Whether only ``a-z``, ``0-9`` and ``_`` are allowed.
    """

    label: str
    max_length: int | None = 255
    reserved_namespace_prefixes: tuple[str, ...] = ()
    namespace_levels: int | None = 1
    strict: bool = True


S3_TABLES = NameRules(label="Amazon S3 Tables", reserved_namespace_prefixes=("aws",))
GLUE = NameRules(label="AWS Glue Data Catalog")
SQL = NameRules(label="the SQL catalog", strict=False)
"""pyiceberg's SQL catalog (and the embedded ``local`` one): names are ``VARCHAR(255)`` columns and
folders ``warehouse/NAMESPACE/TABLE`` (a file name holds at most 255 bytes); its namespaces are
single-level, like those of every pyiceberg metastore catalog (Hive, DynamoDB, in-memory)."""
REST = NameRules(label="an Iceberg REST catalog", max_length=None, namespace_levels=None, strict=False)
"""Any other Iceberg REST catalog: namespaces of any depth, lengths as the server allows."""
RULES = {"s3tables": S3_TABLES, "glue": GLUE}
"""The strict rules, by the name ``datax-migrate names --rules`` knows them by."""


def rules_for_catalog(properties: Mapping[str, str]) -> NameRules:
    """The naming rules of a catalog, from its config (or opened catalog's) properties.

    ``type: s3tables`` (either mode) follows :data:`S3_TABLES`, as does ``type: glue`` on an S3
    Tables federated catalog (``glue.id`` like ``ACCOUNT:s3tablescatalog/BUCKET``) and a REST
    catalog signing for ``s3tables``; other Glue catalogs follow :data:`GLUE`, other REST catalogs
    :data:`REST`, and every other catalog (``sql``, the embedded ``local``, Hive, ...) :data:`SQL`.
    """
    from datax_migrate.catalogs import writes_into_table_bucket  # here: importing it loads pyiceberg (1 s)

    kind = properties.get("type", "")
    if writes_into_table_bucket(properties):
        return S3_TABLES
    if kind in RULES:
        return RULES[kind]
    return REST if kind == "rest" else SQL


def resolve_target(target: str, rules: NameRules, mapping: NameMapping | None = None) -> TargetName:
    """Where a conversion writes: ``target`` looked up in ``mapping``, or ``target`` itself, checked.

    Args:
        target: A Databricks table name when ``mapping`` is given, else ``namespace.table``.
        rules: The target catalog's naming rules (see :func:`rules_for_catalog`).
        mapping: The migration's name mapping (see :func:`plan_names`).

    Raises:
        ConfigError: ``target`` is not in ``mapping``, or breaks ``rules``, or (without a mapping)
            is not ``namespace.table``; the message names the rule and gives the name it would map to.
    """
    if mapping is not None:
        entry = mapping.target_for(target)
        check_identifier(entry.identifier, rules)
        return entry
    namespace, dot, table = target.rpartition(".")
    if not dot or not namespace or not table:
        raise ConfigError(f"target {target!r} must be NAMESPACE.TABLE")
    try:
        check_identifier(target, rules)
    except ConfigError as exc:
        mapped = _mapped_or_none(target, rules)
        if mapped is None:
            raise
        raise ConfigError(
            f"{exc}; {target!r} as a Databricks name maps to {mapped!r}"
            " (plan every name with `datax-migrate names`, then convert with --name-map)"
        ) from None
    return TargetName(namespace=namespace, table=table, source=target)


def check_identifier(identifier: str, rules: NameRules) -> None:
    """Refuse a target ``namespace.table`` that ``rules`` do not accept, before anything is created.

    The last dot separates the table; the namespace's levels are separated by dots.

    Raises:
        ConfigError: the namespace has too many or empty levels, or a name breaks a rule; the
            message says which.
    """
    namespace, _, table = identifier.rpartition(".")
    levels = namespace.split(".")
    if not namespace or "" in levels:
        raise ConfigError(f"target {identifier!r} must be NAMESPACE.TABLE, with no empty namespace level")
    if rules.namespace_levels is not None and len(levels) > rules.namespace_levels:
        allowed = "single-level namespaces" if rules.namespace_levels == 1 else f"{rules.namespace_levels} levels"
        raise ConfigError(f"namespace {namespace!r} has {len(levels)} levels, but {rules.label} allows {allowed}")
    for level in levels:
        check_name(level, rules, "namespace")
    check_name(table, rules, "table")


@dataclass(frozen=True)
class TargetName:
    """Where one Databricks table goes.

    Attributes:
        namespace: Target namespace (Glue database).
        table: Target table name.
        source: The Databricks name as given.
    """

    namespace: str
    table: str
    source: str

    @property
    def identifier(self) -> str:
        """``namespace.table``."""
        return f"{self.namespace}.{self.table}"


@dataclass(frozen=True)
class NameMapping:
    """The target of every table of a migration, one entry per Databricks table, sorted by source.

    Attributes:
        entries: The mapped names.
    """

    entries: tuple[TargetName, ...]

    @cached_property
    def _by_key(self) -> dict[tuple[str, ...], TargetName]:
        return {_table_key(entry.source): entry for entry in self.entries}

    def target_for(self, source: str) -> TargetName:
        """The target of ``source``, however its parts are cased or quoted.

        Raises:
            ConfigError: ``source`` is not a table name or is not in the mapping.
        """
        entry = self._by_key.get(_table_key(source))
        if entry is None:
            raise ConfigError(f"{source!r} is not in the name mapping: plan the names again including it")
        return entry

    def to_json(self) -> str:
        """The mapping as JSON: stable key order, entries sorted by source."""
        document = {
            "version": MAPPING_VERSION,
            "entries": [
                {"source": entry.source, "namespace": entry.namespace, "table": entry.table}
                for entry in sorted(self.entries, key=lambda entry: entry.source)
            ],
        }
        return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> NameMapping:
        """Read a mapping file written from :meth:`to_json`.

        Raises:
            ConfigError: the file is missing or unreadable, or is not a valid mapping.
        """
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"name mapping {path} cannot be read: {exc}") from None
        return cls.from_json(text)

    @classmethod
    def from_json(cls, text: str) -> NameMapping:
        """Read a mapping written by :meth:`to_json`.

        Raises:
            ConfigError: the text is not a name mapping of this version, names one Databricks
                table twice or sends two tables to one target.
        """
        try:
            document: Any = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"name mapping is not valid JSON: {exc}") from exc
        if not isinstance(document, dict) or document.get("version") != MAPPING_VERSION:
            raise ConfigError(f"not a name mapping: expected a JSON object with version {MAPPING_VERSION!r}")
        rows = document.get("entries")
        if not isinstance(rows, list):
            raise ConfigError("name mapping: 'entries' must be a list")
        entries = []
        for row in rows:
            if not isinstance(row, dict) or not all(
                isinstance(row.get(key), str) for key in ("source", "namespace", "table")
            ):
                raise ConfigError(f"name mapping: each entry needs string source, namespace and table, not {row!r}")
            entries.append(TargetName(namespace=row["namespace"], table=row["table"], source=row["source"]))
        by_key: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for entry in entries:
            by_key[_table_key(entry.source)].append(entry.source)
        repeated = sorted(sorted(sources) for sources in by_key.values() if len(sources) > 1)
        if repeated:
            raise ConfigError(f"name mapping lists a table more than once: {'; '.join(map(', '.join, repeated))}")
        _refuse_collisions(entries)
        return cls(entries=tuple(sorted(entries, key=lambda entry: entry.source)))


def parse_name(source: str) -> tuple[str, ...]:
    """Split a Databricks table name into its parts, unquoting backtick-quoted ones.

    ``'`a.b`.c.d'`` gives ``("a.b", "c", "d")``; a doubled backtick inside quotes is a literal one.
    Whitespace around unquoted parts is ignored.

    Raises:
        ConfigError: a part is empty, a quote is unclosed or stray, or there are not 2 or 3 parts.
    """
    parts: list[str] = []
    position = 0
    while True:
        while position < len(source) and source[position].isspace():
            position += 1
        if source.startswith("`", position):
            part, position = _quoted_part(source, position)
            while position < len(source) and source[position].isspace():
                position += 1
            if position < len(source) and source[position] != ".":
                raise ConfigError(f"table name {source!r}: a quoted part must be followed by '.' or the end")
        else:
            end = source.find(".", position)
            end = len(source) if end < 0 else end
            part, position = source[position:end].strip(), end
            if "`" in part:
                raise ConfigError(f"table name {source!r}: backticks must quote a whole part, as in `my.schema`")
        if not part:
            raise ConfigError(f"table name {source!r} has an empty part")
        parts.append(part)
        if position >= len(source):
            break
        position += 1
    if not 2 <= len(parts) <= 3:
        raise ConfigError(
            f"table name {source!r} has {len(parts)} part(s): give schema.table or catalog.schema.table"
            " (quote a part holding dots with backticks)"
        )
    return tuple(parts)


def check_name(name: str, rules: NameRules, kind: str) -> None:
    """Refuse a namespace or table name that ``rules`` do not accept.

    Args:
        name: The target name.
        rules: The target catalog's rules.
        kind: ``"namespace"`` or ``"table"``.

    Raises:
        ConfigError: ``name`` breaks a rule; the message says which.
        ValueError: ``kind`` is neither ``"namespace"`` nor ``"table"``.
    """
    problem = _problem(name, rules, kind)
    if problem:
        raise ConfigError(f"{kind} name {name!r} is not valid in {rules.label}: {problem}")


def map_name(source: str, rules: NameRules, namespace_from: str = "schema") -> TargetName:
    """Map one Databricks table name onto a target namespace and table name.

    Args:
        source: ``catalog.schema.table`` or ``schema.table``, parts optionally backtick-quoted.
        rules: The target catalog's rules, such as :data:`S3_TABLES` or :data:`GLUE`.
        namespace_from: ``"schema"`` (the namespace is the schema) or ``"catalog_schema"`` (the
            catalog and the schema joined by ``_``; needs three-part names).

    Returns:
        The target, valid under ``rules``; always the same for the same table.

    Raises:
        ConfigError: ``source`` is not a table name, or ``namespace_from`` is unknown or needs a
            catalog ``source`` does not give.
    """
    if namespace_from not in NAMESPACE_FROM:
        raise ConfigError(f"namespace_from must be one of {', '.join(NAMESPACE_FROM)}, not {namespace_from!r}")
    parts = parse_name(source)
    if namespace_from == "catalog_schema":
        if len(parts) != 3:
            raise ConfigError(
                f"table name {source!r} has no catalog, which namespace_from='catalog_schema' needs:"
                " write it as catalog.schema.table (hive_metastore.schema.table for the legacy metastore)"
            )
        namespace = f"{parts[0]}_{parts[1]}"
    else:
        namespace = parts[-2]
    return TargetName(
        namespace=_map_part(namespace, rules, "namespace"),
        table=_map_part(parts[-1], rules, "table"),
        source=source,
    )


def plan_names(sources: Iterable[str], rules: NameRules, namespace_from: str = "schema") -> NameMapping:
    """Map every table of a migration and refuse it if two tables would land on one target name.

    Spellings of one table (identical, differently cased or quoted) count once; the entry keeps
    the first spelling in sorted order.

    Args:
        sources: Databricks table names.
        rules: The target catalog's rules.
        namespace_from: As for :func:`map_name`.

    Returns:
        One entry per table, sorted by source.

    Raises:
        ConfigError: a name is invalid, or some targets are claimed by more than one table; the
            message lists every such target with its tables.
    """
    spellings: dict[tuple[str, ...], str] = {}
    for source in sorted(set(sources)):
        spellings.setdefault(_table_key(source), source)
    entries = [map_name(source, rules, namespace_from) for source in spellings.values()]
    _refuse_collisions(entries, _ADVICE_WITH_CATALOG if namespace_from == "schema" else _ADVICE)
    return NameMapping(entries=tuple(sorted(entries, key=lambda entry: entry.source)))


def _mapped_or_none(source: str, rules: NameRules) -> str | None:
    try:
        return map_name(source, rules).identifier
    except ConfigError:
        return None


def _quoted_part(source: str, start: int) -> tuple[str, int]:
    """The unquoted text of the backtick-quoted part at ``start``, and the position after it."""
    pieces = []
    position = start + 1
    while True:
        close = source.find("`", position)
        if close < 0:
            raise ConfigError(f"table name {source!r} has an unclosed backtick")
        pieces.append(source[position:close])
        if not source.startswith("``", close):
            return "".join(pieces), close + 1
        pieces.append("`")
        position = close + 2


def _table_key(source: str) -> tuple[str, ...]:
    """What identifies a Databricks table: its parts, lower-cased (Databricks ignores case)."""
    return tuple(part.lower() for part in parse_name(source))


def _problem(name: str, rules: NameRules, kind: str) -> str | None:
    """Why ``name`` is not a valid ``kind`` name under ``rules``, or ``None`` when it is."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if rules.strict:
        if rules.max_length is not None and not 1 <= len(name) <= rules.max_length:
            return f"it must be 1 to {rules.max_length} characters long, not {len(name)}"
        if not _VALID.fullmatch(name):
            return "it may hold only a-z, 0-9 and _, and must begin and end with a letter or digit"
    else:
        problem = _lenient_problem(name, rules)
        if problem:
            return problem
    if kind == "namespace":
        for prefix in rules.reserved_namespace_prefixes:
            if name.startswith(prefix):
                return f"it must not start with the reserved prefix {prefix!r}"
    return None


def _lenient_problem(name: str, rules: NameRules) -> str | None:
    """Why ``name`` breaks the rules every non-strict catalog shares, or ``None``."""
    size = len(name.encode("utf-8"))
    if size == 0 or (rules.max_length is not None and size > rules.max_length):
        limit = f"1 to {rules.max_length}" if rules.max_length is not None else "at least 1"
        return f"it must be {limit} bytes long (UTF-8), not {size}"
    for position, char in enumerate(name):
        if unicodedata.category(char) in _INVISIBLE:
            return (
                f"it must not hold control or invisible characters (U+{ord(char):04X} at position {position}):"
                " paths drop some, so two names would share one folder"
            )
        if char in _PATH_CHARACTERS:
            return (
                f"it must not hold {char!r} (one of {' '.join(_PATH_CHARACTERS)}): in a table location it would"
                " be read as a path separator, URI fragment, query or escape"
            )
    if unicodedata.normalize("NFC", name) != name:
        return "it must be in Unicode NFC form (composed characters), so that one name has one spelling"
    return None


def _map_part(part: str, rules: NameRules, kind: str) -> str:
    """Map one name part: lower-cased if that makes it valid, else normalised with a digest suffix."""
    lowered = part.lower()
    if _problem(lowered, rules, kind) is None:
        return lowered
    decomposed = unicodedata.normalize("NFKD", lowered)
    unaccented = "".join(char for char in decomposed if not unicodedata.combining(char))
    # Compatibility decomposition can bring capitals back (U+210C, black-letter H, gives "H").
    base = _DISALLOWED.sub("_", unaccented.lower()).strip("_")
    if not base:
        base = _FALLBACK[kind]
    elif kind == "namespace" and base.startswith(rules.reserved_namespace_prefixes):
        base = f"{_FALLBACK[kind]}_{base}"
    digest = hashlib.sha256(lowered.encode("utf-8")).hexdigest()[:_DIGEST_CHARS]
    limit = rules.max_length or S3_TABLES.max_length or 255
    return f"{base[: limit - _DIGEST_CHARS - 1].rstrip('_')}_{digest}"


def _refuse_collisions(entries: Iterable[TargetName], advice: str = _ADVICE) -> None:
    """Raise if two entries share a target identifier, listing every such group."""
    groups: dict[str, list[str]] = defaultdict(list)
    for entry in entries:
        groups[entry.identifier].append(entry.source)
    clashes = [
        f"{target} <- {', '.join(sorted(sources))}" for target, sources in sorted(groups.items()) if len(sources) > 1
    ]
    if clashes:
        raise ConfigError(
            f"{len(clashes)} target name(s) would hold more than one table, so nothing was written: "
            + "; ".join(clashes)
            + f". {advice}"
        )
