"""Python cells: Databricks PySpark to PySpark on EMR / SageMaker Unified Studio over Iceberg.

Over 400 lines because the Python rule table; each rule is small, and all share one libcst
transformer.

Rewritten on libcst's concrete syntax tree, so comments and formatting outside the rewritten
expressions survive. One transformer walks a cell once and both records (tables, paths, dbutils
calls, widgets, notebooks run) and rewrites:

- string literals holding Databricks paths through the path map;
- table names given to ``spark.table``, ``spark.read.table``, ``saveAsTable``, ``insertInto``,
  ``writeTo``, ``DeltaTable.forName`` and ``spark.catalog`` calls through the name map;
- ``spark.sql("...")`` literals through the SQL rules;
- ``format("delta")`` reads to Iceberg table reads (``versionAsOf``/``timestampAsOf`` to the
  recorded snapshot), Delta writes to ``writeTo(...).using("iceberg")``;
- ``from delta.tables import DeltaTable`` to the Iceberg-backed ``datax_migrate.compat.delta``;
- ``dbutils``, ``display`` and ``displayHTML`` to ``datax_migrate.compat`` (imported by the setup cell);
- ``spark.conf.set("spark.databricks.…")`` removed; Delta Live Tables, Auto Loader and MLflow flagged.
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass

from datax_migrate.errors import missing_extra
from datax_migrate.notebooks.context import Recorder, path_reference, table_reference
from datax_migrate.notebooks.limits import ENVIRONMENT
from datax_migrate.notebooks.paths import is_databricks_path
from datax_migrate.notebooks.sql_rules import ChangeBound, Statement, changelog_view, translate_sql

try:
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider
except ImportError:
    raise missing_extra("libcst", "translate", "notebook translation") from None

DBUTILS_SUPPORTED = {
    "fs": {"ls", "cp", "mv", "rm", "mkdirs", "put", "head"},
    "secrets": {"get", "getBytes", "list", "listScopes"},
    "widgets": {"text", "dropdown", "combobox", "multiselect", "get", "getArgument", "remove", "removeAll"},
    "notebook": {"run", "exit"},
}
"""``dbutils`` members :mod:`datax_migrate.compat` implements."""
_WIDGET_MAKERS = {"text", "dropdown", "combobox", "multiselect"}
_TABLE_CALLS = {"table", "saveAsTable", "insertInto", "writeTo", "tableExists", "refreshTable", "cacheTable"}
_CHANGE_FEED = {"readChangeFeed", "readChangeData"}
_CHANGE_BOUNDS = {
    "startingVersion": ("start", "version"),
    "startingTimestamp": ("start", "timestamp"),
    "endingVersion": ("end", "version"),
    "endingTimestamp": ("end", "timestamp"),
}
_WRITE_MODES = {"overwrite": "createOrReplace", "append": "append", "error": "create", "errorifexists": "create"}


@dataclass(frozen=True)
class _Step:
    """One link of a method chain: ``.name`` or ``.name(args)``."""

    name: str
    call: cst.Call | None


def translate_python(source: str, rec: Recorder) -> str | None:
    """Translate a Python cell.

    Python's own parser reads the cell first: libcst is only given code that parses and whose
    syntax tree is no deeper than the depth limit, because libcst's parser and visitors recurse
    as deep as the tree (a deep enough tree exhausts the stack or memory).

    Returns:
        The new source, or ``None`` when the cell does not parse (a ``python-parse-error`` is
        reported) or is nested deeper than the limit (a ``cell-over-limit``); the caller keeps the
        cell as is.
    """
    limit = rec.options.limits.depth
    too_deep = f"nested deeper than {limit} levels, the nesting limit ({ENVIRONMENT['depth']})"
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        rec.report("python-parse-error", exc.lineno, exc.msg, original=_line(source, exc.lineno or 1))
        return None
    except (RecursionError, MemoryError):  # CPython's parser refusing deep nesting
        rec.report("cell-over-limit", None, too_deep)
        return None
    if _deeper_than(tree, source, limit):
        rec.report("cell-over-limit", None, too_deep)
        return None
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        rec.report("python-parse-error", exc.raw_line, exc.message, original=_line(source, exc.raw_line))
        return None
    try:
        return MetadataWrapper(module, unsafe_skip_copy=True).visit(_Rewriter(rec)).code
    except RecursionError:
        rec.report("cell-over-limit", None, too_deep)
        return None


def _deeper_than(tree: ast.AST, source: str, limit: int) -> bool:
    """Whether libcst's tree of ``source`` would be deeper than ``limit``.

    libcst's tree is Python's, except that ``a and b and c`` and implicitly concatenated strings
    (``'a' 'b' 'c'``) nest pair by pair, where Python's syntax tree holds them in one node.
    """
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        step = len(node.values) if isinstance(node, ast.BoolOp) else 1
        stack.extend((child, depth + step) for child in ast.iter_child_nodes(node))
    return _longest_string_run(source) > limit


def _longest_string_run(source: str) -> int:
    """The most string literals written one after the other (implicit concatenation)."""
    longest = run = 0
    skipped = {tokenize.NL, tokenize.COMMENT}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.STRING:
            run += 1
            longest = max(longest, run)
        elif token.type not in skipped:
            run = 0
    return longest


class _Rewriter(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, rec: Recorder) -> None:
        super().__init__()
        self.rec = rec
        self.handled_strings: set[int] = set()

    def line(self, node: cst.CSTNode) -> int:
        return int(self.get_metadata(PositionProvider, node).start.line)

    def code(self, node: cst.CSTNode) -> str:
        return cst.Module(body=[]).code_for_node(node)

    # imports -----------------------------------------------------------------------------------
    def leave_Import(self, original_node: cst.Import, updated_node: cst.Import) -> cst.Import:
        for alias in original_node.names:
            self._imported(self.code(alias.name), original_node)
        return updated_node

    def leave_ImportFrom(
        self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom
    ) -> cst.ImportFrom | cst.RemovalSentinel:
        module = self.code(original_node.module) if original_node.module else ""
        names = (
            [self.code(a.name) for a in original_node.names]
            if not isinstance(original_node.names, cst.ImportStar)
            else []
        )
        line = self.line(original_node)
        if module == "delta.tables" and names and set(names) <= {"DeltaTable"}:
            replacement = updated_node.with_changes(module=_dotted("datax_migrate.compat.delta"))
            self.rec.report(
                "delta-table-api", line, original=self.code(original_node), replacement=self.code(replacement)
            )
            return replacement
        if module == "pyspark.dbutils":
            replacement = updated_node.with_changes(module=_dotted("datax_migrate.compat"))
            self.rec.report(
                "dbutils-import", line, original=self.code(original_node), replacement=self.code(replacement)
            )
            return replacement
        self._imported(module, original_node)
        return updated_node

    def _imported(self, module: str, node: cst.CSTNode) -> None:
        top = module.split(".", 1)[0]
        if top == "dlt":
            self.rec.report("delta-live-tables", self.line(node), original=self.code(node))
        elif top == "mlflow":
            self.rec.report("mlflow", self.line(node), original=self.code(node))
        elif top == "delta":
            self.rec.report("delta-import", self.line(node), module, original=self.code(node))

    # strings -------------------------------------------------------------------------------
    def leave_SimpleString(self, original_node: cst.SimpleString, updated_node: cst.SimpleString) -> cst.SimpleString:
        if id(original_node) in self.handled_strings:
            return updated_node
        value = _string_value(original_node)
        if value is None or not is_databricks_path(value):
            return updated_node
        mapped = path_reference(self.rec, value, self.line(original_node))
        return updated_node if mapped == value else _with_value(updated_node, mapped)

    # statements -----------------------------------------------------------------------------
    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine:
        body = original_node.body
        if len(body) == 1 and isinstance(body[0], cst.Expr) and isinstance(body[0].value, cst.Call):
            call = body[0].value
            steps, _ = _chain(call)
            names = [s.name for s in steps]
            setting = _string_value(call.args[0].value) if call.args else None
            if names[-2:] == ["conf", "set"] and setting and setting.startswith("spark.databricks."):
                self.rec.report(
                    "databricks-setting-removed", self.line(original_node), setting, original=self.code(call)
                )
                return updated_node.with_changes(
                    body=[cst.Pass()],
                    trailing_whitespace=cst.TrailingWhitespace(
                        whitespace=cst.SimpleWhitespace("  "),
                        comment=cst.Comment(f"# datax-migrate removed: {self.code(call)}".replace("\n", " ")),
                        newline=updated_node.trailing_whitespace.newline,
                    ),
                )
        return updated_node

    # calls ---------------------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        if not isinstance(node.func, cst.Attribute):
            return
        method = node.func.attr.value
        if method in ("load", "save", "forPath") and node.args:
            argument = node.args[-1].value if method == "forPath" else node.args[0].value
            if isinstance(argument, cst.SimpleString):
                self.handled_strings.add(id(argument))

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        line = self.line(original_node)
        func = original_node.func
        if isinstance(func, cst.Name):
            if func.value in ("display", "displayHTML"):
                self.rec.imports.setdefault(func.value, None)
            return updated_node
        if not isinstance(func, cst.Attribute):
            return updated_node
        steps, root = _chain(original_node)
        names = [s.name for s in steps]
        method = names[-1]
        if isinstance(root, cst.Name) and root.value == "dbutils" and len(names) >= 2:
            return self._dbutils(names, original_node, updated_node, line)
        if method == "format" and _string_value(_argument(original_node, 0)) == "cloudFiles":
            self.rec.report("auto-loader", line, original=self.code(original_node))
            return updated_node
        if method == "sql" and names[:1] != ["dbutils"]:
            return self._sql(original_node, updated_node, line)
        if method in ("forName", "forPath") and isinstance(root, cst.Name) and root.value == "DeltaTable":
            return self._delta_table(method, original_node, updated_node, line)
        if method in ("load", "table") and any(n in ("read", "readStream") for n in names):
            return self._read(steps, updated_node, line)
        if method in ("saveAsTable", "save") and any(n in ("write", "writeStream") for n in names):
            return self._write(steps, original_node, updated_node, line)
        if method in _TABLE_CALLS:
            literal = _string_value(_argument(original_node, 0)) is not None
            if method == "table" and not literal and not (isinstance(root, cst.Name) and root.value == "spark"):
                return updated_node  # pyarrow.table(data) and the like: not a Spark table name
            return self._table_argument(updated_node, 0, line)
        return updated_node

    def _dbutils(self, names: list[str], original: cst.Call, updated: cst.Call, line: int) -> cst.Call:
        group, member = names[0], names[-1]
        self.rec.dbutils_calls.setdefault(".".join(names), None)
        self.rec.imports.setdefault("dbutils", None)
        if len(names) != 2 or member not in DBUTILS_SUPPORTED.get(group, set()):
            self.rec.report("dbutils-unsupported", line, ".".join(names), original=self.code(original))
            return updated
        first = _string_value(_argument(original, 0))
        if group == "widgets":
            if member in _WIDGET_MAKERS and first is not None:
                self.rec.widgets[first] = _string_value(_argument(original, 1))
                self.rec.report("dbutils-widgets", line, repr(first), original=self.code(original))
            elif member in ("get", "getArgument") and first is not None:
                self.rec.widgets.setdefault(first, None)
        elif group == "notebook":
            if member == "run" and first is not None:
                self.rec.run_dependencies.setdefault(first, None)
            self.rec.report("dbutils-notebook", line, member, original=self.code(original))
        else:
            self.rec.report(f"dbutils-{group}", line, member, original=self.code(original))
        return updated

    def _sql(self, original: cst.Call, updated: cst.Call, line: int) -> cst.BaseExpression:
        argument = _argument(original, 0)
        if argument is None:
            return updated
        text = _string_value(argument)
        if text is None:
            resolved = self.rec.constants.resolve(self.code(argument))
            if resolved is None or resolved.widgets:
                kind = "f-string" if isinstance(argument, cst.FormattedString) else "an expression"
                self.rec.report("sql-not-literal", line, kind, original=self.code(original))
                return updated
            text = resolved.value
            detail = f"{self.code(argument)} = {text!r}"
            self.rec.report("sql-resolved", line, detail, original=self.code(argument), replacement=repr(text))
        statements = [s for s in translate_sql(text, self.rec, line) if s.kind != "dropped"]
        if len(statements) > 1 and all(s.kind == "sql" for s in statements):
            # spark.sql runs one statement: one call each, in order, giving the last one's result
            calls = [self.code(self._sql_call(argument, text, s, updated)) for s in statements]
            return cst.parse_expression(f"({', '.join(calls)})[-1]")
        if len(statements) != 1:
            return updated
        return self._sql_call(argument, text, statements[0], updated)

    def _sql_call(self, argument: cst.BaseExpression, text: str, statement: Statement, updated: cst.Call) -> cst.Call:
        """``updated`` running ``statement`` (translated from ``text``, the literal ``argument``)."""
        if statement.needs_lookup:
            for part in statement.parts:
                if not isinstance(part, str):
                    self.rec.imports.setdefault(part.python().split("(", 1)[0], None)
            new_argument: cst.BaseExpression = cst.parse_expression(statement.python())
        else:
            new_argument = _with_value(argument, statement.sql) if isinstance(argument, cst.SimpleString) else argument
            if not isinstance(argument, cst.SimpleString) and statement.sql != text:
                new_argument = cst.SimpleString(repr(statement.sql))
        return updated.with_changes(args=[updated.args[0].with_changes(value=new_argument), *updated.args[1:]])

    def _delta_table(self, method: str, original: cst.Call, updated: cst.Call, line: int) -> cst.Call:
        if method == "forName":
            return self._table_argument(updated, 1, line)
        target = self._table_at(_argument(original, 1), "delta-path-read", original, line)
        if target is None:
            return updated
        replacement = updated.with_changes(
            func=updated.func.with_changes(attr=cst.Name("forName")),  # type: ignore[attr-defined]
            args=[updated.args[0], updated.args[1].with_changes(value=cst.SimpleString(repr(target)))],
        )
        self.rec.report("delta-read", line, original=self.code(original), replacement=self.code(replacement))
        return replacement

    def _table_at(self, argument: cst.BaseExpression | None, code: str, call: cst.Call, line: int) -> str | None:
        """The target table of a Delta location given as ``argument``, or ``None`` (reported as ``code``)."""
        path = _string_value(argument)
        if path is None and _may_be_name(argument):  # a location built from the notebook's constants
            resolved = self.rec.constants.resolve(self.code(argument))  # type: ignore[arg-type]
            path = resolved.value if resolved is not None and not resolved.widgets else None
        located = self.rec.options.locations.table_at(path) if path else None
        if located is None:
            if path and is_databricks_path(path):
                path_reference(self.rec, path, line)
            elif path:
                self.rec.paths.setdefault(path, None)
            self.rec.report(code, line, path or "(expression)", original=self.code(call))
            return None
        self.rec.report("location-mapped", line, f"{path} is {located}", original=path)
        return table_reference(self.rec, located, line)

    def _table_argument(self, updated: cst.Call, position: int, line: int) -> cst.Call:
        argument = _argument(updated, position)
        name = _string_value(argument)
        if name is None or not isinstance(argument, cst.SimpleString):
            target = self._dynamic_name(argument, line) if _may_be_name(argument) else None
            if target is None or argument is None:
                return updated
            new_argument: cst.BaseExpression = cst.SimpleString(repr(target))
        else:
            target = table_reference(self.rec, name, line)
            if target == name:
                return updated
            new_argument = _with_value(argument, target)
        args = list(updated.args)
        index = next(i for i, a in enumerate(args) if a.value is argument)
        args[index] = args[index].with_changes(value=new_argument)
        return updated.with_changes(args=args)

    def _dynamic_name(self, argument: cst.BaseExpression | None, line: int) -> str | None:
        """The target of a table name given as an expression, when the notebook's constants resolve it.

        Reports ``table-name-resolved`` (or ``table-name-widget`` when a widget default was used) and
        returns the mapped name the call is to name as a literal; reports ``table-name-dynamic`` and
        returns ``None`` when the expression cannot be resolved. One-part names give ``None`` unreported.
        """
        if argument is None:
            return None
        expression = self.code(argument)
        resolved = self.rec.constants.resolve(expression)
        if resolved is None:
            self.rec.report("table-name-dynamic", line, expression, original=expression)
            return None
        target = table_reference(self.rec, resolved.value, line)
        if target == resolved.value:
            return None
        detail = f"{expression} = {resolved.value!r}"
        if resolved.widgets:
            detail += f" (widget {', '.join(repr(w) for w in resolved.widgets)} at its default)"
        code = "table-name-widget" if resolved.widgets else "table-name-resolved"
        self.rec.report(code, line, detail, original=expression, replacement=repr(target))
        return target

    def _read(self, original_steps: list[_Step], updated: cst.Call, line: int) -> cst.BaseExpression:
        steps, root = _chain(updated)
        fmt = _format_of(steps)
        terminal = steps[-1]
        if fmt in (None, "delta") and _reads_change_feed(steps):
            return self._change_feed(original_steps, updated, line)
        if terminal.name == "table":
            if fmt not in (None, "delta"):
                return self._table_argument(updated, 0, line)
            table = _string_value(_argument(terminal.call, 0))
            if table is None:
                target = self._dynamic_name(_argument(terminal.call, 0), line)
            else:
                target = table_reference(self.rec, table, line)
        else:
            path = _string_value(_argument(original_steps[-1].call, 0))
            # Databricks reads Delta by default: a load() without format() of a known table location is one
            known = fmt is None and path is not None and self.rec.options.locations.table_at(path) is not None
            if fmt != "delta" and not known:
                return updated
            target = self._table_at(_argument(original_steps[-1].call, 0), "delta-path-read", updated, line)
            if target is None:
                return updated
        rewritten: list[_Step] = []
        for step in steps[:-1]:
            if step.name == "format":
                continue
            option = _string_value(_argument(step.call, 0)) if step.name == "option" else None
            if option in ("versionAsOf", "timestampAsOf") and step.call is not None and target:
                at = self.code(step.call.args[1].value)
                by = "version" if option == "versionAsOf" else "timestamp"
                helper = f"delta_{by}_snapshot"
                self.rec.imports.setdefault(helper, None)
                code = "time-travel" if by == "version" else "time-travel-timestamp"
                self.rec.report(code, line, at, original=self.code(step.call))
                lookup = cst.parse_expression(f"{helper}(spark, {target!r}, {at})")
                step = _Step("option", cst.Call(func=cst.Name("option"), args=_args("'snapshot-id'", lookup)))
            rewritten.append(step)
        if target is None:
            return updated
        rewritten.append(_Step("table", cst.Call(func=cst.Name("table"), args=_args(repr(target)))))
        replacement = _build(root, rewritten)
        if fmt == "delta" or terminal.name == "load":
            self.rec.report("delta-read", line, original=self.code(updated), replacement=self.code(replacement))
        return replacement

    def _change_feed(self, original_steps: list[_Step], updated: cst.Call, line: int) -> cst.BaseExpression:
        """A Delta change data feed read as a read of an Iceberg changelog view (see ``changelog_view``)."""
        steps, root = _chain(updated)
        original = self.code(updated)
        options = _options(steps)
        if "readStream" in (s.name for s in steps):
            detail = f"{original} (a stream: Iceberg's Spark streaming source reads appends only)"
            self.rec.report("change-feed-unsupported", line, detail, original=original)
            return updated
        bounds: dict[str, ChangeBound] = {}
        for key, value in options.items():
            if key in _CHANGE_FEED or key not in _CHANGE_BOUNDS:
                continue
            literal = value.value if isinstance(value, cst.Integer) else _string_value(value)
            if literal is None:
                detail = f"{original} (option {key} is not a literal)"
                self.rec.report("change-feed-unsupported", line, detail, original=original)
                return updated
            end, by = _CHANGE_BOUNDS[key]
            bounds[end] = ChangeBound(by, literal)
        terminal = steps[-1]
        if terminal.name == "table":
            name = _string_value(_argument(terminal.call, 0))
            target = table_reference(self.rec, name, line) if name else None
        else:
            target = self._table_at(_argument(original_steps[-1].call, 0), "delta-path-read", updated, line)
        if target is None:
            if terminal.name == "table":
                self.rec.report("change-feed-unsupported", line, f"{original} (table name not literal)", original)
            return updated
        view = f"{target.rsplit('.', 1)[-1]}_changes"
        statement = changelog_view(target, view, bounds.get("start"), bounds.get("end"), self.rec, line)
        if statement is None:
            detail = f"{original} (a bound is neither a version nor an ISO-8601 timestamp)"
            self.rec.report("change-feed-unsupported", line, detail, original=original)
            return updated
        spark = self.code(root)
        replacement = cst.parse_expression(
            f"{spark}.table({spark}.sql({statement.python()}).first()['changelog_view'])"
        )
        self.rec.report("change-feed-read", line, original, original=original, replacement=self.code(replacement))
        return replacement

    def _write(
        self, original_steps: list[_Step], original: cst.Call, updated: cst.Call, line: int
    ) -> cst.BaseExpression:
        steps, root = _chain(updated)
        fmt = _format_of(steps)
        terminal = steps[-1]
        if fmt not in (None, "delta") or "writeStream" in [s.name for s in steps]:
            return self._table_argument(updated, 0, line) if terminal.name == "saveAsTable" else updated
        if terminal.name == "save":
            target = self._table_at(_argument(original_steps[-1].call, 0), "delta-path-write", original, line)
            if target is None:
                return updated
        else:
            name = _string_value(_argument(terminal.call, 0))
            target = (
                table_reference(self.rec, name, line)
                if name is not None
                else self._dynamic_name(_argument(terminal.call, 0), line)
            )
            if target is None:
                return updated
        mode, partitions = "error", []
        for step in steps:
            if step.name == "mode":
                literal = _string_value(_argument(step.call, 0))
                mode = (literal or "?").lower()
            elif step.name == "partitionBy" and step.call is not None:
                partitions = [_string_value(a.value) for a in step.call.args]
            elif step.name in ("option", "options") and step.call is not None:
                option = _string_value(_argument(step.call, 0)) or step.name
                self.rec.report("delta-write-option", line, repr(option), original=self.code(step.call))
        if mode not in _WRITE_MODES or any(p is None for p in partitions):
            self.rec.report("delta-write-option", line, f"mode {mode!r}", original=self.code(original))
            return updated
        chain = [
            _Step("writeTo", cst.Call(func=cst.Name("writeTo"), args=_args(repr(target)))),
            _Step("using", cst.Call(func=cst.Name("using"), args=_args("'iceberg'"))),
        ]
        if partitions and mode != "append":
            self.rec.imports.setdefault("pyspark.sql.functions:col", None)
            columns = [cst.parse_expression(f"col({p!r})") for p in partitions]
            chain.append(_Step("partitionedBy", cst.Call(func=cst.Name("partitionedBy"), args=_args(*columns))))
        chain.append(_Step(_WRITE_MODES[mode], cst.Call(func=cst.Name(_WRITE_MODES[mode]))))
        base = _dataframe(steps, root)
        replacement = _build(base, chain)
        self.rec.report("delta-write", line, original=self.code(original), replacement=self.code(replacement))
        return replacement


def _chain(node: cst.BaseExpression) -> tuple[list[_Step], cst.BaseExpression]:
    """The steps of a method chain ``root.a(...).b.c(...)`` and its root expression."""
    steps: list[_Step] = []
    current = node
    while True:
        if isinstance(current, cst.Call) and isinstance(current.func, cst.Attribute):
            steps.append(_Step(current.func.attr.value, current))
            current = current.func.value
        elif isinstance(current, cst.Attribute):
            steps.append(_Step(current.attr.value, None))
            current = current.value
        else:
            break
    return steps[::-1], current


def _dataframe(steps: list[_Step], root: cst.BaseExpression) -> cst.BaseExpression:
    """What ``.write`` is called on, in a write chain."""
    base = root
    for step in steps:
        if step.name == "write":
            return base
        base = step.call if step.call is not None else cst.Attribute(value=base, attr=cst.Name(step.name))
    return base


def _build(root: cst.BaseExpression, steps: Sequence[_Step]) -> cst.BaseExpression:
    """Rebuild a chain from its root and steps (calls given as ``Call(func=Name(method), args)``)."""
    current = root
    for step in steps:
        attribute = cst.Attribute(value=current, attr=cst.Name(step.name))
        current = attribute if step.call is None else step.call.with_changes(func=attribute)
    return current


def _may_be_name(node: cst.BaseExpression | None) -> bool:
    """Whether an argument could be a table name built at run time (a name, f-string, ``+``, call)."""
    return isinstance(node, (cst.Name, cst.FormattedString, cst.BinaryOperation, cst.ConcatenatedString, cst.Call))


def _options(steps: list[_Step]) -> dict[str, cst.BaseExpression]:
    """The ``option(key, value)`` calls of a chain whose key is a literal (last one wins)."""
    found: dict[str, cst.BaseExpression] = {}
    for step in steps:
        key = _string_value(_argument(step.call, 0)) if step.name == "option" else None
        value = _argument(step.call, 1)
        if key is not None and value is not None:
            found[key] = value
    return found


def _reads_change_feed(steps: list[_Step]) -> bool:
    """Whether a read chain sets ``readChangeFeed`` (or ``readChangeData``) to anything but false."""
    for key, value in _options(steps).items():
        if key in _CHANGE_FEED:
            literal = _string_value(value)
            off = (literal or "").lower() == "false" or (isinstance(value, cst.Name) and value.value == "False")
            if not off:
                return True
    return False


def _format_of(steps: list[_Step]) -> str | None:
    for step in steps:
        if step.name == "format":
            value = _string_value(_argument(step.call, 0))
            return value.lower() if value else "?"
    return None


def _argument(call: cst.Call | None, position: int) -> cst.BaseExpression | None:
    if call is None:
        return None
    positional = [a for a in call.args if a.keyword is None]
    return positional[position].value if position < len(positional) else None


def _args(*values: str | cst.BaseExpression) -> list[cst.Arg]:
    return [cst.Arg(cst.parse_expression(v) if isinstance(v, str) else v) for v in values]


def _string_value(node: cst.BaseExpression | None) -> str | None:
    """The value of a string literal (plain or implicitly concatenated), else ``None``."""
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _with_value(node: cst.SimpleString, value: str) -> cst.SimpleString:
    """The literal with a new value, keeping its prefix and quote style where it can."""
    prefix = node.prefix
    quote = node.quote
    if "r" in prefix.lower() or quote in value or "\\" in value or "\n" in value and len(quote) == 1:
        return node.with_changes(value=repr(value))
    return node.with_changes(value=f"{prefix}{quote}{value}{quote}")


def _dotted(name: str) -> cst.Attribute | cst.Name:
    expression = cst.parse_expression(name)
    assert isinstance(expression, (cst.Attribute, cst.Name))
    return expression


def _line(source: str, number: int) -> str:
    lines = source.splitlines()
    return lines[number - 1] if 0 < number <= len(lines) else ""
