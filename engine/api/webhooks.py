"""Webhook subscriptions and their delivery log (admins)."""

from __future__ import annotations

from flask_smorest import Blueprint

from ..models import WebhookDelivery, WebhookSubscription
from ..services import subscriptions
from .context import current_actor, database, now
from .errors import documents
from .schemas.webhooks import (
    DeliveryListArgsSchema,
    DeliveryPageSchema,
    DeliverySchema,
    SubscriptionCreatedSchema,
    SubscriptionCreateSchema,
    SubscriptionListSchema,
)

blp = Blueprint(
    "webhooks", __name__, url_prefix="/api/v1", description="Webhook 订阅 Webhooks (admins)"
)

ID = "<int(max=9007199254740991):{}>"


def subscription_payload(sub: WebhookSubscription) -> dict:
    return {
        "id": sub.id,
        "url": sub.url,
        "events": list(sub.events or []),
        "active": sub.active,
        "created_at": sub.created_at,
    }


def delivery_payload(row: WebhookDelivery) -> dict:
    return {
        column: getattr(row, column)
        for column in (
            "id",
            "msg_id",
            "subscription_id",
            "case_id",
            "event_type",
            "payload",
            "created_at",
            "status",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "last_latency_ms",
            "delivered_at",
        )
    }


@blp.route("/webhooks", methods=["POST"])
@blp.arguments(SubscriptionCreateSchema)
@blp.response(201, SubscriptionCreatedSchema)
@documents(blp, 400, 401, 403, 422)
def create(body):
    """Subscribe a URL to event types; the signing secret is returned only here."""
    with database().write() as session:
        sub, secret = subscriptions.create_subscription(
            session, current_actor(), body["url"], body["events"], now(), secret=body["secret"]
        )
        return {**subscription_payload(sub), "secret": secret}


@blp.route("/webhooks")
@blp.response(200, SubscriptionListSchema)
@documents(blp, 401, 403)
def list_subscriptions():
    """Active subscriptions (secrets are never shown again)."""
    with database().read() as session:
        rows = subscriptions.list_subscriptions(session, current_actor())
        return {"items": [subscription_payload(sub) for sub in rows]}


@blp.route(f"/webhooks/{ID.format('sub_id')}", methods=["DELETE"])
@blp.response(204)
@documents(blp, 401, 403, 404)
def delete(sub_id):
    """Unsubscribe; pending deliveries are dropped, the delivery log stays."""
    with database().write() as session:
        subscriptions.delete_subscription(session, current_actor(), sub_id)


@blp.route(f"/webhooks/{ID.format('sub_id')}/deliveries")
@blp.arguments(DeliveryListArgsSchema, location="query")
@blp.response(200, DeliveryPageSchema)
@documents(blp, 401, 403, 404, 422)
def deliveries(args, sub_id):
    """The delivery log, newest first: status, attempts, response status and latency."""
    with database().read() as session:
        rows, next_cursor = subscriptions.list_deliveries(session, current_actor(), sub_id, **args)
        return {"items": [delivery_payload(row) for row in rows], "next_cursor": next_cursor}


@blp.route(f"/webhooks/deliveries/{ID.format('delivery_id')}/redeliver", methods=["POST"])
@blp.response(202, DeliverySchema)
@documents(blp, 401, 403, 404, 409)
def redeliver(delivery_id):
    """Queue a delivery again (same webhook-id), e.g. after it went dead; 409 while a worker
    is sending it."""
    with database().write() as session:
        return delivery_payload(
            subscriptions.redeliver(session, current_actor(), delivery_id, now())
        )
