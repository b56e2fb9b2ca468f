from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from .common import Text


class LoginSchema(ma.Schema):
    username = Text(required=True, validate=validate.Length(min=1, max=80))
    password = Text(required=True, validate=validate.Length(min=1, max=200), load_only=True)


class EnterpriseRefSchema(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    uscc = fields.String()


class UserSchema(ma.Schema):
    id = fields.Integer(required=True)
    username = fields.String(required=True)
    display_name = fields.String()
    role = fields.String(
        required=True, metadata={"enum": ["officer", "analyst", "enterprise", "admin"]}
    )
    department = fields.String(allow_none=True)
    enterprise = fields.Nested(EnterpriseRefSchema, allow_none=True)


class TokenSchema(ma.Schema):
    token = fields.String(required=True)
    token_type = fields.String(required=True)
    expires_at = fields.DateTime(required=True)
    user = fields.Nested(UserSchema, required=True)
