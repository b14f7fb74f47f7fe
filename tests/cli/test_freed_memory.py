"""The program keeps freed memory for reuse, and Arrow keeps its own pool, unless the environment says otherwise."""

from __future__ import annotations

import os
import subprocess
import sys

_POOL = "ARROW_DEFAULT_MEMORY_POOL"


def _pool_after_settings(env: dict[str, str]) -> str:
    """In the program's order (settings, then pyarrow): buffers allocated, freed and reused; the pool used."""
    code = (
        "from datax_migrate import cli; cli._keep_freed_memory(); import pyarrow as pa\n"
        "for _ in range(20):\n"
        "    a = pa.array(range(200_000)); assert a.sum().as_py() == 19_999_900_000\n"
        "print(pa.default_memory_pool().backend_name)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return done.stdout.strip()


def test_arrow_keeps_its_own_pool() -> None:
    env = {k: v for k, v in os.environ.items() if k != _POOL}
    assert _pool_after_settings(env) == "mimalloc"


def test_the_environment_wins() -> None:
    assert _pool_after_settings({**os.environ, _POOL: "system"}) == "system"
