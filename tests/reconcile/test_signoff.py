"""The sign-off ledger: refusals, the hash chain, and what verify detects."""

from __future__ import annotations

import hashlib
import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from datax_migrate.cli import main
from datax_migrate.errors import SignoffError
from datax_migrate.reconcile.reports import write_reports
from datax_migrate.reconcile.signoff.ledger import VerifyStatus, sign_off, verify
from tests.support.sample_reports import match_report, mismatch_report


@pytest.fixture
def match_dir(tmp_path: Path) -> Path:
    write_reports(match_report(), tmp_path / "match")
    return tmp_path / "match"


@pytest.fixture
def mismatch_dir(tmp_path: Path) -> Path:
    write_reports(mismatch_report(), tmp_path / "mismatch")
    return tmp_path / "mismatch"


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    return tmp_path / "ledger" / "signoffs.jsonl"


def test_sign_off_records_the_report(match_dir: Path, ledger: Path) -> None:
    entry = sign_off(match_dir, "Ann Lee", note="Q2 migration", accept_differences=None, ledger=ledger)

    assert (entry.table, entry.verdict, entry.delta_version, entry.snapshot_id) == (
        "finance.sales",
        "match",
        7,
        4_811_223_344_556_677_889,
    )
    assert entry.report_dir == str(match_dir.resolve())
    assert entry.report_sha256 == hashlib.sha256((match_dir / "report.json").read_bytes()).hexdigest()
    assert sorted(entry.files) == ["junit.xml", "manifest.json", "report.html", "report.md"]
    assert (entry.by, entry.note, entry.accepted_differences, entry.previous) == ("Ann Lee", "Q2 migration", None, None)
    assert entry.at.endswith("+00:00")
    assert json.loads(ledger.read_text(encoding="utf-8")) == json.loads(entry.to_line())
    assert [r.status for r in verify(ledger)] == [VerifyStatus.OK]


def test_default_ledger_is_in_datax_home(match_dir: Path, datax_home: Path) -> None:
    sign_off(match_dir, "ann")
    assert [r.ok for r in verify()] == [True]
    assert (datax_home / "signoffs.jsonl").is_file()


def test_a_mismatch_needs_a_reason(mismatch_dir: Path, ledger: Path) -> None:
    with pytest.raises(SignoffError, match='--accept-differences "reason"'):
        sign_off(mismatch_dir, "ann", note=None, accept_differences="  ", ledger=ledger)
    assert not ledger.exists()

    reason = "rounding in legacy amounts, agreed with finance"
    entry = sign_off(mismatch_dir, "ann", None, reason, ledger)
    assert (entry.verdict, entry.accepted_differences) == ("mismatch", reason)


def test_refusals(match_dir: Path, tmp_path: Path, ledger: Path) -> None:
    with pytest.raises(SignoffError, match="--by"):
        sign_off(match_dir, " ", ledger=ledger)
    with pytest.raises(SignoffError, match="no report.json"):
        sign_off(tmp_path, "ann", ledger=ledger)
    (match_dir / "report.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(SignoffError, match="not a report.json"):
        sign_off(match_dir, "ann", ledger=ledger)
    document = json.loads(match_report().to_json())
    (match_dir / "report.json").write_text(json.dumps({**document, "schema_version": "2.0"}), encoding="utf-8")
    with pytest.raises(SignoffError, match="schema version 2.0"):
        sign_off(match_dir, "ann", ledger=ledger)
    assert not ledger.exists()


def test_verify_detects_a_changed_and_a_missing_report(
    match_dir: Path, mismatch_dir: Path, tmp_path: Path, ledger: Path
) -> None:
    sign_off(match_dir, "ann", ledger=ledger)
    sign_off(mismatch_dir, "bob", None, "known", ledger)
    copy = tmp_path / "copy"
    shutil.copytree(match_dir, copy)
    sign_off(copy, "cy", ledger=ledger, again=True)  # the same report, copied

    report = match_dir / "report.json"
    report.write_text(report.read_text(encoding="utf-8").replace('"match"', '"mismatch"'), encoding="utf-8")
    (mismatch_dir / "report.html").unlink()
    results = verify(ledger)

    assert [r.status for r in results] == [VerifyStatus.REPORT_CHANGED, VerifyStatus.REPORT_MISSING, VerifyStatus.OK]
    assert str(report.resolve()) in results[0].detail
    assert "report.html" in results[1].detail


def test_verify_detects_an_edited_a_deleted_and_a_malformed_line(match_dir: Path, ledger: Path) -> None:
    for name in ("ann", "bob", "cy", "dee"):
        sign_off(match_dir, name, ledger=ledger, again=True)
    lines = ledger.read_text(encoding="utf-8").splitlines()

    edited = [lines[0].replace('"by":"ann"', '"by":"eve"'), *lines[1:]]
    ledger.write_text("\n".join(edited) + "\n", encoding="utf-8")
    assert [r.status.value for r in verify(ledger)] == ["ok", "chain_broken", "ok", "ok"]

    ledger.write_text("\n".join([lines[0], lines[2], lines[3], "{oops"]) + "\n", encoding="utf-8")
    assert [r.status.value for r in verify(ledger)] == ["ok", "chain_broken", "ok", "malformed"]


def test_sign_off_refuses_a_ledger_ending_in_a_partial_line(match_dir: Path, ledger: Path) -> None:
    sign_off(match_dir, "ann", ledger=ledger)
    with ledger.open("ab") as handle:
        handle.write(b'{"report_dir":')
    with pytest.raises(SignoffError, match="partial line"):
        sign_off(match_dir, "bob", ledger=ledger)


def test_concurrent_sign_offs_each_append_one_chained_line(match_dir: Path, ledger: Path) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        entries = list(pool.map(lambda n: sign_off(match_dir, f"signer {n}", ledger=ledger, again=True), range(16)))

    results = verify(ledger)
    assert [r.status for r in results] == [VerifyStatus.OK] * 16
    assert sorted(r.entry.by for r in results if r.entry) == sorted(e.by for e in entries)
    assert results[0].entry is not None and results[0].entry.previous is None


def test_signoff_command_signs_and_verify_reports_a_changed_report(
    match_dir: Path, mismatch_dir: Path, ledger: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["signoff", str(match_dir), "--by", "Ann Lee", "--note", "Q2", "--ledger", str(ledger)]) == 0
    assert "signed off: finance.sales (match" in capsys.readouterr().out
    assert main(["signoff", str(mismatch_dir), "--by", "bob", "--ledger", str(ledger)]) == 2
    assert "--accept-differences" in capsys.readouterr().err
    assert (
        main(["signoff", str(mismatch_dir), "--by", "bob", "--accept-differences", "rounding", "--ledger", str(ledger)])
        == 0
    )
    assert main(["signoff", "--verify", "--ledger", str(ledger)]) == 0
    assert "2 sign-offs, 0 with problems" in capsys.readouterr().out

    (match_dir / "report.md").write_text("all good, trust me\n")
    assert main(["signoff", "--verify", "--ledger", str(ledger)]) == 1
    out = capsys.readouterr().out
    assert "line 1: report_changed" in out and str(match_dir / "report.md") in out
    assert "2 sign-offs, 1 with problems" in out


def test_signoff_command_needs_a_report_and_a_name(
    match_dir: Path, ledger: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["signoff", str(match_dir), "--ledger", str(ledger)]) == 2
    assert "--by NAME" in capsys.readouterr().err
    assert main(["signoff", "--verify", str(match_dir), "--ledger", str(ledger)]) == 2
    assert main(["signoff", "--verify", "--ledger", str(ledger)]) == 2
    assert "no sign-off ledger" in capsys.readouterr().err


def test_signing_the_same_report_twice_needs_again(
    match_dir: Path, tmp_path: Path, ledger: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["signoff", str(match_dir), "--by", "ann", "--ledger", str(ledger)]) == 0
    capsys.readouterr()
    copy = tmp_path / "copy"
    shutil.copytree(match_dir, copy)
    for folder in (match_dir, copy):  # a copy of the folder holds the same report
        assert main(["signoff", str(folder), "--by", "bob", "--ledger", str(ledger)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "signed off already (line 1 of " in err and "by ann at " in err
        assert "--again" in err
    assert len(ledger.read_text(encoding="utf-8").splitlines()) == 1

    assert main(["signoff", str(match_dir), "--by", "bob", "--ledger", str(ledger), "--again"]) == 0
    captured = capsys.readouterr()
    assert "warning: signing off again: signed off before (line 1 of " in captured.err
    assert "signed off: finance.sales" in captured.out
    assert [r.entry.by for r in verify(ledger) if r.entry and r.ok] == ["ann", "bob"]
