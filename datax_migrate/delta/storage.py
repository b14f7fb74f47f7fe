"""Access to the files of a Delta table on a local disk or in object storage (``s3://``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import unquote, urlparse

import pyarrow as pa
import pyarrow.fs as pafs

from datax_migrate.errors import DeltaError, MissingFileError


@dataclass(frozen=True)
class ListedFile:
    """A file found by listing: its base name, size and modification time in milliseconds."""

    name: str
    size: int
    mtime_ms: int


class TableStorage:
    """The filesystem and root path of one Delta table.

    Paths in the Delta log are URIs relative to the table root (URL-encoded) or absolute URIs;
    :meth:`resolve` turns either into a path this storage's filesystem can open.
    """

    def __init__(self, uri: str, filesystem: pafs.FileSystem | None = None) -> None:
        """Open the table at ``uri`` (a local path, ``file://`` or ``s3://`` URI)."""
        self.uri = uri.rstrip("/")
        if filesystem is not None:
            self.filesystem, self.root = filesystem, _strip_scheme(self.uri)
        elif "://" in self.uri and not self.uri.startswith("file://"):
            self.filesystem, self.root = _filesystem_from_uri(self.uri)
        else:
            local = unquote(urlparse(self.uri).path) if self.uri.startswith("file://") else self.uri
            self.filesystem, self.root = pafs.LocalFileSystem(), os.path.abspath(local)
        self.root = self.root.rstrip("/")

    @property
    def log_dir(self) -> str:
        """Path of ``_delta_log``."""
        return f"{self.root}/_delta_log"

    @property
    def display_uri(self) -> str:
        """The table location as recorded in reports (absolute URI)."""
        if isinstance(self.filesystem, pafs.LocalFileSystem):
            return f"file://{self.root}"
        return self.uri

    def resolve(self, path: str) -> str:
        """Turn a path from the Delta log into a path on this filesystem."""
        if "://" in path or path.startswith("file:/"):
            parsed = urlparse(path)
            if parsed.scheme == "file":
                return unquote(parsed.path)
            return unquote(f"{parsed.netloc}{parsed.path}")
        return f"{self.root}/{unquote(path)}"

    def resolve_sidecar(self, path: str) -> str:
        """Turn the path of a v2-checkpoint sidecar into a path on this filesystem."""
        if "://" in path or path.startswith("file:/"):
            return self.resolve(path)
        return f"{self.log_dir}/_sidecars/{unquote(path)}"

    def list_log(self) -> list[ListedFile]:
        """List ``_delta_log`` (not recursively)."""
        try:
            infos = self.filesystem.get_file_info(pafs.FileSelector(self.log_dir, allow_not_found=False))
        except FileNotFoundError as exc:
            raise DeltaError(f"{self.uri} is not a Delta table: no _delta_log folder") from exc
        except OSError as exc:
            raise DeltaError(f"cannot list {self.log_dir}: {exc}") from exc
        return [
            ListedFile(
                name=info.base_name,
                size=info.size or 0,
                mtime_ms=int(info.mtime.timestamp() * 1000) if info.mtime else 0,
            )
            for info in infos
            if info.type == pafs.FileType.File
        ]

    def read_bytes(self, path: str) -> bytes:
        """Read a whole (small) file: a commit, a checkpoint pointer, a deletion vector."""
        try:
            with self.filesystem.open_input_stream(path) as stream:
                return bytes(stream.read())
        except FileNotFoundError as exc:
            raise MissingFileError(f"missing file {path}") from exc

    def read_range(self, path: str, offset: int, length: int) -> bytes:
        """Read ``length`` bytes at ``offset`` (a deletion vector inside a shared file)."""
        try:
            with self.filesystem.open_input_file(path) as handle:
                handle.seek(offset)
                data = bytes(handle.read(length))
        except FileNotFoundError as exc:
            raise MissingFileError(f"missing file {path}") from exc
        if len(data) != length:
            raise MissingFileError(f"{path} is truncated: wanted {length} bytes at offset {offset}")
        return data

    def exists(self, path: str) -> bool:
        """Whether ``path`` exists."""
        return self.filesystem.get_file_info(path).type != pafs.FileType.NotFound


def _strip_scheme(uri: str) -> str:
    parsed = urlparse(uri)
    return f"{parsed.netloc}{parsed.path}" if parsed.scheme else uri


def _filesystem_from_uri(uri: str) -> tuple[pafs.FileSystem, str]:
    parsed = urlparse(uri)
    if parsed.scheme in ("s3", "s3a"):
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        options: dict[str, object] = {}
        if endpoint:
            endpoint_url = urlparse(endpoint)
            options["endpoint_override"] = endpoint_url.netloc or endpoint
            options["scheme"] = endpoint_url.scheme or "https"
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if region:
            options["region"] = region
        return pafs.S3FileSystem(**options), f"{parsed.netloc}{parsed.path}"
    try:
        filesystem, path = pafs.FileSystem.from_uri(uri)
    except (pa.ArrowInvalid, OSError, ValueError) as exc:
        raise DeltaError(f"unsupported table location {uri}: {exc}") from exc
    return filesystem, path
