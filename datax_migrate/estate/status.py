"""Where an estate migration stands: counts by state per wave, failures, verdicts, sign-offs, throughput, ETA.

One :class:`EstateStatus`, computed from the run ledger's records, renders the ``status`` command's
text and JSON and the control-tower page ``PLAN_DIR/status.html`` (:func:`write_status_page`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from datax_migrate.estate.ledger import STATES, Ledger, TableRecord
from datax_migrate.estate.plan import Plan

STATUS_PAGE = "status.html"
LEFT_TO_RUN = ("PENDING", "CONVERTING", "CONVERTED", "RECONCILING")
"""States of tables the runner still has to finish (FAILED ones wait for ``migrate --retry-failed``)."""
LANDED = ("CONVERTED", "RECONCILING", "MATCHED", "MISMATCHED", "SIGNED_OFF")
"""States of tables whose conversion is committed: their rows and bytes count as moved."""
RECORD_FIELDS = tuple(f.name for f in fields(TableRecord))


@dataclass(frozen=True)
class WaveStatus:
    """The tables of one wave, counted.

    Attributes:
        wave: the wave number.
        tables: how many tables the wave has.
        counts: tables per state, every state of :data:`STATES` present (0 when none).
        rows: rows moved (tables whose conversion landed).
        bytes: bytes moved.

    """

    wave: int
    tables: int
    counts: dict[str, int]
    rows: int
    bytes: int


@dataclass(frozen=True)
class EstateStatus:
    """The state of a plan's run, from its ledger.

    Throughput is measured over busy time: the union of the tables' ``[started_at, finished_at]``
    intervals, so the days between two runs of ``migrate`` do not count. The ETA assumes the rest
    runs as the finished tables did, at the same concurrency.

    Attributes:
        plan_dir: the plan folder.
        generated_at: when this status was computed (ISO-8601 UTC).
        wave: the wave asked for, or ``None`` for every wave.
        tables: the ledger records, in ledger order.
        counts: tables per state, every state present.
        waves: per wave, in wave order.
        rows: rows moved.
        bytes: bytes moved.
        finished: tables with a finish time (the sample throughput is measured on).
        remaining: tables still to run (states in :data:`LEFT_TO_RUN`).
        busy_seconds: the union of the finished tables' run intervals, in seconds.
        tables_per_hour: finished tables per busy hour (``None`` before any finished).
        rows_per_second: rows moved per busy second (``None`` before any finished).
        bytes_per_second: bytes moved per busy second (``None`` before any finished).
        eta_seconds: busy seconds left at that throughput (``None`` when it cannot be told; 0 when none remain).

    """

    plan_dir: str
    generated_at: str
    wave: int | None
    tables: tuple[TableRecord, ...]
    counts: dict[str, int]
    waves: tuple[WaveStatus, ...]
    rows: int
    bytes: int
    finished: int
    remaining: int
    busy_seconds: float
    tables_per_hour: float | None
    rows_per_second: float | None
    bytes_per_second: float | None
    eta_seconds: float | None

    @property
    def failures(self) -> tuple[TableRecord, ...]:
        """The FAILED and BLOCKED tables, with their reasons."""
        return tuple(r for r in self.tables if r.state in ("FAILED", "BLOCKED"))

    @property
    def mismatches(self) -> tuple[TableRecord, ...]:
        """The tables whose reconciliation found differences."""
        return tuple(r for r in self.tables if r.state == "MISMATCHED")

    def failure_reasons(self) -> list[tuple[str, int]]:
        """The reasons of :attr:`failures`, most frequent first: (reason, tables)."""
        counted = Counter(r.reason or "no reason recorded" for r in self.failures)
        return sorted(counted.items(), key=lambda item: (-item[1], item[0]))

    def summary(self) -> dict[str, Any]:
        """Everything but the tables, as JSON-ready values."""
        return {
            "plan_dir": self.plan_dir,
            "generated_at": self.generated_at,
            "wave": self.wave,
            "total": len(self.tables),
            "counts": self.counts,
            "waves": [vars(w) for w in self.waves],
            "rows": self.rows,
            "bytes": self.bytes,
            "finished": self.finished,
            "remaining": self.remaining,
            "busy_seconds": round(self.busy_seconds, 3),
            "tables_per_hour": _rounded(self.tables_per_hour),
            "rows_per_second": _rounded(self.rows_per_second),
            "bytes_per_second": _rounded(self.bytes_per_second),
            "eta_seconds": _rounded(self.eta_seconds),
        }

    def to_dict(self) -> dict[str, Any]:
        """The ``status --output json`` document: ``tables`` (one object per ledger record), then :meth:`summary`."""
        tables = [{name: getattr(record, name) for name in RECORD_FIELDS} for record in self.tables]
        return {"tables": tables, **self.summary()}


def estate_status(
    records: Sequence[TableRecord], plan_dir: Path, wave: int | None = None, now: dt.datetime | None = None
) -> EstateStatus:
    """Count ``records`` (those of ``wave`` when given) into an :class:`EstateStatus`."""
    chosen = tuple(r for r in records if wave is None or r.wave == wave)
    by_wave: dict[int, list[TableRecord]] = {}
    for record in chosen:
        by_wave.setdefault(record.wave, []).append(record)
    waves = tuple(_wave_status(number, by_wave[number]) for number in sorted(by_wave))
    rows, size = _moved(chosen)
    intervals = [interval for r in chosen if (interval := _interval(r)) is not None]
    busy = _union_seconds(intervals)
    counts = _counts(chosen)
    remaining = sum(counts[state] for state in LEFT_TO_RUN)
    finished = len(intervals)
    per_table = busy / finished if finished and busy > 0 else None
    return EstateStatus(
        plan_dir=str(plan_dir),
        generated_at=(now or dt.datetime.now(dt.timezone.utc)).isoformat(timespec="seconds"),
        wave=wave,
        tables=chosen,
        counts=counts,
        waves=waves,
        rows=rows,
        bytes=size,
        finished=finished,
        remaining=remaining,
        busy_seconds=busy,
        tables_per_hour=3600 / per_table if per_table else None,
        rows_per_second=rows / busy if per_table else None,
        bytes_per_second=size / busy if per_table else None,
        eta_seconds=0.0 if remaining == 0 else (remaining * per_table if per_table else None),
    )


def read_status(plan_dir: Path, wave: int | None = None) -> EstateStatus:
    """The status of the plan in ``plan_dir`` (of ``wave`` when given): its ledger, and its tables not run yet.

    ``plan.csv`` is validated as on every use. Tables of the plan that no ``migrate`` has enrolled in
    the ledger yet count as PENDING (SKIPPED or BLOCKED when the plan skips them), as ``migrate`` will
    enrol them.

    Raises:
        PlanError: no ``plan.csv`` in ``plan_dir``, or bad rows.
        LedgerError: the ledger cannot be read.

    """
    plan = Plan.load(plan_dir)
    with Ledger.open(plan_dir) as ledger:
        records = ledger.records()
    return estate_status(_with_unenrolled(records, plan), plan_dir, wave)


def _with_unenrolled(records: list[TableRecord], plan: Plan) -> list[TableRecord]:
    """``records`` and a record for each table of ``plan`` the ledger does not hold, by wave, catalog, target."""
    known = {(r.catalog, r.target) for r in records}
    missing = [t for t in plan.tables if (t.catalog, t.target) not in known]
    if not missing:
        return records
    stamp = dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")
    added = [TableRecord.unstarted(table, stamp) for table in missing]
    return sorted([*records, *added], key=lambda r: (r.wave, r.catalog, r.target))


def write_status_page(plan_dir: Path, status: EstateStatus | None = None) -> Path:
    """Write the control-tower page ``PLAN_DIR/status.html`` (every wave) and return its path.

    Args:
        plan_dir: the plan folder.
        status: the status of every wave, if already read (else read from the ledger).

    """
    from datax_migrate.estate.status_render import render_status_page
    from datax_migrate.files import write_atomically

    if status is None or status.wave is not None:
        status = read_status(plan_dir)
    path = plan_dir / STATUS_PAGE
    write_atomically(path, render_status_page(status))
    return path


def _counts(records: Iterable[TableRecord]) -> dict[str, int]:
    counted = Counter(r.state for r in records)
    return {state: counted.get(state, 0) for state in (*STATES, *sorted(set(counted) - set(STATES)))}


def _wave_status(number: int, records: list[TableRecord]) -> WaveStatus:
    rows, size = _moved(records)
    return WaveStatus(number, len(records), _counts(records), rows, size)


def _moved(records: Iterable[TableRecord]) -> tuple[int, int]:
    rows = size = 0
    for record in records:
        if record.state in LANDED:
            rows += record.rows or 0
            size += record.bytes or 0
    return rows, size


def _interval(record: TableRecord) -> tuple[float, float] | None:
    if not record.started_at or not record.finished_at:
        return None
    start, end = _epoch(record.started_at), _epoch(record.finished_at)
    return (start, end) if end >= start else None


def _epoch(text: str) -> float:
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)).timestamp()


def _union_seconds(intervals: list[tuple[float, float]]) -> float:
    total, end = 0.0, float("-inf")
    for start, stop in sorted(intervals):
        if stop <= end:
            continue
        total += stop - max(start, end)
        end = stop
    return total


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
