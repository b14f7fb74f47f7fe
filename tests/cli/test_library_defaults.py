"""The command line's own process settings for the libraries it loads: set before they load, the environment wins."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = (
    "from datax_migrate.cli import _library_defaults; _library_defaults(); "
    "import pyarrow as pa, os; print(pa.default_memory_pool().backend_name, os.environ['OPENBLAS_NUM_THREADS'])"
)


def probe(**env: str) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"ARROW_DEFAULT_MEMORY_POOL", "OPENBLAS_NUM_THREADS"}}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env={**clean, **env}, capture_output=True, text=True, check=True
    )
    assert done.stderr == ""  # no warning about an unknown pool
    return done.stdout.split()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the jemalloc default is for Linux only")
def test_arrow_uses_jemalloc_and_openblas_one_thread() -> None:
    assert probe() == ["jemalloc", "1"]


def test_the_environment_wins() -> None:
    assert probe(ARROW_DEFAULT_MEMORY_POOL="mimalloc", OPENBLAS_NUM_THREADS="2") == ["mimalloc", "2"]
