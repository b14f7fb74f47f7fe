"""A target changed after its conversion is noticed; options that name nothing are refused."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from pyiceberg.catalog import load_catalog
from pyiceberg.table import Table
from pyiceberg.types import StringType

from datax_migrate.cli import main
from datax_migrate.config import local_catalog_properties
from datax_migrate.iceberg.read import read_snapshot
from tests.support.reconcile import accounts, converted, reconcile


def _table(datax_home: Path) -> Table:
    return load_catalog("local", **local_catalog_properties(datax_home)).load_table("bank.accounts")


def _edit_one_row(table: Table) -> None:
    """A user's pyiceberg overwrite after the conversion: the same rows, one note changed."""
    rows = read_snapshot(table)
    notes = pc.if_else(pc.equal(rows.column("id"), 42), pa.scalar("edited later"), rows.column("note"))
    table.overwrite(rows.set_column(rows.schema.get_field_index("note"), "note", notes))


def test_an_overwrite_after_the_conversion_is_compared_as_readers_see_it(
    tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = converted(tmp_path / "accounts", accounts(300))
    _edit_one_row(_table(datax_home))
    capsys.readouterr()
    code, report = reconcile(str(source), "bank.accounts", "--key", "id", "--report-dir", str(tmp_path / "r"))
    assert code == 1 and report["verdict"] == "mismatch"
    assert report["target"]["snapshot_id"] == _table(datax_home).current_snapshot().snapshot_id
    assert "has moved on since snapshot" in report["warnings"][0]
    assert report["differences"] == [
        {"kind": "cell", "key": {"id": 42}, "column": "note", "source": "note 42", "target": "edited later"}
    ]
    assert "has moved on since snapshot" in capsys.readouterr().out


def test_an_append_after_the_conversion_is_a_mismatch(tmp_path: Path, datax_home: Path) -> None:
    source = converted(tmp_path / "accounts", accounts(300))
    table = _table(datax_home)
    table.append(read_snapshot(table).slice(0, 1))
    code, report = reconcile(str(source), "bank.accounts", "--report-dir", str(tmp_path / "r"))
    assert code == 1 and report["verdict"] == "mismatch"
    assert [d["kind"] for d in report["differences"]] == ["target_only"]


def test_a_pinned_version_compares_its_snapshot_and_says_the_table_moved_on(
    tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = converted(tmp_path / "accounts", accounts(300))
    converted_snapshot = _table(datax_home).current_snapshot().snapshot_id
    _edit_one_row(_table(datax_home))
    current = _table(datax_home).current_snapshot().snapshot_id
    capsys.readouterr()
    report_dir = tmp_path / "r"
    code, report = reconcile(str(source), "bank.accounts", "--version", "1", "--report-dir", str(report_dir))
    assert report["target"]["snapshot_id"] == converted_snapshot
    assert report["target"]["current_snapshot_id"] == current
    moved_on = f"the table has moved on since, and readers see its current snapshot {current}"
    console = capsys.readouterr().out
    assert moved_on in console.splitlines()[0]  # the verdict line
    for name in ("report.md", "report.html"):
        assert moved_on in (report_dir / name).read_text()
    assert code == 0  # what was compared matches, and the verdict says it is not what readers see


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tolerance", "nosuch=abs:0.1"], "--tolerance nosuch=abs:0.1: column 'nosuch' is not in both tables"),
        (["--key", ""], "--key '' names no column"),
        (["--key", "id,"], "--key 'id,' names no column"),
    ],
)
def test_options_that_name_nothing_exit_2_with_one_line(
    tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    source = converted(tmp_path / "accounts", accounts(100))
    capsys.readouterr()
    report_dir = tmp_path / "r"
    assert main(["reconcile", str(source), "bank.accounts", *args, "--report-dir", str(report_dir)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("datax-migrate: error: ") and message in err and "\n" not in err
    assert not report_dir.exists()


def test_a_tolerance_on_a_real_column_in_another_case_is_accepted(tmp_path: Path, datax_home: Path) -> None:
    source = converted(tmp_path / "accounts", accounts(100))
    code, report = reconcile(
        str(source), "bank.accounts", "--tolerance", "RATE=abs:0.1", "--report-dir", str(tmp_path / "r")
    )
    assert code == 0 and json.dumps(report["tolerances"]) == '{"RATE": "abs:0.1"}'


def test_a_column_added_after_the_conversion_is_seen_as_readers_see_it(tmp_path: Path, datax_home: Path) -> None:
    source = converted(tmp_path / "accounts", accounts(100))
    with _table(datax_home).update_schema() as update:
        update.add_column("added_later", StringType())
    code, report = reconcile(str(source), "bank.accounts", "--report-dir", str(tmp_path / "r"))
    assert code == 1 and report["verdict"] == "mismatch"
    schema = next(c for c in report["checks"] if c["name"] == "schema")
    assert {"column": "added_later", "iceberg_type": "string", "status": "fail", "note": "only in Iceberg"} in (
        schema["detail"]["columns"]
    )
