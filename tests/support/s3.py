"""Helpers for tests against the moto S3 endpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def upload_folder(client: Any, folder: Path, bucket: str, prefix: str) -> None:
    """Upload every file under ``folder`` to ``s3://bucket/prefix/``."""
    for path in folder.rglob("*"):
        if path.is_file():
            client.upload_file(str(path), bucket, f"{prefix}/{path.relative_to(folder).as_posix()}")
