"""The progress display: a live line that fits the terminal, and steady, well-formed lines in logs."""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from rich.console import Console

from datax_migrate.convert.table import Progress
from datax_migrate.progress import _conversion_step, _LiveLine, _Meter, conversion_progress, reconcile_progress
from datax_migrate.reconcile.run import ReconcileProgress
from tests.support.delta_builder import DeltaBuilder, field

LONG_NAME = "main_catalog.sales_analytics_emea.orders_restated"
LINE = re.compile(
    r"^(?P<label>[\w.]+): (?:(?P<stage>[a-z ]+) )?(?P<done>[\d,]+)/(?P<total>[\d,]+) (?P<unit>Delta files|Delta rows) "
    r"\((?P<share>\d+) %\)(?:, [\d,]+ [A-Za-z ]+)*, [\d,.]+ (?:rows|files)/s, elapsed \d+:\d\d(?:, ETA \d+:\d\d)?$"
)
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def rendered(label: str, width: int, step: Progress, seconds: float) -> str:
    meter = _Meter(label, lambda: seconds)
    meter.started = meter.stage_started = 0.0
    meter.update(_conversion_step(step))
    console = Console(width=width, record=True, file=io.StringIO(), force_terminal=True)
    console.print(_LiveLine(meter))
    return console.export_text().rstrip("\n")


def test_live_line_fits_80_columns_with_a_long_name() -> None:
    line = rendered(LONG_NAME, 80, Progress(12, 40, 36, 120, 1_234_567), 10.0)
    assert "\n" not in line and len(line) <= 80
    assert line.startswith("…") and ".orders_restated" in line  # the table's own name stays
    assert "36/120 Delta files" in line
    assert "123k rows/s" in line and "ETA 0:23" in line  # 30 % in 10 s: 23 s left
    assert "━" in line  # the bar is there


def test_live_line_keeps_count_rate_and_eta_when_narrow_and_uses_the_room_when_wide() -> None:
    narrow = rendered(LONG_NAME, 60, Progress(12, 40, 36, 120, 1_234_567), 10.0)
    assert len(narrow) <= 60 and "36/120 Delta files" in narrow and "rows/s" in narrow and "ETA 0:23" in narrow
    wide = rendered("bank.accounts", 120, Progress(12, 40, 36, 120, 1_234_567), 10.0)
    assert wide.startswith("bank.accounts ━") and len(wide) <= 120


def conversion_lines(clock: FakeClock, console: Console, steps: int, seconds: float) -> None:
    with conversion_progress("shop.orders", console=console, clock=clock) as show:
        for i in range(1, steps + 1):
            clock.now = seconds * i / steps
            show(Progress(i, steps, i, steps, i * 1000))


def test_plain_lines_are_well_formed_and_rate_limited() -> None:
    clock, out = FakeClock(), io.StringIO()
    console = Console(file=out, width=80)  # not a terminal: a log
    conversion_lines(clock, console, steps=3000, seconds=300.0)  # 10 updates a second for 5 minutes
    lines = out.getvalue().splitlines()
    matches = [LINE.match(line) for line in lines]
    assert all(matches), lines
    shares = [int(m["share"]) for m in matches if m]
    times = [int(m["done"].replace(",", "")) / 10 for m in matches if m]  # one file every 0.1 s
    assert 5 <= len(lines) <= 11  # every 10 % and at least 10 s apart, not 3 000 lines
    assert all(b - a >= 10 for a, b in zip(shares, shares[1:], strict=False))
    assert all(b - a >= 10 for a, b in zip(times, times[1:], strict=False))
    assert lines[-1] == "shop.orders: 3,000/3,000 Delta files (100 %), 3,000,000 rows, 10,000 rows/s, elapsed 5:00"
    for m in matches:
        assert m and int(m["done"].replace(",", "")) <= int(m["total"].replace(",", ""))


def test_plain_lines_of_a_quick_job_are_one_last_line() -> None:
    clock, out = FakeClock(), io.StringIO()
    conversion_lines(clock, Console(file=out, width=80), steps=50, seconds=2.0)
    assert out.getvalue().splitlines() == [
        "shop.orders: 50/50 Delta files (100 %), 50,000 rows, 25,000 rows/s, elapsed 0:02"
    ]


def test_plain_lines_keep_coming_when_progress_stalls() -> None:
    clock, out = FakeClock(), io.StringIO()
    with conversion_progress("shop.orders", console=Console(file=out), clock=clock) as show:
        for second in range(0, 181):  # stuck at 1 of 10 files for three minutes
            clock.now = float(second)
            show(Progress(1, 10, 1, 10, 5))
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 and all(
        LINE.match(line) for line in lines
    )  # 10 % done at 10 s, then one a minute; none repeated
    assert [line.split("elapsed ")[1].split(",")[0] for line in lines] == ["0:10", "1:10", "2:10"]


def test_reconcile_lines_never_show_a_count_over_its_total() -> None:
    clock, out = FakeClock(), io.StringIO()
    with reconcile_progress("shop.orders", console=Console(file=out), clock=clock) as show:
        for phase in ("scan", "row diff"):
            for i in range(1, 8):
                clock.now += 5
                show(ReconcileProgress(phase, min(5 * i, 35), 7 * i, 35))  # the target has 45 + 4 rows
    lines = out.getvalue().splitlines()
    assert lines and all(LINE.match(line) for line in lines), lines
    for line in lines:
        for done, total in re.findall(r"([\d,]+)/([\d,]+)", line):
            assert int(done.replace(",", "")) <= int(total.replace(",", ""))
    assert lines[-1].startswith("shop.orders: row diff 35/35 Delta rows (100 %), 49 Iceberg rows, ")


def test_convert_on_an_80_column_terminal_shows_the_table_name_not_the_path(tmp_path: Path) -> None:
    builder = DeltaBuilder(tmp_path / ("a_rather_long_folder_name_" * 4) / "orders")
    builder.commit(
        builder.protocol(),
        builder.metadata([field("id", "long")]),
        *(builder.data_file(pa.table({"id": pa.array([v], pa.int64())})) for v in range(4)),
    )
    env = {**os.environ, "DATAX_HOME": str(tmp_path / "home"), "COLUMNS": "80", "LINES": "24", "TERM": "xterm"}
    env.pop("NO_COLOR", None)
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "datax_migrate.cli", "convert", str(builder.root), "shop.orders"],
        stdout=subprocess.PIPE,
        stderr=follower,
        env=env,
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        shown += chunk
    assert process.wait(timeout=120) == 0
    os.close(leader)
    screens = [ANSI.sub("", part) for part in re.split(r"[\r\n]+", shown.decode())]
    drawn = [screen for screen in screens if screen.strip()]
    assert drawn, shown
    assert all(len(screen) <= 80 for screen in drawn), drawn
    assert any(screen.startswith("shop.orders") for screen in drawn), drawn
    assert not any("a_rather_long_folder_name" in screen for screen in drawn)
    last = [screen for screen in drawn if "Delta files" in screen]
    assert last and "4/4 Delta files" in last[-1] and "rows/s" in last[-1] and "ETA" in last[-1]
    assert process.stdout is not None and "converted" in process.stdout.read().decode()


@pytest.mark.parametrize("share", [0.0, 0.5])
def test_counts_are_capped_by_their_total_in_the_live_line(share: float) -> None:
    line = rendered("shop.orders", 80, Progress(1, 1, 7, 5, 70), 1.0 + share)  # more files done than planned
    assert "7/7 Delta files" in line
