"""S3 Tables entries reserved by a conversion that never committed: who reserved them, and whether they are stale.

In ``mode: api`` a conversion reserves its table with ``CreateTable`` before writing any file (the
files go into the location S3 Tables gives the entry) and makes it a table with its one
``UpdateTableMetadataLocation``. Until then the entry has no metadata. What readers see of it:

- ``ListTables`` (the console, ``SHOW TABLES`` through the S3 Tables catalogs) lists it;
- ``GetTable`` and ``GetTableMetadataLocation`` return it without a ``metadataLocation``;
- loading it as an Iceberg table fails as for a missing table (this project's catalog raises
  ``NoSuchTableError``; AWS's Java ``S3TablesCatalog.loadTable`` throws ``NoSuchTableException``
  when the entry has no current metadata).

A failed or interrupted run deletes its entry; a ``kill -9`` cannot. So each reservation is marked
with a small JSON object in the entry's own location (:data:`MARKER`): the host (name and boot id),
the process id and start time, and when it reserved. A reservation is *stale* when that process has
ended on this host (provable), or, on the user's word, when it is older than a given age. The next
conversion into the namespace deletes the reservations it can prove stale; ``datax-migrate pending``
lists every entry without metadata and deletes the stale ones with ``--purge``.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import psutil

MARKER = "datax-reservation.json"
"""Name of the reservation marker, in the reserved entry's warehouse location."""
_MARKER_VERSION = "datax-reservation/1"
_START_TIME_SLACK = 1.0
_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


@dataclass(frozen=True)
class Reservation:
    """Which process reserved a table entry, and when.

    Attributes:
        host: The host name.
        boot_id: The kernel's boot id where it has one (Linux), else ``""``: tells two machines (or
            two boots) with the same host name apart.
        pid: The process id.
        process_started: When that process started (seconds since the epoch).
        reserved_at: When the entry was reserved (seconds since the epoch).
    """

    host: str
    boot_id: str
    pid: int
    process_started: float
    reserved_at: float

    @classmethod
    def of_this_process(cls) -> Reservation:
        """A reservation by the running process, now."""
        return cls(
            host=socket.gethostname(),
            boot_id=_boot_id(),
            pid=os.getpid(),
            process_started=psutil.Process().create_time(),
            reserved_at=time.time(),
        )

    def to_json(self) -> bytes:
        """The marker's content."""
        return json.dumps({"version": _MARKER_VERSION, **asdict(self)}, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Reservation | None:
        """Read a marker written by :meth:`to_json`; ``None`` if it is not one."""
        try:
            document = json.loads(data)
            if document.get("version") != _MARKER_VERSION:
                return None
            return cls(
                host=str(document["host"]),
                boot_id=str(document["boot_id"]),
                pid=int(document["pid"]),
                process_started=float(document["process_started"]),
                reserved_at=float(document["reserved_at"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def process_ended(self) -> bool | None:
        """Whether the reserving process has ended: ``None`` when it ran on another host (cannot tell)."""
        if self.host != socket.gethostname() or self.boot_id != _boot_id():
            return None
        try:
            started = psutil.Process(self.pid).create_time()
        except psutil.NoSuchProcess:
            return True
        except psutil.Error:
            return None
        return abs(started - self.process_started) > _START_TIME_SLACK  # the pid was reused

    def describe(self) -> str:
        """``reserved 2026-12-07T10:00:00Z by pid 123 on host`` (UTC, to the second)."""
        return f"reserved {_iso(self.reserved_at)} by pid {self.pid} on {self.host}"


@dataclass(frozen=True)
class PendingEntry:
    """A table entry without metadata.

    Attributes:
        namespace: Its namespace.
        name: Its name.
        created_at: When S3 Tables created the entry (seconds since the epoch).
        reservation: The datax marker in its location, or ``None`` (none, unreadable, or not ours).
    """

    namespace: str
    name: str
    created_at: float
    reservation: Reservation | None

    @property
    def identifier(self) -> str:
        """``namespace.name``."""
        return f"{self.namespace}.{self.name}"

    def staleness(self, older_than: float | None = None, include_unmarked: bool = False) -> str | None:
        """Why the entry is stale, or ``None`` when that cannot be shown.

        Args:
            older_than: Seconds: a reservation older than that counts as stale whatever its host
                (the user's word that no conversion runs that long).
            include_unmarked: Whether an entry without a datax marker may be stale too (then by
                ``older_than`` and its creation time only).
        """
        age = time.time() - (self.reservation.reserved_at if self.reservation else self.created_at)
        if self.reservation is None:
            if include_unmarked and older_than is not None and age > older_than:
                return f"no datax marker, created {_iso(self.created_at)}, older than {_duration(older_than)}"
            return None
        if self.reservation.process_ended():
            return f"its process (pid {self.reservation.pid} on this host) has ended"
        if older_than is not None and age > older_than:
            return f"older than {_duration(older_than)}"
        return None

    def describe(self) -> str:
        """What is known about the entry, for a listing."""
        if self.reservation is None:
            return f"created {_iso(self.created_at)}, no datax marker (another tool's, or not marked yet)"
        ended = self.reservation.process_ended()
        process = {True: "process ended", False: "process running", None: "another host"}[ended]
        return f"{self.reservation.describe()} ({process})"


def parse_duration(text: str) -> float:
    """Seconds in ``30m``, ``12h``, ``2d`` or a plain number of seconds.

    Raises:
        ValueError: ``text`` is none of these, or not positive.
    """
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = (text[:-1], units[text[-1]]) if text and text[-1] in units else (text, 1)
    seconds = float(number) * unit
    if not seconds > 0:
        raise ValueError(f"a duration must be positive, not {text!r}")
    return seconds


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _boot_id() -> str:
    try:
        return _BOOT_ID.read_text().strip()
    except OSError:
        return ""
