from __future__ import annotations

import marshmallow as ma
from flask_smorest.fields import Upload
from marshmallow import fields

from .common import FormSchema


class BundleUploadSchema(ma.Schema):
    files_list = fields.List(
        Upload(), data_key="files[]", metadata={"description": ".bpmn / .dmn files"}
    )
    files = fields.List(Upload(), metadata={"description": "same as files[]"})


class DefinitionRefSchema(ma.Schema):
    key = fields.String(required=True)
    version = fields.Integer(required=True)
    name = fields.String(required=True)
    name_en = fields.String(
        allow_none=True,
        metadata={"description": "English name (the BPMN `name_en` property); null: none given."},
    )


class DeploymentSchema(ma.Schema):
    deployment_id = fields.Integer(required=True)
    definitions = fields.List(fields.Nested(DefinitionRefSchema), required=True)


class BundleProblemSchema(ma.Schema):
    file = fields.String(allow_none=True)
    line = fields.Integer(allow_none=True)
    element_id = fields.String(allow_none=True)
    message = fields.String(required=True)


class ValidationSchema(ma.Schema):
    valid = fields.Boolean(required=True)
    problems = fields.List(fields.Nested(BundleProblemSchema), required=True)


class DefinitionSchema(DefinitionRefSchema):
    deployment_id = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    filename = fields.String()
    start_form_key = fields.String(allow_none=True)
    start_form = fields.Nested(FormSchema, allow_none=True)
    starters = fields.List(
        fields.String(),
        allow_none=True,
        metadata={
            "description": "Who may start it: department codes and/or 'enterprise' (admins "
            "always); null: anyone who starts cases."
        },
    )


class DefinitionListArgsSchema(ma.Schema):
    all_versions = fields.Boolean(load_default=False)


class DefinitionListSchema(ma.Schema):
    items = fields.List(fields.Nested(DefinitionSchema), required=True)
    next_cursor = fields.String(allow_none=True)
