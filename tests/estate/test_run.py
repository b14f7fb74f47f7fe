"""The runner: real Delta tables through convert and reconcile, every state in the ledger, resumable."""

from __future__ import annotations

import fcntl
import json
from pathlib import Path

import pyarrow as pa
import pytest

from datax_migrate.cli import main
from datax_migrate.estate import Ledger, Plan, run_plan
from datax_migrate.estate.ledger import CONVERTED, CONVERTING, RECONCILING
from datax_migrate.estate.plan import PlanError
from datax_migrate.estate.retry import Backoff
from datax_migrate.estate.run import RunError, RunProgress
from datax_migrate.reconcile.reports import MANIFEST, REPORT_JSON
from tests.estate.conftest import edit_plan
from tests.estate.support import lake_catalog
from tests.support.delta_builder import DeltaBuilder


def snapshots(config: Path, identifier: str) -> list[int]:
    return [s.snapshot_id for s in lake_catalog(config).load_table(identifier).snapshots()]


def test_a_plan_runs_to_matched_and_mismatched(estate: dict[str, Path]) -> None:
    edit_plan(estate["plan"], "ledger", key_columns="id")  # id 7 twice: the unique-key check fails
    edit_plan(estate["plan"], "refunds", tolerances="id=0.5")
    seen: list[RunProgress] = []
    summary = run_plan(estate["plan"], config=estate["config"], workers=2, progress=seen.append)

    assert summary.states == {"MATCHED": 2, "MISMATCHED": 1} and not summary.ok
    assert Plan.load(estate["plan"]).json_current  # plan.json follows the hand-edited plan.csv
    assert (
        json.loads((estate["plan"] / "plan.json").read_text())["content_sha256"]
        == Plan.load(estate["plan"]).content_sha256
    )
    with Ledger.open(estate["plan"]) as ledger:
        records = {r.target: r for r in ledger.records()}
        history = [state for _, state, _ in ledger.events("lake", "sales.orders")]
    orders = records["sales.orders"]
    assert history == ["PENDING", "CONVERTING", "CONVERTED", "RECONCILING", "MATCHED"]
    assert (orders.state, orders.verdict, orders.rows, orders.attempts, orders.delta_version) == (
        "MATCHED",
        "match",
        3,
        1,
        0,
    )
    assert orders.snapshot_id == snapshots(estate["config"], "sales.orders")[0] and orders.bytes
    assert orders.report_path == "reports/lake/sales/orders"
    assert orders.started_at and orders.finished_at and orders.seconds and orders.seconds > 0
    report = json.loads((estate["plan"] / orders.report_path / REPORT_JSON).read_text())
    assert report["verdict"] == "match" and (estate["plan"] / orders.report_path / MANIFEST).exists()
    refunds = json.loads((estate["plan"] / records["sales.refunds"].report_path / REPORT_JSON).read_text())
    assert refunds["tolerances"] == {"id": "abs:0.5"}
    ledger_row = records["finance.ledger"]
    assert (ledger_row.state, ledger_row.verdict) == ("MISMATCHED", "mismatch")
    assert json.loads((estate["plan"] / ledger_row.report_path / REPORT_JSON).read_text())["keys"] == ["id"]
    page = (estate["plan"] / "status.html").read_text()  # the run refreshed the control tower
    assert "finance.ledger" in page and "mismatch" in page

    assert seen[-1].finished == 3 == seen[-1].selected and seen[-1].rows == 8
    assert seen[-1].states == {"MATCHED": 2, "MISMATCHED": 1} and seen[-1].eta_seconds == 0
    assert summary.table_seconds > 0 and summary.wall_seconds >= summary.setup_seconds

    again = run_plan(estate["plan"], config=estate["config"])
    assert again.selected == () and again.states == summary.states
    assert all(len(snapshots(estate["config"], t)) == 1 for t in ("sales.orders", "sales.refunds", "finance.ledger"))


def test_a_rerun_resumes_a_table_wherever_a_stopped_run_left_it(estate: dict[str, Path]) -> None:
    run_plan(estate["plan"], config=estate["config"], wave=1)
    # What a kill -9 leaves: the conversion landed (or the report was half written), the ledger says otherwise.
    with Ledger.open(estate["plan"]) as ledger:
        for target, state in (
            ("sales.orders", CONVERTING),
            ("sales.refunds", CONVERTED),
            ("finance.ledger", RECONCILING),
        ):
            connection = ledger._connection  # the state as a crash leaves it, not a transition the runner makes
            connection.execute("UPDATE tables SET state = ? WHERE target = ?", (state, target))
    (estate["plan"] / "reports" / "lake" / "finance" / "ledger" / MANIFEST).unlink()

    summary = run_plan(estate["plan"], config=estate["config"])
    assert summary.states == {"MATCHED": 3}
    assert len(summary.selected) == 3
    for target in ("sales.orders", "sales.refunds", "finance.ledger"):
        assert len(snapshots(estate["config"], target)) == 1
    with Ledger.open(estate["plan"]) as ledger:
        records = {r.target: r for r in ledger.records()}
    assert records["sales.orders"].attempts == 2  # converted again: unchanged, the same snapshot
    assert records["sales.orders"].rows == 3 and records["sales.orders"].bytes
    assert records["sales.refunds"].attempts == 1  # resumed at the reconciliation
    assert (estate["plan"] / "reports" / "lake" / "finance" / "ledger" / MANIFEST).exists()


def test_failures_skips_and_plan_edits(estate: dict[str, Path], tmp_path: Path) -> None:
    edit_plan(estate["plan"], "orders", location=str(tmp_path / "nowhere"))
    edit_plan(estate["plan"], "refunds", strategy="skip", notes="owned by another team")
    edit_plan(estate["plan"], "ledger", strategy="skip", notes="not-delta-format: a CSV export")
    summary = run_plan(estate["plan"], config=estate["config"], backoff=Backoff(retries=3, first=0.01))
    assert summary.states == {"FAILED": 1, "SKIPPED": 1, "BLOCKED": 1}
    with Ledger.open(estate["plan"]) as ledger:
        records = {r.target: r for r in ledger.records()}
    failed = records["sales.orders"]
    assert failed.attempts == 1 and "nowhere" in (failed.reason or "") and failed.finished_at
    assert records["sales.refunds"].reason == "owned by another team"
    assert records["finance.ledger"].reason == "not-delta-format: a CSV export"

    assert run_plan(estate["plan"], config=estate["config"]).selected == ()  # failed: only with retry_failed
    edit_plan(estate["plan"], "orders", location=str(estate["storage"] / "sales" / "orders"))
    edit_plan(estate["plan"], "refunds", strategy="convert", notes="")
    retried = run_plan(estate["plan"], config=estate["config"], retry_failed=True)
    assert retried.states == {"MATCHED": 2, "BLOCKED": 1}
    with Ledger.open(estate["plan"]) as ledger:
        assert ledger.record("lake", "sales.orders").attempts == 2  # type: ignore[union-attr]


def test_a_table_over_its_timeout_fails_and_leaves_nothing(estate: dict[str, Path]) -> None:
    summary = run_plan(estate["plan"], config=estate["config"], timeout=1e-9)
    assert summary.states == {"FAILED": 3}
    reasons = {o.reason for o in summary.outcomes}
    assert reasons == {
        f"{t} took longer than its timeout of 1e-09 s" for t in ("sales.orders", "sales.refunds", "finance.ledger")
    }
    assert not lake_catalog(estate["config"]).table_exists("sales.orders")


def test_dry_run_writes_nothing_and_one_run_at_a_time(estate: dict[str, Path]) -> None:
    summary = run_plan(estate["plan"], config=estate["config"], dry_run=True)
    assert summary.dry_run and len(summary.selected) == 3 and summary.states == {"PENDING": 3}
    assert not (estate["plan"] / "ledger.sqlite").exists()
    with pytest.raises(RunError, match="wave 4 is not in the plan"):
        run_plan(estate["plan"], wave=4)

    with (estate["plan"] / "migrate.lock").open("a+") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        held.write("pid 4242 since earlier\n")
        held.flush()
        with pytest.raises(RunError, match=r"another `datax-migrate migrate` runs this plan \(pid 4242"):
            run_plan(estate["plan"], config=estate["config"])


def test_migrate_command(estate: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    plan, config = str(estate["plan"]), str(estate["config"])
    assert main(["migrate", plan, "--config", config, "--dry-run"]) == 0
    assert "3 table(s) would run" in capsys.readouterr().out
    edit_plan(estate["plan"], "ledger", key_columns="id")
    assert main(["migrate", plan, "--config", config, "--workers", "1", "--output", "json"]) == 1
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert document["command"] == "migrate" and document["states"] == {"MATCHED": 2, "MISMATCHED": 1}
    assert {t["target"]: t["state"] for t in document["tables"]}["finance.ledger"] == "MISMATCHED"
    assert "3/3 tables" in captured.err and "matched 2  mismatched 1" in captured.err
    assert main(["migrate", plan, "--config", config]) == 1
    assert "now 2 matched, 1 mismatched" in capsys.readouterr().out
    (estate["plan"] / "plan.csv").write_text("not,a,plan\n")
    assert main(["migrate", plan, "--config", config]) == 2
    assert "line 1: the header must be" in capsys.readouterr().err


def test_history_and_sync_strategies(estate: dict[str, Path]) -> None:
    for table in ("orders", "refunds"):
        builder = DeltaBuilder(estate["storage"] / "sales" / table)
        builder.version = 0  # the table's second version
        builder.commit(builder.data_file(pa.table({"id": pa.array([10, 11], pa.int64())})))
    edit_plan(estate["plan"], "orders", strategy="history")
    edit_plan(estate["plan"], "refunds", strategy="sync")

    summary = run_plan(estate["plan"], config=estate["config"])
    assert summary.states == {"MATCHED": 3}
    with Ledger.open(estate["plan"]) as ledger:
        records = {r.target: r for r in ledger.records()}
    assert len(snapshots(estate["config"], "sales.orders")) == 2  # one per Delta version
    assert (records["sales.orders"].delta_version, records["sales.orders"].rows) == (1, 5)
    assert (records["sales.refunds"].delta_version, records["sales.refunds"].rows) == (1, 4)

    # cut off after either landed: the rerun writes nothing more
    with Ledger.open(estate["plan"]) as ledger:
        for target in ("sales.orders", "sales.refunds"):
            ledger._connection.execute("UPDATE tables SET state = 'CONVERTING' WHERE target = ?", (target,))
    before = {t: snapshots(estate["config"], t) for t in ("sales.orders", "sales.refunds")}
    assert run_plan(estate["plan"], config=estate["config"]).states == {"MATCHED": 3}
    assert {t: snapshots(estate["config"], t) for t in before} == before


def test_migrate_after_job_runs_converted_the_wave_fills_the_ledger(estate: dict[str, Path]) -> None:
    from datax_migrate.convert.table import convert_table

    catalog = lake_catalog(estate["config"])
    targets = ("sales.orders", "sales.refunds", "finance.ledger")
    for target in targets:  # what each EMR job run of the wave did: converted the latest version
        convert_table(str(estate["storage"] / target.replace(".", "/")), catalog, target)
    before = {target: snapshots(estate["config"], target) for target in targets}

    summary = run_plan(estate["plan"], config=estate["config"], wave=1)
    assert summary.states == {"MATCHED": 3}
    assert {target: snapshots(estate["config"], target) for target in targets} == before  # unchanged, reconciled
    with Ledger.open(estate["plan"]) as ledger:
        records = {r.target: r for r in ledger.records()}
    for target in targets:
        assert records[target].snapshot_id == before[target][0] and records[target].delta_version == 0
        assert (estate["plan"] / (records[target].report_path or "-") / MANIFEST).exists()


def test_retry_failed_converts_the_version_that_landed_again(estate: dict[str, Path]) -> None:
    edit_plan(estate["plan"], "orders", key_columns="no_such_column")  # converted, then the reconciliation fails
    assert run_plan(estate["plan"], config=estate["config"]).states == {"FAILED": 1, "MATCHED": 2}
    builder = DeltaBuilder(estate["storage"] / "sales" / "orders")
    builder.version = 0
    builder.commit(builder.data_file(pa.table({"id": pa.array([10], pa.int64())})))  # the Delta table moves on
    edit_plan(estate["plan"], "orders", key_columns="id")
    before = snapshots(estate["config"], "sales.orders")

    retried = run_plan(estate["plan"], config=estate["config"], retry_failed=True)
    assert retried.selected == ("lake:sales.orders",) and retried.states == {"MATCHED": 3}
    assert snapshots(estate["config"], "sales.orders") == before  # version 0 again: unchanged
    with Ledger.open(estate["plan"]) as ledger:
        orders = ledger.record("lake", "sales.orders")
    assert orders is not None and (orders.delta_version, orders.rows, orders.attempts) == (0, 3, 2)
    report = json.loads((estate["plan"] / (orders.report_path or "-") / REPORT_JSON).read_text())
    assert report["verdict"] == "match"


def test_retry_failed_reconciles_a_mismatched_table_again_with_the_plan_fixed(estate: dict[str, Path]) -> None:
    edit_plan(estate["plan"], "ledger", key_columns="id")  # id 7 twice: the unique-key check fails
    assert run_plan(estate["plan"], config=estate["config"]).states == {"MISMATCHED": 1, "MATCHED": 2}
    edit_plan(estate["plan"], "ledger", key_columns="")  # whole rows are compared: a duplicate is no mismatch
    before = snapshots(estate["config"], "finance.ledger")

    assert run_plan(estate["plan"], config=estate["config"]).selected == ()  # only with retry_failed
    assert run_plan(estate["plan"], config=estate["config"], retry_failed=True, dry_run=True).selected == (
        "lake:finance.ledger",
    )
    retried = run_plan(estate["plan"], config=estate["config"], retry_failed=True)
    assert retried.selected == ("lake:finance.ledger",) and retried.states == {"MATCHED": 3}
    assert snapshots(estate["config"], "finance.ledger") == before  # reconciled again, not converted
    with Ledger.open(estate["plan"]) as ledger:
        record = ledger.record("lake", "finance.ledger")
        history = [state for _, state, _ in ledger.events("lake", "finance.ledger")]
    assert record is not None and (record.attempts, record.verdict) == (1, "match")
    assert history[-3:] == ["MISMATCHED", "RECONCILING", "MATCHED"]
    report = json.loads((estate["plan"] / (record.report_path or "-") / REPORT_JSON).read_text())
    assert report["verdict"] == "match" and report["keys"] == []


def test_names_in_a_catalog_plan_json_does_not_record_follow_the_config(estate: dict[str, Path]) -> None:
    (estate["plan"] / "plan.json").unlink()
    path = estate["plan"] / "plan.csv"
    planned = path.read_text()
    path.write_text(planned.replace(",orders,", f",{'o' * 300},"))  # too long for the SQL catalog `lake` is
    assert Plan.load(estate["plan"]).tables  # without the config: the loosest rules (REST)
    with pytest.raises(PlanError, match=r"plan.csv: 1 bad row\(s\): line \d: table name 'o{300}'"):
        run_plan(estate["plan"], config=estate["config"])

    path.write_text(planned)
    assert run_plan(estate["plan"], config=estate["config"]).states == {"MATCHED": 3}
    assert not (estate["plan"] / "plan.json").exists()  # no naming rules to carry over: not written
