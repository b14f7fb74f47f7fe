from pathlib import Path

import pytest

from datax_migrate.benchmark.model import BenchmarkError
from datax_migrate.benchmark.queries import load_queries, orders_result, query


@pytest.mark.parametrize(
    ("sql", "ordered"),
    [
        ("SELECT a FROM t ORDER BY a", True),
        ("select a from t order\n  by a limit 3;", True),
        ("SELECT a, rank() OVER (ORDER BY b) FROM t", False),
        ("SELECT * FROM (SELECT a FROM t ORDER BY a) s", False),
        ("WITH x AS (SELECT a FROM t ORDER BY a) SELECT * FROM x", False),
        ("SELECT 'order by' AS text FROM t", False),
        ("SELECT a FROM t -- ORDER BY a", False),
        ("SELECT a FROM t /* ORDER BY a */", False),
        ("SELECT max(a) FROM t GROUP BY b ORDER BY 1", True),
    ],
)
def test_a_top_level_order_by_orders_the_result(sql: str, ordered: bool) -> None:
    assert orders_result(sql) is ordered


def test_a_folder_of_sql_files_loads_in_natural_order(tmp_path: Path) -> None:
    for name in ("q10", "q2", "q1"):
        (tmp_path / f"{name}.sql").write_text(f"SELECT {name[1:]} AS n;\n")
    (tmp_path / "notes.txt").write_text("not a query")

    loaded = load_queries(str(tmp_path))

    assert [q.name for q in loaded] == ["q1", "q2", "q10"]
    assert loaded[2].sql == "SELECT 10 AS n"
    assert not loaded[0].ordered


def test_a_folder_without_queries_and_an_empty_query_are_refused(tmp_path: Path) -> None:
    with pytest.raises(BenchmarkError, match="expected a folder of .sql files"):
        load_queries(str(tmp_path))
    with pytest.raises(BenchmarkError, match="query blank is empty"):
        query("blank", " ; ")
