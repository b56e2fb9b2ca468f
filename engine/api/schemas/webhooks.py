from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

import webhooks

from .common import PageArgsSchema, Text

DELIVERY_STATUSES = ("pending", "delivered", "dead")


class SubscriptionCreateSchema(ma.Schema):
    url = Text(required=True, validate=validate.Length(min=1, max=1000))
    events = fields.List(
        Text(validate=validate.OneOf(webhooks.EVENT_TYPES)),
        required=True,
        validate=validate.Length(min=1, max=len(webhooks.EVENT_TYPES)),
    )
    secret = Text(
        load_default=None,
        validate=validate.Length(max=200),
        metadata={"description": "whsec_<base64>; generated when not given"},
    )


class SubscriptionSchema(ma.Schema):
    id = fields.Integer(required=True)
    url = fields.String(required=True)
    events = fields.List(fields.String(), required=True)
    active = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)


class SubscriptionCreatedSchema(SubscriptionSchema):
    secret = fields.String(
        required=True, metadata={"description": "Shown only in this response: keep it."}
    )


class SubscriptionListSchema(ma.Schema):
    items = fields.List(fields.Nested(SubscriptionSchema), required=True)


class DeliveryListArgsSchema(PageArgsSchema):
    status = Text(load_default=None, validate=validate.OneOf(DELIVERY_STATUSES))


class DeliverySchema(ma.Schema):
    id = fields.Integer(required=True)
    msg_id = fields.String(required=True, metadata={"description": "the webhook-id header"})
    subscription_id = fields.Integer(required=True)
    case_id = fields.Integer(allow_none=True)
    event_type = fields.String(required=True)
    payload = fields.Dict(required=True)
    created_at = fields.DateTime(required=True)
    status = fields.String(required=True, validate=validate.OneOf(DELIVERY_STATUSES))
    attempts = fields.Integer(required=True)
    next_attempt_at = fields.DateTime(required=True)
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    last_latency_ms = fields.Float(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)


class DeliveryPageSchema(ma.Schema):
    items = fields.List(fields.Nested(DeliverySchema), required=True)
    next_cursor = fields.String(allow_none=True)
