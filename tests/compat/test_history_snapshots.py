"""Which snapshot holds a Delta version, when a table holds many: history, maintenance rewrites, rollbacks."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyiceberg.catalog import Catalog
from pyiceberg.table import Table

from datax_migrate.compat.delta import history_snapshot, snapshot_origins
from datax_migrate.convert import ConvertOptions, convert_table
from datax_migrate.iceberg.read import read_snapshot
from datax_migrate.reconcile.sides import snapshot_facts
from tests.support.compaction import compact
from tests.support.delta_tables import WRITTEN_2023, ms, table_of_2023


def converted_history(tmp_path: Path, catalog: Catalog) -> tuple[str, Table, list[int]]:
    """Delta versions 0, 1, 2 (ids [1], [1, 2], [1, 2, 3]) as three snapshots in one line."""
    source = str(table_of_2023(tmp_path / "t").root)
    snapshots = [
        convert_table(source, catalog, "h.t", version=v, options=ConvertOptions(replace=True)).snapshot_id
        for v in range(3)
    ]
    return source, catalog.load_table("h.t"), [s for s in snapshots if s is not None]


def lookup(table: Table, **wanted: int) -> int | None:
    table = table.refresh()
    current = table.current_snapshot()
    return history_snapshot(snapshot_facts(table), current.snapshot_id if current else None, **wanted)


def ids(table: Table, snapshot_id: int | None) -> list[int]:
    assert snapshot_id is not None
    return sorted(read_snapshot(table.refresh(), snapshot_id).column("id").to_pylist())


def test_each_version_and_commit_time_finds_its_snapshot(tmp_path: Path, catalog: Catalog) -> None:
    _, table, snapshots = converted_history(tmp_path, catalog)
    assert [lookup(table, version=v) for v in range(3)] == snapshots
    assert lookup(table, version=3) is None
    between = ms(WRITTEN_2023[1]) + 1000  # after version 1's commit, before version 2's
    assert lookup(table, at_ms=between) == snapshots[1]
    assert lookup(table, at_ms=ms(WRITTEN_2023[2])) == snapshots[2]  # at the commit time itself
    assert lookup(table, at_ms=ms(WRITTEN_2023[0]) - 1) is None
    assert ids(table, lookup(table, version=1)) == [1, 2]


@pytest.mark.parametrize("claims", [False, True], ids=["records-nothing", "copies-the-version"])
def test_a_maintenance_rewrite_holds_the_version_it_rewrote(tmp_path: Path, catalog: Catalog, claims: bool) -> None:
    _, table, snapshots = converted_history(tmp_path, catalog)
    recorded = table.current_snapshot().summary.additional_properties  # type: ignore[union-attr]
    copied = {k: v for k, v in recorded.items() if k.startswith("datax.source-")} if claims else None
    compacted = compact(table, copied)

    assert lookup(table, version=2) == compacted  # the state readers of version 2 see now
    assert lookup(table, version=1) == snapshots[1]
    assert lookup(table, at_ms=ms(WRITTEN_2023[2]) + 1) == compacted
    assert snapshot_origins(snapshot_facts(table.refresh()))[compacted].version == 2
    assert ids(table, compacted) == [1, 2, 3]


def test_the_current_line_wins_over_a_newer_snapshot_off_it(tmp_path: Path, catalog: Catalog) -> None:
    _, table, snapshots = converted_history(tmp_path, catalog)
    compacted = compact(table)
    table.refresh().manage_snapshots().set_current_snapshot(snapshots[2]).commit()  # the rewrite undone

    assert lookup(table, version=2) == snapshots[2]  # not the newer rewrite, which is off the current line
    table.refresh().manage_snapshots().set_current_snapshot(snapshots[0]).commit()  # rolled back to version 0
    assert lookup(table, version=2) == compacted  # off the line either way: the newest holding it
    assert lookup(table, version=0) == snapshots[0]


def test_another_writers_snapshot_holds_no_delta_version(tmp_path: Path, catalog: Catalog) -> None:
    _, table, snapshots = converted_history(tmp_path, catalog)
    table.append(read_snapshot(table).slice(0, 1))
    appended = table.refresh().current_snapshot()
    assert appended is not None and appended.snapshot_id not in snapshot_origins(snapshot_facts(table.refresh()))
    assert lookup(table, version=2) == snapshots[2]


def test_only_snapshots_of_the_given_location_count(tmp_path: Path, catalog: Catalog) -> None:
    _, table, snapshots = converted_history(tmp_path, catalog)
    current = table.current_snapshot()
    assert current is not None and current.summary is not None
    source = current.summary["datax.source-location"]
    facts = snapshot_facts(table)
    assert history_snapshot(facts, current.snapshot_id, version=1, location=source) == snapshots[1]
    assert history_snapshot(facts, current.snapshot_id, version=1, location=str(tmp_path / "other")) is None
    with pytest.raises(ValueError, match="either version or at_ms"):
        history_snapshot(facts, current.snapshot_id)
