"""SQL cells and ``spark.sql`` strings: Databricks SQL to Spark SQL (or Athena) over Iceberg.

Statements go through sqlglot (``read="databricks"``) as trees: table names through the name map,
``USING DELTA`` to ``USING iceberg``, Delta-only column definitions and properties dropped with a
finding, ``VERSION AS OF``/``TIMESTAMP AS OF`` to the snapshot the converter recorded. What sqlglot
cannot parse or keeps as an opaque command (OPTIMIZE, VACUUM, RESTORE, CONVERT TO DELTA, CLONE,
DESCRIBE HISTORY) is read by a small parser over sqlglot's tokens and written as Iceberg procedures
and metadata-table queries.

Snapshot ids are not known when translating (the catalog may be out of reach), so a statement that
needs one becomes a Python expression that looks it up when it runs through
:func:`datax_migrate.compat.delta_version_snapshot`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import sqlglot
from sqlglot import exp
from sqlglot.dialects.spark import Spark
from sqlglot.errors import SqlglotError
from sqlglot.tokens import Token, TokenType

from datax_migrate.notebooks.context import Recorder, path_reference, table_reference
from datax_migrate.notebooks.paths import is_databricks_path

_PLACEHOLDER = "__datax_snapshot_{}__"
_NOT_NAMES = {
    TokenType.DOT,
    TokenType.SEMICOLON,
    TokenType.L_PAREN,
    TokenType.R_PAREN,
    TokenType.COMMA,
    TokenType.STRING,
}


class _Tokens(Spark.Tokenizer):  # type: ignore[misc]
    """Spark's tokenizer without opaque commands: OPTIMIZE and VACUUM come back as tokens."""

    COMMANDS: ClassVar[set[TokenType]] = set()


@dataclass(frozen=True)
class SnapshotLookup:
    """A snapshot id to look up when the statement runs.

    Attributes:
        table: The Iceberg table (``catalog.namespace.table``).
        at: The Delta version (an integer literal) or commit timestamp (a string literal), as SQL text.
        by: ``"version"`` or ``"timestamp"``.
    """

    table: str
    at: str
    by: str

    def python(self) -> str:
        """The Python call that returns the snapshot id."""
        helper = "delta_version_snapshot" if self.by == "version" else "delta_timestamp_snapshot"
        at = self.at if self.by == "version" else repr(self.at.strip("'\""))
        return f"{helper}(spark, {self.table!r}, {at})"


@dataclass(frozen=True)
class Statement:
    """One translated statement.

    Attributes:
        kind: ``sql`` (runs as is), ``raw`` (kept, not run: needs a person), ``dropped`` (nothing to
            run; a finding says why).
        parts: The SQL text, with snapshot lookups between its pieces.
        line: 1-based line of the statement in its cell.
    """

    kind: str
    parts: tuple[str | SnapshotLookup, ...]
    line: int

    @property
    def needs_lookup(self) -> bool:
        """Whether the statement needs snapshot ids looked up at run time."""
        return any(isinstance(part, SnapshotLookup) for part in self.parts)

    @property
    def sql(self) -> str:
        """The SQL text (snapshot lookups shown as placeholders; see :meth:`python`)."""
        return "".join(part if isinstance(part, str) else f"<snapshot of {part.table}>" for part in self.parts)

    def python(self) -> str:
        """A Python expression that evaluates to the SQL text, snapshot ids looked up."""
        pieces = [repr(part) if isinstance(part, str) else f"str({part.python()})" for part in self.parts if part]
        return " + ".join(pieces) or "''"


def translate_sql(text: str, rec: Recorder, first_line: int = 1) -> list[Statement]:
    """Translate the statements of a SQL cell (or a ``spark.sql`` string).

    Args:
        text: One or more statements separated by ``;``.
        rec: Where findings and facts go.
        first_line: The cell line ``text`` starts on, so findings point at cell lines.

    Returns:
        One :class:`Statement` per input statement, in order; a statement that does not parse is
        kept as it was (``kind="sql"``) with a ``sql-parse-error`` finding.
    """
    return [
        statement
        for chunk, offset in split_statements(text)
        for statement in translate_statement(chunk, rec, first_line + offset)
    ]


def split_statements(text: str) -> list[tuple[str, int]]:
    """Split SQL text at top-level ``;`` into statements and the 0-based line of their first token."""
    try:
        tokens = _Tokens().tokenize(text)
    except SqlglotError:
        return [(text.strip(), _leading_lines(text))] if text.strip() else []
    chunks: list[tuple[str, int]] = []
    start, first = 0, None
    for token in [*tokens, None]:
        if token is not None and token.token_type != TokenType.SEMICOLON:
            first = first or token
            continue
        end = len(text) if token is None else token.start
        if first is not None:
            chunks.append((text[start:end].strip(), first.line - 1))
        start, first = end + 1, None
    return chunks


def translate_statement(text: str, rec: Recorder, line: int = 1) -> list[Statement]:
    """Translate one statement; see :func:`translate_sql`."""
    try:
        tokens = _Tokens().tokenize(text)
    except SqlglotError as exc:
        rec.report("sql-parse-error", line, _first_line(str(exc)), original=text)
        return [Statement("sql", (text,), line)]
    words = [t.text.upper() for t in tokens[:4]]
    for leader, rule in _DELTA_STATEMENTS:
        if words[: len(leader)] == list(leader):
            return rule(text, tokens, rec, line)
    if any(t.token_type == TokenType.VAR and t.text.upper() == "CLONE" for t in tokens):
        return _clone(text, tokens, rec, line)
    if "${" in text:
        rec.report("sql-widget-parameter", line, "${...}", original=text)
    return [_through_sqlglot(text, rec, line)]


def _through_sqlglot(text: str, rec: Recorder, line: int) -> Statement:
    try:
        tree = sqlglot.parse_one(text, read="databricks")
    except SqlglotError as exc:
        rec.report("sql-parse-error", line, _first_line(str(exc)), original=text)
        return Statement("sql", (text,), line)
    if isinstance(tree, exp.Command):
        rec.report("sql-parse-error", line, "not understood by the SQL parser", original=text)
        return Statement("sql", (text,), line)
    if isinstance(tree, exp.Set) and "spark.databricks." in text:
        rec.report("databricks-setting-removed", line, tree.sql("databricks"), original=text)
        return Statement("dropped", (), line)
    lookups: list[SnapshotLookup] = []
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for table in list(tree.find_all(exp.Table)):
        _table(table, ctes, rec, line, lookups)
    if isinstance(tree, exp.Create):
        _create(tree, rec, line)
    written = tree.sql(dialect=_write(rec))
    parts: list[str | SnapshotLookup] = []
    for number, lookup in enumerate(lookups):
        before, _, written = written.partition(_PLACEHOLDER.format(number))
        parts += [before, lookup]
    parts.append(written)
    return Statement("sql", tuple(parts), line)


def _table(table: exp.Table, ctes: set[str], rec: Recorder, line: int, lookups: list[SnapshotLookup]) -> None:
    """Map one table reference in place, and its time travel."""
    name = table.name
    if table.db.lower() == "delta" and is_databricks_path(name):
        located = rec.options.locations.table_at(name)
        if located is None:
            rec.paths.setdefault(name, None)
            rec.report("delta-path-read", line, name, original=table.sql("databricks"))
            return
        name_parts = located
    elif not table.db:
        if name.lower() not in ctes and name:
            rec.tables.setdefault(name, None)
        return
    elif table.db.lower() in ("parquet", "csv", "json", "orc", "text", "binaryfile") and is_databricks_path(name):
        mapped = path_reference(rec, name, line)
        table.set("this", exp.to_identifier(mapped, quoted=True))
        return
    else:
        name_parts = ".".join(part.sql("databricks") for part in table.parts)
    target = table_reference(rec, name_parts, line)
    if target != name_parts:
        catalog, namespace, short = target.split(".", 2)
        table.set("catalog", exp.to_identifier(catalog))
        table.set("db", exp.to_identifier(namespace))
        table.set("this", exp.to_identifier(short))
    version = table.args.get("version")
    if isinstance(version, exp.Version):
        by = "version" if version.name.upper() == "VERSION" else "timestamp"
        at = version.expression.sql("databricks")
        code = "time-travel" if by == "version" else "time-travel-timestamp"
        rec.report(code, line, at, original=version.sql("databricks"))
        lookups.append(SnapshotLookup(target, at, by))
        placeholder = exp.var(_PLACEHOLDER.format(len(lookups) - 1))
        table.set("version", exp.Version(this="VERSION", kind="AS OF", expression=placeholder))


def _create(tree: exp.Create, rec: Recorder, line: int) -> None:
    """Drop what Iceberg cannot hold from a CREATE TABLE, each with a finding."""
    for prop in list(tree.find_all(exp.FileFormatProperty)):
        if prop.name.upper() == "DELTA":
            rec.report("using-delta", line, original="USING DELTA", replacement="USING iceberg")
            prop.set("this", exp.var("iceberg"))
    for table_property in list(tree.find_all(exp.Property)):
        key = table_property.name
        if key.lower().startswith("delta."):
            rec.report("delta-table-property", line, key, original=table_property.sql("databricks"))
            table_property.pop()
    for constraint in list(tree.find_all(exp.ColumnConstraint)):
        column = constraint.parent.name if isinstance(constraint.parent, exp.ColumnDef) else "?"
        kind = constraint.args.get("kind")
        if isinstance(kind, exp.GeneratedAsIdentityColumnConstraint):
            rec.report("identity-column", line, column, original=constraint.sql("databricks"))
            constraint.pop()
        elif isinstance(kind, exp.ComputedColumnConstraint):
            rec.report("generated-column", line, column, original=constraint.sql("databricks"))
            constraint.pop()
        elif isinstance(kind, exp.CheckColumnConstraint):
            rec.report("check-constraint", line, kind.sql("databricks"), original=constraint.sql("databricks"))
            constraint.pop()
    for table_constraint in list(tree.find_all(exp.Constraint)):
        if any(isinstance(e, exp.CheckColumnConstraint) for e in table_constraint.expressions):
            rec.report("check-constraint", line, table_constraint.name, original=table_constraint.sql("databricks"))
            table_constraint.pop()
    properties = tree.args.get("properties")
    if isinstance(properties, exp.Properties) and not properties.expressions:
        properties.pop()


def _write(rec: Recorder) -> str:
    return "athena" if rec.options.dialect == "athena" else "spark"


class _Reader:
    """A cursor over one statement's tokens for the Delta statements sqlglot does not parse."""

    def __init__(self, text: str, tokens: list[Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.position = 0

    def peek(self, *words: str) -> bool:
        ahead = self.tokens[self.position : self.position + len(words)]
        return len(ahead) == len(words) and all(t.text.upper() == w for t, w in zip(ahead, words, strict=True))

    def accept(self, *words: str) -> bool:
        if self.peek(*words):
            self.position += len(words)
            return True
        return False

    def name(self) -> str:
        """A dotted, possibly backtick-quoted name (``a.b.`c```), as SQL text; ``""`` if none."""
        start = self.position
        while self.position < len(self.tokens) and self.tokens[self.position].token_type not in _NOT_NAMES:
            self.position += 1
            if self.position < len(self.tokens) and self.tokens[self.position].token_type == TokenType.DOT:
                self.position += 1
            else:
                break
        if self.position == start:
            return ""
        return self.text[self.tokens[start].start : self.tokens[self.position - 1].end + 1]

    def rest(self) -> str:
        if self.position >= len(self.tokens):
            return ""
        return self.text[self.tokens[self.position].start :].strip()

    def until(self, *words: str) -> str:
        """The text up to (not including) the first of ``words`` at this level, consumed."""
        start = self.position
        while self.position < len(self.tokens) and not any(self.peek(w) for w in words):
            self.position += 1
        if self.position == start:
            return ""
        return self.text[self.tokens[start].start : self.tokens[self.position - 1].end + 1].strip()


def _target_table(reader: _Reader, rec: Recorder, line: int, original: str, *leader: str) -> tuple[str, str] | None:
    """Read the table of a Delta statement after its ``leader`` words.

    Returns:
        ``(catalog, 'namespace.table')`` on the target, or ``None`` for an unmapped path table.
    """
    for word in leader:
        reader.accept(word)
    name = reader.name()
    if name.lower().startswith("delta.") and is_databricks_path(name[len("delta.") :].strip("`")):
        path = name[len("delta.") :].strip("`")
        located = rec.options.locations.table_at(path)
        if located is None:
            rec.paths.setdefault(path, None)
            rec.report("delta-path-read", line, path, original=original)
            return None
        name = located
    target = table_reference(rec, name, line)
    parts = target.split(".")
    if len(parts) == 3:
        return parts[0], f"{parts[1]}.{parts[2]}"
    return rec.options.locations.catalog, target


def _optimize(text: str, tokens: list[Token], rec: Recorder, line: int) -> list[Statement]:
    reader = _Reader(text, tokens)
    table = _target_table(reader, rec, line, text, "OPTIMIZE")
    if table is None:
        return [Statement("raw", (text,), line)]
    where = reader.until("ZORDER") if reader.accept("WHERE") else ""
    zorder = reader.rest()[len("ZORDER BY") :].strip().strip("()") if reader.peek("ZORDER", "BY") else ""
    catalog, identifier = table
    if rec.options.dialect == "athena":
        sql = f"OPTIMIZE {identifier} REWRITE DATA USING BIN_PACK" + (f" WHERE {where}" if where else "")
        if zorder:
            rec.report("athena-unsupported", line, "ZORDER BY", original=text)
    else:
        arguments = [f"table => '{identifier}'"]
        if zorder:
            columns = ",".join(c.strip() for c in zorder.split(","))
            arguments += ["strategy => 'sort'", f"sort_order => 'zorder({columns})'"]
        if where:
            arguments.append(f"where => {_string(where)}")
        sql = f"CALL {catalog}.system.rewrite_data_files({', '.join(arguments)})"
    rec.report("optimize", line, original=text, replacement=sql)
    return [Statement("sql", (sql,), line)]


def _vacuum(text: str, tokens: list[Token], rec: Recorder, line: int) -> list[Statement]:
    reader = _Reader(text, tokens)
    table = _target_table(reader, rec, line, text, "VACUUM")
    if table is None:
        return [Statement("raw", (text,), line)]
    if rec.options.managed_maintenance:
        rec.report("vacuum-managed", line, original=text)
        return [Statement("dropped", (), line)]
    catalog, identifier = table
    if rec.options.dialect == "athena":
        sql = f"VACUUM {identifier}"
    else:
        expire = f"CALL {catalog}.system.expire_snapshots(table => '{identifier}')"
        orphans = f"CALL {catalog}.system.remove_orphan_files(table => '{identifier}')"
        rec.report("vacuum", line, original=text, replacement=f"{expire};\n{orphans}")
        return [Statement("sql", (expire,), line), Statement("sql", (orphans,), line)]
    rec.report("vacuum", line, original=text, replacement=sql)
    return [Statement("sql", (sql,), line)]


def _restore(text: str, tokens: list[Token], rec: Recorder, line: int) -> list[Statement]:
    reader = _Reader(text, tokens)
    table = _target_table(reader, rec, line, text, "RESTORE", "TABLE")
    reader.accept("TO")
    by = "version" if reader.accept("VERSION", "AS", "OF") else ""
    by = by or ("timestamp" if reader.accept("TIMESTAMP", "AS", "OF") else "")
    at = reader.rest()
    if table is None or not by or not at:
        rec.report("sql-parse-error", line, "expected RESTORE [TABLE] t TO VERSION|TIMESTAMP AS OF x", original=text)
        return [Statement("raw", (text,), line)]
    if rec.options.dialect == "athena":
        rec.report("athena-unsupported", line, "RESTORE", original=text)
        return [Statement("raw", (text,), line)]
    catalog, identifier = table
    lookup = SnapshotLookup(f"{catalog}.{identifier}", at, by)
    statement = Statement("sql", (f"CALL {catalog}.system.rollback_to_snapshot('{identifier}', ", lookup, ")"), line)
    rec.report("restore", line, original=text, replacement=statement.sql)
    return [statement]


def _history(text: str, tokens: list[Token], rec: Recorder, line: int) -> list[Statement]:
    reader = _Reader(text, tokens)
    table = _target_table(reader, rec, line, text, tokens[0].text.upper(), "HISTORY")
    if table is None:
        return [Statement("raw", (text,), line)]
    catalog, identifier = table
    if rec.options.dialect == "athena":
        namespace, name = identifier.split(".", 1)
        sql = f'SELECT * FROM "{namespace}"."{name}$history" ORDER BY made_current_at DESC'
    else:
        sql = (
            "SELECT s.summary['datax.source-delta-version'] AS delta_version, h.made_current_at AS timestamp, "
            "s.operation, h.snapshot_id, h.parent_id, h.is_current_ancestor, s.summary "
            f"FROM {catalog}.{identifier}.history h JOIN {catalog}.{identifier}.snapshots s "
            "ON h.snapshot_id = s.snapshot_id ORDER BY h.made_current_at DESC"
        )
    rec.report("describe-history", line, original=text, replacement=sql)
    return [Statement("sql", (sql,), line)]


def _convert(text: str, tokens: list[Token], rec: Recorder, line: int) -> list[Statement]:
    rec.report("convert-to-delta", line, original=text)
    return [Statement("raw", (text,), line)]


def _unsupported(text: str, tokens: list[Token], rec: Recorder, line: int) -> list[Statement]:
    rec.report("delta-sql-unsupported", line, " ".join(t.text.upper() for t in tokens[:2]), original=text)
    return [Statement("raw", (text,), line)]


def _set(text: str, tokens: list[Token], rec: Recorder, line: int) -> list[Statement]:
    setting = text[tokens[1].start :].split("=", 1)[0].strip() if len(tokens) > 1 else ""
    if setting.startswith("spark.databricks.") or setting.startswith("`spark.databricks."):
        rec.report("databricks-setting-removed", line, setting, original=text)
        return [Statement("dropped", (), line)]
    return [_through_sqlglot(text, rec, line)]


def _clone(text: str, tokens: list[Token], rec: Recorder, line: int) -> list[Statement]:
    reader = _Reader(text, tokens)
    head = reader.until("SHALLOW", "DEEP", "CLONE")
    reader.accept("DEEP")
    shallow = reader.accept("SHALLOW")
    reader.accept("CLONE")
    source = reader.name()
    rec.report("clone", line, "SHALLOW" if shallow else "DEEP", original=text)
    if shallow or not source or rec.options.dialect == "athena":
        return [Statement("raw", (text,), line)]
    return [_through_sqlglot(f"{head} AS SELECT * FROM {source}", rec, line)]


_DELTA_STATEMENTS: tuple[tuple[tuple[str, ...], Callable[[str, list[Token], Recorder, int], list[Statement]]], ...] = (
    (("OPTIMIZE",), _optimize),
    (("VACUUM",), _vacuum),
    (("RESTORE",), _restore),
    (("DESCRIBE", "HISTORY"), _history),
    (("DESC", "HISTORY"), _history),
    (("CONVERT", "TO", "DELTA"), _convert),
    (("FSCK",), _unsupported),
    (("REORG",), _unsupported),
    (("GENERATE",), _unsupported),
    (("SET",), _set),
)


def _string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _first_line(text: str) -> str:
    return text.strip().split("\n", 1)[0]


def _leading_lines(text: str) -> int:
    return text[: len(text) - len(text.lstrip())].count("\n")
