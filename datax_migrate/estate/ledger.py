"""The run ledger: every planned table's state, in ``PLAN_DIR/ledger.sqlite`` (SQLite, write-ahead log).

A table moves through the states of :data:`STATES` only along :data:`TRANSITIONS`; each move is one
transaction that also appends to the ``events`` table, so the history of every table survives a crash
at any moment. The runner writes a state *before* the step it names starts (``CONVERTING``,
``RECONCILING``) and the result *after* the step's effect is durable (``CONVERTED`` after the Iceberg
commit, ``MATCHED`` after the report folder is complete), so a rerun repeats at most the step that was
cut off, and no table is ever marked done that is not.

The database runs in WAL mode with ``synchronous=NORMAL``: a killed process loses nothing committed;
a power cut may lose the last transitions, which a rerun repeats (every step is idempotent).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from datax_migrate.errors import DataxError
from datax_migrate.estate.plan import SKIP, PlannedTable, blocker_code

LEDGER_FILE = "ledger.sqlite"
SCHEMA_VERSION = "datax-ledger/1"
STATES = (
    "PENDING",
    "CONVERTING",
    "CONVERTED",
    "RECONCILING",
    "MATCHED",
    "MISMATCHED",
    "SIGNED_OFF",
    "FAILED",
    "BLOCKED",
    "SKIPPED",
)
PENDING, CONVERTING, CONVERTED, RECONCILING, MATCHED, MISMATCHED, SIGNED_OFF, FAILED, BLOCKED, SKIPPED = STATES
IN_FLIGHT = (CONVERTING, CONVERTED, RECONCILING)
"""States a table is left in only when a run stopped part-way through it; a rerun resumes them."""
DONE = (MATCHED, MISMATCHED, SIGNED_OFF)
"""States a run does not touch again: reconciled, awaiting or holding sign-off."""
NOT_RUN = (BLOCKED, SKIPPED)
TRANSITIONS: dict[str, frozenset[str]] = {
    PENDING: frozenset({CONVERTING, BLOCKED, SKIPPED}),
    CONVERTING: frozenset({CONVERTING, CONVERTED, FAILED}),
    CONVERTED: frozenset({RECONCILING, FAILED}),
    RECONCILING: frozenset({RECONCILING, MATCHED, MISMATCHED, FAILED}),
    MATCHED: frozenset({SIGNED_OFF}),
    MISMATCHED: frozenset({RECONCILING, SIGNED_OFF}),
    SIGNED_OFF: frozenset(),
    FAILED: frozenset({CONVERTING, BLOCKED, SKIPPED}),
    BLOCKED: frozenset({PENDING, SKIPPED}),
    SKIPPED: frozenset({PENDING, BLOCKED}),
}
"""Which state may follow which (a state following itself: a run resumed after a crash; a mismatched table
reconciled again: a run with ``retry_failed``, after its key columns or tolerances were fixed)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tables (
    catalog TEXT NOT NULL,
    target TEXT NOT NULL,
    databricks_name TEXT NOT NULL,
    wave INTEGER NOT NULL,
    strategy TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    rows INTEGER,
    bytes INTEGER,
    snapshot_id INTEGER,
    report_path TEXT,
    verdict TEXT,
    signed_off_by TEXT,
    started_at TEXT,
    updated_at TEXT NOT NULL,
    finished_at TEXT,
    seconds REAL,
    delta_version INTEGER,
    signed_off_at TEXT,
    PRIMARY KEY (catalog, target)
);
CREATE INDEX IF NOT EXISTS tables_by_wave ON tables (wave, state);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    catalog TEXT NOT NULL,
    target TEXT NOT NULL,
    state TEXT NOT NULL,
    detail TEXT
);
"""


class LedgerError(DataxError):
    """The ledger cannot be opened, or a state change is not allowed (e.g. signing off a table that failed)."""


@dataclass(frozen=True)
class TableRecord:
    """One table's row in the ledger.

    Attributes:
        catalog: Target catalog's name.
        target: ``namespace.table``.
        databricks_name: The source table's Databricks name.
        wave: Wave number.
        strategy: ``convert``, ``history``, ``sync`` or ``skip``.
        state: One of :data:`STATES`.
        reason: Why the table is FAILED, BLOCKED or SKIPPED.
        attempts: Runs that started converting it.
        rows: Rows in the Iceberg snapshot.
        bytes: Bytes of the Iceberg snapshot's data files.
        snapshot_id: The Iceberg snapshot converted.
        report_path: The reconcile report folder, relative to PLAN_DIR.
        verdict: The reconcile verdict (``match`` / ``mismatch``).
        signed_off_by: Who signed the table off.
        started_at: When the last attempt started (ISO-8601, UTC).
        updated_at: When the row last changed (ISO-8601, UTC).
        finished_at: When the last attempt ended (ISO-8601, UTC).
        seconds: Convert plus reconcile seconds of the last attempt.
        delta_version: The Delta version converted.
        signed_off_at: When it was signed off (ISO-8601, UTC).
    """

    catalog: str
    target: str
    databricks_name: str
    wave: int
    strategy: str
    state: str
    reason: str | None
    attempts: int
    rows: int | None
    bytes: int | None
    snapshot_id: int | None
    report_path: str | None
    verdict: str | None
    signed_off_by: str | None
    started_at: str | None
    updated_at: str
    finished_at: str | None
    seconds: float | None
    delta_version: int | None = None
    signed_off_at: str | None = None

    @classmethod
    def unstarted(cls, table: PlannedTable, stamp: str) -> TableRecord:
        """The row of a planned table no run has touched: PENDING, or SKIPPED/BLOCKED as planned."""
        state = skip_state(table) or PENDING
        return cls(
            catalog=table.catalog,
            target=table.target,
            databricks_name=table.databricks_name,
            wave=table.wave,
            strategy=table.strategy,
            state=state,
            reason=skip_reason(table) if state != PENDING else None,
            attempts=0,
            rows=None,
            bytes=None,
            snapshot_id=None,
            report_path=None,
            verdict=None,
            signed_off_by=None,
            started_at=None,
            updated_at=stamp,
            finished_at=None,
            seconds=None,
        )


def skip_state(table: PlannedTable) -> str | None:
    """BLOCKED (the assessment's blocker code leads its notes) or SKIPPED for a skipped row, else ``None``."""
    if table.strategy != SKIP:
        return None
    return BLOCKED if blocker_code(table.notes) else SKIPPED


def skip_reason(table: PlannedTable) -> str:
    """Why a skipped row is skipped: its notes, or where plan.csv skips it."""
    return table.notes or f"skipped in plan.csv (line {table.line})"


_COLUMNS = tuple(f.name for f in fields(TableRecord))
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM tables"
_UPDATABLE = frozenset(_COLUMNS) - {"catalog", "target", "state", "updated_at"}


def now() -> str:
    """The current time as the ledger writes it: ISO-8601, UTC, milliseconds."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


class Ledger:
    """The run ledger of one plan directory; safe to use from several threads of one process."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        """Wrap an open connection (use :meth:`open`)."""
        self._connection = connection
        self._lock = threading.Lock()
        self.path = path

    @classmethod
    def open(cls, plan_dir: Path) -> Ledger:
        """Open (creating if needed) ``plan_dir/ledger.sqlite``.

        Raises:
            LedgerError: the file cannot be opened, is not a ledger, or is of another schema version.
        """
        path = Path(plan_dir) / LEDGER_FILE
        try:
            connection = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.executescript(_SCHEMA)
            found = connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if found is None:
                connection.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
            elif found[0] != SCHEMA_VERSION:
                connection.close()
                raise LedgerError(f"ledger {path} has schema {found[0]}; this datax-migrate reads {SCHEMA_VERSION}")
        except sqlite3.Error as exc:
            raise LedgerError(f"ledger {path} cannot be opened: {exc}") from None
        return cls(connection, path)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._connection.close()

    def __enter__(self) -> Ledger:
        """Use as a context manager that closes the ledger."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the ledger."""
        self.close()

    def records(self, wave: int | None = None) -> list[TableRecord]:
        """Every table's record (of ``wave`` when given), by wave, catalog and target."""
        where, parameters = ("WHERE wave = ?", (wave,)) if wave is not None else ("", ())
        with self._lock:
            rows = self._connection.execute(f"{_SELECT} {where} ORDER BY wave, catalog, target", parameters).fetchall()
        return [TableRecord(*row) for row in rows]

    def record(self, catalog: str, target: str) -> TableRecord | None:
        """The record of one table, or ``None`` when the ledger has none."""
        with self._lock:
            row = self._connection.execute(f"{_SELECT} WHERE catalog = ? AND target = ?", (catalog, target)).fetchone()
        return TableRecord(*row) if row else None

    def events(self, catalog: str, target: str) -> list[tuple[str, str, str | None]]:
        """Every state one table entered, oldest first: ``(at, state, detail)``."""
        with self._lock:
            rows = self._connection.execute(
                "SELECT at, state, detail FROM events WHERE catalog = ? AND target = ? ORDER BY id", (catalog, target)
            ).fetchall()
        return [(at, state, detail) for at, state, detail in rows]

    def add(self, records: Iterable[TableRecord]) -> None:
        """Insert new tables (in one transaction); a table already in the ledger is left as it is."""
        with self._transaction() as connection:
            for record in records:
                inserted = connection.execute(
                    f"INSERT OR IGNORE INTO tables ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
                    tuple(getattr(record, name) for name in _COLUMNS),
                ).rowcount
                if inserted:
                    connection.execute(
                        "INSERT INTO events (at, catalog, target, state, detail) VALUES (?, ?, ?, ?, ?)",
                        (record.updated_at, record.catalog, record.target, record.state, record.reason),
                    )

    def describe(self, catalog: str, target: str, **values: Any) -> None:
        """Change descriptive fields (wave, strategy, Databricks name) of one table, its state untouched."""
        unknown = set(values) - {"wave", "strategy", "databricks_name"}
        if unknown:
            raise ValueError(f"not descriptive fields: {', '.join(sorted(unknown))}")
        assignments = ", ".join(f"{name} = ?" for name in values)
        with self._transaction() as connection:
            connection.execute(
                f"UPDATE tables SET {assignments} WHERE catalog = ? AND target = ?",
                (*values.values(), catalog, target),
            )

    def transition(
        self, catalog: str, target: str, state: str, *, allowed_from: Iterable[str] | None = None, **values: Any
    ) -> TableRecord:
        """Move one table to ``state`` and set ``values``, in one transaction; return the new record.

        Args:
            catalog: Target catalog's name.
            target: ``namespace.table``.
            state: The new state.
            allowed_from: Only from these states (besides what :data:`TRANSITIONS` allows).
            values: Fields of :class:`TableRecord` to set.

        Raises:
            LedgerError: the table is not in the ledger, or the move is not allowed from its state.
        """
        unknown = set(values) - _UPDATABLE
        if unknown or state not in STATES:
            raise ValueError(f"unknown state {state!r} or fields {', '.join(sorted(unknown))}")
        stamp = now()
        with self._transaction() as connection:
            found = connection.execute(
                "SELECT state FROM tables WHERE catalog = ? AND target = ?", (catalog, target)
            ).fetchone()
            if found is None:
                raise LedgerError(f"{catalog}:{target} is not in the ledger")
            current = found[0]
            if state not in TRANSITIONS[current] or (allowed_from is not None and current not in allowed_from):
                raise LedgerError(f"{catalog}:{target} is {current}; it cannot become {state}")
            assignments = ", ".join(f"{name} = ?" for name in ("state", "updated_at", *values))
            connection.execute(
                f"UPDATE tables SET {assignments} WHERE catalog = ? AND target = ?",
                (state, stamp, *values.values(), catalog, target),
            )
            connection.execute(
                "INSERT INTO events (at, catalog, target, state, detail) VALUES (?, ?, ?, ?, ?)",
                (stamp, catalog, target, state, values.get("reason")),
            )
            row = connection.execute(f"{_SELECT} WHERE catalog = ? AND target = ?", (catalog, target)).fetchone()
        return TableRecord(*row)

    def mark_signed_off(self, catalog: str, target: str, by: str, at: str) -> None:
        """Record that ``by`` signed off a MATCHED (or accepted MISMATCHED) table at ``at`` (ISO-8601).

        Raises:
            LedgerError: the table is not in the ledger, or not MATCHED or MISMATCHED.
        """
        if not by.strip():
            raise LedgerError("a sign-off needs the signer's name")
        self.transition(
            catalog, target, SIGNED_OFF, allowed_from=(MATCHED, MISMATCHED), signed_off_by=by, signed_off_at=at
        )

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            connection = self._connection
            try:
                connection.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise LedgerError(f"ledger {self.path}: {exc}") from None
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
