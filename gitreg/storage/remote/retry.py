"""Which storage errors are worth retrying, and how long to wait before the next try.

One retry policy for every backend: lost connections, timeouts, throttling and server errors (HTTP 408,
409 for a conditional write racing another, 429, 5xx) are retried ``ATTEMPTS`` times in all, waiting
``BACKOFF`` seconds before the first retry and twice as long before each next one, with jitter."""

from __future__ import annotations

import asyncio
import random

ATTEMPTS = 5
BACKOFF = 0.25  # seconds before the first retry; doubles each time, with jitter
TRANSIENT_STATUS = {408, 409, 429, 500, 502, 503, 504}
TRANSIENT_NAMES = {
    "EndpointConnectionError",
    "ConnectionClosedError",
    "ReadTimeoutError",
    "ConnectTimeoutError",
    "ResponseStreamingError",
    "ServiceRequestError",
    "ServiceResponseError",
    "ClientConnectorError",
    "ServerDisconnectedError",
    "ClientOSError",
    "ClientPayloadError",
    "IncompleteReadError",
}


async def pause(attempt: int) -> None:
    """Wait before retry number ``attempt + 1``."""
    await asyncio.sleep(BACKOFF * 2**attempt * (0.5 + random.random()))  # noqa: S311 - jitter, not crypto


def is_transient(exc: BaseException) -> bool:
    """Whether an error is worth retrying: lost connections, timeouts, throttling, server errors."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        status = status_of(current)
        if status is not None:
            return status in TRANSIENT_STATUS
        if isinstance(
            current, ConnectionError | TimeoutError | asyncio.TimeoutError | asyncio.IncompleteReadError
        ):
            return True
        if type(current).__name__ in TRANSIENT_NAMES:
            return True
        current = current.__cause__ or current.__context__
    return False


def status_of(exc: BaseException) -> int | None:
    for attr in ("status_code", "status"):
        value = getattr(exc, attr, None)
        if isinstance(value, int):
            return value
    code = getattr(exc, "code", None)
    if isinstance(code, int) and type(exc).__name__ == "HttpError":
        return code
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return status if isinstance(status, int) else None
    return None


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]
