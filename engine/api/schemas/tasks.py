from __future__ import annotations

from datetime import UTC

import marshmallow as ma
from marshmallow import fields, validate

from .cases import CaseSchema
from .common import FormSchema, PageArgsSchema, Text

TASK_STATUSES = ("ready", "claimed", "completed", "cancelled")


class TaskListArgsSchema(PageArgsSchema):
    department = Text(load_default=None, validate=validate.Length(max=40))
    status = Text(load_default=None, validate=validate.OneOf(TASK_STATUSES))
    assignee = Text(
        load_default=None,
        validate=validate.Length(max=80),
        metadata={"description": "`me` or a username"},
    )
    case = Text(
        load_default=None,
        validate=validate.Length(max=30),
        metadata={"description": "case id or number"},
    )
    due_before = fields.AwareDateTime(load_default=None, default_timezone=UTC)
    q = Text(
        load_default=None,
        validate=validate.Length(max=100),
        metadata={"description": "case number, project name or code, permit number, enterprise"},
    )
    sort = Text(load_default="due_at", validate=validate.OneOf(("due_at", "created_at")))


class TaskCaseSchema(ma.Schema):
    id = fields.Integer(required=True)
    case_number = fields.String(required=True)
    project_name = fields.String(required=True)


class TaskSummarySchema(ma.Schema):
    id = fields.Integer(required=True)
    case = fields.Nested(TaskCaseSchema, required=True)
    title = fields.String(required=True)
    title_en = fields.String(
        allow_none=True,
        metadata={
            "description": "English title (the BPMN element's `name_en` property); null: none "
            "given, show `title`."
        },
    )
    element_id = fields.String(required=True)
    department = fields.String(required=True)
    assignee = fields.String(allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(TASK_STATUSES))
    form_key = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    due_at = fields.DateTime(allow_none=True)
    due_provisional = fields.Boolean()
    sla_working_days = fields.Integer(allow_none=True)
    legal_basis = fields.String(allow_none=True)
    legal_basis_en = fields.String(
        allow_none=True,
        metadata={
            "description": "English legal basis (the BPMN element's `legal_basis_en` property); "
            "null: none given, show `legal_basis`."
        },
    )
    completed_at = fields.DateTime(allow_none=True)
    completed_by = fields.String(allow_none=True)
    sla_status = fields.String(
        allow_none=True, validate=validate.OneOf(("on_time", "warning", "breached"))
    )
    paused = fields.Boolean()
    paused_seconds = fields.Integer()


class TaskSchema(TaskSummarySchema):
    form = fields.Nested(FormSchema, allow_none=True)
    data = fields.Dict(allow_none=True)


class TaskPageSchema(ma.Schema):
    items = fields.List(fields.Nested(TaskSummarySchema), required=True)
    next_cursor = fields.String(allow_none=True)


class AssignSchema(ma.Schema):
    user = Text(required=True, validate=validate.Length(min=1, max=80))


class CompleteSchema(ma.Schema):
    data = fields.Dict(keys=fields.String(), load_default=dict)


class CompletedSchema(ma.Schema):
    case = fields.Nested(CaseSchema, required=True)
