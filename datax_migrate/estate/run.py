"""Run a plan (or one wave of it): every table convert -> reconcile -> awaiting sign-off, K at a time.

    >>> from datax_migrate.estate import run_plan
    >>> summary = run_plan("plan", wave=1, workers=2)

Each table's state lives in the ledger (:mod:`datax_migrate.estate.ledger`), written before each step
starts and after its effect is durable. A rerun picks up every table that is not done: ``PENDING``,
and whatever a stopped run left ``CONVERTING`` (converted again: ``unchanged`` if its snapshot had
landed), ``CONVERTED`` or ``RECONCILING`` (reconciled again); with ``retry_failed``, ``FAILED`` ones
(converted again: ``unchanged`` at the recorded Delta version if a conversion had landed) and
``MISMATCHED`` ones (reconciled again at the recorded version, with the plan's key columns and tolerances).
Transient failures (throttling, 5xx, timeouts: :mod:`datax_migrate.estate.retry`) are retried with
backoff within the table's time limit; permanent ones fail the table with the reason. Tables run on
``workers`` threads (the convert and scan kernels release the GIL); one run at a time per plan
directory (a lock file).
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from datax_migrate.config import Config
from datax_migrate.errors import DataxError
from datax_migrate.estate.ledger import (
    CONVERTED,
    CONVERTING,
    FAILED,
    IN_FLIGHT,
    LEDGER_FILE,
    MATCHED,
    MISMATCHED,
    NOT_RUN,
    PENDING,
    RECONCILING,
    Ledger,
    TableRecord,
    now,
    skip_reason,
    skip_state,
)
from datax_migrate.estate.plan import Plan, PlannedTable, config_rules, refresh_json
from datax_migrate.estate.retry import Backoff, is_transient
from datax_migrate.estate.status import write_status_page
from datax_migrate.estate.steps import Deadline, Engines, StopRequested, convert_step, load_steps, reconcile_step

LOCK_FILE = "migrate.lock"
DEFAULT_TIMEOUT = 6 * 3600.0
"""A table's time limit, in seconds, unless the run sets another."""
T = TypeVar("T")


class RunError(DataxError):
    """A run cannot start: another run holds the plan directory, or the wave is not in the plan."""


@dataclass(frozen=True)
class RunProgress:
    """Where a run stands; the runner reports it after every change of a table's state.

    Attributes:
        states: Tables of the run's scope (its wave, or the plan) by state.
        selected: Tables this run set out to run.
        finished: Of those, how many reached an end state (matched, mismatched, failed).
        rows: Rows converted by the finished tables.
        bytes: Bytes written by the finished tables.
        elapsed: Seconds since the run started.
        running: Targets being worked on now.
    """

    states: dict[str, int]
    selected: int
    finished: int
    rows: int
    bytes: int
    elapsed: float
    running: tuple[str, ...] = ()

    @property
    def tables_per_minute(self) -> float | None:
        """Finished tables per minute so far (``None`` before the first)."""
        return self.finished * 60.0 / self.elapsed if self.finished and self.elapsed > 0 else None

    @property
    def eta_seconds(self) -> float | None:
        """Seconds until the selected tables are done, at the rate so far (``None`` before the first)."""
        if not self.finished or self.elapsed <= 0:
            return None
        return (self.selected - self.finished) * self.elapsed / self.finished


ProgressCallback = Callable[[RunProgress], None]


@dataclass(frozen=True)
class TableOutcome:
    """What a run did with one table.

    Attributes:
        catalog: Target catalog's name.
        target: ``namespace.table``.
        state: Its state after the run.
        reason: Why it failed, if it did.
        attempts: Runs that started converting it, this one included.
        seconds: Convert plus reconcile seconds.
        retried: The transient failures retried, oldest first.
    """

    catalog: str
    target: str
    state: str
    reason: str | None
    attempts: int
    seconds: float | None
    retried: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunSummary:
    """What a run did.

    Attributes:
        plan_dir: PLAN_DIR.
        wave: The wave run (``None``: every wave).
        dry_run: Nothing was run; ``selected`` is what would have been.
        selected: The tables the run took on (``catalog:namespace.table``), in order.
        outcomes: Per table taken on, its end state.
        states: Every table of the scope by state, after the run.
        wall_seconds: From the call to the end of the run.
        table_seconds: Summed convert and reconcile seconds of the tables run.
        ledger_seconds: Summed seconds spent writing the ledger.
        setup_seconds: From the call to the first table started (plan, ledger, lock).
    """

    plan_dir: Path
    wave: int | None
    dry_run: bool
    selected: tuple[str, ...]
    outcomes: tuple[TableOutcome, ...]
    states: dict[str, int]
    wall_seconds: float
    table_seconds: float = 0.0
    ledger_seconds: float = 0.0
    setup_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether no table of the scope is mismatched, failed or left part-way."""
        return not any(self.states.get(state) for state in (MISMATCHED, FAILED, *IN_FLIGHT))


def run_plan(
    plan_dir: str | os.PathLike[str],
    *,
    config: str | os.PathLike[str] | Config | None = None,
    wave: int | None = None,
    workers: int = 2,
    engine: str = "local",
    dry_run: bool = False,
    retry_failed: bool = False,
    progress: ProgressCallback | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    backoff: Backoff | None = None,
) -> RunSummary:
    """Run the plan in ``plan_dir`` (one ``wave``, or all of it): convert, reconcile, record every state.

    A run that ends (not a dry run) refreshes the control tower ``plan_dir/status.html``.

    Args:
        plan_dir: PLAN_DIR, holding ``plan.csv`` (validated again here).
        config: The YAML catalog config, its path, or ``None`` for the catalogs pyiceberg finds and ``local``.
        wave: Run only this wave.
        workers: Tables run at the same time.
        engine: ``local`` (threads here) or ``spark`` (the convert and reconcile Spark engines).
        dry_run: Only say which tables would run; write nothing.
        retry_failed: Also run the tables a previous run left ``FAILED``, and reconcile the ``MISMATCHED``
            ones again (after their key columns or tolerances were fixed in ``plan.csv``).
        progress: Called after every change of a table's state.
        timeout: Seconds one table may take (``None``: no limit).
        backoff: Retries of transient failures (default: :class:`Backoff`).

    Raises:
        PlanError: ``plan.csv`` is invalid (every bad row listed).
        RunError: another run holds the plan directory, or ``wave`` is not in the plan.
        LedgerError: the ledger cannot be opened.
    """
    started = time.monotonic()
    if workers < 1:
        raise RunError(f"workers must be 1 or more, not {workers}")
    directory = Path(plan_dir)
    settings = None if dry_run else config if isinstance(config, Config) else Config.load(config)
    plan = Plan.load(directory, config_rules(settings) if settings is not None else None)
    if wave is not None and wave not in plan.waves:
        raise RunError(f"wave {wave} is not in the plan (its waves: {', '.join(map(str, plan.waves)) or 'none'})")
    scope = plan.wave(wave)
    if settings is None:
        return _dry_run(plan, scope, wave, retry_failed, started)
    with _exclusive(directory), Ledger.open(directory) as ledger:
        refresh_json(plan)
        enrol(ledger, plan.tables)
        runner = _Runner(directory, ledger, Engines(settings, engine, workers), timeout, backoff or Backoff())
        summary = runner.run(scope, wave, workers, retry_failed, progress, started)
    write_status_page(directory)
    return summary


def enrol(ledger: Ledger, tables: tuple[PlannedTable, ...]) -> None:
    """Bring the ledger in line with the plan: add new tables; apply edits of wave, strategy and skips.

    A table the plan now skips becomes ``BLOCKED`` (its notes start with a finding code) or
    ``SKIPPED`` unless it was run already; a table no longer skipped becomes ``PENDING`` again.
    """
    stamp = now()
    known = {(r.catalog, r.target): r for r in ledger.records()}
    ledger.add(TableRecord.unstarted(table, stamp) for table in tables if (table.catalog, table.target) not in known)
    for table in tables:
        record = known.get((table.catalog, table.target))
        if record is None:
            continue
        changes = {
            name: value
            for name, value in (
                ("wave", table.wave),
                ("strategy", table.strategy),
                ("databricks_name", table.databricks_name),
            )
            if getattr(record, name) != value
        }
        if changes:
            ledger.describe(table.catalog, table.target, **changes)
        wanted = skip_state(table)
        if wanted is not None:
            if record.state in (PENDING, FAILED) or (record.state in NOT_RUN and record.state != wanted):
                ledger.transition(table.catalog, table.target, wanted, reason=skip_reason(table))
        elif record.state in NOT_RUN:
            ledger.transition(table.catalog, table.target, PENDING, reason=None)


def _runnable(record: TableRecord | None, retry_failed: bool) -> bool:
    if record is None:
        return False
    return record.state in (PENDING, *IN_FLIGHT) or (retry_failed and record.state in (FAILED, MISMATCHED))


def _dry_run(
    plan: Plan, scope: tuple[PlannedTable, ...], wave: int | None, retry_failed: bool, started: float
) -> RunSummary:
    """What a run would take on, read from the ledger if there is one; nothing is written."""
    records: dict[tuple[str, str], TableRecord] = {}
    if (plan.directory / LEDGER_FILE).exists():
        with Ledger.open(plan.directory) as ledger:
            records = {(r.catalog, r.target): r for r in ledger.records()}
    stamp = now()
    current = [records.get((t.catalog, t.target)) or TableRecord.unstarted(t, stamp) for t in scope]
    selected = tuple(f"{r.catalog}:{r.target}" for r in current if _runnable(r, retry_failed))
    return RunSummary(
        plan_dir=plan.directory,
        wave=wave,
        dry_run=True,
        selected=selected,
        outcomes=(),
        states=dict(Counter(r.state for r in current)),
        wall_seconds=time.monotonic() - started,
    )


@contextmanager
def _exclusive(directory: Path) -> Iterator[None]:
    """Hold PLAN_DIR's lock file for the run: one run at a time per plan (released by the OS at any exit)."""
    path = directory / LOCK_FILE
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise RunError(f"another `datax-migrate migrate` runs this plan ({holder}); wait for it to end") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {now()}\n")
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)


class _Runner:
    """One run: the worker threads, the ledger transitions of each table, the progress counts."""

    def __init__(
        self, directory: Path, ledger: Ledger, engines: Engines, timeout: float | None, backoff: Backoff
    ) -> None:
        self.directory, self.ledger, self.engines = directory, ledger, engines
        self.timeout, self.backoff = timeout, backoff
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.ledger_seconds = 0.0
        self.table_seconds = 0.0
        self.states: Counter[str] = Counter()
        self.running: dict[str, str] = {}
        self.finished = self.rows = self.bytes = 0
        self.selected = 0
        self.started = 0.0
        self.progress: ProgressCallback | None = None

    def run(
        self,
        scope: tuple[PlannedTable, ...],
        wave: int | None,
        workers: int,
        retry_failed: bool,
        progress: ProgressCallback | None,
        started: float,
    ) -> RunSummary:
        records = {(r.catalog, r.target): r for r in self.ledger.records(wave)}
        in_scope = [records[(t.catalog, t.target)] for t in scope]
        todo = [t for t in scope if _runnable(records.get((t.catalog, t.target)), retry_failed)]
        self.states = Counter(r.state for r in in_scope)
        self.selected, self.started, self.progress = len(todo), started, progress
        if todo:
            load_steps()
        setup = time.monotonic() - started
        outcomes: list[TableOutcome] = []
        self._report()
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="datax-migrate") as pool:
            queue = iter(todo)
            futures: dict[Future[TableOutcome], PlannedTable] = {}
            try:
                for table in queue:
                    futures[pool.submit(self._table, table, records[(table.catalog, table.target)])] = table
                    if len(futures) >= workers:
                        break
                while futures:
                    done, _ = wait(futures, return_when=FIRST_COMPLETED)
                    for future in done:
                        del futures[future]
                        outcomes.append(future.result())
                        following = next(queue, None)
                        if following is not None:
                            record = records[(following.catalog, following.target)]
                            futures[pool.submit(self._table, following, record)] = following
            except BaseException:
                self.stop.set()  # the workers give up at their next progress report; their tables stay in flight
                raise
        keys = {(t.catalog, t.target) for t in scope}
        final = Counter(r.state for r in self.ledger.records(wave) if (r.catalog, r.target) in keys)
        return RunSummary(
            plan_dir=self.directory,
            wave=wave,
            dry_run=False,
            selected=tuple(f"{t.catalog}:{t.target}" for t in todo),
            outcomes=tuple(outcomes),
            states=dict(final),
            wall_seconds=time.monotonic() - started,
            table_seconds=self.table_seconds,
            ledger_seconds=self.ledger_seconds,
            setup_seconds=setup,
        )

    def _table(self, table: PlannedTable, record: TableRecord) -> TableOutcome:
        """Take one table from where the ledger has it to MATCHED, MISMATCHED or FAILED."""
        deadline = Deadline(table.target, self.timeout, self.stop)
        seconds = 0.0
        state = record.state
        retried: list[str] = []
        try:
            if state in (CONVERTED, RECONCILING, MISMATCHED) and record.snapshot_id is not None:
                delta_version = record.delta_version
            else:
                # a conversion that landed (its version recorded) is asked for again: it comes back unchanged
                landed = record.delta_version
                record = self._move(record, CONVERTING, attempts=record.attempts + 1, started_at=now(), reason=None)
                converted = self._retrying(
                    lambda: convert_step(table, self.engines, deadline, landed), deadline, retried
                )
                seconds += converted.seconds
                delta_version = converted.delta_version
                record = self._move(
                    record,
                    CONVERTED,
                    rows=converted.rows,
                    bytes=converted.bytes,
                    snapshot_id=converted.snapshot_id,
                    delta_version=converted.delta_version,
                )
            record = self._move(record, RECONCILING)
            folder = Path("reports", table.catalog, table.namespace, table.table)
            report, reconciled = self._retrying(
                lambda: reconcile_step(table, self.engines, deadline, delta_version, self.directory / folder),
                deadline,
                retried,
            )
            seconds += reconciled
            record = self._move(
                record,
                MATCHED if report.matches else MISMATCHED,
                verdict=report.verdict,
                report_path=folder.as_posix(),
                finished_at=now(),
                seconds=seconds,
            )
        except Exception as exc:  # noqa: BLE001 - a table's failure is recorded; the run goes on
            reason = " ".join(f"{type(exc).__name__}: {exc}".split()) if not isinstance(exc, DataxError) else str(exc)
            if retried:
                reason += f" (after {len(retried)} retries of transient failures)"
            record = self._move(record, FAILED, reason=reason, finished_at=now(), seconds=seconds)
        finally:
            with self.lock:
                self.table_seconds += seconds
        return TableOutcome(
            record.catalog, record.target, record.state, record.reason, record.attempts, seconds, tuple(retried)
        )

    def _retrying(self, step: Callable[[], T], deadline: Deadline, retried: list[str]) -> T:
        """Run ``step``; after a transient failure wait (with backoff, within the deadline) and run it again.

        Each transient failure retried is appended to ``retried`` (its type and message).
        """
        for retry in range(self.backoff.retries + 1):
            deadline.check()
            try:
                return step()
            except Exception as exc:
                if retry == self.backoff.retries or not is_transient(exc):
                    raise
                delay = self.backoff.delay(retry)
                left = deadline.left()
                if left is not None and delay >= left:
                    raise
                retried.append(" ".join(f"{type(exc).__name__}: {exc}".split())[:300])
                if self.stop.wait(delay):
                    raise StopRequested() from exc
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _move(self, record: TableRecord, state: str, **values: Any) -> TableRecord:
        begun = time.monotonic()
        moved = self.ledger.transition(record.catalog, record.target, state, **values)
        key = f"{record.catalog}:{record.target}"
        with self.lock:
            self.ledger_seconds += time.monotonic() - begun
            self.states[record.state] -= 1
            self.states[state] += 1
            if state in (MATCHED, MISMATCHED, FAILED):
                self.finished += 1
                self.rows += moved.rows or 0
                self.bytes += moved.bytes or 0
                self.running.pop(key, None)
            else:
                self.running[key] = state
        self._report()
        return moved

    def _report(self) -> None:
        if self.progress is None:
            return
        with self.lock:
            snapshot = RunProgress(
                states={state: count for state, count in self.states.items() if count},
                selected=self.selected,
                finished=self.finished,
                rows=self.rows,
                bytes=self.bytes,
                elapsed=time.monotonic() - self.started,
                running=tuple(sorted(self.running)),
            )
        self.progress(snapshot)
