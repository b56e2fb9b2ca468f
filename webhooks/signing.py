"""Standard Webhooks signing and verification (thin wrapper over ``standardwebhooks``).

Secrets look like ``whsec_<base64 of 32 random bytes>`` (the spec allows 24..64 bytes).
The signed content is ``{webhook-id}.{webhook-timestamp}.{body}``, HMAC-SHA256, sent as
``webhook-signature: v1,<base64>``.

``webhook-timestamp`` is the time of the *attempt*, not of the event: receivers reject
timestamps more than 5 minutes away from their clock, so every retry must be signed anew
with a fresh timestamp (same ``webhook-id`` and body).
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError
from standardwebhooks.webhooks import EmptyWebhookSecretError

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


class InvalidSignature(Exception):
    """The request is not a valid, fresh, correctly signed Standard Webhooks message."""


class InvalidPayload(ValueError):
    """The signature is valid but the body is not a JSON object."""


def generate_secret() -> str:
    """Return a new random secret ``whsec_<base64(32 bytes)>``."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def _webhook(secret: str) -> Webhook:
    if not isinstance(secret, str) or not secret:
        raise ValueError("webhook secret must be a non-empty string")
    try:
        return Webhook(secret)
    except (EmptyWebhookSecretError, binascii.Error, ValueError) as exc:
        raise ValueError("invalid webhook secret (expected whsec_<base64>)") from exc


def to_utc(ts: datetime) -> datetime:
    """Aware datetimes are converted to UTC; naive ones are taken to be UTC already."""
    if not isinstance(ts, datetime):
        raise TypeError("timestamp must be a datetime")
    if ts.tzinfo is None:
        return ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC)


def _check_msg_id(msg_id: str) -> None:
    if not isinstance(msg_id, str) or not msg_id:
        raise ValueError("msg_id must be a non-empty string")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in msg_id):
        raise ValueError("msg_id must not contain whitespace or control characters")


def sign(secret: str, msg_id: str, timestamp: datetime, body: bytes) -> dict[str, str]:
    """Return the headers for one delivery attempt of ``body``.

    ``timestamp`` is the attempt time; naive datetimes are treated as UTC.
    """
    _check_msg_id(msg_id)
    if not isinstance(body, bytes | bytearray):
        raise TypeError("body must be bytes")
    ts = to_utc(timestamp)
    # standardwebhooks.Webhook.sign() does ``timestamp.replace(tzinfo=utc)``, which silently
    # shifts aware non-UTC datetimes (e.g. +08:00) -- always hand it UTC.
    signature = _webhook(secret).sign(msg_id=msg_id, timestamp=ts, data=bytes(body).decode("utf-8"))
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(ts.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
    }


def verify(secret: str, headers: Mapping[str, str], body: bytes | str) -> dict[str, Any]:
    """Verify an inbound request and return its parsed JSON object.

    Raises ``InvalidSignature`` when a header is missing or malformed, the timestamp is more
    than 5 minutes off (library tolerance), or no ``v1`` signature matches.  Raises
    ``InvalidPayload`` when the signature is fine but the body is not a JSON object, and
    ``ValueError`` when *our* secret is unusable (a configuration error, not the caller's).
    """
    wh = _webhook(secret)
    try:
        plain_headers = {str(k): str(v) for k, v in headers.items()}
        wh.verify(body, plain_headers, json_parse=False)
    except WebhookVerificationError as exc:
        raise InvalidSignature(str(exc) or "invalid signature") from exc
    except (ValueError, TypeError, AttributeError) as exc:
        # malformed signature list ("v1" without comma), bad base64, non-UTF-8 body ...
        raise InvalidSignature("malformed webhook headers or body") from exc
    try:
        parsed = json.loads(body)
    except ValueError as exc:
        raise InvalidPayload("body is not valid JSON") from exc
    if not isinstance(parsed, dict):
        raise InvalidPayload("body must be a JSON object")
    return parsed
