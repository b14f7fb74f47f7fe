"""`signoff --plan PLAN_DIR --wave N`: a migrated wave signed off in the sign-off ledger and in the run ledger."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datax_migrate.cli import main
from datax_migrate.estate import Ledger, run_plan
from datax_migrate.reconcile.signoff.ledger import verify
from tests.estate.support import id_table, plan_storage, write_config
from tests.estate.test_run import edit_plan


@pytest.fixture
def migrated(tmp_path: Path) -> dict[str, Path]:
    """Three real Delta tables migrated in wave 1: two MATCHED, one MISMATCHED (a duplicated key); one in wave 2."""
    storage = tmp_path / "storage"
    id_table(storage / "sales" / "orders", [1, 2, 3])
    id_table(storage / "sales" / "refunds", [4, 5])
    id_table(storage / "finance" / "ledger", [7, 7, 8])
    id_table(storage / "finance" / "budget", [9])
    config = write_config(tmp_path)
    plan = tmp_path / "plan"
    plan_storage(storage, plan, config)
    edit_plan(plan, "ledger", key_columns="id")
    edit_plan(plan, "budget", wave="2")
    summary = run_plan(plan, config=config, wave=1)
    assert summary.states == {"MATCHED": 2, "MISMATCHED": 1}
    return {"plan": plan, "config": config, "signoffs": tmp_path / "signoffs.jsonl"}


def states(plan: Path) -> dict[str, tuple[str, str | None]]:
    with Ledger.open(plan) as ledger:
        return {r.target: (r.state, r.signed_off_by) for r in ledger.records()}


def wave_signoff(migrated: dict[str, Path], *extra: str) -> list[str]:
    return ["signoff", "--plan", str(migrated["plan"]), "--wave", "1", "--ledger", str(migrated["signoffs"]), *extra]


def test_a_wave_is_signed_off_and_mismatches_need_accepted_differences(
    migrated: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*wave_signoff(migrated, "--by", "ana"), "--output", "json"]) == 1  # a mismatch is left
    result = json.loads(capsys.readouterr().out)
    assert result["command"] == "signoff"
    assert sorted(s["table"] for s in result["signed"]) == ["lake.sales.orders", "lake.sales.refunds"]
    assert [(t["table"], t["state"]) for t in result["left"]] == [("lake.finance.ledger", "MISMATCHED")]
    assert "--accept-differences" in result["left"][0]["why"]
    assert states(migrated["plan"]) == {
        "finance.budget": ("PENDING", None),
        "finance.ledger": ("MISMATCHED", None),
        "sales.orders": ("SIGNED_OFF", "ana"),
        "sales.refunds": ("SIGNED_OFF", "ana"),
    }
    entries = verify(migrated["signoffs"])
    assert [e.ok for e in entries] == [True, True]
    assert {Path(e.entry.report_dir).name for e in entries if e.entry} == {"orders", "refunds"}

    # again: nothing new to sign, the mismatch still listed
    assert main(wave_signoff(migrated, "--by", "ana")) == 1
    text = capsys.readouterr().out
    assert "not signed off: lake.finance.ledger: MISMATCHED" in text
    assert "wave 1: 0 tables signed off by ana, 1 left, 2 signed off before" in text

    reason = "id 7 is duplicated in the source too; known since 2019"
    assert main(wave_signoff(migrated, "--by", "bo", "--accept-differences", reason)) == 0
    assert "signed off: lake.finance.ledger (mismatch)" in capsys.readouterr().out
    assert states(migrated["plan"])["finance.ledger"] == ("SIGNED_OFF", "bo")
    last = verify(migrated["signoffs"])[-1]
    assert last.ok and last.entry is not None and last.entry.accepted_differences == reason

    assert main(["status", str(migrated["plan"]), "--wave", "1", "--output", "json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["counts"]["SIGNED_OFF"] == 3 and status["counts"]["MATCHED"] == 0


def test_an_interrupted_wave_signoff_is_finished_without_signing_twice(
    migrated: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # as if a wave sign-off died after the sign-off ledger's line and before the run ledger's update
    report = migrated["plan"] / "reports" / "lake" / "sales" / "orders"
    assert main(["signoff", str(report), "--by", "cy", "--ledger", str(migrated["signoffs"])]) == 0
    key = tmp_path / "ana.pem"
    assert main(["signoff", "--new-key", str(key)]) == 0
    capsys.readouterr()

    assert main([*wave_signoff(migrated, "--by", "ana", "--key", str(key)), "--output", "json"]) == 1
    result = json.loads(capsys.readouterr().out)
    by_table = {s["table"]: s for s in result["signed"]}
    assert by_table["lake.sales.orders"]["resumed"] and by_table["lake.sales.orders"]["by"] == "cy"
    assert not by_table["lake.sales.refunds"]["resumed"] and by_table["lake.sales.refunds"]["by"] == "ana"
    assert states(migrated["plan"])["sales.orders"] == ("SIGNED_OFF", "cy")
    entries = verify(migrated["signoffs"])
    assert len(entries) == 2  # the orders report is in the ledger once
    assert [e.entry.signer is not None for e in entries if e.entry] == [False, True]  # --key signed the new entry
    assert [e.ok for e in verify(migrated["signoffs"], Path(f"{key}.pub"))] == [False, True]


def test_wave_signoff_refusals(migrated: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    plan, ledger = str(migrated["plan"]), str(migrated["signoffs"])
    assert main(["signoff", "--plan", plan, "--by", "ana"]) == 2
    assert "needs both --plan PLAN_DIR and --wave N" in capsys.readouterr().err
    assert main(["signoff", "somewhere", "--plan", plan, "--wave", "1", "--by", "ana"]) == 2
    assert "give no REPORT_DIR" in capsys.readouterr().err
    assert main(["signoff", "--plan", plan, "--wave", "1"]) == 2
    assert "needs --by NAME" in capsys.readouterr().err
    assert main(["signoff", "--plan", plan, "--wave", "7", "--by", "ana", "--ledger", ledger]) == 2
    assert "wave 7 has no tables in the run ledger" in capsys.readouterr().err
    assert main(["signoff", "--plan", plan, "--wave", "2", "--by", "ana", "--ledger", ledger]) == 1
    assert "not signed off: lake.finance.budget: PENDING: not reconciled yet" in capsys.readouterr().out
    assert not migrated["signoffs"].exists()
