"""Read ahead on a thread of its own: order, budget, errors, stopping early."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pyarrow as pa
import pytest

from datax_migrate.prefetch import Prefetch, prefetched


def numbered(count: int, rows: int = 1000) -> list[pa.RecordBatch]:
    return [pa.record_batch({"n": pa.array([i] * rows, pa.int64())}) for i in range(count)]


class Source:
    """Batches handed out one by one, remembering how many were asked for and whether it was closed."""

    def __init__(self, batches: list[pa.RecordBatch], fail_after: int | None = None) -> None:
        self.batches, self.fail_after = batches, fail_after
        self.produced = 0
        self.closed = threading.Event()

    def __call__(self) -> Iterator[pa.RecordBatch]:
        try:
            for batch in self.batches:
                if self.produced == self.fail_after:
                    raise OSError("disk went away")
                self.produced += 1
                yield batch
        finally:
            self.closed.set()


def settle(source: Source) -> int:
    """How many batches the source has handed out once the prefetch thread stops asking (waits up to 2 s)."""
    last, deadline = -1, time.monotonic() + 2
    while time.monotonic() < deadline:
        if source.produced == last:
            break
        last = source.produced
        time.sleep(0.05)
    return source.produced


def test_the_batches_come_in_order_all_of_them() -> None:
    batches = numbered(50)
    assert [b["n"][0].as_py() for b in Prefetch(Source(batches)).start()] == list(range(50))


def test_it_decodes_no_further_ahead_than_its_budget() -> None:
    batches = numbered(40)
    size = batches[0].nbytes
    source = Source(batches)
    ahead = Prefetch(source, budget_bytes=3 * size).start()
    assert settle(source) == 3  # holds three batches' worth, then waits for the reader
    reader = iter(ahead)
    next(reader)
    assert settle(source) == 4
    assert sum(1 for _ in reader) == 39


def test_a_batch_larger_than_the_budget_still_gets_through() -> None:
    batches = numbered(3, rows=10_000)
    assert len(list(Prefetch(Source(batches), budget_bytes=1).start())) == 3


def test_an_error_of_the_source_reaches_the_reader_after_the_batches_before_it() -> None:
    seen = []
    with pytest.raises(OSError, match="disk went away"):
        for batch in Prefetch(Source(numbered(10), fail_after=4)).start():
            seen.append(batch["n"][0].as_py())
    assert seen == [0, 1, 2, 3]


def test_a_reader_that_stops_early_stops_the_thread_and_closes_the_source() -> None:
    source = Source(numbered(1000))
    ahead = Prefetch(source, budget_bytes=numbered(1)[0].nbytes * 5, name="datax-test-prefetch").start()
    for batch in ahead:
        if batch["n"][0].as_py() == 2:
            break
    assert source.closed.wait(2)
    assert "datax-test-prefetch" not in {t.name for t in threading.enumerate()}
    assert source.produced < 1000


def test_close_without_reading_stops_the_thread() -> None:
    source = Source(numbered(1000))
    ahead = Prefetch(source, budget_bytes=1, name="datax-test-unread").start()
    settle(source)
    ahead.close()
    assert source.closed.wait(2)
    assert "datax-test-unread" not in {t.name for t in threading.enumerate()}


def test_only_the_first_claim_wins() -> None:
    ahead = Prefetch(Source(numbered(1)))
    assert [ahead.claim(), ahead.claim()] == [True, False]


def test_prefetched_starts_with_the_first_batch_asked_for() -> None:
    source = Source(numbered(5))
    batches = prefetched(source)
    time.sleep(0.1)
    assert source.produced == 0
    assert [b["n"][0].as_py() for b in batches] == [0, 1, 2, 3, 4]
