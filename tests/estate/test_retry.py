"""Transient failures (throttling, 5xx, timeouts, lost connections) are told apart from permanent ones."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from pyiceberg.exceptions import CommitFailedException, NoSuchTableError, ServiceUnavailableError

from datax_migrate.errors import MissingFileError, TargetError, UnsupportedFeatureError
from datax_migrate.estate.retry import Backoff, is_transient


def client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "..."}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op"
    )


def raised_from(cause: BaseException, error: BaseException) -> BaseException:
    try:
        try:
            raise cause
        except BaseException as inner:
            raise error from inner
    except BaseException as outer:
        return outer


@pytest.mark.parametrize(
    "error",
    [
        client_error("SlowDown", 503),
        client_error("ThrottlingException", 400),
        client_error("TooManyRequestsException", 429),
        client_error("SomethingNew", 502),
        EndpointConnectionError(endpoint_url="https://s3tables.us-east-1.amazonaws.com"),
        ReadTimeoutError(endpoint_url="https://glue.us-east-1.amazonaws.com"),
        CommitFailedException("Requirement failed: branch main has changed"),
        ServiceUnavailableError("503"),
        TimeoutError("timed out"),
        ConnectionResetError(104, "Connection reset by peer"),
        OSError("AWS Error SLOW_DOWN during PutObject operation: Please reduce your request rate."),
        OSError("When reading information for key 'a/b': AWS Error NETWORK_CONNECTION during HeadObject (curlCode: 7)"),
        OSError("AWS Error NETWORK_CONNECTION during GetObject operation: Encountered network error"),
        OSError("AWS Error SERVICE_UNAVAILABLE during GetObject operation: Please try again."),
        OSError("AWS Error THROTTLING during ListObjectsV2 operation: Rate exceeded"),
        OSError("AWS Error INTERNAL_FAILURE during PutObject operation: We encountered an internal error."),
        OSError("AWS Error REQUEST_TIMEOUT during UploadPart operation: Your socket connection was idle."),
        raised_from(CommitFailedException("conflict"), TargetError("the commit of ns.t failed")),
    ],
    ids=repr,
)
def test_transient(error: BaseException) -> None:
    assert is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        client_error("AccessDenied", 403),
        client_error("NoSuchBucket", 404),
        NoSuchTableError("ns.t"),
        UnsupportedFeatureError("reader feature 'collations' is not supported"),
        MissingFileError("part-0001.parquet is missing"),
        FileNotFoundError(2, "No such file or directory"),
        OSError("AWS Error ACCESS_DENIED during GetObject operation"),
        ValueError("bad value"),
        raised_from(ValueError("bad"), TargetError("the commit of ns.t failed")),
    ],
    ids=repr,
)
def test_permanent(error: BaseException) -> None:
    assert not is_transient(error)


def test_a_sqlite_catalog_locked_by_another_writer_is_transient_other_sqlite_errors_are_not(tmp_path: Path) -> None:
    database = tmp_path / "catalog.db"
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    with pytest.raises(sqlite3.OperationalError) as locked:
        sqlite3.connect(database, timeout=0).execute("INSERT INTO t VALUES (1)")
    holder.execute("ROLLBACK")
    with pytest.raises(sqlite3.OperationalError) as missing:
        sqlite3.connect(database).execute("SELECT * FROM no_such_table")
    assert is_transient(raised_from(locked.value, TargetError("the commit of ns.t failed")))
    assert not is_transient(missing.value)


def test_backoff_doubles_with_jitter_up_to_a_cap() -> None:
    backoff = Backoff(retries=6, first=1.0, longest=5.0)
    rng = random.Random(7)
    delays = [backoff.delay(retry, rng) for retry in range(6)]
    for retry, delay in enumerate(delays):
        base = min(5.0, 2.0**retry)
        assert 0.5 * base <= delay <= 1.5 * base
