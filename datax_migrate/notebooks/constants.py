"""Table names built in a notebook's Python: what simple constant propagation can tell.

A table name is often not a literal at its call: ``name = "main.sales.orders"; spark.table(name)``,
``spark.table(f"main.{schema}.orders")`` or a widget (``dbutils.widgets.get("schema")``). The
notebook's Python cells are read once, before translating, for

- module-level assignments of a name (``x = ...`` or ``x: str = ...`` at the top of a cell), and
- the literal defaults of widgets (``dbutils.widgets.text("schema", "sales")``),

and an expression is resolved from string literals, f-strings and ``+`` of known parts, such
names and ``dbutils.widgets.get``/``getArgument`` of such widgets. A name bound anywhere else too
(a second assignment with another value, a loop, a function, an import, ``+=``) or a widget
defined with several defaults is not resolved.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field

_WIDGET_MAKERS = {"text", "dropdown", "combobox", "multiselect"}
_WIDGET_READERS = {"get", "getArgument"}


@dataclass(frozen=True)
class Resolved:
    """The value of an expression and the widgets whose defaults it took.

    Attributes:
        value: The string the expression evaluates to.
        widgets: Widgets read for it, taken at their defaults (empty when it does not depend on one).
    """

    value: str
    widgets: tuple[str, ...] = ()


@dataclass
class Constants:
    """The module-level string constants and widget defaults of one notebook.

    Attributes:
        bindings: Name to the values assigned to it (``None`` for a binding that is not a plain
            module-level assignment).
        widgets: Widget name to its literal defaults.
    """

    bindings: dict[str, list[ast.expr | None]] = field(default_factory=dict)
    widgets: dict[str, set[str | None]] = field(default_factory=dict)

    @classmethod
    def scan(cls, sources: Iterable[str]) -> Constants:
        """Read the assignments and widgets of Python cells; a cell that does not parse is left out."""
        constants = cls()
        for source in sources:
            try:
                tree = ast.parse(source)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                continue
            constants._add(tree)
        return constants

    def _add(self, tree: ast.Module) -> None:
        plain: set[int] = set()
        for statement in tree.body:
            targets: list[ast.expr] = []
            value: ast.expr | None = None
            if isinstance(statement, ast.Assign):
                targets, value = statement.targets, statement.value
            elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
                targets, value = [statement.target], statement.value
            for target in targets:
                if isinstance(target, ast.Name):
                    plain.add(id(target))
                    self.bindings.setdefault(target.id, []).append(value)
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del) and id(node) not in plain:
                self.bindings.setdefault(node.id, []).append(None)
            elif isinstance(node, ast.arg):
                self.bindings.setdefault(node.arg, []).append(None)
            elif isinstance(node, ast.alias):
                self.bindings.setdefault((node.asname or node.name).split(".", 1)[0], []).append(None)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                self.bindings.setdefault(node.name, []).append(None)
            elif isinstance(node, ast.Call) and _widget_call(node) in _WIDGET_MAKERS and node.args:
                name, default = (_literal(a) for a in (node.args + [ast.Constant(None)])[:2])
                if name is not None:
                    self.widgets.setdefault(name, set()).add(default)

    def resolve(self, expression: str) -> Resolved | None:
        """The value of a Python expression (its source text), or ``None`` when it cannot be known."""
        try:
            tree = ast.parse(expression.strip(), mode="eval")
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
        try:
            return self._value(tree.body, frozenset())
        except RecursionError:  # a chain of + too long to follow
            return None

    def _value(self, node: ast.expr, seen: frozenset[str]) -> Resolved | None:
        if isinstance(node, ast.Constant):
            return Resolved(node.value) if isinstance(node.value, str) else None
        if isinstance(node, ast.JoinedStr | ast.BinOp):
            if isinstance(node, ast.BinOp) and not isinstance(node.op, ast.Add):
                return None
            parts = node.values if isinstance(node, ast.JoinedStr) else [node.left, node.right]
            values = [self._part(part, seen) for part in parts]
            if any(v is None for v in values):
                return None
            known = [v for v in values if v is not None]
            widgets = tuple(dict.fromkeys(w for v in known for w in v.widgets))
            return Resolved("".join(v.value for v in known), widgets)
        if isinstance(node, ast.Name):
            return self._name(node.id, seen)
        if isinstance(node, ast.Call) and _widget_call(node) in _WIDGET_READERS and len(node.args) == 1:
            widget = _literal(node.args[0])
            defaults = self.widgets.get(widget or "", set())
            if widget is None or len(defaults) != 1 or None in defaults:
                return None
            return Resolved(next(iter(defaults)) or "", (widget,))
        return None

    def _part(self, node: ast.expr, seen: frozenset[str]) -> Resolved | None:
        if isinstance(node, ast.FormattedValue):
            if node.conversion != -1 or node.format_spec is not None:
                return None
            node = node.value
        return self._value(node, seen)

    def _name(self, name: str, seen: frozenset[str]) -> Resolved | None:
        values = self.bindings.get(name, [])
        if not values or name in seen or any(v is None for v in values):
            return None
        resolved = [self._value(v, seen | {name}) for v in values if v is not None]
        if any(r is None for r in resolved) or len(set(resolved)) != 1:
            return None
        return resolved[0]


def _widget_call(node: ast.Call) -> str | None:
    """``text`` for ``dbutils.widgets.text(...)`` and so on; ``None`` for other calls."""
    func = node.func
    if (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Attribute)
        and func.value.attr == "widgets"
        and isinstance(func.value.value, ast.Name)
        and func.value.value.id == "dbutils"
    ):
        return func.attr
    return None


def _literal(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None
