"""Wording shared by every rendering: counts with their nouns, byte sizes."""

from __future__ import annotations


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``count`` and ``noun``, in the plural unless there is exactly one.

    The plural is ``nouns`` when given, else ``noun`` and an ``s``: ``plural(1, "bucket")`` is
    ``1 bucket``, ``plural(2, "bucket")`` is ``2 buckets``, ``plural(3, "row only in Delta",
    "rows only in Delta")`` is ``3 rows only in Delta``. Counts get thousands separators.
    """
    return f"{count:,} {noun if count == 1 else nouns or noun + 's'}"


def format_bytes(count: float) -> str:
    """A byte count in decimal units: ``512 B``, ``3.4 MB``, ``1.2 TB``."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            return f"{count / scale:,.1f} {unit}"
    return f"{count:,.0f} B"
