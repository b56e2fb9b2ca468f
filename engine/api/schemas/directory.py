"""Departments and users."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from .auth import UserSchema
from .common import Text


class DepartmentSchema(ma.Schema):
    code = fields.String(required=True)
    name_zh = fields.String(required=True)
    name_en = fields.String(required=True)


class DepartmentListSchema(ma.Schema):
    items = fields.List(fields.Nested(DepartmentSchema), required=True)
    next_cursor = fields.String(allow_none=True)


class UserListArgsSchema(ma.Schema):
    department = Text(load_default=None, validate=validate.Length(max=40))


class UserListSchema(ma.Schema):
    items = fields.List(fields.Nested(UserSchema), required=True)
    next_cursor = fields.String(allow_none=True)
