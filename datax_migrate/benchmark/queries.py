"""The queries a benchmark runs: the ``*.sql`` files of a folder, or one file."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from datax_migrate.benchmark.model import BenchmarkError

_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")
_ORDER_BY = re.compile(r"\border\s+by\b", re.IGNORECASE)


@dataclass(frozen=True)
class Query:
    """One benchmark query.

    Attributes:
        name: Its name in the report.
        sql: The statement (one ``SELECT``), written against the names the pairs file maps.
        ordered: The statement orders its result at the top level: rows are compared in order.
    """

    name: str
    sql: str
    ordered: bool


def query(name: str, sql: str) -> Query:
    """A :class:`Query` from its name and text; whether it orders its result is read from the text."""
    statement = sql.strip().rstrip(";").strip()
    if not statement:
        raise BenchmarkError(f"query {name} is empty")
    return Query(name, statement, orders_result(statement))


def orders_result(sql: str) -> bool:
    """Whether ``sql`` has an ``ORDER BY`` outside parentheses (not one of a window or a subquery)."""
    text = _QUOTED.sub("''", _COMMENT.sub(" ", sql))
    depth = 0
    outside: list[str] = []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        outside.append(char if depth == 0 and char != ")" else " ")
    return bool(_ORDER_BY.search("".join(outside)))


def load_queries(where: str) -> tuple[Query, ...]:
    """The queries of ``where``: a folder of ``*.sql`` files (sorted by name), or one ``.sql`` file.

    Raises:
        BenchmarkError: the folder holds no ``.sql`` file, or a file is empty.
    """
    path = Path(where)
    files = sorted(path.glob("*.sql"), key=_natural) if path.is_dir() else [path]
    if not files or not files[0].is_file():
        raise BenchmarkError(f"--queries {where}: expected a folder of .sql files, a .sql file, or 'tpch'")
    return tuple(query(file.stem, file.read_text(encoding="utf-8")) for file in files)


def _natural(path: Path) -> list[object]:
    """Sort key: ``q2`` before ``q10``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.stem)]
