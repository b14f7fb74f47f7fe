"""``dbutils.widgets`` as papermill parameters.

The translation turns widgets into variables of a cell tagged ``parameters`` (papermill injects new
values after it) and binds them with :meth:`Widgets.bind`; a widget defined later keeps a bound
value and only fills in missing ones with its default.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


class Widgets:
    """The ``dbutils.widgets`` API over plain values."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}

    def bind(self, values: Mapping[str, Any]) -> None:
        """Set widget values (the parameters of this run); ``None`` values are left unset."""
        self._values.update({name: str(value) for name, value in values.items() if value is not None})

    def text(self, name: str, defaultValue: str = "", label: str | None = None) -> None:  # noqa: N803
        """Define a text widget."""
        self._values.setdefault(name, str(defaultValue))

    def dropdown(self, name: str, defaultValue: str, choices: Iterable[str], label: str | None = None) -> None:  # noqa: N803
        """Define a dropdown widget."""
        self._values.setdefault(name, str(defaultValue))

    combobox = dropdown
    multiselect = dropdown

    def get(self, name: str) -> str:
        """The widget's value."""
        if name not in self._values:
            raise KeyError(f"no widget named {name!r}: pass it as a papermill parameter or define it first")
        return self._values[name]

    def getArgument(self, name: str, optional: str | None = None) -> str | None:  # noqa: N802
        """The widget's value, or ``optional`` when it has none."""
        return self._values.get(name, optional)

    def remove(self, name: str) -> None:
        """Forget a widget."""
        self._values.pop(name, None)

    def removeAll(self) -> None:  # noqa: N802 - the dbutils method name
        """Forget every widget."""
        self._values.clear()
