"""Delta's change data feed as Iceberg changelog views: the range mapping and the column values."""

from __future__ import annotations

from datax_migrate.notebooks.context import Recorder, TranslateOptions
from datax_migrate.notebooks.paths import Locations
from datax_migrate.notebooks.sql_rules import translate_sql


def _translate(sql: str) -> tuple[list[str], Recorder]:
    rec = Recorder("n.sql", TranslateOptions(Locations(catalog="lake")))
    return [s.python() if s.needs_lookup else s.sql for s in translate_sql(sql, rec)], rec


def test_a_version_range_starts_after_the_snapshot_of_the_version_before() -> None:
    [call, query], rec = _translate(
        "SELECT * FROM table_changes('main.sales.orders', 2, 5) WHERE _change_type IN ('insert', 'update_postimage')"
    )
    assert call == (
        "\"CALL lake.system.create_changelog_view(table => 'sales.orders', changelog_view => 'orders_changes', "
        "options => map('start-snapshot-id', '\" + str(delta_version_snapshot(spark, 'lake.sales.orders', 1)) + "
        "\"', 'end-snapshot-id', '\" + str(delta_version_snapshot(spark, 'lake.sales.orders', 5)) + \"'))\""
    )
    assert query == "SELECT * FROM orders_changes WHERE _change_type IN ('INSERT', 'UPDATE_AFTER')"
    assert rec.tables == {"main.sales.orders": None}  # the view is not a table of the notebook


def test_version_0_reads_from_the_first_snapshot_and_a_start_time_excludes_earlier_commits() -> None:
    [call, _], _ = _translate("SELECT * FROM table_changes('main.sales.orders', 0)")
    assert "options" not in call
    [call, _], _ = _translate("SELECT * FROM table_changes('main.sales.orders', '2024-03-01', '2024-03-31 12:00:00')")
    assert "delta_timestamp_snapshot(spark, 'lake.sales.orders', '2024-02-29 23:59:59.999')" in call
    assert "delta_timestamp_snapshot(spark, 'lake.sales.orders', '2024-03-31 12:00:00.000')" in call


def test_what_cannot_be_translated_is_kept_with_a_blocker() -> None:
    for sql in (
        "SELECT * FROM table_changes('main.sales.orders', 'last week')",
        "SELECT * FROM table_changes('main.sales.orders', start_version)",
    ):
        statements, rec = _translate(sql)
        assert statements == [sql]
        person = [(f.code, f.severity.value) for f in rec.findings if f.severity.value != "info"]
        assert person == [("change-feed-unsupported", "blocker")]
