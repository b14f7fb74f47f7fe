"""Staging files for EMR: build the code zip, read and write small files on S3 or a local path."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlparse

import datax_migrate
from datax_migrate.errors import missing_extra

_SKIPPED = {"__pycache__"}


def package_zip() -> bytes:
    """This installation's ``datax_migrate`` package as a zip for ``--py-files`` (sources and templates)."""
    root = Path(datax_migrate.__file__).parent
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file() and not _SKIPPED & set(path.parts) and path.suffix not in (".pyc", ".pyo"):
                archive.write(path, PurePosixPath("datax_migrate", *path.relative_to(root).parts).as_posix())
    return buffer.getvalue()


def entry_script() -> bytes:
    """The source of the script EMR runs (:mod:`datax_migrate.emr.entry`)."""
    return (Path(__file__).parent / "entry.py").read_bytes()


def sibling(uri: str, name: str) -> str:
    """The URI of file ``name`` in the folder of ``uri``."""
    return f"{uri.rsplit('/', 1)[0]}/{name}"


def write_bytes(uri: str, data: bytes) -> None:
    """Write ``data`` to an ``s3://`` URI or a local path."""
    if uri.startswith("s3://"):
        bucket, key = _bucket_key(uri)
        _s3().put_object(Bucket=bucket, Key=key, Body=data)
    else:
        path = Path(uri.removeprefix("file://"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def write_text(uri: str, text: str) -> None:
    """Write UTF-8 ``text`` to an ``s3://`` URI or a local path."""
    write_bytes(uri, text.encode("utf-8"))


def read_text(uri: str) -> str:
    """Read a UTF-8 file from an ``s3://`` URI or a local path."""
    if uri.startswith("s3://"):
        bucket, key = _bucket_key(uri)
        return str(_s3().get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8"))
    return Path(uri.removeprefix("file://")).read_text(encoding="utf-8")


def _bucket_key(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    return parsed.netloc, parsed.path.lstrip("/")


def _s3() -> Any:
    try:
        import boto3
    except ImportError:
        raise missing_extra("boto3", "aws", "emr submit") from None

    return boto3.client("s3")
