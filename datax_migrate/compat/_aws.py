"""The boto3 client factory shared by the AWS-backed helpers (lazy: boto3 is an optional extra)."""

from __future__ import annotations

from typing import Any


def client(service: str) -> Any:
    """A boto3 client for ``service``, configured from the environment (region, endpoint, credentials)."""
    try:
        import boto3
    except ImportError:
        raise ImportError("datax_migrate.compat needs boto3 on AWS: pip install 'datax-migrate[aws]'") from None
    return boto3.client(service)
