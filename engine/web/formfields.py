"""JSON Schema forms in HTML: a field tree to render server-side, and form posts back to data.

Input names are the dotted field paths that validation errors use (`items.0.name`), so an
error lands next to its field without any mapping. File inputs add the suffix `__file`.

A field the schema marks `readOnly` (e.g. the items an officer listed for a correction) is
shown as text with the value the case holds; the person completing the task cannot change it:
:func:`parse` ignores whatever is posted for it, and completing the task keeps the held value
(``forms.keep_read_only``, applied by the task service).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import forms

FILE_SUFFIX = "__file"
_ROW_RE = re.compile(r"^(?P<prefix>.+)\.(?P<index>\d+)\.")


@dataclass
class Field:
    name: str
    label: str
    kind: str  # text|textarea|integer|number|boolean|select|date|datetime|strings|multiselect|objects|object|attachment|attachments
    required: bool = False
    value: Any = None
    options: list[tuple[Any, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    children: list[Field] = field(default_factory=list)
    rows: list[list[Field]] = field(default_factory=list)
    template: list[Field] = field(default_factory=list)
    description: str = ""
    minimum: Any = None
    maximum: Any = None
    readonly: bool = False


def _options(schema: dict) -> list[tuple[Any, str]] | None:
    if "enum" in schema:
        return [(value, str(value)) for value in schema["enum"]]
    alternatives = schema.get("oneOf") or schema.get("anyOf")
    if alternatives and all(isinstance(alt, dict) and "const" in alt for alt in alternatives):
        return [(alt["const"], alt.get("title", str(alt["const"]))) for alt in alternatives]
    return None


def _type(schema: dict) -> str:
    kind = schema.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    return kind


def _kind(schema: dict) -> str:
    kind = _type(schema)
    if kind == "array":
        items = schema.get("items", {})
        if _type(items) == "object":
            return "objects"
        if items.get("format") == "attachment":
            return "attachments"
        return "multiselect" if _options(items) else "strings"
    if kind == "object":
        return "object"
    if kind in ("integer", "number", "boolean"):
        return kind
    if _options(schema):
        return "select"
    fmt = schema.get("format")
    if fmt == "attachment":
        return "attachment"
    if fmt == "date":
        return "date"
    if fmt == "date-time":
        return "datetime"
    if schema.get("maxLength", 0) > 200 or schema.get("x-widget") == "textarea":
        return "textarea"
    return "text"


def build_fields(
    schema: dict,
    data: dict | None,
    errors: dict[str, list[str]] | None,
    english: bool,
    held: dict | None = None,
) -> list[Field]:
    """The form's fields with values and error messages, in schema order; ``readOnly`` fields
    show the value in ``held`` (the case's data), whatever ``data`` says."""
    labels = forms.english_labels(schema) if english else {}
    return _object_fields(schema, "", data or {}, errors or {}, labels, held or {})


def _object_fields(schema, prefix, data, errors, labels, held=None) -> list[Field]:
    """``held`` is given for the top level only: ``readOnly`` is honoured on top-level fields
    (the only place the forms use it)."""
    required = set(schema.get("required", []))
    result = []
    for key, sub in schema.get("properties", {}).items():
        path = f"{prefix}{key}"
        if held is not None and sub.get("readOnly"):
            item = _field(sub, path, False, held.get(key), errors, labels)
            item.value, item.readonly = held.get(key), True  # shown as is: lists as lists
            result.append(item)
            continue
        value = data.get(key) if isinstance(data, dict) else None
        result.append(_field(sub, path, key in required, value, errors, labels))
    return result


def _field(schema, path, required, value, errors, labels) -> Field:
    kind = _kind(schema)
    label = labels.get(forms.label_key(path)) or schema.get("title") or path.rsplit(".", 1)[-1]
    item = Field(
        name=path,
        label=label,
        kind=kind,
        required=required,
        value=value,
        errors=list(errors.get(path, [])),
        description=schema.get("description", ""),
        minimum=schema.get("minimum"),
        maximum=schema.get("maximum"),
    )
    if kind == "select":
        item.options = _options(schema) or []
    elif kind == "multiselect":
        item.options = _options(schema.get("items", {})) or []
        item.value = value if isinstance(value, list) else []
    elif kind == "strings":
        item.value = "\n".join(str(v) for v in value) if isinstance(value, list) else value
    elif kind == "attachments":
        item.value = value if isinstance(value, list) else []
    elif kind == "object":
        item.children = _object_fields(
            schema, f"{path}.", value if isinstance(value, dict) else {}, errors, labels
        )
    elif kind == "objects":
        items = schema.get("items", {})
        rows = value if isinstance(value, list) else []
        item.rows = [
            _object_fields(items, f"{path}.{index}.", row, errors, labels)
            for index, row in enumerate(rows)
        ]
        if not item.rows:
            item.rows = [_object_fields(items, f"{path}.0.", {}, errors, labels)]
        # Rendered into a <template>; the JS replaces __index__ with the next row number.
        item.template = _object_fields(items, f"{path}.__index__.", {}, {}, labels)
    return item


def parse(schema: dict, form, uploaded: dict[str, list[str]]) -> dict:
    """Form post (a MultiDict) -> data for the schema; empty inputs and top-level ``readOnly``
    fields are left out."""
    data = _parse_object(schema, "", form, uploaded)
    properties = schema.get("properties", {})
    return {key: value for key, value in data.items() if not properties[key].get("readOnly")}


def _parse_object(schema, prefix, form, uploaded) -> dict:
    data = {}
    for key, sub in schema.get("properties", {}).items():
        path = f"{prefix}{key}"
        value = _parse_value(sub, path, form, uploaded)
        if value is not None:
            data[key] = value
    return data


def _parse_scalar(schema, raw: str):
    raw = raw.strip()
    if raw == "":
        return None
    kind = _type(schema)
    if kind == "integer":
        try:
            return int(raw)
        except ValueError:
            return raw  # validation reports the type
    if kind == "number":
        try:
            number = float(raw)
        except ValueError:
            return raw
        return int(number) if number.is_integer() and "." not in raw else number
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    if schema.get("format") == "date-time" and len(raw) == 16:
        return f"{raw}:00+08:00"  # <input type=datetime-local> has no seconds nor offset
    options = _options(schema)
    if options:
        for value, _ in options:
            if str(value) == raw:
                return value
    return raw


def _parse_value(schema, path, form, uploaded):
    kind = _kind(schema)
    if kind == "object":
        value = _parse_object(schema, f"{path}.", form, uploaded)
        return value or None
    if kind == "objects":
        indices = sorted(
            {
                int(match.group("index"))
                for key in form
                if (match := _ROW_RE.match(key)) and match.group("prefix") == path
            }
            | {
                int(match.group("index"))
                for key in uploaded
                if (match := _ROW_RE.match(key + ".")) and match.group("prefix") == path
            }
        )
        rows = [
            _parse_object(schema.get("items", {}), f"{path}.{index}.", form, uploaded)
            for index in indices
        ]
        rows = [row for row in rows if row]
        return rows or None
    if kind == "strings":
        lines = [line.strip() for line in form.get(path, "").splitlines()]
        items = [_parse_scalar(schema.get("items", {}), line) for line in lines if line]
        return items or None
    if kind == "multiselect":
        items = [
            _parse_scalar(schema.get("items", {}), raw) for raw in form.getlist(path) if raw.strip()
        ]
        return items or None
    if kind == "attachments":
        ids = [raw for raw in form.getlist(path) if raw.strip()] + uploaded.get(path, [])
        return ids or None
    if kind == "attachment":
        new = uploaded.get(path, [])
        return new[-1] if new else (form.get(path, "").strip() or None)
    return _parse_scalar(schema, form.get(path, ""))


def upload_paths(files) -> dict[str, list]:
    """field path -> the non-empty FileStorage objects posted for it."""
    result: dict[str, list] = {}
    for key in files:
        if not key.endswith(FILE_SUFFIX):
            continue
        chosen = [f for f in files.getlist(key) if f and f.filename]
        if chosen:
            result[key[: -len(FILE_SUFFIX)]] = chosen
    return result


def field_paths(fields: list[Field]) -> set[str]:
    """The names of the fields and of all the fields inside them (rows, objects)."""
    paths = set()
    for item in fields:
        paths.add(item.name)
        paths |= field_paths(item.children)
        for row in item.rows:
            paths |= field_paths(row)
    return paths
