from __future__ import annotations

import marshmallow as ma
from flask_smorest.fields import Upload
from marshmallow import fields, validate

from .common import MAX_VERSION, Id, PageArgsSchema, Text

CASE_STATUSES = ("running", "completed", "cancelled")


class StartCaseSchema(ma.Schema):
    definition_key = Text(required=True, validate=validate.Length(min=1, max=100))
    version = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_VERSION))
    project_name = Text(required=True, validate=validate.Length(min=1, max=300))
    enterprise_id = Id(load_default=None)
    data = fields.Dict(keys=fields.String(), load_default=dict)


class StartWithFilesFormSchema(ma.Schema):
    """The text parts of POST /cases/with-files; the file parts are read from request.files."""

    case = Text(required=True)


# The multipart body as documented: `case` plus one file part per start-form file field.
START_WITH_FILES_BODY = {
    "type": "object",
    "required": ["case"],
    "properties": {
        "case": {
            "type": "string",
            "description": (
                "The POST /api/v1/cases body as JSON text: "
                "{definition_key, project_name, data, version?, enterprise_id?}"
            ),
        },
    },
    "additionalProperties": {
        "type": "string",
        "format": "binary",
        "description": (
            "A file for the start-form file field named by the part name, a dotted field "
            "path (survey_report_file, attachments, rect_problems.0.photos). For an array "
            "field every part of that name is appended; a scalar field takes one file."
        ),
    },
}


class CaseListArgsSchema(PageArgsSchema):
    status = Text(load_default=None, validate=validate.OneOf(CASE_STATUSES))
    stage = Text(load_default=None, validate=validate.Length(max=40))
    q = Text(load_default=None, validate=validate.Length(max=200))


class CaseDefinitionSchema(ma.Schema):
    key = fields.String(required=True)
    version = fields.Integer(required=True)
    name = fields.String()
    name_en = fields.String(
        allow_none=True,
        metadata={"description": "English name (the BPMN `name_en` property); null: none given."},
    )


class CaseEnterpriseSchema(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class OpenTaskSchema(ma.Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    title_en = fields.String(
        allow_none=True,
        metadata={
            "description": "English title (the BPMN element's `name_en` property); null: none "
            "given, show `title`."
        },
    )
    department = fields.String(required=True)
    assignee = fields.String(allow_none=True)
    status = fields.String(required=True)
    due_at = fields.DateTime(allow_none=True)
    legal_basis = fields.String(allow_none=True)
    legal_basis_en = fields.String(
        allow_none=True,
        metadata={
            "description": "English legal basis (the BPMN element's `legal_basis_en` property); "
            "null: none given, show `legal_basis`."
        },
    )


class CaseSummarySchema(ma.Schema):
    id = fields.Integer(required=True)
    case_number = fields.String(required=True)
    definition = fields.Nested(CaseDefinitionSchema, required=True)
    enterprise = fields.Nested(CaseEnterpriseSchema, allow_none=True)
    project_name = fields.String(required=True)
    project_code = fields.String(allow_none=True)
    status = fields.String(required=True)
    stage = fields.String(allow_none=True)
    started_at = fields.DateTime(required=True)
    completed_at = fields.DateTime(allow_none=True)
    due_at = fields.DateTime(allow_none=True)
    open_tasks = fields.List(fields.Nested(OpenTaskSchema), required=True)
    waiting_for = fields.List(
        fields.String(),
        required=True,
        metadata={
            "description": "A running case with no open task: the BPMN message names it waits "
            "for (e.g. bim_model_accepted); empty otherwise."
        },
    )


class CaseSchema(CaseSummarySchema):
    data = fields.Dict(required=True)


class CasePageSchema(ma.Schema):
    items = fields.List(fields.Nested(CaseSummarySchema), required=True)
    next_cursor = fields.String(allow_none=True)


class EventSchema(ma.Schema):
    seq = fields.Integer(required=True)
    type = fields.String(required=True)
    actor = fields.String(required=True)
    at = fields.DateTime(required=True)
    payload = fields.Dict(required=True)
    hash = fields.String(required=True)


class TimelineSchema(ma.Schema):
    items = fields.List(fields.Nested(EventSchema), required=True)
    next_cursor = fields.String(allow_none=True)


class DiagramSchema(ma.Schema):
    xml = fields.String(required=True)
    active = fields.List(fields.String(), required=True)
    completed = fields.List(fields.String(), required=True)


class MessageSchema(ma.Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=100))
    data = fields.Dict(keys=fields.String(), load_default=dict)


class CancelSchema(ma.Schema):
    reason = Text(required=True, validate=validate.Length(min=1, max=1000))


class AttachmentUploadSchema(ma.Schema):
    file = Upload(required=True)


class AttachmentSchema(ma.Schema):
    id = fields.String(required=True)
    filename = fields.String(required=True)
    size = fields.Integer(required=True)
    content_type = fields.String(required=True)
    sha256 = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    uploaded_by = fields.String(required=True)


class AttachmentListSchema(ma.Schema):
    items = fields.List(fields.Nested(AttachmentSchema), required=True)


# The body of an attachment download: the stored bytes.
BINARY = {"type": "string", "format": "binary"}
