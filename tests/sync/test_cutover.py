"""``cutover``: a final sync, a full reconcile, the ``cutover`` tag and a ledger entry; nothing tagged on a mismatch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable, write_deltalake
from pyiceberg.table import Table

from datax_migrate.catalogs import open_catalog
from datax_migrate.cli import main
from datax_migrate.compat.delta import history_snapshot
from datax_migrate.config import Config
from datax_migrate.errors import SignoffError
from datax_migrate.iceberg.read import read_snapshot
from datax_migrate.reconcile.sides import snapshot_facts
from datax_migrate.reconcile.signoff.ledger import new_key, record_cutover, verify
from datax_migrate.sync import sync_table
from datax_migrate.sync.cutover import CutoverRefused, cutover_table
from tests.support.catalogs import new_bucket
from tests.support.endpoint_proxy import EndpointProxy, FaultRule


def accounts(start: int, count: int) -> pa.Table:
    ids = pa.array(range(start, start + count), pa.int64())
    return pa.table({"id": ids, "balance": pc.multiply(ids, 3), "branch": pa.array(["north", "south"] * (count // 2))})


def dual_run(source: Path) -> None:
    """Delta version 0 synced into ``bank.accounts``; then versions 1 (append) and 2 (delete), not synced yet."""
    write_deltalake(source, accounts(0, 100))
    assert main(["sync", str(source), "bank.accounts"]) == 0
    write_deltalake(source, accounts(100, 20), mode="append")
    DeltaTable(source).delete("id % 7 = 3")


def table() -> Table:
    return Config.load().catalog().load_table("bank.accounts")


def cutover(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = main(["cutover", *args, "--output", "json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out else {}


def test_cutover_syncs_reconciles_tags_records_and_lists_the_steps(
    tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, ledger, reports = tmp_path / "accounts", tmp_path / "signoffs.jsonl", tmp_path / "cutover"
    dual_run(source)
    new_key(tmp_path / "ana.pem")

    code, result = cutover(
        str(source), "bank.accounts", "--report-dir", str(reports), "--by", "ana", "--ledger", str(ledger),
        "--key", str(tmp_path / "ana.pem"), capsys=capsys,
    )  # fmt: skip

    assert code == 0, result
    assert (result["command"], result["status"], result["verdict"]) == ("cutover", "cut-over", "match")
    assert (result["catalog"], result["target"]) == ("local", "bank.accounts")
    assert (result["sync"]["from_version"], result["sync"]["to_version"], result["delta_version"]) == (0, 2, 2)
    current = table()
    holds_v2 = history_snapshot(snapshot_facts(current), current.metadata.current_snapshot_id, version=2)
    assert result["snapshot_id"] == holds_v2 == current.metadata.refs["cutover"].snapshot_id
    assert read_snapshot(current, holds_v2).num_rows == DeltaTable(source).to_pyarrow_table().num_rows
    assert (reports / "report.json").is_file() and result["report"]["verdict"] == "match"

    [entry] = [json.loads(line) for line in ledger.read_text().splitlines()]
    assert (entry["kind"], entry["by"], entry["table"], entry["delta_version"]) == (
        "cutover",
        "ana",
        "bank.accounts",
        2,
    )
    assert entry["snapshot_id"] == holds_v2 and entry["signer"] is not None
    assert [r.status.value for r in verify(ledger, tmp_path / "ana.pem.pub")] == ["ok"]
    capsys.readouterr()
    assert main(["signoff", str(reports), "--by", "bo", "--ledger", str(ledger)]) == 2
    assert "signed off already (line 1" in capsys.readouterr().err  # the cutover entry signs off its report

    steps = result["steps"]
    assert [s.split(" ", 3)[:3] for s in steps][:2] == [["Point", "readers", "at"], ["Point", "writers", "at"]]
    assert steps[2].startswith(f"Keep the Delta table {result['source_location']} read-only for rollback")
    assert "expire_snapshots" in steps[3] and "'cutover'" in steps[3]


def test_text_output_numbers_the_steps_left(
    tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "accounts"
    dual_run(source)
    capsys.readouterr()
    args = ["cutover", str(source), "bank.accounts", "--report-dir", str(tmp_path / "r"), "--by", "ana"]
    assert main([*args, "--ledger", str(tmp_path / "l.jsonl")]) == 0
    out = capsys.readouterr().out
    assert "synced: " in out and "by ana at" in out
    assert "cut over: local.bank.accounts snapshot " in out and "tagged 'cutover'" in out
    assert out.rstrip().splitlines()[-5:][0] == "Left to do:"
    assert [line.split(".", 1)[0] for line in out.rstrip().splitlines()[-4:]] == ["  1", "  2", "  3", "  4"]


def test_a_mismatch_exits_1_with_nothing_tagged_or_recorded(
    tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, ledger = tmp_path / "accounts", tmp_path / "signoffs.jsonl"
    dual_run(source)
    assert main(["sync", str(source), "bank.accounts"]) == 0
    corrupt_one_value(table())  # a data file changed under the table: its paths, the sync's lineage, stay the same

    code, result = cutover(
        str(source), "bank.accounts", "--report-dir", str(tmp_path / "r"), "--ledger", str(ledger), capsys=capsys
    )

    assert code == 1
    assert (result["status"], result["verdict"], result["tag"], result["steps"]) == ("mismatch", "mismatch", None, [])
    assert result["sync"]["status"] == "in-step"
    assert "cutover" not in table().metadata.refs
    assert not ledger.exists()
    assert (tmp_path / "r" / "report.json").is_file()  # the reports say what differs


def test_a_delta_table_that_moves_on_during_the_cutover_is_refused(tmp_path: Path, datax_home: Path) -> None:
    source, ledger = tmp_path / "accounts", tmp_path / "signoffs.jsonl"
    dual_run(source)
    writes = iter([None])

    def databricks_writes_meanwhile(_: object) -> None:
        if next(writes, "done") is None:
            write_deltalake(source, accounts(500, 2), mode="append")

    with pytest.raises(CutoverRefused, match="moved on to version 3 during the cutover.*stop its writers"):
        cutover_table(
            str(source),
            Config.load().catalog(),
            "bank.accounts",
            report_dir=tmp_path / "r",
            by="ana",
            ledger=ledger,
            reconcile_progress=databricks_writes_meanwhile,
        )
    assert "cutover" not in table().metadata.refs and not ledger.exists()


def test_a_second_cutover_moves_the_tag_and_adds_an_entry(
    tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, ledger = tmp_path / "accounts", tmp_path / "signoffs.jsonl"
    dual_run(source)
    common = ["--by", "ana", "--ledger", str(ledger)]
    _, first = cutover(str(source), "bank.accounts", "--report-dir", str(tmp_path / "r1"), *common, capsys=capsys)
    write_deltalake(source, accounts(200, 4), mode="append")  # rolled back to Delta, dual run resumed
    code, second = cutover(str(source), "bank.accounts", "--report-dir", str(tmp_path / "r2"), *common, capsys=capsys)

    assert code == 0 and second["moved_tag_from"] == first["snapshot_id"] != second["snapshot_id"]
    assert table().metadata.refs["cutover"].snapshot_id == second["snapshot_id"]
    assert [r.status.value for r in verify(ledger)] == ["ok", "ok"]
    capsys.readouterr()
    assert main(["signoff", "--verify", "--ledger", str(ledger)]) == 0
    assert capsys.readouterr().out.count("bank.accounts cut over by ana at") == 2


def test_a_table_another_writer_changed_is_refused_by_the_final_sync(
    tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "accounts"
    dual_run(source)
    table().append(read_snapshot(table()).slice(0, 1))
    capsys.readouterr()
    assert main(["cutover", str(source), "bank.accounts", "--report-dir", str(tmp_path / "r")]) == 2
    assert "changed since the last sync" in capsys.readouterr().err
    assert "cutover" not in table().metadata.refs


def test_only_a_matching_report_can_be_recorded_as_a_cutover(tmp_path: Path, datax_home: Path) -> None:
    source = tmp_path / "accounts"
    dual_run(source)
    sync_table(str(source), Config.load().catalog(), "bank.accounts")
    corrupt_one_value(table())
    assert main(["reconcile", str(source), "bank.accounts", "--report-dir", str(tmp_path / "r")]) == 1
    with pytest.raises(SignoffError, match="is a mismatch: a table that differs is not cut over"):
        record_cutover(tmp_path / "r", "ana", "cutover", tmp_path / "l.jsonl")


def corrupt_one_value(iceberg: Table) -> None:
    """Rewrite one data file of the current snapshot in place with one balance changed (field ids kept)."""
    path = next(iter(iceberg.scan().plan_files())).file.file_path.removeprefix("file://")
    data = pq.read_table(path)
    balance = data.column("balance").to_pylist()
    balance[0] = (balance[0] or 0) + 1
    index = data.schema.get_field_index("balance")
    pq.write_table(
        data.set_column(index, data.schema.field(index), pa.array(balance, data.schema.field(index).type)), path
    )


@pytest.mark.aws
def test_cutover_in_a_table_bucket_says_how_to_turn_snapshot_expiry_back_on(
    tmp_path: Path, s3tables_proxy_env: EndpointProxy
) -> None:
    catalog = open_catalog("lake", new_bucket())
    source = tmp_path / "accounts"
    write_deltalake(source, accounts(0, 100))
    operation = "PutTableMaintenanceConfiguration"  # moto lacks it: the proxy answers as S3 Tables does
    s3tables_proxy_env.inject(FaultRule("s3tables", operation, times=2, status=204, code="Accepted", message=""))
    sync_table(str(source), catalog, "bank.accounts")
    write_deltalake(source, accounts(100, 10), mode="append")

    result = cutover_table(
        str(source), catalog, "bank.accounts", report_dir=tmp_path / "r", by="ana", ledger=tmp_path / "l.jsonl"
    )

    assert result.matches and any("snapshot expiry disabled" in note for note in result.sync.notes)
    assert catalog.load_table("bank.accounts").metadata.refs["cutover"].snapshot_id == result.snapshot_id
    arn = catalog.properties["warehouse"]
    assert result.steps[3].startswith("Re-enable maintenance: history and sync switched S3 Tables snapshot expiry off")
    assert (
        f"--table-bucket-arn {arn} --namespace bank --name accounts --type icebergSnapshotManagement" in result.steps[3]
    )
    assert '"status":"enabled"' in result.steps[3]
