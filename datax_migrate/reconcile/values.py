"""Cell values as JSON-safe plain values, for reports."""

from __future__ import annotations

import datetime as dt
import decimal
import math
from typing import Any


def plain(value: Any) -> Any:
    """``value`` as something ``json.dumps`` writes faithfully.

    Decimals become strings (no binary rounding), dates and times ISO-8601, bytes hex, NaN and the
    infinities the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``; lists, maps and structs are
    converted element by element.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value
