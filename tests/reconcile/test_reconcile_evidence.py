"""Evidence that stands on its own: proof level, narrowed columns, checksum SQL that recomputes the report.

The Trino checksum SQL that ``reconcile`` writes into its report folder is executed by DuckDB
(tests/support/trino_on_duckdb.py) over the real tables, the Delta source through ``delta_scan`` and the
Iceberg target through ``iceberg_scan``: only the ``FROM`` changes, and the figures must be those
in ``report.json``, which are the local engine's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake
from pyiceberg.catalog import load_catalog

from datax_migrate.cli import main
from datax_migrate.config import local_catalog_properties
from datax_migrate.reconcile.checksum.table import BucketChecksums, RowHasher
from datax_migrate.reconcile.checksum.warehouse_sql import reconcile_sql, source_table, target_table
from tests.support.reconcile import accounts, converted, reconcile
from tests.support.trino_on_duckdb import connection, run_trino


@pytest.fixture
def bank(tmp_path: Path, datax_home: Path) -> Path:
    """``bank.accounts``: a partitioned Delta table (with deleted rows) and its conversion."""
    return converted(tmp_path / "accounts", accounts(3000), partition_by=["branch"])


def _iceberg(datax_home: Path) -> Any:
    return load_catalog("local", **local_catalog_properties(datax_home)).load_table("bank.accounts")


def test_the_report_folder_sql_recomputes_the_report_figures_on_duckdb(
    bank: Path, tmp_path: Path, datax_home: Path
) -> None:
    code, report = reconcile(str(bank), "bank.accounts", "--key", "id", "--report-dir", str(tmp_path / "r"))
    assert code == 0
    recompute = report["recompute"]
    assert sorted(recompute["files"]) == [
        "checksum-source.spark.sql",
        "checksum-source.trino.sql",
        "checksum-target.spark.sql",
        "checksum-target.trino.sql",
    ]
    checksum = next(c for c in report["checks"] if c["name"] == "checksum")["detail"]
    for side in ("source", "target"):
        assert recompute[side]["digest"] == checksum[side]["digest"]
        assert recompute[side]["row_count"] == checksum[side]["rows"] == 2969

    table = _iceberg(datax_home)
    snapshot = report["target"]["snapshot_id"]
    location, version = report["source"]["location"], report["source"]["version"]
    con = connection(("delta", "avro", "iceberg"))
    scans = {
        "source": (
            source_table(location, version, "trino", "bank.accounts"),
            f"delta_scan('{bank}')",
        ),
        "target": (
            target_table("local", "bank.accounts", snapshot, "trino"),
            f"iceberg_scan('{table.metadata_location}', snapshot_from_id={snapshot})",
        ),
    }
    for side, (written_from, duckdb_from) in scans.items():
        sql = (tmp_path / "r" / f"checksum-{side}.trino.sql").read_text(encoding="utf-8")
        assert f"FROM {written_from}\n" in sql
        ((bucket, rows, lane_1, lane_2),) = run_trino(con, sql.replace(written_from, duckdb_from))
        assert (bucket, rows, lane_1, lane_2) == (
            0,
            recompute[side]["row_count"],
            recompute[side]["lane_1"],
            recompute[side]["lane_2"],
        )
        assert f"{lane_1:08x}{lane_2:08x}" == recompute[side]["digest"]


def test_bucket_checksums_of_both_sides_on_duckdb_equal_the_local_engine(bank: Path, datax_home: Path) -> None:
    catalog = load_catalog("local", **local_catalog_properties(datax_home))
    statements = reconcile_sql(str(bank), catalog, "bank.accounts", "trino", keys=["id"], buckets=8)
    rows = DeltaTable(bank).to_pyarrow_table().select(["id", "branch", "balance", "rate", "note"])
    hasher, sums = RowHasher(rows.column_names, ["id"], 8), BucketChecksums(8)
    for batch in rows.to_batches(max_chunksize=500):
        sums.add(hasher.hash(batch))
    lanes = sums.lanes()
    local = [(b, int(sums.rows[b]), int(lanes[0][b]), int(lanes[1][b])) for b in range(8) if sums.rows[b]]

    table = catalog.load_table("bank.accounts")
    con = connection(("delta", "avro", "iceberg"))
    source_sql = statements["checksum-source.trino.sql"].replace(
        source_table(f"file://{bank}", 1, "trino", "bank.accounts"), f"delta_scan('{bank}')"
    )
    target_sql = statements["checksum-target.trino.sql"].replace(
        target_table("local", "bank.accounts", table.current_snapshot().snapshot_id, "trino"),
        f"iceberg_scan('{table.metadata_location}')",
    )
    assert run_trino(con, source_sql) == local == run_trino(con, target_sql)


def test_emit_sql_prints_both_sides_without_comparing(
    bank: Path, tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["reconcile", str(bank), "bank.accounts", "--emit-sql", "trino", "--exclude", "rate"]) == 0
    printed = capsys.readouterr().out
    assert not (datax_home / "reports").exists()
    assert printed.count("-- checksum-source.trino.sql\n") == 1 and printed.count("-- checksum-target.trino.sql\n") == 1
    assert '"rate"' not in printed and '"note"' in printed

    code, _ = reconcile(str(bank), "bank.accounts", "--exclude", "rate", "--report-dir", str(tmp_path / "r"))
    assert code == 0
    for name in ("checksum-source.trino.sql", "checksum-target.trino.sql"):
        assert f"-- {name}\n{(tmp_path / 'r' / name).read_text(encoding='utf-8')};" in printed

    assert main(["reconcile", str(bank), "bank.accounts", "--emit-sql", "spark"]) == 0
    spark = capsys.readouterr().out
    assert f"FROM delta.`file://{bank}` VERSION AS OF 1\n" in spark
    assert "FROM `local`.`bank`.`accounts` VERSION AS OF " in spark

    named = ["--sql-source", "main.bank.accounts", "--sql-target", "glue.bank.accounts"]
    assert main(["reconcile", str(bank), "bank.accounts", "--emit-sql", "trino", *named]) == 0
    trino = capsys.readouterr().out
    assert "FROM main.bank.accounts FOR VERSION AS OF 1\n" in trino
    assert "FROM glue.bank.accounts FOR VERSION AS OF " in trino
    assert main(["reconcile", str(bank), "bank.accounts", *named]) == 2
    assert "go with --emit-sql" in capsys.readouterr().err


def test_columns_and_exclude_narrow_the_comparison_and_the_report_says_so(
    bank: Path, tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    DeltaTable(bank).update(updates={"rate": "rate + 1"}, predicate="id = 7")
    code, report = reconcile(str(bank), "bank.accounts", "--key", "id", "--report-dir", str(tmp_path / "all"))
    assert code == 1  # rate differs in version 2

    capsys.readouterr()
    code, report = reconcile(
        str(bank), "bank.accounts", "--key", "id", "--exclude", "RATE", "--report-dir", str(tmp_path / "r")
    )
    assert code == 0
    proof = report["proof"]
    assert proof["level"] == "narrowed"
    assert proof["columns_excluded"] == ["rate"]
    assert proof["columns_compared"] == ["id", "branch", "balance", "note"]
    assert any("rate" in sentence and "left out on purpose" in sentence for sentence in proof["not_proven"])
    console = capsys.readouterr().out
    assert "proof: every row, chosen columns only" in console and "left out on purpose" in console
    for name in ("report.md", "report.html"):
        text = (tmp_path / "r" / name).read_text(encoding="utf-8")
        assert "chosen columns only" in text and "left out on purpose" in text

    code, report = reconcile(str(bank), "bank.accounts", "--columns", "note", "--report-dir", str(tmp_path / "c"))
    assert code == 0 and report["proof"]["columns_compared"] == ["note"]
    code, report = reconcile(
        str(bank), "bank.accounts", "--key", "id", "--columns", "note", "--report-dir", str(tmp_path / "k")
    )
    assert code == 0 and report["proof"]["columns_compared"] == ["id", "note"]


def test_every_report_states_its_proof_level(bank: Path, tmp_path: Path, datax_home: Path) -> None:
    code, report = reconcile(str(bank), "bank.accounts", "--report-dir", str(tmp_path / "r"))
    assert code == 0
    proof = report["proof"]
    assert proof["level"] == "every_row" and proof["columns_excluded"] == []
    assert "Every row of both sides was read (2,969 source rows, 2,969 target rows)" in proof["compared"][0]
    assert any("2^-64 per bucket" in sentence for sentence in proof["not_proven"])
    assert any("metadata" in sentence for sentence in proof["not_proven"])
    markdown = (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    assert "## What this proves (every row, every common column)" in markdown
    assert "2^-64 per bucket" in (tmp_path / "r" / "report.html").read_text(encoding="utf-8")

    code, report = reconcile(
        str(bank), "bank.accounts", "--tolerance", "rate=abs:0.1", "--report-dir", str(tmp_path / "t")
    )
    assert code == 0
    assert any("within the tolerances given: rate" in sentence for sentence in report["proof"]["not_proven"])


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--columns", "id,nosuch,Other", "'nosuch', 'Other' not in both tables"),
        ("--exclude", "ghost", "'ghost' not in both tables"),
        ("--exclude", "id", "key column(s) id cannot be excluded"),
    ],
)
def test_unknown_or_key_columns_exit_2_naming_them(
    bank: Path,
    tmp_path: Path,
    datax_home: Path,
    capsys: pytest.CaptureFixture[str],
    option: str,
    value: str,
    message: str,
) -> None:
    capsys.readouterr()
    code, _ = reconcile(str(bank), "bank.accounts", "--key", "id", option, value, "--report-dir", str(tmp_path / "r"))
    assert code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("datax-migrate: error:") and message in error
    assert not (tmp_path / "r").exists()


def test_a_report_over_columns_the_sql_cannot_cover_says_so(
    tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = pa.table(
        {
            "id": pa.array([1, 2, 3], pa.int64()),
            "point": pa.array([{"x": 1.0}, None, {"x": 3.5}], pa.struct([pa.field("x", pa.float64())])),
        }
    )
    write_deltalake(tmp_path / "points", rows)
    assert main(["convert", str(tmp_path / "points"), "geo.points"]) == 0
    args = [str(tmp_path / "points"), "geo.points"]
    assert main(["reconcile", *args, "--report-dir", str(tmp_path / "r")]) == 0
    report = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    assert "'point'" in report["recompute"]["unavailable"]
    assert not list((tmp_path / "r").glob("*.sql"))
    assert any("no checksum SQL" in sentence for sentence in report["proof"]["not_proven"])

    assert main(["reconcile", *args, "--exclude", "point", "--report-dir", str(tmp_path / "narrow")]) == 0
    assert len(list((tmp_path / "narrow").glob("*.sql"))) == 4

    capsys.readouterr()
    assert main(["reconcile", *args, "--emit-sql", "trino"]) == 2
    assert "'point'" in capsys.readouterr().err
