"""The scan's read-ahead: every batch in order, errors where they happened, and a reader that stops."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pyarrow as pa
import pytest

from datax_migrate.reconcile.engine import read_ahead


def _batches(count: int, log: list[str], fail_after: int | None = None) -> Iterator[pa.RecordBatch]:
    try:
        for i in range(count):
            if fail_after is not None and i == fail_after:
                raise OSError(f"file {i} is unreadable")
            log.append(f"read {i}")
            yield pa.record_batch({"id": pa.array(range(i * 1000, (i + 1) * 1000), pa.int64())})
    finally:
        log.append(f"closed on {threading.current_thread().name}")


@pytest.mark.parametrize("budget", [1, 10_000, 1 << 30])
def test_every_batch_arrives_in_order(budget: int) -> None:
    log: list[str] = []
    got = list(read_ahead(_batches(50, log), budget))
    assert [b.column(0)[0].as_py() for b in got] == [i * 1000 for i in range(50)]
    assert pa.Table.from_batches(got).column("id").to_pylist() == list(range(50_000))
    assert log[-1] == "closed on reconcile-read-ahead"


def test_reader_error_comes_after_the_batches_before_it() -> None:
    log: list[str] = []
    got = []
    with pytest.raises(OSError, match="file 3 is unreadable"):
        for batch in read_ahead(_batches(10, log, fail_after=3), 1 << 30):
            got.append(batch)
    assert len(got) == 3
    assert log[-1] == "closed on reconcile-read-ahead"


def test_reader_stops_when_the_caller_stops() -> None:
    log: list[str] = []
    ahead = read_ahead(_batches(1000, log), budget_bytes=1)
    first = next(ahead)
    assert first.num_rows == 1000
    ahead.close()  # the caller gave up (an error while hashing)
    assert log[-1] == "closed on reconcile-read-ahead"
    assert sum(entry.startswith("read") for entry in log) < 10  # it held at most a batch or two ahead
    assert not any(t.name == "reconcile-read-ahead" for t in threading.enumerate())
