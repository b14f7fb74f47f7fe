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
REUSE_PROBE = """
from datax_migrate.cli import _library_defaults
_library_defaults()
import resource, time
import numpy as np
import pyarrow as pa
def touch():
    buffer = pa.allocate_buffer(64 << 20)
    np.frombuffer(buffer, dtype=np.uint8)[:] = 1
touch()
time.sleep(2.5)  # Arrow's own jemalloc options hand freed pages back within a second
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
touch()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""
SETTINGS = {"ARROW_DEFAULT_MEMORY_POOL", "OPENBLAS_NUM_THREADS", "JE_ARROW_MALLOC_CONF"}


def probe(**env: str) -> list[str]:
    return run(PROBE, **env)


def run(code: str, **env: str) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    command = [sys.executable, "-c", code]
    done = subprocess.run(command, env={**clean, **env}, capture_output=True, text=True, check=True)
    assert done.stderr == ""  # no warning about an unknown pool or option
    return done.stdout.split()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the jemalloc default is for Linux only")
def test_arrow_uses_jemalloc_and_openblas_one_thread() -> None:
    assert probe() == ["jemalloc", "1"]


def test_the_environment_wins() -> None:
    assert probe(ARROW_DEFAULT_MEMORY_POOL="mimalloc", OPENBLAS_NUM_THREADS="2") == ["mimalloc", "2"]


@pytest.mark.slow  # two processes that each wait 2.5 s
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the jemalloc options are for Linux only")
def test_freed_pages_are_reused_not_handed_back() -> None:
    """64 MB freed, then asked for again a while later: no page comes back from the kernel (about 16K otherwise)."""
    assert int(run(REUSE_PROBE)[0]) < 500
    assert int(run(REUSE_PROBE, JE_ARROW_MALLOC_CONF="dirty_decay_ms:1000")[0]) > 10_000  # the environment wins
