"""The webhook outbox, worker side: claim due deliveries in per-case order, record outcomes.

A delivery is claimed only when no earlier delivery of the same case to the same
subscription is still pending, so a receiver sees a case's events in order (an earlier one
may be retried, then the later ones follow; a dead one stops blocking).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from ..models import WebhookDelivery, WebhookSubscription


@dataclass(frozen=True)
class DeliveryWork:
    id: int
    url: str
    secret: str
    msg_id: str
    event_type: str
    created_at: datetime
    payload: dict
    attempt: int


def claim_due(
    session: Session, now: datetime, limit: int, lease_seconds: float
) -> list[DeliveryWork]:
    """Claim up to ``limit`` deliveries that may be attempted now (lease + attempt count)."""
    earlier = aliased(WebhookDelivery)
    blocked = (
        select(earlier.id)
        .where(
            earlier.subscription_id == WebhookDelivery.subscription_id,
            earlier.case_id == WebhookDelivery.case_id,
            earlier.status == "pending",
            earlier.id < WebhookDelivery.id,
        )
        .exists()
    )
    rows = list(
        session.scalars(
            select(WebhookDelivery)
            .where(
                WebhookDelivery.status == "pending",
                WebhookDelivery.next_attempt_at <= now,
                or_(WebhookDelivery.locked_until.is_(None), WebhookDelivery.locked_until < now),
                ~blocked,
            )
            .order_by(WebhookDelivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=WebhookDelivery)
        )
    )
    work = []
    for row in rows:
        sub = session.get(WebhookSubscription, row.subscription_id)
        if sub is None or not sub.active:
            row.status = "dead"
            row.last_error = "订阅已删除 (subscription deleted)"
            continue
        row.attempts = (row.attempts or 0) + 1
        row.locked_until = now + timedelta(seconds=lease_seconds)
        work.append(
            DeliveryWork(
                id=row.id,
                url=sub.url,
                secret=sub.secret,
                msg_id=row.msg_id,
                event_type=row.event_type,
                created_at=row.created_at,
                payload=dict(row.payload or {}),
                attempt=row.attempts,
            )
        )
    return work


def record_outcome(session: Session, delivery_id: int, outcome, now: datetime, policy) -> str:
    """Delivered, retry later (backoff with jitter) or dead; returns the new status."""
    # Locked: the subscription's deletion may have marked it dead since it was claimed.
    row = session.get(WebhookDelivery, delivery_id, with_for_update=True)
    if row is None:
        return "gone"
    if row.status == "dead" and not outcome.ok:
        return row.status  # dead while in flight (subscription deleted): no retry
    row.last_status_code = outcome.status_code
    row.last_error = outcome.error
    row.last_latency_ms = round(outcome.latency_ms, 3)
    row.locked_until = None
    if outcome.ok:
        row.status = "delivered"
        row.delivered_at = now
    elif policy.should_retry(outcome, row.attempts):
        row.status = "pending"
        row.next_attempt_at = now + timedelta(seconds=policy.next_delay(row.attempts))
    else:
        row.status = "dead"
    return row.status


def lag_seconds(session: Session, now: datetime) -> float:
    oldest = session.scalar(
        select(WebhookDelivery.next_attempt_at)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(1)
    )
    return max((now - oldest).total_seconds(), 0.0) if oldest else 0.0
