"""SQL cells and ``spark.sql`` strings: Databricks SQL to Spark SQL (or Athena) over Iceberg.

Over 400 lines because the SQL rule table; each rule is small, and all share one sqlglot tree walk.

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

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from datax_migrate.errors import missing_extra
from datax_migrate.notebooks.context import Recorder, path_reference, table_reference
from datax_migrate.notebooks.paths import is_databricks_path, is_storage_path

try:
    import sqlglot
    from sqlglot import exp
    from sqlglot.dialects.spark import Spark
    from sqlglot.errors import SqlglotError
    from sqlglot.tokens import Token, TokenType
except ImportError:
    raise missing_extra("sqlglot", "translate", "notebook translation") from None

_PLACEHOLDER = "__datax_snapshot_{}__"
_NOT_NAMES = {
    TokenType.DOT,
    TokenType.SEMICOLON,
    TokenType.L_PAREN,
    TokenType.R_PAREN,
    TokenType.COMMA,
    TokenType.STRING,
}
_AT_VERSION = re.compile(r"[vV](\d+)")
_AT_TIMESTAMP = re.compile(r"(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{3})")
_WIDGET_TEXT = re.compile(r"\$\{(\w+)\}")
_WIDGET_KINDS = {"TEXT", "DROPDOWN", "COMBOBOX", "MULTISELECT"}


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
        parameters: Widgets bound to its named parameter markers (``:name``) when it runs.
        view: The temporary view it makes (a changelog view), if any.
    """

    kind: str
    parts: tuple[str | SnapshotLookup, ...]
    line: int
    parameters: tuple[str, ...] = ()
    view: str = ""

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


def translate_sql(text: str, rec: Recorder, first_line: int = 1, bind_widgets: bool = False) -> list[Statement]:
    """Translate the statements of a SQL cell (or a ``spark.sql`` string).

    Args:
        text: One or more statements separated by ``;``.
        rec: Where findings and facts go.
        first_line: The cell line ``text`` starts on, so findings point at cell lines.
        bind_widgets: A SQL cell: widget references (``:name``, ``'${name}'``, ``getArgument('name')``)
            become named parameter markers bound to the widgets (:attr:`Statement.parameters`).

    Returns:
        One :class:`Statement` per input statement, in order; a statement that does not parse is
        kept as it was (``kind="sql"``) with a ``sql-parse-error`` finding.
    """
    return [
        statement
        for chunk, offset in split_statements(text)
        for statement in translate_statement(chunk, rec, first_line + offset, bind_widgets)
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


def translate_statement(text: str, rec: Recorder, line: int = 1, bind_widgets: bool = False) -> list[Statement]:
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
    travelled = _at_time_travel(text, tokens, rec, line)
    if travelled is None:
        return [Statement("raw", (text,), line)]
    try:
        return _through_sqlglot(travelled, rec, line, bind_widgets)
    except RecursionError:  # sqlglot recurses as deep as the statement nests
        rec.report("cell-over-limit", line, "nested deeper than the SQL parser can follow", original=_first_line(text))
        return [Statement("sql", (text,), line)]


def _through_sqlglot(text: str, rec: Recorder, line: int, bind_widgets: bool = False) -> list[Statement]:
    try:
        tree = sqlglot.parse_one(text, read="databricks")
    except SqlglotError as exc:
        rec.report("sql-parse-error", line, _first_line(str(exc)), original=text)
        return [Statement("sql", (text,), line)]
    if isinstance(tree, exp.Command):
        rec.report("sql-parse-error", line, "not understood by the SQL parser", original=text)
        return [Statement("sql", (text,), line)]
    if isinstance(tree, exp.Set) and "spark.databricks." in text:
        rec.report("databricks-setting-removed", line, tree.sql("databricks"), original=text)
        return [Statement("dropped", (), line)]
    preceding = _table_changes(tree, rec, line)
    if preceding is None:
        return [Statement("raw", (text,), line)]
    lookups: list[SnapshotLookup] = []
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    ctes |= {statement.view for statement in preceding}
    for table in list(tree.find_all(exp.Table)):
        _table(table, ctes, rec, line, lookups)
    following: list[Statement] = []
    if isinstance(tree, exp.Create):
        following = _create(tree, rec, line)
    elif isinstance(tree, exp.Alter):
        following = _alter(tree, rec, line)
        if not tree.args.get("actions"):
            return following or [Statement("dropped", (), line)]
    parameters = _widget_references(tree, rec, line, bind_widgets)
    if "${" in tree.sql("databricks"):
        rec.report("sql-widget-parameter", line, "${...}", original=text)
    written = tree.sql(dialect=_write(rec))
    parts: list[str | SnapshotLookup] = []
    for number, lookup in enumerate(lookups):
        before, _, written = written.partition(_PLACEHOLDER.format(number))
        parts += [before, lookup]
    parts.append(written)
    return [*preceding, Statement("sql", tuple(parts), line, parameters), *following]


def _table_changes(tree: exp.Expr, rec: Recorder, line: int) -> list[Statement] | None:
    """Delta's ``table_changes(name, start[, end])`` as Iceberg changelog views, in place.

    Each call becomes the name of a changelog view that a ``create_changelog_view`` call, run
    first, makes over the snapshots converted from the Delta range.

    Returns:
        The ``CALL`` statements to run before the statement, or ``None`` (a blocker is reported)
        when a call cannot be translated: the statement is kept unexecuted.
    """
    calls: list[Statement] = []
    for table in list(tree.find_all(exp.Table)):
        function = table.this
        if not (isinstance(function, exp.Anonymous) and function.name.lower() == "table_changes"):
            continue
        original = function.sql("databricks")
        arguments = function.expressions
        literals = [a for a in arguments if isinstance(a, exp.Literal)]
        if rec.options.dialect == "athena":
            rec.report("athena-unsupported", line, f"{original} (a changelog view)", original=original)
            return None
        if len(literals) != len(arguments) or not 2 <= len(arguments) <= 3 or not literals[0].is_string:
            detail = f"{original} (its arguments must be a table name and literal versions or timestamps)"
            rec.report("change-feed-unsupported", line, detail, original=original)
            return None
        bounds = [ChangeBound("timestamp" if a.is_string else "version", a.name) for a in literals[1:]]
        target = table_reference(rec, literals[0].name, line)
        view = f"{target.rsplit('.', 1)[-1]}_changes" + (f"_{len(calls) + 1}" if calls else "")
        statement = changelog_view(target, view, bounds[0], bounds[1] if len(bounds) > 1 else None, rec, line)
        if statement is None:
            detail = f"{original} (a bound is neither a version nor an ISO-8601 timestamp)"
            rec.report("change-feed-unsupported", line, detail, original=original)
            return None
        rec.report("change-feed-read", line, original, original=original, replacement=statement.sql)
        table.set("this", exp.to_identifier(view))
        calls.append(statement)
    if calls:
        _iceberg_change_types(tree)
    return calls


_CHANGE_TYPES = {
    "insert": "INSERT",
    "delete": "DELETE",
    "update_preimage": "UPDATE_BEFORE",
    "update_postimage": "UPDATE_AFTER",
}
"""Delta's ``_change_type`` values and Iceberg's changelog equivalents."""


def _iceberg_change_types(tree: exp.Expr) -> None:
    """Delta ``_change_type`` values compared with the column (``=``, ``<>``, ``IN``) as Iceberg's."""
    for column in list(tree.find_all(exp.Column)):
        comparison = column.parent
        if column.name.lower() != "_change_type" or not isinstance(comparison, (exp.EQ, exp.NEQ, exp.In)):
            continue
        for literal in list(comparison.find_all(exp.Literal)):
            if literal.is_string and literal.name.lower() in _CHANGE_TYPES:
                literal.replace(exp.Literal.string(_CHANGE_TYPES[literal.name.lower()]))


@dataclass(frozen=True)
class ChangeBound:
    """One end of a Delta change data feed range.

    Attributes:
        by: ``version`` or ``timestamp``.
        value: The Delta version (digits) or commit time (ISO-8601) as written.
    """

    by: str
    value: str


def changelog_view(
    target: str, view: str, start: ChangeBound | None, end: ChangeBound | None, rec: Recorder, line: int
) -> Statement | None:
    """The ``create_changelog_view`` call over the snapshots converted from a Delta change range.

    Delta's range includes both ends; Iceberg's ``start-snapshot-id`` is exclusive, so the start is
    the snapshot of the version before (Delta version 0, or no start: the table's first snapshot),
    and a start time the last commit strictly before it (1 ms earlier: Delta commit times are in ms).

    Args:
        target: The Iceberg table (``catalog.namespace.table``).
        view: The name of the changelog view to make.
        start: Where the range starts (inclusive).
        end: Where it ends (inclusive); ``None`` for the current snapshot.
        rec: Where the snapshot helpers the statement needs are recorded.
        line: The statement's line.

    Returns:
        The statement (snapshot ids looked up when it runs), or ``None`` when a bound is not a
        whole number or an ISO-8601 time.
    """
    catalog, identifier = target.split(".", 1) if target.count(".") == 2 else (rec.options.locations.catalog, target)
    options: list[tuple[str, SnapshotLookup]] = []
    for key, bound, first in (("start-snapshot-id", start, True), ("end-snapshot-id", end, False)):
        if bound is None:
            continue
        if bound.by == "version":
            if not bound.value.isdigit():
                return None
            version = int(bound.value) - 1 if first else int(bound.value)
            if version >= 0:
                options.append((key, SnapshotLookup(f"{catalog}.{identifier}", str(version), "version")))
            continue
        try:
            moment = dt.datetime.fromisoformat(bound.value)
        except ValueError:
            return None
        moment -= dt.timedelta(milliseconds=1) if first else dt.timedelta(0)
        at = moment.isoformat(sep=" ", timespec="milliseconds")
        options.append((key, SnapshotLookup(f"{catalog}.{identifier}", repr(at), "timestamp")))
    parts: list[str | SnapshotLookup] = [
        f"CALL {catalog}.system.create_changelog_view(table => '{identifier}', changelog_view => '{view}'"
    ]
    for number, (key, lookup) in enumerate(options):
        parts += [f"{', options => map(' if number == 0 else ', '}'{key}', '", lookup, "'"]
        rec.imports.setdefault(lookup.python().split("(", 1)[0], None)
    parts.append("))" if options else ")")
    joined: list[str | SnapshotLookup] = []
    for part in parts:  # adjacent text as one piece, for readable Python
        if isinstance(part, str) and joined and isinstance(joined[-1], str):
            joined[-1] += part
        else:
            joined.append(part)
    return Statement("sql", tuple(joined), line, view=view.lower())


def _at_time_travel(text: str, tokens: list[Token], rec: Recorder, line: int) -> str | None:
    """Databricks ``t@v3`` and ``t@yyyyMMddHHmmssSSS`` written as ``t VERSION AS OF 3`` / ``TIMESTAMP AS OF``.

    Returns:
        The statement with standard time travel, or ``None`` (reported) when an ``@`` after a name
        is neither form: the statement is kept unexecuted.
    """
    pieces: list[str] = []
    start = 0
    for before, at, after in zip(tokens, tokens[1:], tokens[2:], strict=False):
        if at.text != "@" or before.end + 1 != at.start or at.end + 1 != after.start:
            continue
        original = f"{before.text}@{after.text}"
        at_line = line + at.line - tokens[0].line
        version, stamp = _AT_VERSION.fullmatch(after.text), _AT_TIMESTAMP.fullmatch(after.text)
        if version:
            clause = f" VERSION AS OF {int(version.group(1))}"
        elif stamp:
            y, mo, d, h, mi, sec, ms = stamp.groups()
            clause = f" TIMESTAMP AS OF '{y}-{mo}-{d} {h}:{mi}:{sec}.{ms}'"
        else:
            rec.report(
                "sql-parse-error",
                at_line,
                f"time travel {original} is neither @v<version> nor @yyyyMMddHHmmssSSS",
                original=original,
            )
            return None
        rec.report("time-travel-at-syntax", at_line, original, original=original, replacement=clause[1:])
        pieces += [text[start : at.start], clause]
        start = after.end + 1
    return "".join(pieces) + text[start:]


def _widget_references(tree: exp.Expr, rec: Recorder, line: int, bind: bool) -> tuple[str, ...]:
    """Widgets a statement reads: named markers, and in a SQL cell ``'${x}'``/``getArgument('x')`` as markers.

    A text substitution that is a whole string literal (``'${x}'``) and ``getArgument('x')`` are
    string values, so binding them as ``:x`` is safe; an unquoted ``${x}`` may stand for a name or
    SQL text and is left for a person (reported by the caller).
    """
    names: dict[str, None] = {}
    for node in list(tree.find_all(exp.Literal, exp.Anonymous, exp.Placeholder)):
        widget = None
        if isinstance(node, exp.Placeholder):
            if bind and node.name:
                names.setdefault(node.name, None)
                rec.report("sql-widget-bound", line, f":{node.name}", original=f":{node.name}")
            continue
        if isinstance(node, exp.Literal) and node.is_string and _WIDGET_TEXT.fullmatch(node.name):
            widget = _WIDGET_TEXT.fullmatch(node.name).group(1)  # type: ignore[union-attr]
        elif isinstance(node, exp.Anonymous) and node.name.lower() == "getargument":
            argument = node.expressions[0] if len(node.expressions) == 1 else None
            if isinstance(argument, exp.Literal) and argument.is_string:
                widget = argument.name
        if widget is None:
            continue
        original = node.sql("databricks")
        if not bind:
            if isinstance(node, exp.Anonymous):
                rec.report("sql-widget-parameter", line, original, original=original)
            continue
        node.replace(exp.Placeholder(this=widget))
        names.setdefault(widget, None)
        rec.report("sql-widget-bound", line, original, original=original, replacement=f":{widget}")
    return tuple(names)


def _table(table: exp.Table, ctes: set[str], rec: Recorder, line: int, lookups: list[SnapshotLookup]) -> None:
    """Map one table reference in place, and its time travel."""
    name = table.name
    if table.db.lower() == "delta" and is_storage_path(name):
        located = rec.options.locations.table_at(name)
        if located is None:
            rec.paths.setdefault(name, None)
            rec.report("delta-path-read", line, name, original=table.sql("databricks"))
            return
        rec.report("location-mapped", line, f"{name} is {located}", original=table.sql("databricks"))
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


def _create(tree: exp.Create, rec: Recorder, line: int) -> list[Statement]:
    """Drop what Iceberg cannot hold from a CREATE TABLE, each with a finding.

    Returns:
        The statements to run after it (the sort order liquid clustering became).
    """
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
    following: list[Statement] = []
    table = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
    for cluster in list(tree.find_all(exp.ClusterProperty)):
        following += _sort_order(table, cluster, rec, line)
        cluster.pop()
    properties = tree.args.get("properties")
    if isinstance(properties, exp.Properties) and not properties.expressions:
        properties.pop()
    return following


def _alter(tree: exp.Alter, rec: Recorder, line: int) -> list[Statement]:
    """Take what Iceberg has no ALTER TABLE for out of ``tree`` (CHECK constraints, liquid clustering).

    Returns:
        The statements to run after what is left of ``tree`` (the sort order clustering became).
    """
    following: list[Statement] = []
    for action in list(tree.args.get("actions") or []):
        if isinstance(action, exp.AddConstraint) and action.find(exp.CheckColumnConstraint):
            names = ", ".join(c.name for c in action.find_all(exp.Constraint)) or "?"
            rec.report("check-constraint", line, names, original=tree.sql("databricks"))
            action.pop()
        elif isinstance(action, exp.ClusterProperty):
            following += _sort_order(tree.this, action, rec, line)
            action.pop()
    return following


def _sort_order(table: exp.Expr, cluster: exp.ClusterProperty, rec: Recorder, line: int) -> list[Statement]:
    """Liquid clustering (``CLUSTER BY (a, b)``, ``NONE``, ``AUTO``) as the Iceberg table's sort order."""
    columns = ", ".join(column.sql(_write(rec)) for column in cluster.expressions)
    clause = f"CLUSTER BY ({columns})" if columns else f"CLUSTER BY {cluster.name.upper()}"
    if rec.options.dialect == "athena":
        rec.report("athena-unsupported", line, clause, original=clause)
        return []
    order = f"WRITE ORDERED BY {columns}" if columns else "WRITE UNORDERED"
    sql = f"ALTER TABLE {table.sql(_write(rec))} {order}"
    rec.report("liquid-clustering", line, clause, original=clause, replacement=sql)
    return [Statement("sql", (sql,), line)]


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
    if name.lower().startswith("delta.") and is_storage_path(name[len("delta.") :].strip("`")):
        path = name[len("delta.") :].strip("`")
        located = rec.options.locations.table_at(path)
        if located is None:
            rec.paths.setdefault(path, None)
            rec.report("delta-path-read", line, path, original=original)
            return None
        rec.report("location-mapped", line, f"{path} is {located}", original=name)
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
            # Delta's ZORDER BY rewrites every file in scope, not only the small ones.
            arguments += [
                "strategy => 'sort'",
                f"sort_order => 'zorder({columns})'",
                "options => map('rewrite-all', 'true')",
            ]
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
    return _through_sqlglot(text, rec, line)


def _widget(text: str, tokens: list[Token], rec: Recorder, line: int) -> list[Statement]:
    """``CREATE WIDGET TEXT name DEFAULT 'x'`` (SQL notebooks) as a papermill parameter."""
    kind = tokens[2].text.upper() if len(tokens) > 2 else ""
    reader = _Reader(text, tokens)
    reader.position = 3
    name = reader.name().strip("`")
    default = None
    if (
        reader.accept("DEFAULT")
        and reader.position < len(tokens)
        and tokens[reader.position].token_type == TokenType.STRING
    ):
        default = tokens[reader.position].text
    if kind not in _WIDGET_KINDS or not name:
        rec.report(
            "sql-parse-error", line, "expected CREATE WIDGET TEXT|DROPDOWN|... name DEFAULT 'value'", original=text
        )
        return [Statement("raw", (text,), line)]
    rec.widgets[name] = default
    rec.report("dbutils-widgets", line, repr(name), original=text)
    return [Statement("dropped", (), line)]


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
    return _through_sqlglot(f"{head} AS SELECT * FROM {source}", rec, line)


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
    (("CREATE", "WIDGET"), _widget),
)


def _string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _first_line(text: str) -> str:
    return text.strip().split("\n", 1)[0]


def _leading_lines(text: str) -> int:
    return text[: len(text) - len(text.lstrip())].count("\n")
