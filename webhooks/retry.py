"""When to retry a failed delivery and how long to wait.

Classification:
- retryable: timeouts, connection/transport errors (no HTTP status), HTTP 5xx, 408, 429;
- final (dead immediately): any other 4xx, and 3xx (redirects are not followed, so that a
  receiver cannot bounce a signed payload to another host).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Protocol

import httpx

RETRYABLE_4XX = frozenset({408, 429})


class _Outcome(Protocol):
    ok: bool
    status_code: int | None
    retryable: bool


class _Rng(Protocol):
    def random(self) -> float: ...


def is_retryable_status(status_code: int) -> bool:
    return status_code >= 500 or status_code in RETRYABLE_4XX


def is_retryable_exception(exc: BaseException) -> bool:
    """Transport-level failures (timeout, refused, reset, DNS, protocol) are retryable."""
    return isinstance(exc, httpx.TransportError)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_seconds: float = 10
    cap_seconds: float = 3600
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if self.base_seconds <= 0 or self.cap_seconds < self.base_seconds:
            raise ValueError("need 0 < base_seconds <= cap_seconds")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter must be in [0, 1)")

    def next_delay(self, attempt_number: int, rng: _Rng | None = None) -> float:
        """Seconds to wait after failed attempt ``attempt_number`` (1-based).

        ``min(cap, base * 2**(n-1))`` reduced by a random fraction up to ``jitter``, so the
        result lies in ``[raw * (1 - jitter), raw]`` and never exceeds ``cap_seconds``.
        """
        if attempt_number < 1:
            raise ValueError("attempt_number is 1-based")
        rng = rng if rng is not None else random
        exponent = min(attempt_number - 1, 62)
        raw = min(float(self.cap_seconds), float(self.base_seconds) * (2**exponent))
        return raw * (1.0 - self.jitter * rng.random())

    def is_retryable(self, outcome: _Outcome) -> bool:
        """Whether this failure is worth another attempt (ignores the attempt budget)."""
        if outcome.ok:
            return False
        if outcome.status_code is not None:
            return is_retryable_status(outcome.status_code)
        return bool(outcome.retryable)

    def should_retry(self, outcome: _Outcome, attempt_number: int) -> bool:
        """``is_retryable`` and attempts left; False means done (ok) or dead letter."""
        return self.is_retryable(outcome) and attempt_number < self.max_attempts
