"""JSON Schema forms in HTML: a field tree to render server-side, and form posts back to data.

Input names are the dotted field paths that validation errors use (`items.0.name`), so an
error lands next to its field without any mapping. File inputs add the suffix `__file`.

A field the schema marks `readOnly` (e.g. the items an officer listed for a correction) is
shown as text with the value the case holds; the person completing the task cannot change it:
:func:`parse` ignores whatever is posted for it, and completing the task keeps the held value
(``forms.keep_read_only``, applied by the task service).

In English, labels come from the form's ``x-labels-en`` and choices from its ``x-options-en``.
A field required only under a condition (``if``/``then`` in the schema, see
``forms.conditions``) carries ``required_when``: a hint naming the condition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import forms

from ..departments import department_title
from .i18n import CATALOGUE_EN

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
    required_when: str = ""  # "（当“涉及人防”为“是”时必填）": required only under a condition
    # The same condition for form.js (which turns the marker red while it holds): alternatives
    # [{"all": [{"name": input name, "values": [input values] | None (filled in)}],
    # "unless": bool}]; empty when the schema states it in a way the hint cannot name.
    required_if: list[dict] = field(default_factory=list)


def choice_title(value: Any, title: str, english_title: str | None, english: bool) -> str:
    """How pages name a choice: the form's English title on English pages, a department code
    by the department's name, else the form's own title."""
    if english and english_title:
        return english_title
    return department_title(value, english) or title


def _options(schema: dict) -> list[tuple[Any, str]] | None:
    """A field schema's choices, ``(value, Chinese title)`` (see ``forms.field_options``)."""
    return forms.field_options(schema)


def _label_key(path: str) -> str:
    """The label key of an input name, including a row template's (``rows.__index__.name``)."""
    return forms.label_key(".".join(p for p in path.split(".") if p != "__index__"))


@dataclass
class _Page:
    """What the fields of one form page share: the schema and the page's language."""

    schema: dict
    english: bool
    labels: dict[str, str]
    option_titles: dict[str, dict[str, str]]
    requirements: dict[str, list[forms.Requirement]]

    def text(self, zh: str, **params) -> str:
        """A UI string of the hint, in the page's language (CATALOGUE_EN, as ``_()``)."""
        template = CATALOGUE_EN.get(zh, zh) if self.english else zh
        return template % params if params else template

    def options(self, key: str, node: dict) -> list[tuple[Any, str]]:
        options = _options(node) or []
        titles = self.option_titles.get(key, {})
        return [
            (value, choice_title(value, title, titles.get(forms.option_key(value)), self.english))
            for value, title in options
        ]

    def value_title(self, key: str, value: Any) -> str:
        if isinstance(value, bool):
            return self.text("是" if value else "否")
        return forms.option_title(self.schema, key, value, "en" if self.english else "zh")

    def condition(self, condition: forms.Condition) -> str:
        label = forms.field_label(self.schema, condition.field, "en" if self.english else "zh")
        if condition.values is None:
            return self.text("“%(field)s”已填写", field=label)
        titles = [self.value_title(condition.field, value) for value in condition.values]
        value = self.text("”或“").join(titles)  # “A”或“B”
        return self.text("“%(field)s”为“%(value)s”", field=label, value=value)

    def required_if(self, key: str, path: str) -> list[dict]:
        """:attr:`Field.required_if` of the field at input name ``path``; a condition tests a
        field of the same object (the same row of a list), so its input name shares the
        field's prefix."""
        prefix = path.rsplit(".", 1)[0] + "." if "." in path else ""
        result = []
        for requirement in self.requirements.get(key, []):
            if not requirement.when:
                return []
            tests = [
                {
                    "name": prefix + condition.field.rsplit(".", 1)[-1],
                    "values": None
                    if condition.values is None
                    else [_input_value(value) for value in condition.values],
                }
                for condition in requirement.when
            ]
            result.append({"all": tests, "unless": requirement.unless})
        return result

    def required_when(self, key: str) -> str:
        """The hint of a field required only under a condition; ``""`` for other fields."""
        hints = []
        for requirement in self.requirements.get(key, []):
            if not requirement.when:
                return self.text("（视其他填写内容可能必填）")
            condition = self.text("且").join(self.condition(c) for c in requirement.when)
            if requirement.unless:
                hints.append(self.text("除%(condition)s外", condition=condition))
            else:
                hints.append(self.text("当%(condition)s时", condition=condition))
        if not hints:
            return ""
        return self.text("（%(conditions)s必填）", conditions=self.text("，或").join(hints))


def _input_value(value: Any) -> str:
    """How a schema value is spelt in the form's inputs (a boolean radio posts true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


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
    page = _Page(
        schema=schema,
        english=english,
        labels=forms.english_labels(schema) if english else {},
        option_titles=forms.english_option_titles(schema) if english else {},
        requirements=forms.conditional_requirements(schema),
    )
    return _object_fields(schema, "", data or {}, errors or {}, page, held or {})


def _object_fields(schema, prefix, data, errors, page, held=None) -> list[Field]:
    """``held`` is given for the top level only: ``readOnly`` is honoured on top-level fields
    (the only place the forms use it)."""
    required = set(schema.get("required", []))
    result = []
    for key, sub in schema.get("properties", {}).items():
        path = f"{prefix}{key}"
        if held is not None and sub.get("readOnly"):
            item = _field(sub, path, False, held.get(key), errors, page)
            result.append(_read_only(item, held.get(key)))
            continue
        value = data.get(key) if isinstance(data, dict) else None
        result.append(_field(sub, path, key in required, value, errors, page))
    return result


def _read_only(item: Field, value: Any) -> Field:
    """``item`` and everything inside it shown, not asked for, with ``value`` as the case holds
    it (lists as lists, at every depth: an input's value would spell a list of texts as lines):
    an object's fields, every row of a list of objects (none added, none removed)."""
    item.readonly, item.value = True, value
    if item.kind == "object":
        values = value if isinstance(value, dict) else {}
        for child in item.children:
            _read_only(child, values.get(child.name.rsplit(".", 1)[-1]))
    elif item.kind == "objects":
        held_rows = value if isinstance(value, list) else []
        # the blank row an empty list is given to fill in is not shown (zip stops at no rows)
        item.rows = [
            [
                _read_only(child, row.get(child.name.rsplit(".", 1)[-1]))
                if isinstance(row, dict)
                else _read_only(child, None)
                for child in cells
            ]
            for cells, row in zip(item.rows, held_rows, strict=False)
        ]
        item.template = []
    return item


def _field(schema, path, required, value, errors, page) -> Field:
    kind = _kind(schema)
    key = _label_key(path)
    label = page.labels.get(key) or schema.get("title") or path.rsplit(".", 1)[-1]
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
        required_when="" if required else page.required_when(key),
        required_if=[] if required else page.required_if(key, path),
    )
    if kind == "select":
        item.options = page.options(key, schema)
    elif kind == "multiselect":
        item.options = page.options(key, schema.get("items", {}))
        item.value = value if isinstance(value, list) else []
    elif kind == "strings":
        item.value = "\n".join(str(v) for v in value) if isinstance(value, list) else value
    elif kind == "attachments":
        item.value = value if isinstance(value, list) else []
    elif kind == "object":
        item.children = _object_fields(
            schema, f"{path}.", value if isinstance(value, dict) else {}, errors, page
        )
    elif kind == "objects":
        items = schema.get("items", {})
        rows = value if isinstance(value, list) else []
        item.rows = [
            _object_fields(items, f"{path}.{index}.", row, errors, page)
            for index, row in enumerate(rows)
        ]
        if not item.rows:
            item.rows = [_object_fields(items, f"{path}.0.", {}, errors, page)]
        # Rendered into a <template>; the JS replaces __index__ with the next row number.
        item.template = _object_fields(items, f"{path}.__index__.", {}, {}, page)
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
