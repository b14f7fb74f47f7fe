"""`datax-migrate reconcile`: verdicts, localised differences, tolerances, failures, reports."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake
from pyiceberg.catalog import load_catalog

from datax_migrate.cli import main
from datax_migrate.config import local_catalog_properties
from tests.support.reconcile import accounts, converted, reconcile


def test_a_faithful_conversion_matches_and_leaves_reports(tmp_path: Path, datax_home: Path) -> None:
    source = converted(tmp_path / "accounts", accounts(), partition_by=["branch"])
    code, report = reconcile(str(source), "bank.accounts", "--key", "id", "--report-dir", str(tmp_path / "r"))
    assert code == 0
    assert report["verdict"] == "match" and report["differences"] == []
    statuses = {check["name"]: check["status"] for check in report["checks"]}
    assert statuses == {
        "schema": "pass",
        "row_count": "pass",
        "aggregates": "pass",
        "checksum": "pass",
        "row_diff": "skipped",
        "unique_keys": "pass",
    }
    assert report["source"]["version"] == 1 and report["target"]["snapshot_id"]
    rows = next(c for c in report["checks"] if c["name"] == "row_count")["detail"]
    assert rows["scanned"] == {"source": 4948, "target": 4948} == rows["metadata"]
    assert {p.name for p in (tmp_path / "r").iterdir()} >= {"report.json", "report.html", "report.md", "junit.xml"}


def test_one_changed_cell_is_reported_with_its_key_and_column(tmp_path: Path, datax_home: Path) -> None:
    source = converted(tmp_path / "accounts", accounts())
    DeltaTable(source).update(updates={"note": "'edited'"}, predicate="id = 1234")
    code, report = reconcile(
        str(source), "bank.accounts", "--key", "id", "--report-dir", str(tmp_path / "r"), "--version", "1"
    )
    assert code == 0  # version 1 is what was converted
    code, report = reconcile(str(source), "bank.accounts", "--key", "id", "--report-dir", str(tmp_path / "r2"))
    assert code == 1 and report["verdict"] == "mismatch"
    assert report["warnings"] and "version 2" in report["warnings"][0]
    assert report["differences"] == [
        {"kind": "cell", "key": {"id": 1234}, "column": "note", "source": "edited", "target": "note 1234"}
    ]
    checksum = next(c for c in report["checks"] if c["name"] == "checksum")
    assert checksum["status"] == "fail" and checksum["detail"]["differing_buckets"] == 1


def test_without_keys_whole_rows_are_listed(tmp_path: Path, datax_home: Path) -> None:
    source = converted(tmp_path / "accounts", accounts(500))
    DeltaTable(source).delete("id = 7")
    code, report = reconcile(str(source), "bank.accounts", "--report-dir", str(tmp_path / "r"))
    assert code == 1
    assert [d["kind"] for d in report["differences"]] == ["target_only"]
    assert report["differences"][0]["key"]["id"] == 7 and report["differences"][0]["key"]["note"] == "note 7"


def test_tolerance_accepts_small_numeric_differences(tmp_path: Path, datax_home: Path) -> None:
    source = converted(tmp_path / "accounts", accounts(800))
    DeltaTable(source).update(updates={"rate": "rate + 0.0005"}, predicate="id = 3")
    args = [str(source), "bank.accounts", "--key", "id"]
    code, report = reconcile(*args, "--tolerance", "rate=abs:0.001", "--report-dir", str(tmp_path / "ok"))
    assert code == 0 and report["verdict"] == "match"
    statuses = {check["name"]: check["status"] for check in report["checks"]}
    assert statuses["checksum"] == "tolerated" and statuses["row_diff"] == "tolerated"
    code, report = reconcile(*args, "--tolerance", "rate=rel:0.00001", "--report-dir", str(tmp_path / "tight"))
    assert code == 1 and report["differences"][0]["column"] == "rate"


def test_tolerated_values_in_the_buckets_examined_do_not_excuse_the_buckets_left_out(
    tmp_path: Path, datax_home: Path
) -> None:
    from datax_migrate.config import Config
    from datax_migrate.reconcile import ReconcileOptions, reconcile_table
    from datax_migrate.reconcile.tolerance import parse_tolerances

    source = converted(tmp_path / "accounts", accounts(5_000))
    DeltaTable(source).update(updates={"rate": "rate + 0.0005"}, predicate="id = 3")  # within the tolerance
    DeltaTable(source).update(updates={"note": "'changed'"}, predicate="id IN (30, 31)")  # beyond any
    catalog = Config.load().catalog()
    for seed in range(6):  # whichever bucket the one-row budget examines, the verdict stays a mismatch
        options = ReconcileOptions(
            keys=("id",), tolerances=parse_tolerances(["rate=abs:0.001"]), max_diff_rows=1, seed=seed
        )
        report = reconcile_table(str(source), catalog, "bank.accounts", options)
        assert report.verdict == "mismatch", seed


def test_samples_are_capped_and_reproducible(tmp_path: Path, datax_home: Path) -> None:
    source = converted(tmp_path / "accounts", accounts(2_000))
    DeltaTable(source).update(updates={"branch": "'west'"}, predicate="id < 300")
    args = [str(source), "bank.accounts", "--key", "id", "--sample", "5", "--seed", "7"]
    _, first = reconcile(*args, "--report-dir", str(tmp_path / "a"))
    _, second = reconcile(*args, "--report-dir", str(tmp_path / "b"))
    assert first["differences_total"] == 300 - 4  # ids 5, 102, 199 and 296 were deleted before the conversion
    assert len(first["differences"]) == 5 and first["differences"] == second["differences"]
    assert {d["column"] for d in first["differences"]} == {"branch"}


def test_duplicate_keys_are_reported_not_crashed_on(tmp_path: Path, datax_home: Path) -> None:
    table = accounts(300)
    duplicated = pa.concat_tables([table, table.slice(10, 2)])
    source = converted(tmp_path / "accounts", duplicated)
    DeltaTable(source).update(updates={"note": "'changed'"}, predicate="id = 10")
    code, report = reconcile(str(source), "bank.accounts", "--key", "id", "--report-dir", str(tmp_path / "r"))
    assert code == 1
    kinds = {d["kind"] for d in report["differences"]}
    assert "duplicate_key" in kinds


def test_repeated_keys_on_a_matching_pair_fail_the_unique_keys_check(tmp_path: Path, datax_home: Path) -> None:
    table = accounts(400)
    ids = table.column("id").to_pylist()
    ids[5:9] = [None] * 4  # four NULL keys: NULL is a key value, so they share one
    ids[20] = ids[21] = ids[22] = 700
    source = converted(tmp_path / "accounts", table.set_column(0, "id", pa.array(ids, pa.int64())))
    code, report = reconcile(str(source), "bank.accounts", "--key", "id", "--report-dir", str(tmp_path / "r"))
    assert code == 1 and report["verdict"] == "mismatch"
    statuses = {check["name"]: check["status"] for check in report["checks"]}
    assert statuses["checksum"] == "pass" and statuses["unique_keys"] == "fail"
    check = next(c for c in report["checks"] if c["name"] == "unique_keys")
    assert check["detail"]["duplicates"] == [
        {"key": {"id": None}, "source_rows": 4, "target_rows": 4},
        {"key": {"id": 700}, "source_rows": 3, "target_rows": 3},
    ]
    both = {"keys": 2, "rows": 7, "confirmed": 2}
    assert check["detail"]["source"] == check["detail"]["target"] == both
    assert "id=NULL: 4 rows in Delta, 4 in Iceberg" in check["summary"]
    assert "Unique keys" in (tmp_path / "r" / "report.html").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--key", "nope"], "key column 'nope' is not in the Delta table"),
        (["--tolerance", "rate=approx"], "--tolerance 'rate=approx': expected COL=abs:X or COL=rel:Y"),
        (
            ["--exclude", "rate", "--tolerance", "rate=abs:0.1"],
            "column 'rate' is left out of the comparison (--columns/--exclude)",
        ),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    source = converted(tmp_path / "accounts", accounts(100))
    capsys.readouterr()
    assert main(["reconcile", str(source), "bank.accounts", *args, "--report-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("datax-migrate: error: ") and message in err and "\n" not in err


def test_key_of_another_kind_on_one_side_exits_2(
    tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = accounts(50)
    write_deltalake(tmp_path / "accounts", table)
    (datax_home / "warehouse").mkdir(parents=True)
    catalog = load_catalog("local", **local_catalog_properties(datax_home))
    catalog.create_namespace("bank")
    other = table.set_column(0, "id", table.column("id").cast(pa.string()))
    catalog.create_table("bank.accounts", schema=other.schema).append(other)
    assert main(["reconcile", str(tmp_path / "accounts"), "bank.accounts", "--key", "id"]) == 2
    assert "key column 'id' is integer in Delta but string in Iceberg" in capsys.readouterr().err


def test_unreadable_sides_exit_2(tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = converted(tmp_path / "accounts", accounts(100))
    catalog = load_catalog("local", **local_catalog_properties(datax_home))
    data_file = catalog.load_table("bank.accounts").inspect.files().column("file_path")[0].as_py()
    Path(data_file.removeprefix("file://")).unlink()
    assert main(["reconcile", str(source), "bank.accounts", "--report-dir", str(tmp_path / "r")]) == 2
    assert "cannot read Iceberg table bank.accounts" in capsys.readouterr().err
    assert main(["reconcile", str(tmp_path / "missing"), "bank.accounts"]) == 2
    assert main(["reconcile", str(source), "bank.nothing"]) == 2
    assert "Iceberg table bank.nothing does not exist" in capsys.readouterr().err


def test_credentials_never_reach_the_reports(tmp_path: Path, datax_home: Path) -> None:
    secret = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
    source = converted(tmp_path / "accounts", accounts(100))
    config = tmp_path / "config.yaml"
    properties = local_catalog_properties(datax_home) | {"s3.secret-access-key": secret, "s3.access-key-id": "AKIA1"}
    config.write_text("catalogs:\n  local:\n" + "".join(f"    {k}: '{v}'\n" for k, v in properties.items()))
    code, _ = reconcile(str(source), "bank.accounts", "--config", str(config), "--report-dir", str(tmp_path / "r"))
    assert code == 0
    for path in (tmp_path / "r").iterdir():
        assert secret not in path.read_text() and "AKIA1" not in path.read_text()
