from __future__ import annotations

import marshmallow as ma
from marshmallow import fields


class InboundAcceptedSchema(ma.Schema):
    case_number = fields.String(required=True)
    message = fields.String(required=True)
    duplicate = fields.Boolean(
        required=True, metadata={"description": "true when this webhook-id was already processed"}
    )
