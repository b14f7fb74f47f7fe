"""Reservation markers: who reserved an S3 Tables entry, and when its reservation can be shown stale."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import replace

import psutil
import pytest

from datax_migrate.catalogs.pending import PendingEntry, Reservation, parse_duration


def ended_process() -> Reservation:
    """A reservation by a process of this host that has exited."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    started = psutil.Process(child.pid).create_time()
    child.wait()
    return replace(Reservation.of_this_process(), pid=child.pid, process_started=started)


def test_a_marker_round_trips_and_anything_else_is_no_marker() -> None:
    mine = Reservation.of_this_process()
    assert Reservation.from_json(mine.to_json()) == mine
    for data in [b"", b"{}", b"[1]", b'{"version": "datax-reservation/1", "pid": "x"}', b"\xff"]:
        assert Reservation.from_json(data) is None


def test_process_ended_is_known_on_this_host_only() -> None:
    mine = Reservation.of_this_process()
    assert mine.process_ended() is False
    assert ended_process().process_ended() is True
    assert replace(mine, process_started=mine.process_started - 3600).process_ended() is True  # pid reused
    assert replace(mine, host="elsewhere").process_ended() is None
    assert replace(mine, boot_id="another-boot").process_ended() is None


def test_staleness_needs_proof_or_the_users_age() -> None:
    now = time.time()
    live = PendingEntry("ns", "t", now, Reservation.of_this_process())
    dead = PendingEntry("ns", "t", now, ended_process())
    remote = PendingEntry(
        "ns", "t", now, replace(Reservation.of_this_process(), host="elsewhere", reserved_at=now - 7200)
    )
    unmarked = PendingEntry("ns", "t", now - 7200, None)
    assert live.staleness() is None and live.staleness(older_than=3600) is None
    assert dead.staleness() is not None and "has ended" in dead.staleness()  # type: ignore[operator]
    assert remote.staleness() is None
    assert remote.staleness(older_than=3600) == "older than 1h"
    assert unmarked.staleness(older_than=3600) is None
    assert unmarked.staleness(older_than=3600, include_unmarked=True) is not None


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90), ("30m", 1800), ("12h", 43200), ("2d", 172800), ("1.5h", 5400)]
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "h", "soon", "0", "-5m"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)
