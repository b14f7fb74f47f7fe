"""An unreachable Databricks workspace stops `inventory` within a bounded time, with one line naming the host."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.databricks

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "dapi0123456789abcdef-SECRET"


def inventory(tmp_path: Path, host: str, *options: str, env: dict[str, str] | None = None) -> tuple[int, str, float]:
    """Run ``inventory --host`` in a child process with the token in the environment; code, stderr, seconds."""
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABRICKS_", "DATAX_DATABRICKS_"))},
        "PYTHONPATH": str(ROOT),
        "DATABRICKS_TOKEN": TOKEN,
        "DATABRICKS_CONFIG_FILE": str(tmp_path / "no-databrickscfg"),
        **(env or {}),
    }
    started = time.monotonic()
    finished = subprocess.run(
        [sys.executable, "-m", "datax_migrate.cli", "inventory", "--host", host, *options],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=300,
    )
    assert TOKEN not in finished.stdout + finished.stderr
    return finished.returncode, finished.stderr, time.monotonic() - started


def closed_port() -> int:
    """A port nothing listens on: bound, then closed."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A server that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    server.close()


@pytest.mark.slow
def test_a_closed_port_fails_within_90_s_with_the_default_settings(tmp_path: Path) -> None:
    host = f"http://127.0.0.1:{closed_port()}"
    code, stderr, seconds = inventory(tmp_path, host)
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and f"cannot reach the Databricks workspace {host} within 60 s" in lines[0]
    assert seconds < 90


def test_a_server_that_never_answers_fails_within_a_small_timeout(tmp_path: Path, silent_server: str) -> None:
    code, stderr, seconds = inventory(tmp_path, silent_server, "--timeout", "4")
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and f"cannot reach the Databricks workspace {silent_server} within 4 s" in lines[0]
    assert seconds < 25


def test_the_timeout_can_come_from_the_environment(tmp_path: Path, silent_server: str) -> None:
    code, stderr, _ = inventory(tmp_path, silent_server, env={"DATAX_DATABRICKS_TIMEOUT": "3"})
    assert code == 2 and "within 3 s" in stderr


def test_a_bad_timeout_is_refused(tmp_path: Path) -> None:
    code, stderr, _ = inventory(tmp_path, "http://127.0.0.1:9", env={"DATAX_DATABRICKS_TIMEOUT": "soon"})
    assert code == 2 and stderr.strip().splitlines() == [
        "datax-migrate: error: DATAX_DATABRICKS_TIMEOUT='soon': expected a positive number of seconds"
    ]
