"""`datax-migrate status`: counts by state per wave, throughput and ETA over busy time, JSON, text and status.html."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from datax_migrate import __version__
from datax_migrate.cli import main
from datax_migrate.estate.ledger import STATES, Ledger, TableRecord
from datax_migrate.estate.plan import PlannedTable, write_plan
from datax_migrate.estate.status import estate_status, read_status, write_status_page
from datax_migrate.estate.status_render import render_status_page, render_text
from tests.support.estate_ledger import build_estate

BLANK = TableRecord(
    catalog="lake",
    target="ns.t",
    databricks_name="main.ns.t",
    wave=1,
    strategy="convert",
    state="PENDING",
    reason=None,
    attempts=0,
    rows=None,
    bytes=None,
    snapshot_id=None,
    report_path=None,
    verdict=None,
    signed_off_by=None,
    started_at=None,
    updated_at="2026-12-01T08:00:00.000+00:00",
    finished_at=None,
    seconds=None,
)


def ran(target: str, state: str, start: str, end: str | None, wave: int = 1, **values: object) -> TableRecord:
    """A record of a table that ran from ``start`` to ``end`` (times of day on 2026-12-01, UTC)."""
    day = "2026-12-01T{}+00:00"
    return dataclasses.replace(
        BLANK,
        target=target,
        databricks_name=f"main.{target}",
        wave=wave,
        state=state,
        attempts=1,
        started_at=day.format(start),
        finished_at=day.format(end) if end else None,
        **values,
    )


def test_throughput_and_eta_are_measured_over_busy_time(tmp_path: Path) -> None:
    records = [
        # day one: two tables side by side from 08:00 to 08:10 (overlapping: 10 busy minutes, not 15)
        ran("a.one", "MATCHED", "08:00:00", "08:10:00", rows=600, bytes=6_000),
        ran("a.two", "MISMATCHED", "08:05:00", "08:10:00", rows=300, bytes=3_000),
        # the next run, hours later: 5 busy minutes; the gap between runs does not count
        ran("a.three", "FAILED", "14:00:00", "14:05:00", reason="ThrottlingException: Rate exceeded"),
        ran("b.four", "CONVERTED", "14:06:00", None, wave=2, rows=50, bytes=500),  # landed, still running
        dataclasses.replace(BLANK, target="b.five", wave=2),
        dataclasses.replace(BLANK, target="b.six", wave=2, state="BLOCKED", reason="not-delta-format: csv"),
    ]
    status = estate_status(records, tmp_path)

    assert status.busy_seconds == 15 * 60 and status.finished == 3
    assert status.tables_per_hour == pytest.approx(12.0)  # 3 tables in a quarter of an hour
    assert (status.rows, status.bytes) == (950, 9_500)  # MATCHED, MISMATCHED and CONVERTED: their commits landed
    assert status.rows_per_second == pytest.approx(950 / 900)
    assert status.remaining == 2 and status.eta_seconds == pytest.approx(2 * 300)  # CONVERTED + PENDING, 5 min each
    assert list(status.counts) == list(STATES)
    assert [(w.wave, w.tables, w.counts["MATCHED"], w.counts["PENDING"], w.rows) for w in status.waves] == [
        (1, 3, 1, 0, 900),
        (2, 3, 0, 1, 50),
    ]
    assert [r.target for r in status.failures] == ["a.three", "b.six"]
    assert status.failure_reasons() == [("ThrottlingException: Rate exceeded", 1), ("not-delta-format: csv", 1)]
    assert [r.target for r in status.mismatches] == ["a.two"]

    second = estate_status(records, tmp_path, wave=2)
    assert [r.target for r in second.tables] == ["b.four", "b.five", "b.six"]
    assert second.finished == 0 and second.tables_per_hour is None and second.eta_seconds is None
    assert "ETA unknown for 2 tables left" in render_text(second)

    done = estate_status(records[:3], tmp_path)
    assert done.remaining == 0 and done.eta_seconds == 0 and "nothing left to run" in render_text(done)


def test_status_json_text_and_page_from_a_real_ledger(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan_dir = tmp_path / "plan"
    records = build_estate(plan_dir, 300, waves=3)
    by_state = {state: sum(r.state == state for r in records) for state in STATES}

    assert main(["status", str(plan_dir), "--output", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["command"], document["version"]) == ("status", __version__)
    assert document["counts"] == by_state and document["total"] == 300
    assert len(document["tables"]) == 300
    first = document["tables"][0]
    assert {"target", "state", "catalog", "wave", "reason", "rows", "bytes", "report_path", "verdict"} <= set(first)
    assert [w["wave"] for w in document["waves"]] == [1, 2, 3]
    assert sum(w["tables"] for w in document["waves"]) == 300
    assert document["eta_seconds"] > 0 and document["tables_per_hour"] > 0
    page = Path(document["status_page"])
    assert page == plan_dir / "status.html" and page.is_file()

    assert main(["status", str(plan_dir), "--wave", "3"]) == 0
    text = capsys.readouterr().out
    third = [r for r in records if r.wave == 3]
    assert text.startswith(f"{plan_dir}: 100 tables in wave 3")
    pending = sum(r.state == "PENDING" for r in third)
    # every state is present: too many columns for 80, so a block per wave instead of the table
    lines = text.splitlines()
    eta = next(index for index, line in enumerate(lines) if line.startswith("ETA "))
    assert max(len(line) for line in lines[1 : eta + 1]) <= 80  # the counts, what moved, throughput, ETA
    counts = re.search(r"^all waves: 100 tables, .*\n  (\w+) (\d[\d,]*\d|\d)\b", text, re.M)
    assert counts is not None
    assert counts.groups() == ("PENDING", f"{pending:,}")  # PENDING comes first among the states present
    assert f"control tower: {page}" in text
    mismatched = [r for r in third if r.state == "MISMATCHED"]
    assert f"mismatched: {len(mismatched)} table" in text

    assert main(["status", str(plan_dir), "--wave", "9"]) == 2
    assert "wave 9 has no tables in the ledger" in capsys.readouterr().err
    assert main(["status", str(tmp_path / "nowhere")]) == 2
    assert "not a plan folder" in capsys.readouterr().err


def test_tables_not_enrolled_yet_count_as_pending_or_skipped(tmp_path: Path) -> None:
    def planned(line: int, name: str, strategy: str = "convert", notes: str = "", wave: int = 1) -> PlannedTable:
        return PlannedTable(
            line, f"main.s.{name}", f"/lake/{name}", "lake", "s", name, strategy, wave, (), {}, "", notes
        )

    tables = [
        planned(2, "a"),
        planned(3, "b", wave=2),
        planned(4, "c", "skip", "not-delta-format: the table is csv"),
        planned(5, "d", "skip", "archived"),
    ]
    write_plan(tmp_path, tables, {"lake": "sql"})
    with Ledger.open(tmp_path) as ledger:
        ledger.add([ran("s.a", "MATCHED", "08:00:00", "08:01:00", catalog="lake", rows=5)])

    status = read_status(tmp_path)
    assert [(r.target, r.state, r.reason) for r in status.tables] == [
        ("s.a", "MATCHED", None),
        ("s.c", "BLOCKED", "not-delta-format: the table is csv"),
        ("s.d", "SKIPPED", "archived"),
        ("s.b", "PENDING", None),
    ]
    assert status.remaining == 1


def test_the_page_carries_every_table_compactly_and_safely(tmp_path: Path) -> None:
    hostile = ran(
        "x.y", "FAILED", "08:00:00", "08:00:05", reason="</script><script>alert(1)</script> & <b>", catalog="lake"
    )
    odd_report = ran("x.z", "MATCHED", "08:00:00", "08:00:05", report_path="elsewhere/x z", verdict="match")
    usual = ran("x.w", "MATCHED", "08:00:00", "08:00:05", report_path="reports/lake/x/w", verdict="match")
    status = estate_status([hostile, odd_report, usual], tmp_path)
    html = render_status_page(status)

    assert "</script><script>alert" not in html and "<b>" not in html.split('id="data">', 1)[1]
    data = json.loads(re.search(r'<script type="application/json" id="data">(.*?)</script>', html, re.S).group(1))
    columns = data["columns"]
    rows = {row[columns.index("target")]: row for row in data["rows"]}
    reasons = data["dictionaries"]["reason"]
    assert reasons[rows["x.y"][columns.index("reason")]] == hostile.reason  # intact once decoded
    assert rows["x.w"][columns.index("report_path")] == 1  # the runner's usual folder, abbreviated
    assert rows["x.z"][columns.index("report_path")] == "elsewhere/x z"

    path = write_status_page(tmp_path, status)
    assert path.read_text(encoding="utf-8") == html


def test_status_reads_the_ledger_of_a_running_migrate(tmp_path: Path) -> None:
    from datax_migrate.estate import run_plan
    from tests.estate.support import id_table, plan_storage, write_config

    storage = tmp_path / "storage"
    id_table(storage / "sales" / "orders", [1, 2, 3])
    id_table(storage / "sales" / "refunds", [4, 5])
    config = write_config(tmp_path)
    plan_dir = tmp_path / "plan"
    plan_storage(storage, plan_dir, config)
    seen: list[dict[str, int]] = []

    def look(_: object) -> None:  # called by the runner after every state change, while it holds the plan
        status = read_status(plan_dir)
        seen.append({state: count for state, count in status.counts.items() if count})
        write_status_page(plan_dir, status)

    run_plan(plan_dir, config=config, workers=1, progress=look)

    assert {"CONVERTING": 1, "PENDING": 1} in seen and {"RECONCILING": 1, "MATCHED": 1} in seen
    assert seen[-1] == {"MATCHED": 2}
    final = read_status(plan_dir)
    assert final.rows == 5 and final.finished == 2 and final.remaining == 0
    assert "MATCHED" in (plan_dir / "status.html").read_text(encoding="utf-8")
