"""Reading ahead never changes what a file group yields, whatever the budget."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest

from datax_migrate.convert.source import READ_AHEAD_NICENESS, ConversionSource
from tests.support.delta_builder import DeltaBuilder, field
from tests.support.tables import assert_same_rows


def partitioned_table(root: Path, partitions: int = 4, files_per_partition: int = 3) -> DeltaBuilder:
    builder = DeltaBuilder(root)
    adds = []
    for p in range(partitions):
        for f in range(files_per_partition):
            ids = pa.array(range((p * 10 + f) * 100, (p * 10 + f) * 100 + 100), pa.int64())
            text = pa.array([f"{p}{f}" * 500] * 100)  # compresses ~100x: decoded size beats the estimate
            adds.append(builder.data_file(pa.table({"id": ids, "text": text}), {"p": str(p)}, folder=f"p={p}"))
    fields = [field("id", "long"), field("text", "string"), field("p", "integer")]
    builder.commit(builder.protocol(), builder.metadata(fields, ["p"]), *adds)
    return builder


def group_rows(source: ConversionSource) -> dict[int, pa.Table]:
    return {g.index: pa.Table.from_batches(list(source.batches(g))) for g in source.groups}


# 0: nothing read ahead; 250 kB: groups planned, then cut at a file boundary; 1 GB: everything.
@pytest.mark.parametrize("budget", [0, 250_000, 10**9])
def test_read_ahead_yields_the_same_rows(tmp_path: Path, budget: int) -> None:
    builder = partitioned_table(tmp_path / "t")
    plain = ConversionSource.open(str(builder.root))
    expected = group_rows(plain)

    ahead = ConversionSource.open(str(builder.root))
    ahead.start_read_ahead(budget_bytes=budget)
    got = group_rows(ahead)
    ahead.close()
    assert set(got) == set(expected)
    for index, table in expected.items():
        assert_same_rows(got[index], table)
    assert ahead._held == 0


def test_read_ahead_starts_no_group_before_the_last_round_once_the_writers_have_started(tmp_path: Path) -> None:
    """Memory held by reading ahead must not depend on how far reading could outrun writing."""
    builder = partitioned_table(tmp_path / "t", partitions=6)
    source = ConversionSource.open(str(builder.root))
    first, *rest = source.groups
    rows = pa.Table.from_batches(list(source.batches(first)))  # a writer has taken its first group
    source.start_read_ahead(budget_bytes=10**9)
    try:
        assert source._ahead == {} and source._held == 0  # budget left, yet no group is read ahead
        got = {g.index: pa.Table.from_batches(list(source.batches(g))) for g in rest}
    finally:
        source.close()
    expected = group_rows(ConversionSource.open(str(builder.root)))
    assert_same_rows(rows, expected[first.index])
    for index, table in got.items():
        assert_same_rows(table, expected[index])


def wait_until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the read-ahead did not get there"
        time.sleep(0.01)


def test_read_ahead_goes_on_with_the_last_round_while_the_writers_encode(tmp_path: Path) -> None:
    """Three equal groups on two workers, a budget for two and a half: the last group waits for room, not a writer."""
    builder = partitioned_table(tmp_path / "t", partitions=3, files_per_partition=1)
    expected = group_rows(ConversionSource.open(str(builder.root), workers=2))
    source = ConversionSource.open(str(builder.root), workers=2)
    first, second, last = source.groups
    group_bytes = max(sum(batch.nbytes for batch in table.to_batches()) for table in expected.values())
    source.start_read_ahead(budget_bytes=int(2.5 * group_bytes), workers=1)
    try:
        wait_until(lambda: second.index in source._ahead and source._ahead[second.index].done())
        time.sleep(0.2)  # time for the read-ahead to go on, were there room
        assert last.index not in source._ahead  # a third group would pass the budget: not started, so none thrown away
        got = {first.index: pa.Table.from_batches(list(source.batches(first)))}  # a writer takes the first group
        wait_until(lambda: last.index in source._ahead)  # its bytes let go: the last round is read ahead
        source._ahead[last.index].result()
        for group in (last, second):
            got[group.index] = pa.Table.from_batches(list(source.batches(group)))
    finally:
        source.close()
    for index, table in expected.items():
        assert_same_rows(got[index], table)
    assert source._held == 0 and source._reserved == 0


def _niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a thread has a niceness of its own on Linux")
def test_read_ahead_threads_run_at_a_lower_priority_than_the_rest(tmp_path: Path) -> None:
    source = ConversionSource.open(str(partitioned_table(tmp_path / "t").root))
    main = _niceness()
    source.start_read_ahead(budget_bytes=0)
    try:
        assert source._pool is not None
        readers = {source._pool.submit(_niceness).result() for _ in range(4)}
    finally:
        source.close()
    assert readers == {min(main + READ_AHEAD_NICENESS, 19)}
    assert _niceness() == main  # the caller's thread keeps its priority


def test_a_group_read_ahead_stops_at_its_share_so_the_next_groups_first_file_is_read(tmp_path: Path) -> None:
    """With two writers, a group holds at most half the budget: each writer starts on decoded data."""
    builder = partitioned_table(tmp_path / "t", partitions=4, files_per_partition=3)
    source = ConversionSource.open(str(builder.root), workers=2)
    assert len(source.groups[0].files) >= 2 and len(source.groups[1].files) >= 2
    one_file = sum(batch.nbytes for batch in source.reader.batches(source.groups[0].files[0]))
    expected = group_rows(ConversionSource.open(str(builder.root), workers=2))

    # Room for 3 files, read on one thread in plan order; a group's share is 1.75 files.
    source.start_read_ahead(budget_bytes=int(3.5 * one_file), workers=1)
    try:
        deadline = time.monotonic() + 30
        while len(source._ahead) < 3 and time.monotonic() < deadline:  # each group read chains the next
            time.sleep(0.01)
        read_ahead = [source._ahead[g.index].result()[1] for g in source.groups[:3]]
        assert read_ahead == [1, 1, 1]  # without the share: the first group's files, then nothing
        assert source.groups[3].index not in source._ahead
        got = group_rows(source)
    finally:
        source.close()
    for index, table in expected.items():
        assert_same_rows(got[index], table)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a thread has a niceness of its own on Linux")
def test_reading_ahead_starts_no_threads_that_inherit_its_priority(tmp_path: Path) -> None:
    """Threads inherit niceness: the read-ahead must not be the one to start Arrow's shared I/O threads."""
    root = partitioned_table(tmp_path / "t").root
    script = (
        "import glob, os\n"
        "from datax_migrate.convert.source import ConversionSource\n"
        f"source = ConversionSource.open({str(root)!r}, workers=2)\n"
        "source.start_read_ahead(budget_bytes=10**9)\n"
        "for future in list(source._ahead.values()):\n"
        "    future.result()\n"
        "main = os.getpriority(os.PRIO_PROCESS, 0)\n"
        "stats = [open(task + '/stat').read() for task in glob.glob('/proc/self/task/*')]\n"
        "nices = [int(stat.rsplit(')', 1)[1].split()[16]) for stat in stats]\n"
        "print(sum(nice > main for nice in nices))\n"
        "source.close()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["2"]  # the two read-ahead threads, nothing they started
