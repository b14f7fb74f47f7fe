"""``display`` and ``displayHTML`` outside Databricks: Spark DataFrames shown as tables (first 1,000 rows)."""

from __future__ import annotations

from typing import Any

DISPLAY_ROWS = 1000
"""Rows of a Spark DataFrame ``display`` shows, as Databricks does."""


def display(value: Any, *args: Any, **kwargs: Any) -> None:
    """Show a value: a Spark DataFrame as a table of its first rows, anything else as IPython would."""
    if hasattr(value, "limit") and hasattr(value, "toPandas"):
        value = value.limit(DISPLAY_ROWS).toPandas()
    try:
        from IPython.display import display as show
    except ImportError:
        print(value)  # noqa: T201 - no IPython: the console is the display
        return
    show(value)


def displayHTML(html: str) -> None:  # noqa: N802 - the Databricks name
    """Show HTML."""
    try:
        from IPython.display import HTML
        from IPython.display import display as show
    except ImportError:
        print(html)  # noqa: T201
        return
    show(HTML(html))
