"""The engine seam of the query benchmark: one protocol, one implementation per engine.

An engine runs a query against either side of every table pair, under the names the queries use,
with the same settings on both sides. It returns the answer as Arrow; the harness times the call.
"""

from __future__ import annotations

from typing import Protocol

import pyarrow as pa

from datax_migrate.benchmark.model import EngineInfo


class QueryEngine(Protocol):
    """Runs a query on the Delta source tables or on the Iceberg target tables."""

    def info(self) -> EngineInfo:
        """The engine, its version and the settings both sides run with."""
        ...

    def run(self, side: str, sql: str) -> pa.Table:
        """Run ``sql`` with its table names bound to ``side`` (``source`` or ``target``); the whole answer."""
        ...

    def close(self) -> None:
        """Release the engine (connections, sessions)."""
        ...
