"""Numeric tolerances given on the command line as ``COL=abs:X`` or ``COL=rel:Y``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from datax_migrate.errors import ConfigError


@dataclass(frozen=True)
class Tolerance:
    """Two numbers ``a`` (source) and ``b`` (target) agree when ``|a - b| <= absolute + relative * |b|``.

    This is datacompy's rule, so the row diff and the aggregates check judge alike.
    """

    column: str
    absolute: float = 0.0
    relative: float = 0.0

    def accepts(self, a: Any, b: Any, rows: int = 1) -> bool:
        """Whether ``a`` and ``b`` agree; for a sum over ``rows`` values the absolute part scales with it."""
        try:
            x, y = float(a), float(b)
        except (TypeError, ValueError):
            return False
        return abs(x - y) <= self.absolute * rows + self.relative * abs(y)

    def describe(self) -> str:
        """The tolerance as given, e.g. ``abs:0.01``."""
        parts = [f"abs:{self.absolute:g}"] if self.absolute else []
        return ",".join(parts + ([f"rel:{self.relative:g}"] if self.relative else []))


def parse_tolerances(specs: Iterable[str]) -> dict[str, Tolerance]:
    """Parse ``COL=abs:X`` / ``COL=rel:Y`` (repeatable; both kinds may apply to one column).

    Returns:
        Tolerances by lower-case column name.

    Raises:
        ConfigError: a spec is malformed or a number is negative.

    """
    result: dict[str, Tolerance] = {}
    for spec in specs:
        column, _, rule = spec.partition("=")
        kind, _, number = rule.partition(":")
        try:
            value = float(number)
        except ValueError:
            value = -1.0
        if not column.strip() or kind not in ("abs", "rel") or not value >= 0:
            raise ConfigError(f"--tolerance {spec!r}: expected COL=abs:X or COL=rel:Y with X, Y >= 0")
        key = column.strip().lower()
        current = result.get(key, Tolerance(column.strip()))
        result[key] = Tolerance(
            current.column,
            value if kind == "abs" else current.absolute,
            value if kind == "rel" else current.relative,
        )
    return result
