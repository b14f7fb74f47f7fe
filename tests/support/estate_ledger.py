"""A plan folder whose run ledger holds a whole estate in every state, for the status page and its benchmark.

The plan is written by the estate's own ``write_plan`` and the rows go into the real ledger
(``Ledger.add``), as a long migration leaves them: waves run one after the other, a few tables at
a time, with failures, mismatches, sign-offs and tables not run yet.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from datax_migrate.estate.ledger import Ledger, TableRecord
from datax_migrate.estate.plan import PlannedTable, write_plan

REASONS = (
    "ThrottlingException: Rate exceeded (after 5 attempts)",
    "timed out after 3600 s (the table's --timeout)",
    "SlowDown: Please reduce your request rate.",
    "the Delta table uses the reader feature 'futureFeature', which datax-migrate does not read",
)
BLOCKER = "not-delta-format: the table is csv, not Delta"
WEIGHTS = {"SIGNED_OFF": 30, "MATCHED": 25, "MISMATCHED": 3, "FAILED": 5, "CONVERTING": 1, "RECONCILING": 1}
START = dt.datetime(2026, 11, 2, 8, tzinfo=dt.timezone.utc)


def build_estate(plan_dir: Path, tables: int, waves: int = 5, seed: int = 17) -> list[TableRecord]:
    """Write a plan of ``tables`` tables in ``waves`` waves into ``plan_dir`` and fill its ledger; return the rows.

    Waves before the last run fully; the last one is a third done (the rest PENDING); about 3% of
    the tables are skipped or blocked in the plan.
    """
    chance = random.Random(seed)
    planned, records = [], []
    clock = START
    for number in range(tables):
        wave = 1 + number * waves // tables
        namespace, name = f"schema_{number % 37:02d}", f"table_{number:05d}"
        skipped = number % 33 == 5
        notes = (BLOCKER if number % 2 else "archived: no longer read") if skipped else ""
        planned.append(
            PlannedTable(
                line=number + 2,
                databricks_name=f"main.{namespace}.{name}",
                location=f"s3://company-lake/{namespace}/{name}",
                catalog="lake",
                namespace=namespace,
                table=name,
                strategy="skip" if skipped else "convert",
                wave=wave,
                key_columns=("id",) if number % 3 == 0 else (),
                tolerances={},
                owner=f"team-{number % 7}",
                notes=notes,
            )
        )
        last_third = wave == waves and (number - (waves - 1) * tables // waves) * 3 > tables // waves
        if skipped:
            state = "BLOCKED" if number % 2 else "SKIPPED"
        elif last_third:
            state = "PENDING"
        else:
            state = chance.choices(list(WEIGHTS), list(WEIGHTS.values()))[0]
        records.append(_record(planned[-1], state, clock, chance))
        clock += dt.timedelta(seconds=chance.uniform(2, 12))
    write_plan(plan_dir, planned, {"lake": "s3tables"})
    with Ledger.open(plan_dir) as ledger:
        ledger.add(records)
    return records


def _record(table: PlannedTable, state: str, clock: dt.datetime, chance: random.Random) -> TableRecord:
    ran = state not in ("PENDING", "SKIPPED", "BLOCKED")
    finished = state not in ("CONVERTING", "RECONCILING") and ran
    landed = state in ("RECONCILING", "MATCHED", "MISMATCHED", "SIGNED_OFF")
    reconciled = state in ("MATCHED", "MISMATCHED", "SIGNED_OFF")
    seconds = chance.uniform(4, 90) if finished else None
    rows = chance.randint(1_000, 50_000_000) if landed else None
    return TableRecord(
        catalog=table.catalog,
        target=table.target,
        databricks_name=table.databricks_name,
        wave=table.wave,
        strategy=table.strategy,
        state=state,
        reason=table.notes if not ran and table.notes else (chance.choice(REASONS) if state == "FAILED" else None),
        attempts=(chance.randint(1, 3) if state == "FAILED" else 1) if ran else 0,
        rows=rows,
        bytes=rows * chance.randint(20, 120) if rows else None,
        snapshot_id=chance.randint(1, 2**63 - 1) if landed else None,
        report_path=f"reports/{table.catalog}/{table.namespace}/{table.table}" if reconciled else None,
        verdict={"MISMATCHED": "mismatch"}.get(state, "match") if reconciled else None,
        signed_off_by="ana.lopez" if state == "SIGNED_OFF" else None,
        started_at=clock.isoformat(timespec="milliseconds") if ran else None,
        updated_at=(clock + dt.timedelta(seconds=seconds or 0)).isoformat(timespec="milliseconds"),
        finished_at=(clock + dt.timedelta(seconds=seconds or 0)).isoformat(timespec="milliseconds")
        if finished
        else None,
        seconds=seconds,
    )
