"""One signed POST of one webhook message. Never raises for network trouble."""

from __future__ import annotations

import codecs
import contextlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from .payload import build_body
from .retry import is_retryable_exception, is_retryable_status
from .signing import sign

EXCERPT_CHARS = 500
_EXCERPT_MAX_BYTES = 4 * EXCERPT_CHARS + 16  # enough for 500 UTF-8 chars
USER_AGENT = "PazhouFlow-Webhooks/1"


@dataclass(frozen=True)
class DeliveryOutcome:
    ok: bool
    status_code: int | None
    error: str | None
    latency_ms: float
    retryable: bool
    response_excerpt: str = ""


def validate_url(url: str) -> str:
    """Return ``url`` if it is an absolute http(s) URL with a host and no credentials."""
    if not isinstance(url, str) or not url:
        raise ValueError("webhook URL must be a non-empty string")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise ValueError("webhook URL must not contain whitespace or control characters")
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError as exc:
        raise ValueError(f"invalid webhook URL: {exc}") from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError("webhook URL must use http or https")
    if not hostname:
        raise ValueError("webhook URL must have a host")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ValueError("webhook URL must not contain credentials")
    return url


def _excerpt(response: httpx.Response) -> str:
    encoding = response.charset_encoding or "utf-8"
    try:
        decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    except LookupError:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    text = ""
    read = 0
    for chunk in response.iter_bytes():
        text += decoder.decode(chunk[: _EXCERPT_MAX_BYTES - read])
        read += len(chunk)
        if read >= _EXCERPT_MAX_BYTES or len(text) >= EXCERPT_CHARS:
            break
    return text[:EXCERPT_CHARS]


def _describe(exc: BaseException) -> str:
    msg = str(exc).strip()
    return f"{type(exc).__name__}: {msg}" if msg else type(exc).__name__


def deliver(
    url: str,
    secret: str,
    msg_id: str,
    event_type: str,
    timestamp: datetime,
    data: Mapping[str, Any],
    *,
    timeout: float = 10.0,
    client: httpx.Client | None = None,
    sent_at: datetime | None = None,
) -> DeliveryOutcome:
    """Sign and POST one attempt.

    ``timestamp`` is the event time (body); ``sent_at`` (default: now) is the attempt time
    that goes into ``webhook-timestamp`` and the signature.  Redirects are not followed.
    Raises ``ValueError``/``TypeError`` only for bad arguments (URL, event type, secret, data),
    never for network errors or HTTP statuses.
    """
    validate_url(url)
    body = build_body(event_type, timestamp, data)
    headers = sign(secret, msg_id, sent_at or datetime.now(UTC), body)
    headers["user-agent"] = USER_AGENT

    own_client = client is None
    http = client if client is not None else httpx.Client()
    start = time.perf_counter()
    status: int | None = None
    excerpt = ""
    try:
        with http.stream(
            "POST", url, content=body, headers=headers, timeout=timeout, follow_redirects=False
        ) as response:
            status = response.status_code
            # the status line arrived: a broken or slow body does not change the verdict
            with contextlib.suppress(httpx.HTTPError):
                excerpt = _excerpt(response)
    except httpx.HTTPError as exc:
        return DeliveryOutcome(
            ok=False,
            status_code=None,
            error=_describe(exc),
            latency_ms=(time.perf_counter() - start) * 1000.0,
            retryable=is_retryable_exception(exc),
        )
    except httpx.InvalidURL as exc:
        return DeliveryOutcome(
            ok=False,
            status_code=None,
            error=_describe(exc),
            latency_ms=(time.perf_counter() - start) * 1000.0,
            retryable=False,
        )
    finally:
        if own_client:
            http.close()
    latency_ms = (time.perf_counter() - start) * 1000.0
    ok = 200 <= status < 300
    return DeliveryOutcome(
        ok=ok,
        status_code=status,
        error=None if ok else f"HTTP {status}",
        latency_ms=latency_ms,
        retryable=not ok and is_retryable_status(status),
        response_excerpt=excerpt,
    )
