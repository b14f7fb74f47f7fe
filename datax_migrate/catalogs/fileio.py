"""File IO for S3 Tables table buckets: uploads S3 Tables accepts, no listing, retries.

Uploads: S3 Tables refuses any request that carries ``Expect: 100-continue`` (400
``S3TablesUnsupportedHeader``; apache/iceberg-python#3363), and pyarrow's S3 filesystem sends that
header on every PutObject and UploadPart. :class:`NoListFileIO` therefore writes S3 objects with
boto3 instead (:class:`S3Upload`): a file smaller than one part in one PutObject, a larger one as a
multipart upload whose parts are sent as they fill, each request without ``Expect``. Reads, HEAD
and deletes stay with pyarrow.

Listing: S3 Tables' managed storage refuses ListObjectsV2 and DeleteObject. pyiceberg's
``PyArrowFileIO`` checks that a metadata file does not exist before writing it
(``OutputFile.create(overwrite=False)``); for a missing key pyarrow's S3 filesystem then lists the
prefix to rule out a "directory", which the table bucket refuses. Every file we write has a fresh,
unique name (a UUID or our run id), so the check buys nothing: :class:`NoListFileIO` skips it.

Retries: pyarrow's own S3 client retries throttling (503 SlowDown), 5xx and connection resets with
exponential backoff; :class:`PatientRetryStrategy` (used unless ``s3.retry-strategy-impl`` names
another) raises its attempts from 3 to 10. The boto3 uploads use the AWS standard retry mode with
the same number of attempts.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from pyarrow.fs import AwsStandardS3RetryStrategy, FileSystem
from pyiceberg.io import S3_RETRY_STRATEGY_IMPL, InputFile, OutputFile, OutputStream
from pyiceberg.io.pyarrow import PyArrowFile, PyArrowFileIO, _import_retry_strategy

from datax_migrate.errors import ConfigError, missing_extra

S3_ATTEMPTS = 10
PART_BYTES = 16 * 2**20
"""Size of each part of a multipart upload (and the largest file sent in one PutObject); doubled
every :data:`_PARTS_PER_SIZE` parts, so that S3's 10,000-part limit allows files of several TB."""
PARTS_IN_FLIGHT = 2
"""Parts of one file being sent at once; with the part waiting for a slot and the one being
filled, a file holds at most about ``(PARTS_IN_FLIGHT + 3) * PART_BYTES`` in memory."""
_PARTS_PER_SIZE = 2500
_S3_SCHEMES = ("s3", "s3a", "s3n")


class PatientRetryStrategy(AwsStandardS3RetryStrategy):
    """The AWS SDK's standard retry strategy with :data:`S3_ATTEMPTS` attempts per request."""

    def __init__(self) -> None:
        """Use :data:`S3_ATTEMPTS` attempts (pyiceberg instantiates it without arguments)."""
        super().__init__(max_attempts=S3_ATTEMPTS)


class UncheckedOutputFile(OutputFile):
    """An output file that is created (or replaced) without first asking whether it exists."""

    def __init__(self, file: PyArrowFile, client: Any | None = None) -> None:
        """Wrap pyarrow's output file for the same location; upload with ``client`` (boto3 S3) when given."""
        super().__init__(file.location)
        self._file = file
        self._client = client

    def __len__(self) -> int:
        """The file's size (a HEAD request)."""
        return len(self._file)

    def exists(self) -> bool:
        """Whether the file exists (may list the prefix when it does not: avoid on table buckets)."""
        return self._file.exists()

    def to_input_file(self) -> InputFile:
        """The file, for reading."""
        return self._file.to_input_file()

    def create(self, overwrite: bool = False) -> OutputStream:
        """Open the file for writing; ``overwrite`` is ignored (every name we write is new)."""
        if self._client is None:
            return self._file.create(overwrite=True)
        parts = urlsplit(self.location)
        return S3Upload(self._client, parts.netloc, parts.path.lstrip("/"))


class S3Upload:
    """A writable stream that uploads one S3 object with boto3, never sending ``Expect: 100-continue``.

    Bytes are buffered up to one part (:data:`PART_BYTES`). A stream closed before its first part is
    full becomes one PutObject; otherwise a multipart upload is started, full parts are sent in the
    background (at most :data:`PARTS_IN_FLIGHT` at once, so memory stays bounded) and
    :meth:`close` sends the last part and completes the upload. Leaving a ``with`` block by an
    exception, or any failed request, aborts the multipart upload: no partial object appears.
    """

    def __init__(self, client: Any, bucket: str, key: str) -> None:
        """Start an upload of ``s3://bucket/key`` (nothing is sent before the first part is full)."""
        self._client = client
        self._bucket = bucket
        self._key = key
        self._buffer = bytearray()
        self._position = 0
        self._upload_id: str | None = None
        self._parts: list[Future[dict[str, Any]]] = []
        self._slots = threading.BoundedSemaphore(PARTS_IN_FLIGHT)
        self._pool: ThreadPoolExecutor | None = None
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Buffer ``data``, sending every part that fills; return its length."""
        if self.closed:
            raise ValueError(f"write to closed upload of s3://{self._bucket}/{self._key}")
        self._buffer += data
        self._position += len(data)
        while len(self._buffer) >= self._part_bytes():
            size = self._part_bytes()
            part = bytes(self._buffer[:size])
            del self._buffer[:size]
            self._send_part(part)
        return len(data)

    def tell(self) -> int:
        """Bytes written so far."""
        return self._position

    def flush(self) -> None:
        """Nothing to do: parts are sent as they fill."""

    def writable(self) -> bool:
        """Always ``True``."""
        return True

    def close(self) -> None:
        """Finish the object: one PutObject, or the last part and CompleteMultipartUpload.

        Raises:
            OSError: S3 refused a request (after retries); a multipart upload is aborted then.
        """
        if self.closed:
            return
        self.closed = True
        try:
            if self._upload_id is None:
                self._call("put_object", Bucket=self._bucket, Key=self._key, Body=bytes(self._buffer))
            else:
                if self._buffer or not self._parts:
                    self._send_part(bytes(self._buffer))
                parts = [part.result() for part in self._parts]
                self._call(
                    "complete_multipart_upload",
                    Bucket=self._bucket,
                    Key=self._key,
                    UploadId=self._upload_id,
                    MultipartUpload={"Parts": parts},
                )
        except BaseException:
            self.abort()
            raise
        finally:
            self._buffer = bytearray()
            self._shutdown()

    def abort(self) -> None:
        """Give the object up: abort the multipart upload, if one was started, and send nothing more."""
        self.closed = True
        self._buffer = bytearray()
        upload_id, self._upload_id = self._upload_id, None
        self._shutdown(cancel=True)
        if upload_id is not None:
            try:
                self._client.abort_multipart_upload(Bucket=self._bucket, Key=self._key, UploadId=upload_id)
            except Exception:  # noqa: BLE001 - best effort: an unfinished upload is never an object
                pass

    def __enter__(self) -> S3Upload:
        """The stream itself."""
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        """Close the stream, or abort it when the block raised."""
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def _part_bytes(self) -> int:
        return PART_BYTES << (len(self._parts) // _PARTS_PER_SIZE)

    def _send_part(self, data: bytes) -> None:
        if self._upload_id is None:
            started = self._call("create_multipart_upload", Bucket=self._bucket, Key=self._key)
            self._upload_id = started["UploadId"]
            self._pool = ThreadPoolExecutor(PARTS_IN_FLIGHT, thread_name_prefix="s3-upload")
        assert self._pool is not None
        for sent in self._parts:
            if sent.done():
                sent.result()  # raises the error of a part that failed
        self._slots.acquire()
        number = len(self._parts) + 1
        future = self._pool.submit(self._upload_part, number, data)
        future.add_done_callback(lambda _: self._slots.release())
        self._parts.append(future)

    def _upload_part(self, number: int, data: bytes) -> dict[str, Any]:
        answer = self._call(
            "upload_part", Bucket=self._bucket, Key=self._key, UploadId=self._upload_id, PartNumber=number, Body=data
        )
        return {"ETag": answer["ETag"], "PartNumber": number}

    def _call(self, operation: str, **arguments: Any) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return dict(getattr(self._client, operation)(**arguments))
        except (BotoCoreError, ClientError) as exc:
            raise OSError(f"{operation} of s3://{self._bucket}/{self._key} failed: {exc}") from exc

    def _shutdown(self, cancel: bool = False) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=cancel)
            self._pool = None


class NoListFileIO(PyArrowFileIO):
    """``PyArrowFileIO`` whose S3 writes are :class:`S3Upload` streams and never probe for an existing file.

    Reads, HEAD and deletes go through pyarrow's S3 filesystem, which opens uploads lazily
    (``allow_delayed_open``) for the rare write that still goes through it.
    """

    def __init__(self, properties: dict[str, str] | None = None) -> None:
        """Take pyiceberg's FileIO properties (``s3.endpoint``, ``s3.region``, keys, timeouts, ...)."""
        super().__init__(properties or {})
        self._clients: dict[str | None, Any] = {}
        self._clients_lock = threading.Lock()

    def _initialize_s3_fs(self, netloc: str | None) -> FileSystem:
        # pyiceberg has no property for allow_delayed_open: rebuild its filesystem with it, from
        # the options pyarrow pickles it with (which leave out the retry strategy).
        rebuild, (options,) = super()._initialize_s3_fs(netloc).__reduce__()
        impl = self.properties.get(S3_RETRY_STRATEGY_IMPL)
        strategy = _import_retry_strategy(impl) if impl else None
        return rebuild({**options, "allow_delayed_open": True, "retry_strategy": strategy or PatientRetryStrategy()})

    def delete(self, location: str | InputFile | OutputFile) -> None:
        """Delete a file; a table bucket's refusal (405 MethodNotAllowed) is not an error.

        Table buckets refuse deletes: files a failed commit leaves behind are unreferenced, and S3
        Tables' unreferenced-file removal reclaims them.
        """
        try:
            super().delete(location)
        except OSError as exc:
            if "MethodNotAllowed" not in str(exc) and "HTTP status 405" not in str(exc):
                raise

    def new_output(self, location: str) -> UncheckedOutputFile:  # type: ignore[override]
        """An output file for ``location`` that writes without an existence check (to S3 with boto3)."""
        parts = urlsplit(location)
        client = self.s3_client(parts.netloc) if parts.scheme in _S3_SCHEMES else None
        return UncheckedOutputFile(super().new_output(location), client)

    def s3_client(self, bucket: str | None) -> Any:
        """The boto3 S3 client for ``bucket``: the endpoint, region, credentials and timeouts pyarrow reads with.

        Raises:
            ConfigError: ``s3.role-arn`` is set (give the role through an AWS profile instead).
        """
        with self._clients_lock:
            if bucket not in self._clients:
                self._clients[bucket] = _boto3_s3_client(self.fs_by_scheme("s3", bucket))
            return self._clients[bucket]

    def __getstate__(self) -> dict[str, Any]:
        """The picklable state: no clients, no lock."""
        state = super().__getstate__()
        state.pop("_clients", None)
        state.pop("_clients_lock", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore a pickled FileIO; clients are created again on first use."""
        super().__setstate__(state)
        self._clients = {}
        self._clients_lock = threading.Lock()


def _boto3_s3_client(filesystem: FileSystem) -> Any:
    """A boto3 S3 client configured like ``filesystem`` (a pyarrow ``S3FileSystem``), without ``Expect``."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise missing_extra("boto3", "aws", "the S3 Tables file IO") from None

    _, (options,) = filesystem.__reduce__()
    if options.get("role_arn"):
        raise ConfigError(
            "s3.role-arn is not supported for uploads into S3 Tables: assume the role through an AWS profile"
            " (role_arn in ~/.aws/config, selected with AWS_PROFILE)"
        )
    endpoint = options.get("endpoint_override") or None
    if endpoint and "://" not in endpoint:
        endpoint = f"{options.get('scheme') or 'https'}://{endpoint}"
    proxy = options.get("proxy_options") or {}
    proxies = None
    if proxy.get("host"):
        url = f"{proxy.get('scheme') or 'http'}://{proxy['host']}" + (f":{proxy['port']}" if proxy["port"] > 0 else "")
        proxies = {"http": url, "https": url}
    config = Config(
        region_name=options.get("region") or None,
        retries={"mode": "standard", "max_attempts": S3_ATTEMPTS},
        connect_timeout=options["connect_timeout"] if options.get("connect_timeout", -1) > 0 else 60,
        read_timeout=options["request_timeout"] if options.get("request_timeout", -1) > 0 else 60,
        s3={"addressing_style": "virtual" if options.get("force_virtual_addressing") else "auto"},
        proxies=proxies,
        max_pool_connections=32,
    )
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=options.get("access_key") or None,
        aws_secret_access_key=options.get("secret_key") or None,
        aws_session_token=options.get("session_token") or None,
        verify=options.get("tls_ca_file_path") or None,
        config=config,
    )
    client.meta.events.register("before-sign.s3", _drop_expect)
    return client


def _drop_expect(request: Any, **_: Any) -> None:
    """Remove the ``Expect: 100-continue`` botocore adds to uploads of file-like bodies (S3 Tables refuses it)."""
    del request.headers["Expect"]  # an email.message.Message: no error when absent
