"""``reconcile --version N`` on a table that holds many Delta versions, rewritten by maintenance since."""

from __future__ import annotations

from pathlib import Path

from deltalake import DeltaTable, write_deltalake
from pyiceberg.catalog import load_catalog
from pyiceberg.table import Table

from datax_migrate.cli import main
from datax_migrate.config import local_catalog_properties
from tests.support.compaction import compact
from tests.support.reconcile import accounts, reconcile


def _table(datax_home: Path) -> Table:
    return load_catalog("local", **local_catalog_properties(datax_home)).load_table("bank.accounts")


def _history(root: Path, datax_home: Path) -> list[int]:
    """Delta versions 0 (300 rows), 1 (100 more), 2 (a delete): each converted on top of the one before."""
    rows = accounts(400)
    write_deltalake(root, rows.slice(0, 300))
    write_deltalake(root, rows.slice(300), mode="append")
    DeltaTable(root).delete("id % 97 = 5")
    snapshots = []
    for version in range(3):
        replace = ["--replace"] if version else []
        assert main(["convert", str(root), "bank.accounts", "--version", str(version), *replace]) == 0
        snapshots.append(_table(datax_home).current_snapshot().snapshot_id)  # type: ignore[union-attr]
    return snapshots


def test_every_version_reconciles_against_its_own_snapshot(tmp_path: Path, datax_home: Path) -> None:
    source = tmp_path / "accounts"
    snapshots = _history(source, datax_home)
    compacted = compact(_table(datax_home))  # maintenance after version 2: what readers see now
    for version, expected in [(0, snapshots[0]), (1, snapshots[1]), (2, compacted)]:
        report_dir = tmp_path / f"r{version}"
        code, report = reconcile(
            str(source), "bank.accounts", "--version", str(version), "--report-dir", str(report_dir)
        )
        assert (code, report["verdict"]) == (0, "match"), report.get("differences")
        assert report["target"]["snapshot_id"] == expected
        assert report["target"]["converted_from_version"] == version
        assert report["source"]["rows"] == report["target"]["rows"]
        moved_on = report["target"]["current_snapshot_id"]
        assert moved_on == (None if version == 2 else compacted)


def test_the_latest_version_under_a_maintenance_rewrite_is_in_step(tmp_path: Path, datax_home: Path) -> None:
    source = tmp_path / "accounts"
    _history(source, datax_home)
    compacted = compact(_table(datax_home))
    code, report = reconcile(str(source), "bank.accounts", "--report-dir", str(tmp_path / "r"))
    assert (code, report["verdict"]) == (0, "match")
    assert report["target"]["snapshot_id"] == compacted
    assert report["target"]["converted_from_version"] == 2
    assert report["warnings"] == []  # a rewrite is not a table that moved on


def test_reconcile_finds_each_version_of_a_converted_history(tmp_path: Path, datax_home: Path) -> None:
    source = tmp_path / "accounts"
    rows = accounts(400)
    write_deltalake(source, rows.slice(0, 200))
    write_deltalake(source, rows.slice(200), mode="append")
    DeltaTable(source).delete("id % 13 = 1")
    DeltaTable(source).update(updates={"note": "'updated'"}, predicate="id < 50")
    assert main(["convert", str(source), "bank.accounts", "--history"]) == 0
    table = _table(datax_home)
    by_version = {
        int(s.summary.additional_properties["datax.source-delta-version"]): s.snapshot_id  # type: ignore[union-attr]
        for s in table.snapshots()
    }
    assert sorted(by_version) == [0, 1, 2, 3]
    for version, snapshot_id in by_version.items():
        report_dir = tmp_path / f"r{version}"
        code, report = reconcile(
            str(source), "bank.accounts", "--version", str(version), "--key", "id", "--report-dir", str(report_dir)
        )
        assert (code, report["verdict"]) == (0, "match"), (version, report.get("differences"))
        assert report["target"]["snapshot_id"] == snapshot_id
        assert report["target"]["current_snapshot_id"] == (None if version == 3 else by_version[3])
