"""The program keeps freed memory for reuse unless the environment says otherwise."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from datax_migrate import cli


def test_mimalloc_keeps_free_pages_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MIMALLOC_PURGE_DELAY", raising=False)
    cli._keep_freed_memory()
    assert os.environ["MIMALLOC_PURGE_DELAY"] == "-1"


def test_the_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIMALLOC_PURGE_DELAY", "250")
    cli._keep_freed_memory()
    assert os.environ["MIMALLOC_PURGE_DELAY"] == "250"


def test_pyarrow_loaded_after_it_still_works() -> None:
    """In the program's order (settings, then pyarrow): buffers are allocated, freed and reused."""
    code = (
        "from datax_migrate import cli; cli._keep_freed_memory(); import pyarrow as pa\n"
        "for _ in range(20):\n"
        "    a = pa.array(range(200_000)); assert a.sum().as_py() == 19_999_900_000\n"
        "print(pa.default_memory_pool().backend_name)"
    )
    env = {k: v for k, v in os.environ.items() if k != "MIMALLOC_PURGE_DELAY"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip() in {"mimalloc", "jemalloc", "system"}
