"""Shared schema pieces: problem details, safe strings, pagination."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

MAX_ID = 2**53 - 1
MAX_VERSION = 2**31 - 1  # process_definition.version is a 32-bit INTEGER


class Text(fields.String):
    """A string PostgreSQL can store: no NUL characters."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ma.ValidationError("不能包含 NUL 字符 (must not contain NUL characters)")
        return text


def Id(**kwargs) -> fields.Integer:  # noqa: N802 - reads like a field class
    return fields.Integer(strict=False, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    problems = fields.List(fields.Dict())


class PageArgsSchema(ma.Schema):
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    cursor = Text(load_default=None, validate=validate.Length(max=500))


class FormSchema(ma.Schema):
    key = fields.String(required=True)
    schema = fields.Dict(required=True)
    ui = fields.Dict()
