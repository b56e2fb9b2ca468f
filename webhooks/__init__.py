"""Outbound webhook delivery and inbound verification (Standard Webhooks).

Independent of ``engine``: the worker and the API call into this package, never the reverse.
"""

from .delivery import DeliveryOutcome, deliver, validate_url
from .payload import EVENT_TYPES, build_body, format_timestamp
from .retry import RetryPolicy, is_retryable_exception, is_retryable_status
from .signing import InvalidPayload, InvalidSignature, generate_secret, sign, verify

__all__ = [
    "EVENT_TYPES",
    "DeliveryOutcome",
    "InvalidPayload",
    "InvalidSignature",
    "RetryPolicy",
    "build_body",
    "deliver",
    "format_timestamp",
    "generate_secret",
    "is_retryable_exception",
    "is_retryable_status",
    "sign",
    "validate_url",
    "verify",
]
