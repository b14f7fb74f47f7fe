"""The migrate progress display: counts by state, throughput and ETA, within the terminal's width."""

from __future__ import annotations

import io

from rich.console import Console

from datax_migrate.cli.migrate import migrate_progress, progress_lines
from datax_migrate.estate.run import RunProgress

BUSY = RunProgress(
    states={"PENDING": 9_412, "CONVERTING": 2, "RECONCILING": 2, "MATCHED": 512, "MISMATCHED": 31, "FAILED": 41},
    selected=10_000,
    finished=584,
    rows=9_876_543_210,
    bytes=12_345_678_901_234,
    elapsed=3_725.0,
)


def test_lines_fit_80_columns_and_carry_counts_throughput_and_eta() -> None:
    head, states = progress_lines(BUSY, "wave 12", 80)
    assert len(head) <= 80 and len(states) <= 80
    assert head == "wave 12: 584/10000 tables  9.4/min  9.9G rows  elapsed 1:02:05  ETA 16:40:59"
    assert states == " pend 9412 conv 2 recon 2 ok 512 diff 31 failed 41"
    assert BUSY.eta_seconds is not None and round(BUSY.eta_seconds) == 60_059
    head, states = progress_lines(BUSY, "wave 12", 200)
    assert head == "wave 12: 584/10000 tables  9.4/min  9.9G rows  12,345,679 MB  elapsed 1:02:05  ETA 16:40:59"
    assert states == "  pending 9412  converting 2  reconciling 2  matched 512  mismatched 31  failed 41"
    assert progress_lines(BUSY, "wave 12", 50)[0] == "wave 12: 584/10000 tables  9.4/min  ETA 16:40:59"


def test_before_the_first_table_there_is_no_rate() -> None:
    start = RunProgress(states={"PENDING": 3}, selected=3, finished=0, rows=0, bytes=0, elapsed=0.5)
    assert progress_lines(start, "plan")[0] == "plan: 0/3 tables  --/min  0 rows  0 MB  elapsed 0:00  ETA --:--"


def test_plain_lines_without_a_terminal() -> None:
    stream = io.StringIO()
    with migrate_progress("wave 1", console=Console(file=stream, force_terminal=False)) as show:
        assert show is not None
        show(BUSY)
        show(BUSY)  # nothing finished since: no second line
        show(RunProgress(states={"MATCHED": 585}, selected=10_000, finished=585, rows=1, bytes=0, elapsed=3_726.0))
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and lines[0].startswith("wave 1: 584/10000 tables") and "| pending 9412" in lines[0]
    assert lines[1].startswith("wave 1: 585/10000 tables") and lines[1].endswith("| matched 585")
