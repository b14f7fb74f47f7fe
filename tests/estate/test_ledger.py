"""The run ledger: SQLite in WAL mode, explicit transitions, every change kept as an event."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from datax_migrate.estate.ledger import (
    CONVERTED,
    CONVERTING,
    FAILED,
    MATCHED,
    PENDING,
    RECONCILING,
    SIGNED_OFF,
    Ledger,
    LedgerError,
    TableRecord,
    now,
)


def pending(target: str, wave: int = 1) -> TableRecord:
    return TableRecord(
        catalog="local",
        target=target,
        databricks_name=f"main.{target}",
        wave=wave,
        strategy="convert",
        state=PENDING,
        reason=None,
        attempts=0,
        rows=None,
        bytes=None,
        snapshot_id=None,
        report_path=None,
        verdict=None,
        signed_off_by=None,
        started_at=None,
        updated_at=now(),
        finished_at=None,
        seconds=None,
    )


def test_a_table_moves_only_along_the_allowed_transitions(tmp_path: Path) -> None:
    with Ledger.open(tmp_path) as ledger:
        ledger.add([pending("sales.orders"), pending("sales.customers", wave=2)])
        ledger.add([pending("sales.orders", wave=9)])  # already there: left as it is
        assert [r.target for r in ledger.records()] == ["sales.orders", "sales.customers"]
        assert [r.target for r in ledger.records(wave=2)] == ["sales.customers"]
        assert ledger.records(wave=1)[0].wave == 1

        with pytest.raises(LedgerError, match="sales.orders is PENDING; it cannot become MATCHED"):
            ledger.transition("local", "sales.orders", MATCHED)
        with pytest.raises(LedgerError, match="is PENDING; it cannot become SIGNED_OFF"):
            ledger.mark_signed_off("local", "sales.orders", "ann", now())
        ledger.transition("local", "sales.orders", CONVERTING, attempts=1, started_at=now())
        ledger.transition("local", "sales.orders", CONVERTED, rows=3, bytes=900, snapshot_id=7, delta_version=2)
        ledger.transition("local", "sales.orders", RECONCILING)
        done = ledger.transition(
            "local", "sales.orders", MATCHED, verdict="match", report_path="reports/local/sales/orders", seconds=1.5
        )
        assert (done.state, done.rows, done.bytes, done.snapshot_id, done.delta_version) == (MATCHED, 3, 900, 7, 2)
        assert done.attempts == 1 and done.verdict == "match" and done.started_at <= done.updated_at
        with pytest.raises(LedgerError, match="needs the signer"):
            ledger.mark_signed_off("local", "sales.orders", " ", now())
        ledger.mark_signed_off("local", "sales.orders", "ann", "2026-12-07T10:00:00+00:00")
        with pytest.raises(LedgerError, match="not in the ledger"):
            ledger.transition("local", "sales.nothing", CONVERTING)
        states = [state for _, state, _ in ledger.events("local", "sales.orders")]
        assert states == [PENDING, CONVERTING, CONVERTED, RECONCILING, MATCHED, SIGNED_OFF]

    # another connection (a status page, a second process) sees every committed change
    with Ledger.open(tmp_path) as again:
        record = again.record("local", "sales.orders")
        assert record is not None
        assert (record.state, record.signed_off_by, record.signed_off_at) == (
            SIGNED_OFF,
            "ann",
            "2026-12-07T10:00:00+00:00",
        )
    connection = sqlite3.connect(tmp_path / "ledger.sqlite")
    assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    connection.close()


def test_a_failed_table_keeps_its_reason_and_attempts(tmp_path: Path) -> None:
    with Ledger.open(tmp_path) as ledger:
        ledger.add([pending("sales.orders")])
        ledger.transition("local", "sales.orders", CONVERTING, attempts=1)
        ledger.transition("local", "sales.orders", CONVERTING, attempts=2)  # a run resumed after a crash
        failed = ledger.transition("local", "sales.orders", FAILED, reason="SlowDown: throttled 4 times")
        assert (failed.state, failed.reason, failed.attempts) == (FAILED, "SlowDown: throttled 4 times", 2)
        assert ledger.events("local", "sales.orders")[-1][1:] == (FAILED, "SlowDown: throttled 4 times")
        with pytest.raises(LedgerError):
            ledger.transition("local", "sales.orders", RECONCILING)
        ledger.transition("local", "sales.orders", CONVERTING, allowed_from=(FAILED,), attempts=3)


def test_threads_share_one_ledger(tmp_path: Path) -> None:
    with Ledger.open(tmp_path) as ledger:
        ledger.add([pending(f"ns.t{i}") for i in range(40)])

        def run(start: int) -> None:
            for i in range(start, 40, 4):
                ledger.transition("local", f"ns.t{i}", CONVERTING, attempts=1)
                ledger.transition("local", f"ns.t{i}", CONVERTED, rows=i)

        threads = [threading.Thread(target=run, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert {r.state for r in ledger.records()} == {CONVERTED}
        assert sum(r.rows or 0 for r in ledger.records()) == sum(range(40))


def test_a_file_that_is_not_a_ledger_is_refused(tmp_path: Path) -> None:
    (tmp_path / "ledger.sqlite").write_text("not a database, just text " * 100)
    with pytest.raises(LedgerError, match="cannot be opened"):
        Ledger.open(tmp_path)


def test_the_progress_display_names_every_ledger_state_in_the_ledger_order() -> None:
    from datax_migrate.cli.migrate import _SHORT_STATES
    from datax_migrate.estate.ledger import STATES

    assert tuple(_SHORT_STATES) == STATES
