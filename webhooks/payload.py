"""The JSON body of an outbound webhook: ``{"type", "timestamp", "data"}``.

Serialization is deterministic (sorted keys, compact separators, UTF-8 without escaping of
Chinese text) so that retries of one message send byte-identical bodies.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from .signing import to_utc

EVENT_TYPES: tuple[str, ...] = (
    "case.started",
    "case.stage_changed",
    "case.completed",
    "case.cancelled",
    "task.created",
    "task.completed",
    "task.sla_breached",
    "rectification.issued",
)


def format_timestamp(ts: datetime) -> str:
    """UTC ISO 8601 with microseconds and ``Z``; naive datetimes are taken as UTC."""
    return to_utc(ts).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _default(obj: Any) -> Any:
    if isinstance(obj, datetime):
        return format_timestamp(obj)
    if isinstance(obj, date):
        return obj.isoformat()
    if isinstance(obj, uuid.UUID | Decimal):
        return str(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def build_body(event_type: str, timestamp: datetime, data: Mapping[str, Any]) -> bytes:
    """Serialize one event. ``event_type`` must be in ``EVENT_TYPES``; ``data`` a mapping."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type: {event_type!r}")
    if not isinstance(data, Mapping):
        raise TypeError("data must be a mapping (JSON object)")
    doc = {"type": event_type, "timestamp": format_timestamp(timestamp), "data": dict(data)}
    text = json.dumps(
        doc,
        ensure_ascii=False,
        separators=(",", ":"),
        sort_keys=True,
        allow_nan=False,
        default=_default,
    )
    return text.encode("utf-8")
