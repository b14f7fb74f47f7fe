"""A local HTTP server answering the Databricks REST endpoints the workspace crawl calls.

Payloads follow the shapes databricks-sdk parses (Unity Catalog 2.1, SQL statements 2.0, workspace
2.0, jobs 2.2), with pagination by ``next_page_token``. Behaviour a test needs is configured on the
:class:`Workspace` before the crawl: a throttled first page, a table whose GET fails, ...
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse


@dataclass
class Workspace:
    """What the fake workspace holds and how it misbehaves."""

    token: str
    catalogs: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    """catalog -> schema -> TableInfo JSON documents."""
    failing_tables: dict[str, tuple[int, str]] = field(default_factory=dict)
    """full name -> (HTTP status, error_code) of its GET."""
    throttle_once: set[str] = field(default_factory=set)
    """Paths whose first request answers 429 with Retry-After."""
    server_errors: dict[str, list[int]] = field(default_factory=dict)
    """path -> 5xx statuses its next requests answer, one each, before it answers normally."""
    retry_after: dict[str, str] = field(default_factory=dict)
    """path -> Retry-After header of its 5xx answers."""
    hive: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    """hive_metastore schema -> table -> DESCRIBE DETAIL row (None for a view)."""
    hive_extended: dict[str, dict[str, str]] = field(default_factory=dict)
    """``schema.table`` -> ``# Detailed Table Information`` rows of DESCRIBE TABLE EXTENDED beyond
    those derived from the DESCRIBE DETAIL row (Type, Provider, Location, Table Properties)."""
    notebooks: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    """workspace path -> (language, SOURCE text, or None for one whose export fails)."""
    jobs: list[dict[str, Any]] = field(default_factory=list)
    slow: dict[str, float] = field(default_factory=dict)
    """path -> seconds to wait before answering it."""
    page_size: int = 2
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    """(method, path with query, Authorization header) of every request."""
    answered: list[str] = field(default_factory=list)
    """Path with query of every request, in the order they were answered."""
    received: list[tuple[float, str]] = field(default_factory=list)
    """(``time.monotonic()``, path) of every request, as it arrived."""
    statements: list[str] = field(default_factory=list)
    """The text of every SQL statement executed."""
    refused_statements: set[str] = field(default_factory=set)
    """SQL statements that end FAILED for lack of privileges."""


def _handler(workspace: Workspace) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def _serve(self, method: str) -> None:
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            workspace.requests.append((method, self.path, self.headers.get("Authorization")))
            workspace.received.append((time.monotonic(), url.path))
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}") if length else {}
            if url.path in workspace.throttle_once:
                workspace.throttle_once.discard(url.path)
                return self._send(
                    429, {"error_code": "TOO_MANY_REQUESTS", "message": "slow down"}, {"Retry-After": "1"}
                )
            if url.path.startswith("/api/") and self.headers.get("Authorization") != f"Bearer {workspace.token}":
                return self._send(401, {"error_code": "UNAUTHENTICATED", "message": "invalid access token"})
            if workspace.server_errors.get(url.path):
                status = workspace.server_errors[url.path].pop(0)
                headers = {"Retry-After": workspace.retry_after[url.path]} if url.path in workspace.retry_after else {}
                payload = {"error_code": _SERVER_ERRORS[status], "message": f"answered {status}"}
                return self._send(status, payload, headers)
            time.sleep(workspace.slow.get(url.path, 0.0))
            try:
                status, payload = self._route(method, url.path, query, body)
            except KeyError as exc:
                status, payload = 404, {"error_code": "NOT_FOUND", "message": f"{exc} does not exist"}
            self._send(status, payload)
            workspace.answered.append(self.path)

        def _route(self, method: str, path: str, query: dict[str, str], body: dict[str, Any]) -> tuple[int, Any]:
            if path == "/api/2.1/unity-catalog/catalogs":
                return 200, {"catalogs": [{"name": name, "full_name": name} for name in workspace.catalogs]}
            if path == "/api/2.1/unity-catalog/schemas":
                schemas = workspace.catalogs[query["catalog_name"]]
                return 200, {"schemas": [{"name": s, "full_name": f"{query['catalog_name']}.{s}"} for s in schemas]}
            if path == "/api/2.1/unity-catalog/tables":
                tables = workspace.catalogs[query["catalog_name"]][query["schema_name"]]
                page = _page(tables, query.get("page_token"), workspace.page_size)
                listed = [{k: v for k, v in t.items() if k not in ("columns", "properties")} for t in page.items]
                return 200, {"tables": listed, **page.token}
            if path.startswith("/api/2.1/unity-catalog/tables/"):
                full_name = unquote(path.rsplit("/", 1)[1])
                if full_name in workspace.failing_tables:
                    status, code = workspace.failing_tables[full_name]
                    return status, {"error_code": code, "message": f"User does not have SELECT on Table '{full_name}'."}
                catalog, schema, _ = full_name.split(".")
                return 200, next(t for t in workspace.catalogs[catalog][schema] if t["full_name"] == full_name)
            if path == "/api/2.0/sql/statements" and method == "POST":
                workspace.statements.append(body["statement"])
                return 200, _statement(workspace, body["statement"])
            if path == "/api/2.0/workspace/list":
                return 200, {"objects": _listing(workspace, query["path"])}
            if path == "/api/2.0/workspace/export":
                language, text = workspace.notebooks[query["path"]]
                if text is None:
                    raise KeyError(query["path"])
                return 200, {"content": base64.b64encode(text.encode()).decode(), "file_type": language.lower()}
            if path == "/api/2.2/jobs/list":
                page = _page(workspace.jobs, query.get("page_token"), workspace.page_size)
                return 200, {"jobs": page.items, "has_more": bool(page.token), **page.token}
            raise KeyError(path)

        def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler


@dataclass
class _Page:
    items: list[Any]
    token: dict[str, str]


def _page(items: list[Any], token: str | None, size: int) -> _Page:
    start = int(token or 0)
    end = start + size
    return _Page(items[start:end], {"next_page_token": str(end)} if end < len(items) else {})


def _listing(workspace: Workspace, folder: str) -> list[dict[str, Any]]:
    prefix = folder.rstrip("/") + "/"
    children: dict[str, dict[str, Any]] = {}
    for path, (language, _) in workspace.notebooks.items():
        if not path.startswith(prefix):
            continue
        rest = path[len(prefix) :]
        if "/" in rest:
            sub = prefix + rest.split("/", 1)[0]
            children[sub] = {"path": sub, "object_type": "DIRECTORY", "object_id": len(children) + 1}
        else:
            children[path] = {"path": path, "object_type": "NOTEBOOK", "language": language, "object_id": 99}
    return list(children.values())


_SERVER_ERRORS = {
    500: "INTERNAL_ERROR",
    502: "BAD_GATEWAY",
    503: "TEMPORARILY_UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_SHOW_TABLES = re.compile(r"SHOW (TABLES|VIEWS) IN hive_metastore\.`(.+)`$")
_DESCRIBE = re.compile(r"DESCRIBE DETAIL hive_metastore\.`(.+)`\.`(.+)`$")
_EXTENDED = re.compile(r"DESCRIBE TABLE EXTENDED hive_metastore\.`(.+)`\.`(.+)`$")
_DETAIL_COLUMNS = (
    "format",
    "id",
    "name",
    "location",
    "partitionColumns",
    "numFiles",
    "sizeInBytes",
    "properties",
    "minReaderVersion",
    "minWriterVersion",
    "tableFeatures",
    "lastModified",
)


def _statement(workspace: Workspace, text: str) -> dict[str, Any]:
    if text in workspace.refused_statements:
        return _failed(f"Insufficient privileges: User does not have USAGE on {text.rsplit(' ', 1)[-1]}")
    if text == "SHOW SCHEMAS IN hive_metastore":
        return _result(["databaseName"], [[s] for s in workspace.hive])
    if match := _SHOW_TABLES.match(text):
        kind, schema = match.groups()
        tables = workspace.hive[schema]
        if kind == "VIEWS":
            return _result(
                ["namespace", "viewName", "isTemporary"], [[schema, t, "false"] for t, d in tables.items() if d is None]
            )
        return _result(["database", "tableName", "isTemporary"], [[schema, t, "false"] for t in tables])
    if match := _EXTENDED.match(text):
        schema, table = match.groups()
        return _result(["col_name", "data_type", "comment"], _extended(workspace, schema, table))
    if match := _DESCRIBE.match(text):
        schema, table = match.groups()
        detail = workspace.hive[schema][table]
        row = [None if detail.get(c) is None else _text(detail[c]) for c in _DETAIL_COLUMNS]
        return _result(list(_DETAIL_COLUMNS), [row])
    return _failed(f"cannot run {text}")


def _failed(message: str) -> dict[str, Any]:
    return {
        "statement_id": "s-err",
        "status": {"state": "FAILED", "error": {"error_code": "BAD_REQUEST", "message": message}},
    }


def _extended(workspace: Workspace, schema: str, table: str) -> list[list[str]]:
    """The rows of DESCRIBE TABLE EXTENDED as Spark prints them: columns, then the detailed section."""
    detail = workspace.hive[schema][table]
    facts = {"Catalog": "spark_catalog", "Database": schema, "Table": table, "Last Access": "UNKNOWN"}
    if detail is None:
        facts["Type"] = "VIEW"
    else:
        location = detail.get("location", "")
        facts["Type"] = "MANAGED" if location.startswith("dbfs:/user/hive/warehouse") else "EXTERNAL"
        facts["Provider"] = detail.get("format", "")
        facts["Location"] = location
        properties = detail.get("properties") or {}
        facts["Table Properties"] = "[" + ",".join(f"{k}={v}" for k, v in sorted(properties.items())) + "]"
    facts.update(workspace.hive_extended.get(f"{schema}.{table}", {}))
    columns = [["id", "bigint", ""], ["day", "date", ""]]
    partitions = [["# Partition Information", "", ""], ["# col_name", "data_type", "comment"], ["day", "date", ""]]
    detailed = [["", "", ""], ["# Detailed Table Information", "", ""]]
    return columns + partitions + detailed + [[key, value, ""] for key, value in facts.items()]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _result(columns: list[str], rows: list[list[Any]]) -> dict[str, Any]:
    return {
        "statement_id": "s-1",
        "status": {"state": "SUCCEEDED"},
        "manifest": {
            "format": "JSON_ARRAY",
            "schema": {
                "column_count": len(columns),
                "columns": [{"name": c, "type_name": "STRING", "position": i} for i, c in enumerate(columns)],
            },
            "total_row_count": len(rows),
            "total_chunk_count": 1,
        },
        "result": {"chunk_index": 0, "row_offset": 0, "row_count": len(rows), "data_array": rows},
    }


@contextmanager
def serve(workspace: Workspace) -> Iterator[str]:
    """Serve ``workspace`` on 127.0.0.1; yields its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(workspace))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
