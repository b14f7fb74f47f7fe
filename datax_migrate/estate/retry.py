"""Which failures are worth retrying (throttling, 5xx, timeouts, lost connections), and the backoff between tries.

A failure is transient when it, or an exception it was raised from (``__cause__`` / ``__context__``), is:

- a botocore ``ClientError`` whose error code is a throttling, timeout or server-side one
  (:data:`TRANSIENT_CODES`) or whose HTTP status is 429 or 5xx; a botocore connection error or read
  timeout (``botocore.exceptions.ConnectionError``, ``HTTPClientError``);
- a pyiceberg ``CommitFailedException`` (another writer committed first), ``CommitStateUnknownException``,
  ``ServerError``, ``ServiceUnavailableError`` or ``TooManyRequestsError``;
- a ``TimeoutError`` or ``ConnectionError`` (this covers ``requests``' and ``urllib3``'s), or an ``OSError``
  from pyarrow's S3 client whose message names throttling or a server error (:data:`TRANSIENT_MESSAGES`);
- SQLite's "database is locked" (a SQLite catalog whose other writers held it past the busy timeout).

Everything else (a refusal of ours, a missing file, access denied, a bad name) is permanent: retrying
would only repeat it. A rerun after a transient failure is safe because every step is idempotent: a
conversion whose snapshot landed is ``unchanged``, one that did not leaves nothing behind.
"""

from __future__ import annotations

import random
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

from pyiceberg.exceptions import (
    CommitFailedException,
    CommitStateUnknownException,
    ServerError,
    ServiceUnavailableError,
    TooManyRequestsError,
)

TRANSIENT_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "InternalServerException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "ServiceException",
    }
)
"""AWS error codes of throttling, timeouts and server-side failures (botocore's retry handler lists the same)."""
TRANSIENT_MESSAGES = re.compile(
    r"SLOW_DOWN|SERVICE_UNAVAILABLE|THROTTLING|INTERNAL_FAILURE|REQUEST_TIMEOUT|NETWORK_CONNECTION|"
    r"SlowDown|Throttl|TooManyRequests|Too Many Requests|ServiceUnavailable|Service Unavailable|"
    r"InternalError|RequestTimeout|HTTP status 5\d\d|HTTP response code 5\d\d|Connection reset|timed out|"
    r"curlCode: (?:7|28|52|55|56)\b"
)
"""What pyarrow's S3 client (AWS SDK for C++) says in an ``OSError`` about a failure worth retrying.

Arrow writes the SDK's error enum in capitals: ``AWS Error SERVICE_UNAVAILABLE during GetObject operation: ...``.
"""
SQLITE_LOCKED = ("database is locked", "database table is locked")
"""How SQLite's errors begin when another connection holds the lock (``SQLITE_BUSY``, ``SQLITE_LOCKED``)."""
_TRANSIENT_ICEBERG = (
    CommitFailedException,
    CommitStateUnknownException,
    ServerError,
    ServiceUnavailableError,
    TooManyRequestsError,
)


@dataclass(frozen=True)
class Backoff:
    """How often and how long to wait before trying a step again after a transient failure.

    Attributes:
        retries: Tries after the first.
        first: Seconds before the first retry; each later wait doubles it.
        longest: Cap on one wait, in seconds.
    """

    retries: int = 4
    first: float = 2.0
    longest: float = 60.0

    def delay(self, retry: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (from 0): exponential, with jitter of +-50%."""
        base = min(self.longest, self.first * (2**retry))
        return base * (rng or random).uniform(0.5, 1.5)


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` (or an exception it came from) is worth retrying; see the module's docstring."""
    return any(_transient(cause) for cause in _chain(error))


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _transient(error: BaseException) -> bool:
    if isinstance(error, _TRANSIENT_ICEBERG) or isinstance(error, (TimeoutError, ConnectionError)):
        return True
    if isinstance(error, sqlite3.OperationalError) and str(error).startswith(SQLITE_LOCKED):
        return True
    if _botocore_transient(error):
        return True
    return isinstance(error, OSError) and bool(TRANSIENT_MESSAGES.search(str(error)))


def _botocore_transient(error: BaseException) -> bool:
    try:
        from botocore.exceptions import ClientError, HTTPClientError
        from botocore.exceptions import ConnectionError as BotoConnectionError
    except ImportError:  # no aws extra: no botocore errors either
        return False
    if isinstance(error, (BotoConnectionError, HTTPClientError)):
        return True
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return details.get("Code") in TRANSIENT_CODES or status == 429 or 500 <= int(status) < 600
    return False
