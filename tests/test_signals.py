"""Signals that arrive during a commit are delivered after it."""

from __future__ import annotations

import os
import signal
from types import FrameType

import pytest

from datax_migrate.signals import deferred_signals


class Stop(Exception):
    pass


def test_sigterm_is_held_until_the_block_ends() -> None:
    def raise_stop(signum: int, frame: FrameType | None) -> None:
        raise Stop(signum)

    previous = signal.signal(signal.SIGTERM, raise_stop)
    steps = []
    try:
        with pytest.raises(Stop):
            with deferred_signals():
                os.kill(os.getpid(), signal.SIGTERM)
                steps.append("committed")
        assert steps == ["committed"]
        assert signal.getsignal(signal.SIGTERM) is raise_stop
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_ctrl_c_is_held_too() -> None:
    steps = []
    with pytest.raises(KeyboardInterrupt):
        with deferred_signals():
            os.kill(os.getpid(), signal.SIGINT)
            steps.append("committed")
    assert steps == ["committed"]
