"""A real HTTP hop between AWS clients and the moto server that counts requests and injects faults.

Tests point boto3, pyarrow's ``S3FileSystem`` and pyiceberg at :attr:`EndpointProxy.endpoint`; every request is
read in full (``Content-Length`` or ``Transfer-Encoding: chunked`` bodies, after answering
``Expect: 100-continue``), classified into a service and an operation, recorded, and then either forwarded to the
upstream moto endpoint with :mod:`http.client` or answered with an injected fault.

Classification: several AWS services share the one moto endpoint, so the service is read first from the SigV4
credential scope the client signed with (``Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/
<service>/aws4_request``, or ``X-Amz-Credential`` for presigned URLs). That is the signal moto itself dispatches
on, and the only reliable one: ``GET /buckets`` is ListTableBuckets when signed for ``s3tables`` but
ListObjects on a bucket named ``buckets`` when signed for ``s3``. Unsigned requests fall back to the
``X-Amz-Target`` prefix, then to the S3 Tables routes, then to S3. The operation then comes from:

* ``X-Amz-Target`` for JSON-protocol services (``AWSGlue.GetTable`` -> ``GetTable``);
* a hand-written table for S3 (method, bucket vs object path, sub-resource query keys such as ``?uploads``,
  ``?uploadId=``, ``?partNumber=``, ``?list-type=2``, and ``x-amz-copy-source``); path-style addressing is assumed;
* botocore's service model for other REST services such as ``s3tables`` (method plus ``requestUri`` template,
  matched on the raw path so percent-encoded ARNs stay one segment);
* the ``Action`` parameter for query-protocol services; otherwise ``"<METHOD> <path>"``.
"""

from __future__ import annotations

import dataclasses
import functools
import http.client
import json
import re
import socket
import struct
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

FaultKind = Literal["status", "reset", "after", "lost"]

_FAULT_KINDS = ("status", "reset", "after", "lost")
_JSON_SERVICES = frozenset({"s3tables", "glue"})
_NOT_RELAYED = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "expect",
        "host",
        "content-length",
    }
)
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/,\s]+/([^/,\s]+)/aws4_request")
_TARGET_PREFIXES = {"AWSGlue": "glue", "ElasticMapReduce": "elasticmapreduce"}


@dataclass(frozen=True)
class RequestRecord:
    """One request the proxy received.

    Attributes:
        method: HTTP method.
        path: Request path as received (percent-encoding kept, so an ARN is one segment).
        query: Raw query string, without the ``?``.
        service: SigV4 signing name: ``s3``, ``s3tables``, ``glue``, ...
        operation: API operation name, e.g. ``PutObject`` or ``UpdateTableMetadataLocation``.
        status: Status sent to the client; ``None`` before forwarding and for ``reset`` faults.
        injected: Whether a :class:`FaultRule` matched this request, or the proxy refused its ``Expect``.
        expect: The request's ``Expect`` header (``100-continue`` from clients that wait before sending a
            body), or ``None``.
    """

    method: str
    path: str
    query: str
    service: str
    operation: str
    status: int | None = None
    injected: bool = False
    expect: str | None = None


RequestHook = Callable[[RequestRecord], None]


@dataclass(frozen=True)
class FaultRule:
    """Fail the next ``times`` requests for ``service``/``operation``.

    Attributes:
        service: Signing name to match (``s3``, ``s3tables``, ``glue``); ``None`` matches any service.
        operation: Exact operation name; ``None`` matches any operation of the service.
        times: How many matching requests to fail; the rule is spent afterwards.
        status: HTTP status of the injected error (``kind="status"``).
        code: AWS error code of the injected error, e.g. ``SlowDown`` or ``ThrottlingException``.
        kind: ``"status"`` answers with an AWS-shaped error without forwarding; ``"reset"`` reads the request and
            then resets the connection without any response; ``"after"`` forwards the request, then runs
            ``hook`` with the record (upstream status filled in) before relaying the response; ``"lost"`` forwards
            the request and resets the connection instead of relaying the response (the request took effect,
            the client never hears so).
        message: Error message of the injected error.
        hook: Callback for ``kind="after"``; it runs in the proxy thread.
    """

    service: str | None
    operation: str | None = None
    times: int = 1
    status: int = 503
    code: str = "SlowDown"
    kind: FaultKind = "status"
    message: str = "Fault injected by EndpointProxy"
    hook: RequestHook | None = None

    def __post_init__(self) -> None:
        if self.kind not in _FAULT_KINDS:
            raise ValueError(f"FaultRule.kind must be one of {_FAULT_KINDS}, got {self.kind!r}")
        if self.times < 1:
            raise ValueError(f"FaultRule.times must be at least 1, got {self.times}")
        if self.kind == "after" and self.hook is None:
            raise ValueError('FaultRule(kind="after") needs a hook to run after forwarding')

    def matches(self, record: RequestRecord) -> bool:
        """Whether this rule applies to ``record``."""
        return (self.service is None or self.service == record.service) and (
            self.operation is None or self.operation == record.operation
        )


def classify(
    method: str, path: str, query: str, headers: Mapping[str, str] | Iterable[tuple[str, str]], body: bytes = b""
) -> tuple[str, str]:
    """Return ``(service, operation)`` for a request; see the module docstring for the rules."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    lowered = {name.lower(): value for name, value in items}
    params = parse_qs(query, keep_blank_values=True)
    target = lowered.get("x-amz-target", "")
    service = _signing_service(lowered.get("authorization", ""), params)
    if service is None:
        if target:
            prefix = target.split(".", 1)[0].split("_", 1)[0]
            service = _TARGET_PREFIXES.get(prefix, prefix.lower())
        elif _rest_operation("s3tables", method, path, params) is not None:
            service = "s3tables"
        else:
            service = "s3"
    if target:
        return service, target.rsplit(".", 1)[-1]
    if service == "s3":
        return service, _s3_operation(method, path, params, lowered)
    operation = _rest_operation(service, method, path, params) or _query_action(params, body, lowered)
    return service, operation or f"{method} {path}"


def _signing_service(authorization: str, params: Mapping[str, list[str]]) -> str | None:
    match = _CREDENTIAL_SCOPE.search(authorization)
    if match:
        return match.group(1)
    scope = params.get("X-Amz-Credential", [""])[0].split("/")
    return scope[3] if len(scope) == 5 else None


def _query_action(params: Mapping[str, list[str]], body: bytes, headers: Mapping[str, str]) -> str | None:
    if "Action" in params:
        return params["Action"][0]
    if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        action = parse_qs(body.decode("utf-8", "replace")).get("Action")
        return action[0] if action else None
    return None


@dataclass(frozen=True)
class _RestRoute:
    method: str
    segments: tuple[str, ...]
    query_keys: frozenset[str]
    operation: str

    def matches(self, method: str, segments: list[str], params: Mapping[str, list[str]]) -> bool:
        if method != self.method or not self.query_keys <= params.keys():
            return False
        greedy = bool(self.segments) and self.segments[-1].endswith("+}")
        if len(segments) != len(self.segments) and not (greedy and len(segments) >= len(self.segments)):
            return False
        for template, actual in zip(self.segments, segments, strict=False):
            if template.startswith("{"):
                if not actual:
                    return False
            elif template != actual:
                return False
        return True

    @property
    def specificity(self) -> tuple[int, int]:
        return sum(not s.startswith("{") for s in self.segments), len(self.query_keys)


@functools.cache
def _rest_routes(service: str) -> tuple[_RestRoute, ...]:
    import botocore.exceptions
    import botocore.loaders

    try:
        model = botocore.loaders.create_loader().load_service_model(service, "service-2")
    except botocore.exceptions.DataNotFoundError:
        return ()
    if model["metadata"].get("protocol") not in ("rest-json", "rest-xml"):
        return ()
    routes = []
    for name, operation in model["operations"].items():
        uri_path, _, uri_query = operation["http"]["requestUri"].partition("?")
        query_keys = frozenset(part.split("=", 1)[0] for part in uri_query.split("&") if part)
        segments = tuple(uri_path.strip("/").split("/")) if uri_path.strip("/") else ()
        routes.append(_RestRoute(operation["http"]["method"], segments, query_keys, name))
    routes.sort(key=lambda route: route.specificity, reverse=True)
    return tuple(routes)


def _rest_operation(service: str, method: str, path: str, params: Mapping[str, list[str]]) -> str | None:
    stripped = path.strip("/")
    segments = stripped.split("/") if stripped else []
    for route in _rest_routes(service):
        if route.matches(method, segments, params):
            return route.operation
    return None


_S3_BUCKET_SUBRESOURCES = {
    "accelerate": "BucketAccelerateConfiguration",
    "acl": "BucketAcl",
    "analytics": "BucketAnalyticsConfiguration",
    "cors": "BucketCors",
    "encryption": "BucketEncryption",
    "intelligent-tiering": "BucketIntelligentTieringConfiguration",
    "inventory": "BucketInventoryConfiguration",
    "lifecycle": "BucketLifecycleConfiguration",
    "logging": "BucketLogging",
    "metrics": "BucketMetricsConfiguration",
    "notification": "BucketNotificationConfiguration",
    "object-lock": "ObjectLockConfiguration",
    "ownershipControls": "BucketOwnershipControls",
    "policy": "BucketPolicy",
    "policyStatus": "BucketPolicyStatus",
    "publicAccessBlock": "PublicAccessBlock",
    "replication": "BucketReplication",
    "requestPayment": "BucketRequestPayment",
    "tagging": "BucketTagging",
    "versioning": "BucketVersioning",
    "website": "BucketWebsite",
}
_S3_OBJECT_SUBRESOURCES = {
    "acl": "ObjectAcl",
    "attributes": "ObjectAttributes",
    "legal-hold": "ObjectLegalHold",
    "retention": "ObjectRetention",
    "tagging": "ObjectTagging",
    "torrent": "ObjectTorrent",
}
_S3_METHOD_VERBS = {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}


def _s3_operation(method: str, path: str, params: Mapping[str, list[str]], headers: Mapping[str, str]) -> str:
    if "x-id" in params:
        return params["x-id"][0]
    bucket, _, key = path.lstrip("/").partition("/")
    if not bucket:
        return "ListBuckets" if method == "GET" else f"{method} /"
    if key:
        return _s3_object_operation(method, params, headers)
    return _s3_bucket_operation(method, params)


def _s3_bucket_operation(method: str, params: Mapping[str, list[str]]) -> str:
    if method == "HEAD":
        return "HeadBucket"
    if method == "POST":
        return "DeleteObjects" if "delete" in params else "POST bucket"
    if method == "GET":
        if params.get("list-type") == ["2"]:
            return "ListObjectsV2"
        for key, operation in (("uploads", "ListMultipartUploads"), ("versions", "ListObjectVersions")):
            if key in params:
                return operation
        if "location" in params:
            return "GetBucketLocation"
    subresource = next((_S3_BUCKET_SUBRESOURCES[key] for key in params if key in _S3_BUCKET_SUBRESOURCES), None)
    if subresource is not None and method in _S3_METHOD_VERBS:
        if method == "DELETE" and subresource == "BucketLifecycleConfiguration":
            return "DeleteBucketLifecycle"
        return _S3_METHOD_VERBS[method] + subresource
    return {"GET": "ListObjects", "PUT": "CreateBucket", "DELETE": "DeleteBucket"}.get(method, f"{method} bucket")


def _s3_object_operation(method: str, params: Mapping[str, list[str]], headers: Mapping[str, str]) -> str:
    copy = "x-amz-copy-source" in headers
    if method == "HEAD":
        return "HeadObject"
    if method == "POST":
        for key, operation in (
            ("uploads", "CreateMultipartUpload"),
            ("uploadId", "CompleteMultipartUpload"),
            ("restore", "RestoreObject"),
            ("select", "SelectObjectContent"),
        ):
            if key in params:
                return operation
        return "POST object"
    if "uploadId" in params:
        if method == "PUT":
            return "UploadPartCopy" if copy else "UploadPart"
        return {"GET": "ListParts", "DELETE": "AbortMultipartUpload"}.get(method, f"{method} object?uploadId")
    subresource = next((_S3_OBJECT_SUBRESOURCES[key] for key in params if key in _S3_OBJECT_SUBRESOURCES), None)
    if subresource is not None and method in _S3_METHOD_VERBS:
        return _S3_METHOD_VERBS[method] + subresource
    if method == "PUT":
        return "CopyObject" if copy else "PutObject"
    return {"GET": "GetObject", "DELETE": "DeleteObject"}.get(method, f"{method} object")


_UNSUPPORTED_EXPECT = FaultRule(
    None,
    status=400,
    code="S3TablesUnsupportedHeader",
    message="S3 Tables does not support the header: expect value: 100-continue",
)
"""What S3 Tables answers to a request carrying ``Expect: 100-continue`` (apache/iceberg-python#3363)."""


class _ArmedFault:
    def __init__(self, rule: FaultRule) -> None:
        self.rule = rule
        self.remaining = rule.times


class EndpointProxy:
    """A threaded HTTP proxy on 127.0.0.1 that forwards to ``upstream``, logging and optionally failing requests.

    Example:
        with EndpointProxy(moto_endpoint) as proxy:
            proxy.inject(FaultRule("s3", "PutObject", status=503, code="SlowDown"))
            boto3.client("s3", endpoint_url=proxy.endpoint).put_object(...)
            assert proxy.counts("s3")["PutObject"] == 2

    Exceptions raised by hooks are kept and re-raised by :meth:`close`, so a failed assertion inside a hook
    fails the test even though it ran in a proxy thread.
    """

    def __init__(
        self,
        upstream: str,
        *,
        before_forward: RequestHook | None = None,
        timeout: float = 60.0,
        refuse_expect_continue: bool = False,
    ) -> None:
        """Start serving.

        Args:
            upstream: Base URL of the server to forward to, e.g. ``http://127.0.0.1:5000``.
            before_forward: Optional hook; see :meth:`on_request`.
            timeout: Socket timeout toward the upstream and for idle client connections, in seconds.
            refuse_expect_continue: Answer every request that carries ``Expect: 100-continue`` with
                ``400 S3TablesUnsupportedHeader`` before its body is sent, as S3 Tables does, instead of
                ``100 Continue``; settable later as the attribute of the same name.
        """
        parts = urlsplit(upstream)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"upstream must be an http(s) URL such as http://127.0.0.1:5000, got {upstream!r}")
        self._upstream = upstream.rstrip("/")
        self._upstream_scheme = parts.scheme
        self._upstream_netloc = parts.netloc
        self._timeout = timeout
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []
        self._faults: list[_ArmedFault] = []
        self._before_forward = before_forward
        self._hook_errors: list[BaseException] = []
        self._closed = False
        self.refuse_expect_continue = refuse_expect_continue
        self._server = _ProxyServer(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="endpoint-proxy", daemon=True
        )
        self._thread.start()

    @property
    def endpoint(self) -> str:
        """URL clients should use, e.g. ``http://127.0.0.1:54321``."""
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def upstream(self) -> str:
        """URL of the server requests are forwarded to."""
        return self._upstream

    @property
    def records(self) -> list[RequestRecord]:
        """A snapshot of the request log, oldest first."""
        with self._lock:
            return list(self._records)

    def counts(self, service: str | None = None) -> Counter[str]:
        """Count logged requests by operation, optionally only those of one ``service``."""
        with self._lock:
            return Counter(r.operation for r in self._records if service is None or r.service == service)

    def reset(self) -> None:
        """Clear the request log (pending faults stay armed; see :meth:`clear_faults`)."""
        with self._lock:
            self._records.clear()

    def inject(self, rule: FaultRule) -> None:
        """Arm ``rule``; rules are tried in the order they were injected and each fires ``rule.times`` times."""
        with self._lock:
            self._faults.append(_ArmedFault(rule))

    def clear_faults(self) -> None:
        """Disarm every pending fault."""
        with self._lock:
            self._faults.clear()

    def pending_faults(self) -> list[tuple[FaultRule, int]]:
        """Rules that have not fired ``times`` times yet, with how many firings remain."""
        with self._lock:
            return [(armed.rule, armed.remaining) for armed in self._faults if armed.remaining]

    def on_request(self, callback: RequestHook | None) -> RequestHook | None:
        """Run ``callback(record)`` for every request, in the proxy thread, before it is forwarded or faulted.

        The record carries the service, operation and ``injected`` flag, with ``status=None``. The request waits
        until the callback returns, so a test can, for example, commit a competing table update right before an
        ``UpdateTableMetadataLocation`` reaches moto. Requests the callback itself sends through the proxy call it
        again (in another thread): guard with a flag or talk to :attr:`upstream` directly. ``None`` removes
        the callback. Returns ``callback`` so this works as a decorator.
        """
        self._before_forward = callback
        return callback

    @property
    def hook_errors(self) -> list[BaseException]:
        """Exceptions raised by hooks so far."""
        with self._lock:
            return list(self._hook_errors)

    def close(self) -> None:
        """Stop serving, drop open client connections, then re-raise the first exception a hook raised."""
        if not self._closed:
            self._closed = True
            self._server.shutdown()
            self._server.drop_connections()
            self._server.server_close()
            self._thread.join(timeout=5)
        errors = self.hook_errors
        if errors:
            raise errors[0]

    def __enter__(self) -> EndpointProxy:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        try:
            self.close()
        except Exception:
            if exc is None:
                raise  # otherwise the exception already propagating is the one to report

    def __repr__(self) -> str:
        return f"EndpointProxy({self.endpoint} -> {self._upstream})"

    def _arm(self, record: RequestRecord) -> FaultRule | None:
        with self._lock:
            for armed in self._faults:
                if armed.remaining and armed.rule.matches(record):
                    armed.remaining -= 1
                    return armed.rule
        return None

    def _log(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)

    def _run_hook(self, hook: RequestHook | None, record: RequestRecord) -> None:
        if hook is None:
            return
        try:
            hook(record)
        except BaseException as error:  # pytest.fail() raises a BaseException; surfaced by close()
            with self._lock:
                self._hook_errors.append(error)

    def _upstream_connection(self) -> http.client.HTTPConnection:
        if self._upstream_scheme == "https":
            return http.client.HTTPSConnection(self._upstream_netloc, timeout=self._timeout)
        return http.client.HTTPConnection(self._upstream_netloc, timeout=self._timeout)


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, proxy: EndpointProxy) -> None:
        self.proxy = proxy
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _ProxyHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return  # the client went away (killed, timed out, or close() dropped it): nothing to report
        super().handle_error(request, client_address)

    def drop_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ProxyServer

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.proxy._timeout)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def handle_expect_100(self) -> bool:
        """Answer ``Expect: 100-continue`` with ``100 Continue``, or refuse it as S3 Tables does."""
        proxy = self.server.proxy
        if not proxy.refuse_expect_continue:
            return super().handle_expect_100()
        parts = urlsplit(self.path)
        path, query = parts.path or "/", parts.query
        service, operation = classify(self.command, path, query, self.headers.items())
        record = RequestRecord(
            self.command, path, query, service, operation, injected=True, expect=self.headers.get("Expect")
        )
        proxy._run_hook(proxy._before_forward, record)
        status, headers, payload = _error_response(service, _UNSUPPORTED_EXPECT)
        proxy._log(dataclasses.replace(record, status=status))
        self.close_connection = True  # the body, if the client sends it anyway, is never read
        self._respond(status, None, headers, payload, upstream_length=None)
        return False

    def _handle(self) -> None:
        proxy = self.server.proxy
        body = self._read_body()
        parts = urlsplit(self.path)
        path, query = parts.path or "/", parts.query
        service, operation = classify(self.command, path, query, self.headers.items(), body)
        record = RequestRecord(self.command, path, query, service, operation, expect=self.headers.get("Expect"))
        rule = proxy._arm(record)
        if rule is not None:
            record = dataclasses.replace(record, injected=True)
        proxy._run_hook(proxy._before_forward, record)

        if rule is not None and rule.kind == "reset":
            proxy._log(record)
            self._reset_connection()
            return
        if rule is not None and rule.kind == "status":
            status, headers, payload = _error_response(service, rule)
            proxy._log(dataclasses.replace(record, status=status))
            self._respond(status, None, headers, payload, upstream_length=None)
            return

        try:
            status, reason, headers, payload = self._forward(path, query, body)
        except (OSError, http.client.HTTPException) as error:
            status, reason = 502, "Bad Gateway"
            payload = f"EndpointProxy could not reach {proxy.upstream}: {error}".encode()
            headers = [("Content-Type", "text/plain; charset=utf-8")]
        record = dataclasses.replace(record, status=status)
        if rule is not None and rule.kind == "after":
            proxy._run_hook(rule.hook, record)
        proxy._log(record)
        if rule is not None and rule.kind == "lost":
            self._reset_connection()
            return
        upstream_length = next((v for k, v in headers if k.lower() == "content-length"), None)
        self._respond(status, reason, headers, payload, upstream_length=upstream_length)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _handle

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size_line = self.rfile.readline(65537)
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailer fields: nothing to relay for moto
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _forward(self, path: str, query: str, body: bytes) -> tuple[int, str, list[tuple[str, str]], bytes]:
        proxy = self.server.proxy
        has_body = bool(body) or "Content-Length" in self.headers or "Transfer-Encoding" in self.headers
        connection = proxy._upstream_connection()
        try:
            connection.putrequest(
                self.command, path + (f"?{query}" if query else ""), skip_host=True, skip_accept_encoding=True
            )
            connection.putheader("Host", proxy._upstream_netloc)
            for name, value in self.headers.items():
                if name.lower() not in _NOT_RELAYED:
                    connection.putheader(name, value)
            if has_body:
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body if has_body else None)
            response = connection.getresponse()
            payload = response.read()
            return response.status, response.reason, response.getheaders(), payload
        finally:
            connection.close()

    def _respond(
        self,
        status: int,
        reason: str | None,
        headers: list[tuple[str, str]],
        payload: bytes,
        *,
        upstream_length: str | None,
    ) -> None:
        self.send_response_only(status, reason)
        for name, value in headers:
            if name.lower() not in _NOT_RELAYED:
                self.send_header(name, value)
        no_body = self.command == "HEAD" or status in (204, 304) or 100 <= status < 200
        if self.command == "HEAD" or status == 304:
            # HEAD and 304 describe the representation without sending it: keep the upstream length.
            self.send_header("Content-Length", upstream_length or str(len(payload)))
        elif status != 204:
            self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if not no_body:
            self.wfile.write(payload)

    def _reset_connection(self) -> None:
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.rfile.close()  # releases the makefile reference; the socket closes now, with RST


def _error_response(service: str, rule: FaultRule) -> tuple[int, list[tuple[str, str]], bytes]:
    request_id = uuid.uuid4().hex.upper()[:16]
    if service in _JSON_SERVICES:
        payload = json.dumps({"__type": rule.code, "message": rule.message}).encode()
        content_type = "application/x-amz-json-1.1" if service == "glue" else "application/json"
        headers = [
            ("Content-Type", content_type),
            ("x-amzn-ErrorType", rule.code),
            ("x-amzn-RequestId", request_id),
        ]
        return rule.status, headers, payload
    payload = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(rule.code)}</Code><Message>{escape(rule.message)}</Message>"
        f"<RequestId>{request_id}</RequestId></Error>"
    ).encode()
    return rule.status, [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)], payload
