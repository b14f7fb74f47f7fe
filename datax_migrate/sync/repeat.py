"""Repeat a sync for a dual-run period: ``datax-migrate sync ... --every 15m [--max-runs N]``.

Runs start every ``every`` seconds, counted from the start of the run before (a run that takes
longer is followed at once by the next, never by several). Ctrl-C or SIGTERM stops the loop
cleanly: between runs, nothing is in flight; during a run, the sync rolls back what it wrote
(nothing of it is committed, as with any interrupted conversion) unless its commit had landed, in
which case that run counts as done. Either way the table stays in step with the last Delta
version a run committed, and the next ``sync`` continues from there: the state lives in the table.

The loop stops at the first run that fails or is refused; a refusal (drift, a truncated log, a
replaced source) does not go away by waiting.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from datax_migrate.errors import ConfigError
from datax_migrate.sync.table import InterruptedAfterSync, SyncResult

_NUMBER = r"\d+(?:\.\d+)?"
_DURATION = re.compile("".join(f"(?:(?P<{unit}>{_NUMBER}){unit})?" for unit in "dhms"))
_UNIT_SECONDS = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}


def parse_duration(text: str) -> float:
    """Seconds in ``text``: ``90``, ``30s``, ``15m``, ``1h30m``, ``1d`` (units d, h, m, s, largest first).

    Raises:
        ConfigError: ``text`` is not such a duration, or is zero.
    """
    stripped = text.strip().lower()
    if re.fullmatch(_NUMBER, stripped):
        seconds = float(stripped)
    else:
        match = _DURATION.fullmatch(stripped)
        if not stripped or match is None:
            raise ConfigError(f"--every {text!r} is not a duration: write e.g. 90 (seconds), 30s, 15m, 1h30m or 1d")
        seconds = sum(float(value) * _UNIT_SECONDS[unit] for unit, value in match.groupdict().items() if value)
    if not seconds > 0:
        raise ConfigError(f"--every {text!r} must be longer than zero")
    return seconds


@dataclass(frozen=True)
class RepeatedSync:
    """What a repeated sync did.

    Attributes:
        runs: The result of each run that completed (committed, or found nothing new), oldest first.
        stopped_by: ``"max-runs"`` (``max_runs`` runs done), ``"signal"`` (Ctrl-C or SIGTERM), or ``"error"``
            (a run was refused or failed: the runs listed are those committed before it).
        rolled_back: Whether the signal came during a run, whose writes were rolled back.
    """

    runs: tuple[SyncResult, ...]
    stopped_by: str
    rolled_back: bool = False


class SyncStopped(BaseException):
    """Ctrl-C or SIGTERM stopped a repeated sync; like the interrupt it carries, not an :class:`Exception`.

    Attributes:
        summary: What the loop did up to the signal.
        interrupt: The ``KeyboardInterrupt`` (or SIGTERM's exception) that arrived.
    """

    def __init__(self, summary: RepeatedSync, interrupt: BaseException) -> None:
        """Carry the loop's ``summary`` and the ``interrupt`` that stopped it."""
        when = "during a run, rolled back" if summary.rolled_back else "between runs"
        super().__init__(f"stopped {when} after {len(summary.runs)} completed run(s)")
        self.summary = summary
        self.interrupt = interrupt


def sync_every(
    every: float,
    sync: Callable[[], SyncResult],
    *,
    max_runs: int | None = None,
    on_result: Callable[[SyncResult], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> RepeatedSync:
    """Call ``sync`` every ``every`` seconds until ``max_runs`` runs are done, or for ever.

    Args:
        every: Seconds from the start of one run to the start of the next.
        sync: One run, e.g. ``functools.partial(sync_table, source, catalog, identifier)``.
        max_runs: Stop after this many runs (``None``: until a signal).
        on_result: Called with each run's result as soon as it completes.
        clock: Monotonic seconds.
        sleep: Waits a number of seconds (interrupted by Ctrl-C, and by SIGTERM where its handler
            raises, as the command line's does).

    Returns:
        The runs, when ``max_runs`` were done.

    Raises:
        SyncStopped: Ctrl-C or SIGTERM arrived; it holds the runs done so far.
        DataxError: a run was refused or failed; the runs before it are committed.
    """
    if not every > 0:
        raise ConfigError(f"the interval between syncs must be positive, not {every}")
    if max_runs is not None and max_runs < 1:
        raise ConfigError(f"--max-runs must be 1 or more, not {max_runs}")
    runs: list[SyncResult] = []
    while True:
        started = clock()
        completed = len(runs)
        try:
            runs.append(sync())
            if on_result is not None:
                on_result(runs[-1])
            if max_runs is not None and len(runs) >= max_runs:
                return RepeatedSync(tuple(runs), "max-runs")
            sleep(max(0.0, started + every - clock()))
        except InterruptedAfterSync as landed:  # the signal came during a commit that landed: a run done
            runs.append(landed.result)
            if on_result is not None:
                on_result(landed.result)
            raise SyncStopped(RepeatedSync(tuple(runs), "signal"), landed.interrupt) from landed
        except BaseException as interrupt:
            if isinstance(interrupt, Exception):
                raise
            # Before the run's result was kept, the signal came during the run, whose writes were rolled back;
            # after it (printing the result, waiting for the next run), the run had completed.
            during_run = len(runs) == completed
            raise SyncStopped(RepeatedSync(tuple(runs), "signal", rolled_back=during_run), interrupt) from interrupt
