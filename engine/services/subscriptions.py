"""Webhook subscriptions and their delivery log (admin): subscribe, list, delete, redeliver."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

import webhooks

from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..models import WebhookDelivery, WebhookSubscription
from . import cases
from .actors import Actor

DELIVERY_STATUSES = ("pending", "delivered", "dead")


def _admin(actor: Actor) -> None:
    if actor.role != "admin":
        raise Forbidden("只有管理员可以管理 Webhook (admins only)")


def create_subscription(
    session: Session,
    actor: Actor,
    url: str,
    events: list[str],
    now: datetime,
    secret: str | None = None,
) -> tuple[WebhookSubscription, str]:
    """Subscribe ``url`` to ``events``; returns the row and its secret (shown only now)."""
    _admin(actor)
    errors: dict[str, list[str]] = {}
    try:
        webhooks.validate_url(url)
    except ValueError as exc:
        errors["url"] = [str(exc)]
    unknown = sorted(set(events or []) - set(webhooks.EVENT_TYPES))
    if not events:
        errors["events"] = ["至少订阅一种事件 (at least one event type)"]
    elif unknown:
        errors["events"] = [f"未知事件类型 (unknown event types): {', '.join(unknown)}"]
    if secret is not None:
        try:
            webhooks.sign(secret, "msg_check", now, b"{}")
        except (ValueError, TypeError):
            errors["secret"] = ["密钥格式应为 whsec_<base64> (expected whsec_<base64>)"]
    if errors:
        raise InvalidInput("Webhook 订阅无效 (invalid subscription)", errors)
    secret = secret or webhooks.generate_secret()
    sub = WebhookSubscription(
        url=url, events=sorted(set(events)), secret=secret, active=True, created_at=now
    )
    session.add(sub)
    session.flush()
    return sub, secret


def list_subscriptions(session: Session, actor: Actor) -> list[WebhookSubscription]:
    _admin(actor)
    return list(
        session.scalars(
            select(WebhookSubscription)
            .where(WebhookSubscription.active.is_(True))
            .order_by(WebhookSubscription.id)
        )
    )


def get_subscription(session: Session, actor: Actor, sub_id: int) -> WebhookSubscription:
    _admin(actor)
    sub = session.get(WebhookSubscription, sub_id)
    if sub is None or not sub.active:
        raise NotFound("Webhook 订阅不存在 (no such subscription)")
    return sub


def delete_subscription(session: Session, actor: Actor, sub_id: int) -> None:
    """Deactivate (the delivery log stays); pending deliveries are dropped."""
    sub = get_subscription(session, actor, sub_id)
    sub.active = False
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == sub.id, WebhookDelivery.status == "pending")
        .values(status="dead", last_error="订阅已删除 (subscription deleted)")
    )


def list_deliveries(
    session: Session,
    actor: Actor,
    sub_id: int,
    status: str | None = None,
    page_size: int = 50,
    cursor: str | None = None,
) -> tuple[list[WebhookDelivery], str | None]:
    """Newest first, keyset-paginated."""
    sub = get_subscription(session, actor, sub_id)
    query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == sub.id)
    if status:
        if status not in DELIVERY_STATUSES:
            raise InvalidInput(
                "status 无效", {"status": [f"必须是 {', '.join(DELIVERY_STATUSES)} 之一"]}
            )
        query = query.where(WebhookDelivery.status == status)
    after = cases.decode_cursor(cursor)
    if after is not None:
        query = query.where(WebhookDelivery.id < cases.cursor_id(after[0]))
    rows = list(session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(page_size + 1)))
    next_cursor = cases.encode_cursor([rows[page_size - 1].id]) if len(rows) > page_size else None
    return rows[:page_size], next_cursor


def redeliver(session: Session, actor: Actor, delivery_id: int, now: datetime) -> WebhookDelivery:
    """Send a delivery again (same webhook-id, so receivers can deduplicate), from attempt 1."""
    _admin(actor)
    row = session.get(WebhookDelivery, delivery_id)
    if row is None:
        raise NotFound("投递记录不存在 (no such delivery)")
    get_subscription(session, actor, row.subscription_id)
    # Not while a worker holds it (claimed, being sent): clearing its lease would let a
    # second worker send the same message at the same time.
    sending = and_(
        WebhookDelivery.status == "pending",
        WebhookDelivery.locked_until.is_not(None),
        WebhookDelivery.locked_until > now,
    )
    result = session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, ~sending)
        .values(
            status="pending", attempts=0, next_attempt_at=now, locked_until=None, delivered_at=None
        )
        .execution_options(synchronize_session=False)
    )
    session.refresh(row)
    if result.rowcount != 1:
        raise Conflict("正在投递，请稍后再试 (the delivery is being sent right now)")
    return row
