"""Hash-chained audit events: each event's hash covers its content and the previous hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime

GENESIS = "0" * 64


def canonical_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(
    prev_hash: str, seq: int, type_: str, actor: str, at: datetime, payload: dict
) -> str:
    body = json.dumps(
        {
            "prev": prev_hash,
            "seq": seq,
            "type": type_,
            "actor": actor,
            "at": canonical_time(at),
            "payload": payload,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def first_broken(events: Iterable) -> int | None:
    """The seq of the first event whose hash or link does not verify, or None when intact."""
    prev = GENESIS
    expected_seq = 1
    for event in events:
        if event.seq != expected_seq or event.prev_hash != prev:
            return event.seq
        if (
            event_hash(prev, event.seq, event.type, event.actor, event.at, event.payload)
            != event.hash
        ):
            return event.seq
        prev = event.hash
        expected_seq += 1
    return None
