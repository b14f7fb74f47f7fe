"""Wording shared by every rendering: counts with their nouns."""

from __future__ import annotations


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``count`` and ``noun``, in the plural unless there is exactly one.

    The plural is ``nouns`` when given, else ``noun`` and an ``s``: ``plural(1, "bucket")`` is
    ``1 bucket``, ``plural(2, "bucket")`` is ``2 buckets``, ``plural(3, "row only in Delta",
    "rows only in Delta")`` is ``3 rows only in Delta``. Counts get thousands separators.
    """
    return f"{count:,} {noun if count == 1 else nouns or noun + 's'}"
