"""Bounded retries of the Databricks REST API's 5xx answers, beneath databricks-sdk's own retries.

databricks-sdk (0.167) retries by itself until ``Config.retry_timeout_seconds`` has passed: 429 and
503 answers of any method, sleeping their ``Retry-After`` seconds (1 s without one, with no upper
bound); connection errors, and read timeouts of methods other than POST, sleeping 1, 2, ... 10 s;
and errors whose message names a transient cluster condition. It gives up at once on 500, 502 and
504. :class:`ServerErrorRetries` is the transport the crawl gives the SDK (``Config.http_adapter``):
it retries 500, 502, 503 and 504 answers itself, at most :data:`ATTEMPTS` times a request, after
0.5, 1, 2 s (or the answer's ``Retry-After``), never more than :data:`MAX_DELAY_SECONDS` at a time
nor past its ``budget``; then it hands the last answer to the SDK, a 5xx ``Retry-After`` longer than
:data:`MAX_DELAY_SECONDS` shortened to it, so the SDK's own sleeps after a 503 stay bounded too (a
429's ``Retry-After`` is the server's throttling, honoured as the SDK does). Every request
the crawl makes reads (``GET``, or a ``POST`` of a read-only SQL statement), so repeating one is safe.
"""

from __future__ import annotations

import random
import time
from typing import Any

from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter

RETRIED_STATUSES = frozenset({500, 502, 503, 504})
"""Answers retried here: internal error, bad gateway, unavailable, gateway timeout."""
ATTEMPTS = 4
"""Most times one request is sent when it keeps getting a 5xx answer."""
FIRST_DELAY_SECONDS = 0.5
"""Wait before the first retry; each further retry waits twice as long (plus up to a quarter more, at random)."""
MAX_DELAY_SECONDS = 4.0
"""Longest wait before one retry, also the longest ``Retry-After`` passed on to databricks-sdk."""
POOL_SIZE = 20
"""Connections kept per host, as databricks-sdk's own transport keeps."""


class ServerErrorRetries(HTTPAdapter):
    """A requests transport that retries 500, 502, 503 and 504 answers with backoff, within a budget.

    Example:
        >>> from databricks.sdk.core import Config
        >>> config = Config(host="https://example.cloud.databricks.com", token="...",
        ...                 http_adapter=ServerErrorRetries(budget=8.0))  # doctest: +SKIP
    """

    def __init__(self, budget: float, attempts: int = ATTEMPTS) -> None:
        """Try at most ``attempts`` times; never wait past ``budget`` seconds after the first try.

        Args:
            budget: Seconds after the first try of a request by which its last retry must have started.
            attempts: Most tries of one request.
        """
        super().__init__(pool_connections=POOL_SIZE, pool_maxsize=POOL_SIZE, pool_block=True)
        self.budget = budget
        self.attempts = attempts

    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> Response:
        """Send ``request``; again after a 5xx answer while attempts and budget remain."""
        deadline = time.monotonic() + self.budget
        attempt = 1
        while True:
            response = super().send(request, *args, **kwargs)
            if response.status_code not in RETRIED_STATUSES or attempt >= self.attempts:
                return _bounded_retry_after(response)
            delay = _delay(attempt, response)
            if time.monotonic() + delay > deadline:
                return _bounded_retry_after(response)
            response.close()
            time.sleep(delay)
            attempt += 1


def _delay(attempt: int, response: Response) -> float:
    """The answer's ``Retry-After`` (whole seconds), else backoff with jitter; at most :data:`MAX_DELAY_SECONDS`."""
    retry_after = _retry_after(response)
    if retry_after is not None:
        return min(float(retry_after), MAX_DELAY_SECONDS)
    delay = FIRST_DELAY_SECONDS * 2 ** (attempt - 1)
    return min(delay + random.uniform(0, delay / 4), MAX_DELAY_SECONDS)


def _retry_after(response: Response) -> int | None:
    text = response.headers.get("Retry-After", "").strip()
    return int(text) if text.isdigit() else None


def _bounded_retry_after(response: Response) -> Response:
    """``response``, a 5xx answer's ``Retry-After`` cut to :data:`MAX_DELAY_SECONDS` (databricks-sdk sleeps it)."""
    retry_after = _retry_after(response)
    if response.status_code in RETRIED_STATUSES and retry_after is not None and retry_after > MAX_DELAY_SECONDS:
        response.headers["Retry-After"] = str(int(MAX_DELAY_SECONDS))
    return response
