"""Console progress for long jobs, on stderr.

On a terminal: one live line that fits the terminal's width: the table's name (its start cut to
``…`` when needed), a bar, the counts, the rate and the time left. Narrow terminals lose the secondary
counts first, then the bar, then the name is cut further; the main count, the rate and the time
left stay.

Elsewhere (CI logs, EMR step logs, ``nohup``): plain lines such as::

    sales.orders: 12/40 Delta files (30 %), 1,234,567 rows, 52,000 rows/s, elapsed 0:24, ETA 0:56

at a steady rate: after ``interval`` seconds *and* a further 10 % of the work, whichever comes later
(every ``interval`` seconds when the total is unknown, and at least once every ``6 * interval``
seconds so a long run is never silent), and a last line when the job ends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.console import Console, ConsoleOptions, RenderResult
from rich.live import Live
from rich.text import Text

if TYPE_CHECKING:  # imported for annotations only: the reconcile engine is slow to import
    from datax_migrate.convert.table import Progress as ConversionProgress
    from datax_migrate.inventory.crawl import CrawlCounts
    from datax_migrate.reconcile.engine import ReconcileProgress

Clock = Callable[[], float]

STEP_FRACTION = 0.10
"""Plain lines: the share of the work done between two lines (when the total is known)."""
HEARTBEAT = 6
"""Plain lines: a line at least every ``HEARTBEAT * interval`` seconds, progress or not."""
LABEL_WIDTH = (8, 24)
"""Live line: the narrowest and widest the table's name is shown."""
BAR_WIDTH = (10, 30)
"""Live line: the narrowest bar worth drawing and the widest drawn."""


@dataclass(frozen=True)
class _Step:
    """One job's progress in common terms.

    Attributes:
        stage: the pass running (``"scan"``, ``"row diff"``), or ``""`` for single-pass jobs.
        done: how much of the main count is done.
        total: the main count's total, if known.
        unit: what the main count counts (``"Delta files"``).
        details: other counts, ``(count, unit)``.
        rated: the count the rate is of, and its unit.

    """

    stage: str
    done: int
    total: int | None
    unit: str
    details: tuple[tuple[int, str], ...]
    rated: tuple[int, str]


def _conversion_step(progress: ConversionProgress) -> _Step:
    rows = (progress.rows_written, "rows")
    return _Step("", progress.files_done, progress.files_total, "Delta files", (rows,), rows)


def _reconcile_step(progress: ReconcileProgress) -> _Step:
    target = ((progress.target_rows, "Iceberg rows"),)
    source = progress.source_rows
    return _Step(progress.phase, source, progress.expected_rows, "Delta rows", target, (source, "rows"))


def _crawl_step(counts: CrawlCounts) -> _Step:
    found = ((counts.tables, "tables"), (counts.notebooks, "notebooks"), (counts.jobs, "jobs"))
    details = (*found, (counts.failures, "failures"))
    return _Step("", counts.total, None, "objects", details, (counts.total, "objects"))


def _clock_text(seconds: float) -> str:
    """``m:ss``, or ``h:mm:ss`` from an hour."""
    whole = int(seconds + 0.5)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _compact(count: float) -> str:
    """A count in at most 6 characters: ``9,999``, ``12.3k``, ``4.5M``, ``6.7G``."""
    if count < 10_000:
        return f"{count:,.0f}"
    for suffix, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if count >= scale:
            return f"{count / scale:.1f}{suffix}" if count < 100 * scale else f"{count / scale:.0f}{suffix}"
    return f"{count:,.0f}"  # pragma: no cover - every count from 10,000 has a suffix


class _Meter:
    """The latest step of one job, with the rate and the time left worked out; thread-safe."""

    def __init__(self, label: str, clock: Clock) -> None:
        self.label, self.clock = label, clock
        self.started = self.stage_started = self.updated = clock()
        self.step: _Step | None = None
        self.lock = threading.Lock()

    def update(self, step: _Step) -> None:
        """Record ``step``; a new stage restarts the rate and the time left from the last step before it."""
        with self.lock:
            if self.step is not None and step.stage != self.step.stage:
                self.stage_started = self.updated
            self.step, self.updated = step, self.clock()

    def figures(self, now: float) -> tuple[_Step, int | None, float | None, float | None] | None:
        """The step, its total (never below what is done), the rate per second and the seconds left."""
        with self.lock:
            step, since = self.step, now - self.stage_started
        if step is None:
            return None
        total = None if step.total is None else max(step.total, step.done)
        rate = step.rated[0] / since if since > 0 and step.rated[0] else None
        left = None
        if total is not None and step.done and since > 0:
            left = since * (total - step.done) / step.done
        return step, total, rate, left

    def line(self, now: float) -> str | None:
        """The plain-text line for logs, or ``None`` before the first step."""
        figures = self.figures(now)
        if figures is None:
            return None
        step, total, rate, left = figures
        count = f"{step.stage} " if step.stage else ""
        if total is None:
            count += f"{step.done:,} {step.unit}"
        else:
            share = 100 * step.done // total if total else 100
            count += f"{step.done:,}/{total:,} {step.unit} ({share} %)"
        parts = [count, *(f"{n:,} {unit}" for n, unit in step.details)]
        if rate is not None:
            parts.append(f"{rate:,.0f} {step.rated[1]}/s" if rate >= 10 else f"{rate:.1f} {step.rated[1]}/s")
        parts.append(f"elapsed {_clock_text(now - self.started)}")
        if left is not None and total is not None and step.done < total:
            parts.append(f"ETA {_clock_text(left)}")
        return f"{self.label}: {', '.join(parts)}"

    def render(self, width: int, now: float) -> Text:
        """The live line, at most ``width`` characters."""
        figures = self.figures(now)
        if figures is None:
            return Text(_shorten(self.label, width), style="bold")
        step, total, rate, left = figures
        stage = f"{step.stage} " if step.stage else ""
        count = f"{stage}{_compact(step.done)}{'' if total is None else '/' + _compact(total)} {step.unit}"
        details = [f"{_compact(n)} {unit}" for n, unit in step.details]
        tail = [f"{_compact(rate)} {step.rated[1]}/s" if rate is not None else f"-- {step.rated[1]}/s"]
        if total is not None:
            tail.append(f"ETA {_clock_text(left) if left is not None else '--:--'}")
        fraction = step.done / total if total else None
        label_least, label_wanted = min(LABEL_WIDTH[0], len(self.label)), min(LABEL_WIDTH[1], len(self.label))
        bar_room = 1 + BAR_WIDTH[0] if fraction is not None else 0
        while True:
            stats = "  ".join([count, *details, *tail])
            room = width - len(stats) - 1  # one space after the name
            if room >= label_wanted + bar_room or not details:
                break
            details.pop()
        if bar_room and room >= label_wanted + bar_room:
            label_width, bar_width = label_wanted, min(BAR_WIDTH[1], room - label_wanted - 1)
        else:
            label_width, bar_width = max(label_least, min(label_wanted, room)), 0
        line = Text()
        line.append(_shorten(self.label, label_width).ljust(label_width), style="bold")
        if fraction is not None and bar_width:
            filled = round(bar_width * fraction)
            line.append(" ")
            line.append("━" * filled, style="green")
            line.append("━" * (bar_width - filled), style="grey37")
        line.append(" " + stats)
        line.truncate(width, overflow="ellipsis")
        return line


def _shorten(text: str, width: int) -> str:
    """``text`` in ``width`` characters: its end (the table's own name) after ``…`` when cut."""
    if len(text) <= width:
        return text
    return "…" + text[len(text) - width + 1 :] if width > 1 else text[:width]


class _LiveLine:
    """The rich renderable of a meter: laid out again for the console's width at each refresh."""

    def __init__(self, meter: _Meter) -> None:
        self.meter = meter

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.meter.render(options.max_width, self.meter.clock())


class _Lines:
    """Plain progress lines for logs, rate-limited (see the module docstring)."""

    def __init__(self, meter: _Meter, interval: float, write: Callable[[str], None]) -> None:
        self.meter, self.interval, self.write = meter, interval, write
        self.last_time = meter.started
        self.last_share = 0.0
        self.last_step: _Step | None = None
        self.lock = threading.Lock()

    def update(self, step: _Step) -> None:
        """Take ``step``; write a line when one is due, and the last state of a stage that ended unseen."""
        with self.lock:
            now = self.meter.clock()
            with self.meter.lock:
                current = self.meter.step
            if current is not None and current.stage != step.stage:
                if current != self.last_step:
                    self._emit(current, now, None)
                self.last_time, self.last_share = now, 0.0
            self.meter.update(step)
            share = step.done / step.total if step.total else None
            waited = now - self.last_time
            due = waited >= self.interval and (
                share is None or share - self.last_share >= STEP_FRACTION or waited >= HEARTBEAT * self.interval
            )
            if due:
                self._emit(step, now, share)

    def finish(self) -> None:
        """Write the last state, unless the last line already showed it."""
        with self.meter.lock:
            step = self.meter.step
        with self.lock:
            if step is not None and step != self.last_step:
                self._emit(step, self.meter.clock(), step.done / step.total if step.total else None)

    def _emit(self, step: _Step, now: float, share: float | None) -> None:
        line = self.meter.line(now)
        if line is not None:
            self.write(line)
        self.last_time, self.last_step = now, step
        self.last_share = share or 0.0


@contextmanager
def _progress(
    label: str, interval: float, console: Console | None = None, clock: Clock = time.monotonic
) -> Iterator[Callable[[_Step], None]]:
    """Show the steps of one job: live on a terminal, else as plain lines."""
    meter = _Meter(label, clock)
    console = console or Console(stderr=True)
    if console.is_terminal:
        with Live(_LiveLine(meter), console=console, transient=True, refresh_per_second=4):
            yield meter.update
        return
    lines = _Lines(meter, interval, lambda line: print(line, file=console.file, flush=True))
    try:
        yield lines.update
    finally:
        lines.finish()


@contextmanager
def conversion_progress(
    label: str, interval: float = 10.0, *, console: Console | None = None, clock: Clock = time.monotonic
) -> Iterator[Callable[[ConversionProgress], None]]:
    """Report a conversion's progress; yields the callback to hand to ``convert_table``.

    Args:
        label: what the display is named after: the target table's name.
        interval: the least number of seconds between two plain lines.
        console: where to show it (default: stderr); live when it is a terminal, else plain lines.
        clock: the time source of rates, times left and the line rate.

    """
    with _progress(label, interval, console, clock) as show:
        yield lambda progress: show(_conversion_step(progress))


@contextmanager
def reconcile_progress(
    label: str, interval: float = 10.0, *, console: Console | None = None, clock: Clock = time.monotonic
) -> Iterator[Callable[[ReconcileProgress], None]]:
    """Report a reconciliation's progress; yields the callback for ``reconcile_table`` (arguments as above)."""
    with _progress(label, interval, console, clock) as show:
        yield lambda progress: show(_reconcile_step(progress))


@contextmanager
def crawl_progress(
    label: str, interval: float = 10.0, *, console: Console | None = None, clock: Clock = time.monotonic
) -> Iterator[Callable[[CrawlCounts], None]]:
    """Report what an inventory crawl has found so far; yields the callback for ``crawl`` (arguments as above)."""
    with _progress(label, interval, console, clock) as show:
        yield lambda counts: show(_crawl_step(counts))
