from __future__ import annotations

import marshmallow as ma
from marshmallow import fields


class StageStatSchema(ma.Schema):
    stage = fields.String(allow_none=True)
    department = fields.String(required=True)
    open = fields.Integer(required=True)
    completed = fields.Integer(required=True)
    median_cycle_seconds = fields.Float(allow_none=True)
    sla_breaches = fields.Integer(required=True)


class StageStatsSchema(ma.Schema):
    items = fields.List(fields.Nested(StageStatSchema), required=True)
    worker_lag_seconds = fields.Float(required=True)
