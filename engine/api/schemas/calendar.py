from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate


class YearImportSchema(ma.Schema):
    year = fields.Integer(required=True, strict=True, validate=validate.Range(min=1900, max=2999))
    holidays = fields.List(fields.String(), load_default=list)
    workdays = fields.List(
        fields.String(), load_default=list, metadata={"description": "adjusted Saturdays/Sundays"}
    )
    source = fields.String(load_default=None, validate=validate.Length(max=60))


class RecomputedTaskSchema(ma.Schema):
    task_id = fields.Integer(required=True)
    previous_due_at = fields.DateTime(required=True)
    due_at = fields.DateTime(required=True)


class YearSchema(ma.Schema):
    year = fields.Integer(required=True)
    source = fields.String(required=True)
    imported_at = fields.DateTime(allow_none=True)
    holidays = fields.List(fields.Date(), required=True)
    workdays = fields.List(fields.Date(), required=True)
    recomputed_tasks = fields.List(fields.Nested(RecomputedTaskSchema))


class YearListSchema(ma.Schema):
    items = fields.List(fields.Nested(YearSchema), required=True)
