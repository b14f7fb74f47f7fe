"""Hold Ctrl-C and SIGTERM while a commit is in flight.

A commit must not be cut in half by a Python-level interrupt: if the catalog has accepted the new
snapshot, clean-up code must not then delete the data files it references. Inside
:func:`deferred_signals` the signals are recorded, and delivered to the previous handlers when the
block ends.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

DEFERRED = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def deferred_signals() -> Iterator[None]:
    """Record SIGINT/SIGTERM during the block, then deliver them (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[tuple[int, FrameType | None]] = []
    previous = {signum: signal.getsignal(signum) for signum in DEFERRED}

    def hold(signum: int, frame: FrameType | None) -> None:
        pending.append((signum, frame))

    for signum in DEFERRED:
        signal.signal(signum, hold)
    try:
        yield
    finally:
        for held, handler in previous.items():
            signal.signal(held, handler)
        for number, frame in pending:
            handler = previous[signal.Signals(number)]
            if callable(handler):
                handler(number, frame)
            elif handler == signal.SIG_DFL:
                signal.raise_signal(number)
