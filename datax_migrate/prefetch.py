"""Read ahead: decode record batches on a thread of their own, up to a byte budget ahead of their reader.

A reconciliation hashes every batch it reads. With reading and hashing on one thread, nothing is
decoded while that thread hashes or waits (the first kernel call sets the compiled kernels up,
holding the GIL), nor before it asks. A :class:`Prefetch` decodes on a thread of its own: the
command line starts one for the Delta side before it loads the Iceberg side and the kernels, so the
first batches are decoded while the rest of the program loads.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator

import pyarrow as pa

DEFAULT_AHEAD_BYTES = 32 * 1024 * 1024
"""Enough for a few batches: the reader finds the next one decoded, and little memory is held."""


class Prefetch:
    """The batches of ``produce()``, decoded on a thread of their own, in order, for one reader.

    The thread decodes the next batch only while the batches the reader has not taken yet hold less
    than ``budget_bytes`` (so it may pass the budget by one batch, and one batch, however large,
    always gets through). An exception of ``produce`` reaches the reader where the batch it
    stopped at would have. Iterate once; :meth:`close` (also when the reader stops early) stops
    the thread and drops what it holds.

    Example:
        >>> ahead = Prefetch(lambda: reader.batches(add)).start()
        >>> rows = sum(batch.num_rows for batch in ahead)
    """

    def __init__(
        self,
        produce: Callable[[], Iterable[pa.RecordBatch]],
        budget_bytes: int = DEFAULT_AHEAD_BYTES,
        name: str = "datax-prefetch",
    ) -> None:
        """Prepare to read ``produce()`` ahead; nothing runs before :meth:`start`."""
        self._produce = produce
        self._budget = budget_bytes
        self._ready: deque[pa.RecordBatch] = deque()
        self._held = 0
        self._finished = False
        self._stopped = False
        self._error: BaseException | None = None
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._claimed = False

    def start(self) -> Prefetch:
        """Start decoding; returns this prefetch."""
        self._thread.start()
        return self

    def claim(self) -> bool:
        """``True`` for the first caller only: the one reader that may iterate this prefetch."""
        with self._changed:
            first, self._claimed = not self._claimed, True
            return first

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        """The batches in order; stops the thread when the reader is done or stops early."""
        try:
            while True:
                with self._changed:
                    while not self._ready and not self._finished:
                        self._changed.wait()
                    if not self._ready:
                        if self._error is not None:
                            raise self._error
                        return
                    batch = self._ready.popleft()
                    self._held -= batch.nbytes
                    self._changed.notify_all()
                yield batch
                del batch
        finally:
            self.close()

    def close(self) -> None:
        """Stop decoding and drop the batches held; waits for the batch being decoded."""
        with self._changed:
            self._stopped = True
            self._ready.clear()
            self._held = 0
            self._changed.notify_all()
        if self._thread.ident is not None and self._thread is not threading.current_thread():
            self._thread.join()

    def _run(self) -> None:
        try:
            batches = iter(self._produce())
            while self._room_for_more():
                batch = next(batches, None)
                if batch is None:
                    return
                with self._changed:
                    if self._stopped:
                        return
                    self._ready.append(batch)
                    self._held += batch.nbytes
                    self._changed.notify_all()
        except BaseException as exc:  # noqa: BLE001 - handed to the reader, who raises it
            with self._changed:
                self._error = exc
        finally:
            with self._changed:
                self._finished = True
                self._changed.notify_all()

    def _room_for_more(self) -> bool:
        """Wait until the reader has left room under the budget; ``False`` once stopped."""
        with self._changed:
            while self._ready and self._held >= self._budget and not self._stopped:
                self._changed.wait()
            return not self._stopped


def prefetched(
    produce: Callable[[], Iterable[pa.RecordBatch]],
    budget_bytes: int = DEFAULT_AHEAD_BYTES,
    name: str = "datax-prefetch",
) -> Iterator[pa.RecordBatch]:
    """The batches of ``produce()``, read ahead by a :class:`Prefetch` that starts with the first one asked for."""
    yield from Prefetch(produce, budget_bytes, name).start()
