"""``mode: rest``: the S3 Tables Iceberg REST endpoint, SigV4-signed for ``s3tables``, no staged creates.

moto has no S3 Tables REST routes, so a local HTTP server stands in for the endpoint's first call
(``GET /iceberg/v1/config``) and records how it was asked.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from datax_migrate.catalogs import STAGE_CREATE, open_catalog, stages_creates

ARN = "arn:aws:s3tables:eu-west-1:111122223333:bucket/lake"


class ConfigEndpoint(BaseHTTPRequestHandler):
    seen: list[tuple[str, dict[str, str]]] = []

    def do_GET(self) -> None:  # noqa: N802 - the http.server hook name
        self.seen.append((self.path, dict(self.headers)))
        body = json.dumps({"defaults": {}, "overrides": {}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[str]:
    ConfigEndpoint.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), ConfigEndpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_rest_mode_signs_for_s3tables_in_the_buckets_region_and_never_stages_creates(
    endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-real-secret")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    catalog = open_catalog(
        "lake", {"type": "s3tables", "mode": "rest", "warehouse": ARN, "s3tables.endpoint": endpoint}
    )

    path, headers = ConfigEndpoint.seen[0]
    assert path == f"/iceberg/v1/config?warehouse={ARN.replace(':', '%3A').replace('/', '%2F')}"
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/s3tables/aws4_request" in headers["Authorization"]
    assert "not-a-real-secret" not in json.dumps(ConfigEndpoint.seen)
    assert catalog.properties[STAGE_CREATE] == "false" and not stages_creates(catalog)
