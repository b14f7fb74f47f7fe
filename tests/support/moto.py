"""moto in server mode: a real HTTP endpoint on 127.0.0.1 for S3, S3 Tables, Glue and EMR (marker ``aws``).

A plugin of ``tests/conftest.py``: the server starts when the first test of a worker asks for it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.endpoint_proxy import EndpointProxy


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    server = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or shutil.which("moto_server")
    if server is None:
        pytest.skip("moto_server is not installed: pip install 'moto[server]'")
    port = _free_port()
    process = subprocess.Popen(
        [server, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("moto_server did not start")
    yield endpoint
    process.terminate()
    process.wait(timeout=10)


def _point_aws_clients_at(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def aws_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point every AWS client (boto3, pyarrow) at moto with throwaway credentials."""
    _point_aws_clients_at(moto_endpoint, monkeypatch)
    return moto_endpoint


@pytest.fixture
def endpoint_proxy(moto_endpoint: str) -> Iterator[EndpointProxy]:
    """A request-counting, fault-injecting HTTP hop in front of moto; closing it re-raises hook errors."""
    with EndpointProxy(moto_endpoint) as proxy:
        yield proxy


@pytest.fixture
def aws_proxy_env(endpoint_proxy: EndpointProxy, monkeypatch: pytest.MonkeyPatch) -> EndpointProxy:
    """Like ``aws_env``, but every AWS client goes through ``endpoint_proxy``."""
    _point_aws_clients_at(endpoint_proxy.endpoint, monkeypatch)
    return endpoint_proxy


@pytest.fixture
def s3tables_proxy_env(aws_proxy_env: EndpointProxy) -> EndpointProxy:
    """Like ``aws_proxy_env``, but the proxy refuses ``Expect: 100-continue`` as S3 Tables does."""
    aws_proxy_env.refuse_expect_continue = True
    return aws_proxy_env
