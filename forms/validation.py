"""Validate form data against a JSON Schema (draft 2020-12) with localised messages.

Field paths
-----------
Errors are keyed by the *dotted path* of the offending field: object keys and array indices
joined with ``.``, e.g. ``applicant.uscc`` or ``items.0.name``. A problem with the whole
form (the top-level value) is keyed by ``""``. A missing required property is reported at
the path of the missing field itself (``applicant.uscc``), not at its parent; so is a
property that ``additionalProperties: false`` forbids.

Messages are zh-CN by default; pass ``locale="en"`` (anything starting with ``en``) for
English.

English title and labels
------------------------
Form titles are Chinese (``title``); the form's English title sits beside it::

    "title": "消防设计审查意见", "x-title-en": "Fire protection design review opinion"

English labels live in one top-level map::

    "x-labels-en": {"owner_uscc": "Owner USCC", "dangerous_works.scale": "Scale"}

Keys are dotted property paths *without array indices* (``dangerous_works.scale`` labels
``dangerous_works.0.scale``); use :func:`label_key` to turn an error path into a label key.

What a pattern asks for
-----------------------
A ``pattern`` failure can only say "invalid format" unless the field says what it wants;
the field may carry both languages of that sentence::

    "pattern": "海珠区", "x-pattern-message": "须为海珠区内的地址（包含“海珠区”）",
    "x-pattern-message-en": "Must be an address in Haizhu District (containing “海珠区”)"

English option titles
---------------------
A field's choices (``enum`` values, or ``oneOf``/``anyOf`` alternatives with ``const`` and a
Chinese ``title``; for a multi-select, those of its ``items``) get English titles in a
parallel top-level map, keyed by the same label keys, then by the option value
(:func:`option_key`: the string itself, other JSON values as JSON)::

    "x-options-en": {"fire_track": {"special": "Special construction works"}}
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from jsonschema.exceptions import best_match

from .formats import FormatProblem, known_formats, make_format_checker

SCHEMA_URI = "https://json-schema.org/draft/2020-12/schema"
TITLE_EN_KEY = "x-title-en"
LABELS_EN_KEY = "x-labels-en"
OPTIONS_EN_KEY = "x-options-en"
PATTERN_MESSAGE_KEYS = ("x-pattern-message", "x-pattern-message-en")

ZH = "zh"
EN = "en"

# message id -> (zh-CN, en)
MESSAGES: dict[str, tuple[str, str]] = {
    "required": ("此项为必填项", "This field is required"),
    "additional": ("不允许填写此项", "This field is not allowed"),
    "type": ("类型不正确，应为{expected}", "Must be {expected}"),
    "enum": ("取值必须是以下之一：{values}", "Must be one of: {values}"),
    "const": ("取值必须为 {value}", "Must be {value}"),
    "const_true": ("必须勾选确认", "Must be confirmed"),
    "minLength": ("长度不能少于{limit}个字符", "Must be at least {limit} characters"),
    "maxLength": ("长度不能超过{limit}个字符", "Must be at most {limit} characters"),
    "minimum": ("不能小于{limit}", "Must be at least {limit}"),
    "maximum": ("不能大于{limit}", "Must be at most {limit}"),
    "exclusiveMinimum": ("必须大于{limit}", "Must be greater than {limit}"),
    "exclusiveMaximum": ("必须小于{limit}", "Must be less than {limit}"),
    "multipleOf": ("必须是{limit}的整数倍", "Must be a multiple of {limit}"),
    "minItems": ("至少需要{limit}项", "At least {limit} item(s) required"),
    "maxItems": ("最多只能有{limit}项", "At most {limit} item(s) allowed"),
    "uniqueItems": ("列表中不能有重复项", "Items must be unique"),
    "minProperties": ("至少需要填写{limit}项", "At least {limit} field(s) required"),
    "maxProperties": ("最多只能填写{limit}项", "At most {limit} field(s) allowed"),
    "pattern": ("格式不正确", "Invalid format"),
    "contains": ("列表缺少符合要求的项", "The list lacks a required kind of item"),
    "anyOf": ("不符合任何一种允许的填写方式", "Does not match any allowed form"),
    "oneOf": ("必须且只能符合一种填写方式", "Must match exactly one allowed form"),
    "not": ("不允许此取值", "This value is not allowed"),
    "false": ("不允许填写此项", "This field is not allowed"),
    "invalid": ("取值不符合要求", "Invalid value"),
    # formats
    "uscc_length": (
        "统一社会信用代码应为18位",
        "Unified social credit code must be 18 characters",
    ),
    "uscc_charset": (
        "统一社会信用代码只能包含数字和大写字母（不含I、O、S、V、Z）",
        "Unified social credit code may contain only digits and capital letters except I, O, S, V, Z",
    ),
    "uscc_check_digit": (
        "统一社会信用代码校验位错误",
        "Unified social credit code check digit is wrong",
    ),
    "project_code": (
        "项目代码格式应为 YYYY-XXXXXX-XX-XX-XXXXXX，例如 2024-440105-47-01-123456",
        "Project code must look like YYYY-XXXXXX-XX-XX-XXXXXX, e.g. 2024-440105-47-01-123456",
    ),
    "cn_mobile": (
        "手机号码应为以1开头的11位数字",
        "Mobile number must be 11 digits starting with 13-19",
    ),
    "attachment_empty": ("请上传附件", "Please upload an attachment"),
    "attachment_unknown": (
        "附件不存在或不属于本案件",
        "Attachment not found in this case",
    ),
    "format_date": ("日期格式应为 YYYY-MM-DD", "Date must be YYYY-MM-DD"),
    "format_date-time": (
        "日期时间格式应为 YYYY-MM-DDThh:mm:ss+08:00",
        "Date-time must be RFC 3339, e.g. 2026-01-31T09:00:00+08:00",
    ),
    "format_time": ("时间格式应为 hh:mm:ss+08:00", "Time must be hh:mm:ss with offset"),
    "format_email": ("电子邮箱格式不正确", "Invalid email address"),
    "format_uri": ("网址格式不正确", "Invalid URI"),
    "format": ("格式不正确（{format}）", "Invalid format ({format})"),
}

TYPE_NAMES: dict[str, tuple[str, str]] = {
    "string": ("文本", "text"),
    "integer": ("整数", "a whole number"),
    "number": ("数字", "a number"),
    "boolean": ("是/否", "yes/no"),
    "array": ("列表", "a list"),
    "object": ("对象", "an object"),
    "null": ("空值", "empty"),
}


def _lang(locale: str | None) -> str:
    return EN if locale and locale.lower().startswith("en") else ZH


def message(msg_id: str, locale: str | None = None, **params: Any) -> str:
    """The localised text of message ``msg_id`` (see ``MESSAGES``)."""
    zh, en = MESSAGES.get(msg_id, MESSAGES["invalid"])
    template = en if _lang(locale) == EN else zh
    return template.format(**params)


def _path(parts: Iterable[Any]) -> str:
    return ".".join(str(p) for p in parts)


def _child(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def label_key(path: str) -> str:
    """Turn an error path (``works.0.scale``) into an ``x-labels-en`` key (``works.scale``)."""
    return ".".join(p for p in path.split(".") if p and not p.isdigit())


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def _type_names(expected: Any, lang: str) -> str:
    types = expected if isinstance(expected, list) else [expected]
    idx = 1 if lang == EN else 0
    sep = " or " if lang == EN else "或"
    return sep.join(TYPE_NAMES.get(t, (t, t))[idx] for t in types)


def _additional_props(error: ValidationError) -> list[str]:
    instance = error.instance
    if not isinstance(instance, Mapping):
        return []
    props = error.schema.get("properties", {}) if isinstance(error.schema, Mapping) else {}
    patterns = (
        error.schema.get("patternProperties", {}) if isinstance(error.schema, Mapping) else {}
    )
    return [
        key for key in instance if key not in props and not any(re.search(p, key) for p in patterns)
    ]


def _translate(error: ValidationError, locale: str | None) -> list[tuple[str, str]]:
    """(path, message) pairs for one jsonschema error."""
    lang = _lang(locale)
    path = _path(error.absolute_path)
    kw = error.validator
    value = error.validator_value
    instance = error.instance

    if kw == "required":
        missing = [p for p in value if isinstance(instance, Mapping) and p not in instance]
        return [(_child(path, p), message("required", locale)) for p in missing]
    if kw == "dependentRequired":
        out = []
        if isinstance(instance, Mapping):
            for prop, deps in value.items():
                if prop in instance:
                    out += [
                        (_child(path, d), message("required", locale))
                        for d in deps
                        if d not in instance
                    ]
        return out
    if kw in ("additionalProperties", "unevaluatedProperties") and value is False:
        extras = _additional_props(error) if kw == "additionalProperties" else []
        if extras:
            return [(_child(path, p), message("additional", locale)) for p in extras]
        return [(path, message("additional", locale))]
    if kw == "format":
        cause = error.cause
        if isinstance(cause, FormatProblem):
            return [(path, message(cause.code, locale))]
        if f"format_{value}" in MESSAGES:
            return [(path, message(f"format_{value}", locale))]
        return [(path, message("format", locale, format=value))]
    if kw in ("anyOf", "oneOf") and error.context:
        # Report the most relevant failure of the alternatives rather than a vague summary.
        # A branch that failed only on "type" is the wrong branch for this value
        # (e.g. {"anyOf": [{"format": "cn-mobile"}, {"type": "null"}]} given "123").
        candidates = [e for e in error.context if e.validator != "type"] or error.context
        best = best_match(candidates)
        if best is not None:
            return _translate(best, locale)
    if kw == "pattern" and isinstance(error.schema, Mapping):
        said = error.schema.get(PATTERN_MESSAGE_KEYS[1 if lang == EN else 0])
        if said:
            return [(path, said)]
    if kw == "type":
        return [(path, message("type", locale, expected=_type_names(value, lang)))]
    if kw == "enum":
        sep = ", " if lang == EN else "、"
        return [(path, message("enum", locale, values=sep.join(_show(v) for v in value)))]
    if kw == "const":
        if value is True:
            return [(path, message("const_true", locale))]
        return [(path, message("const", locale, value=_show(value)))]
    if kw in MESSAGES:
        return [(path, message(kw, locale, limit=_show(value)))]
    if kw is None or kw == "false" or error.schema is False:
        return [(path, message("false", locale))]
    return [(path, message("invalid", locale))]


def validate(
    schema: Mapping[str, Any],
    data: Any,
    attachment_ids: Collection[str] | None = None,
    locale: str = "zh-CN",
) -> dict[str, list[str]]:
    """Validate ``data`` against ``schema``; return ``{field_path: [messages]}``.

    An empty dict means valid. ``attachment_ids``: the ids of the attachments uploaded to
    this case; when given, every ``format: attachment`` string must be one of them.
    The schema is assumed valid (run :func:`check_schema` when a form is published).
    """
    validator = Draft202012Validator(schema, format_checker=make_format_checker(attachment_ids))
    result: dict[str, list[str]] = {}
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    for error in errors:
        for path, text in _translate(error, locale):
            msgs = result.setdefault(path, [])
            if text not in msgs:
                msgs.append(text)
    return result


def has_attachment_fields(schema: Mapping[str, Any]) -> bool:
    """Whether any field of the form holds attachment ids (``format: attachment``)."""
    return any(fmt == "attachment" for _, fmt in _walk_formats(schema, ""))


# Keywords whose value is data, not a schema: a "format" inside them is not a field's format.
_DATA_KEYWORDS = frozenset(("const", "enum", "default", "examples", LABELS_EN_KEY, OPTIONS_EN_KEY))
# Keywords whose value maps names to schemas: its keys are field names, whatever they spell.
_NAMED_SCHEMAS = frozenset(
    ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
)


def _walk_formats(node: Any, where: str) -> Iterable[tuple[str, str]]:
    """(path, format) of every schema node with a format."""
    for path, sub in _schema_nodes(node, where):
        if isinstance(sub.get("format"), str):
            yield path, sub["format"]


def _schema_nodes(node: Any, where: str, names: bool = False) -> Iterable[tuple[str, Mapping]]:
    """(path, node) of every schema node; ``names``: ``node`` maps names to schemas (the
    value of ``properties`` and the like), so a field named ``default`` counts."""
    if isinstance(node, Mapping) and names:
        for key, sub in node.items():
            yield from _schema_nodes(sub, f"{where}/{key}")
    elif isinstance(node, Mapping):
        yield where, node
        for key, sub in node.items():
            if key in _DATA_KEYWORDS:
                continue
            yield from _schema_nodes(sub, f"{where}/{key}", key in _NAMED_SCHEMAS)
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            yield from _schema_nodes(sub, f"{where}/{i}")


def check_schema(schema: Any) -> list[str]:
    """Problems with a form schema itself; an empty list means it is usable.

    Checks: valid draft 2020-12 schema (meta-schema, including regex syntax), ``$schema``
    (if present) is the 2020-12 URI, every ``format`` is one we enforce (a typo would
    otherwise silently validate nothing), ``x-title-en`` (if present) is a non-empty string,
    and ``x-labels-en`` is a string-to-string map.
    Messages are for form authors (English, with a JSON-pointer location).
    """
    if not isinstance(schema, Mapping):
        return ["schema must be a JSON object"]
    problems: list[str] = []
    meta = Draft202012Validator(
        Draft202012Validator.META_SCHEMA,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    for error in sorted(meta.iter_errors(schema), key=lambda e: [str(p) for p in e.absolute_path]):
        where = "/" + "/".join(str(p) for p in error.absolute_path)
        problems.append(f"{where}: {error.message}")
    declared = schema.get("$schema")
    if declared is not None and declared.rstrip("#") != SCHEMA_URI:
        problems.append(f"/$schema: expected {SCHEMA_URI!r}, got {declared!r}")
    formats = known_formats()
    for where, fmt in _walk_formats(schema, ""):
        if fmt not in formats:
            problems.append(f"{where or '/'}: unknown format {fmt!r}")
    title_en = schema.get(TITLE_EN_KEY)
    if title_en is not None and not (isinstance(title_en, str) and title_en.strip()):
        problems.append(f"/{TITLE_EN_KEY}: must be a non-empty English title")
    labels = schema.get(LABELS_EN_KEY)
    if labels is not None and (
        not isinstance(labels, Mapping)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items())
    ):
        problems.append(f"/{LABELS_EN_KEY}: must map field paths to English label strings")
    problems += _option_titles_problems(schema)
    problems += _pattern_message_problems(schema)
    return problems


def _pattern_message_problems(schema: Mapping[str, Any]) -> list[str]:
    """Both languages of a pattern's message, non-empty, on a field that has a pattern."""
    problems = []
    for where, node in _schema_nodes(schema, ""):
        given = [key for key in PATTERN_MESSAGE_KEYS if key in node]
        if not given:
            continue
        if "pattern" not in node:
            problems.append(f"{where or '/'}: {given[0]} on a field without a pattern")
        if not all(isinstance(node.get(k), str) and node[k].strip() for k in PATTERN_MESSAGE_KEYS):
            problems.append(f"{where or '/'}: give both {' and '.join(PATTERN_MESSAGE_KEYS)}")
    return problems


def _option_titles_problems(schema: Mapping[str, Any]) -> list[str]:
    titles = schema.get(OPTIONS_EN_KEY)
    if titles is None:
        return []
    where = f"/{OPTIONS_EN_KEY}"
    if not isinstance(titles, Mapping) or not all(
        isinstance(k, str)
        and isinstance(v, Mapping)
        and all(isinstance(o, str) and isinstance(t, str) and t.strip() for o, t in v.items())
        for k, v in titles.items()
    ):
        return [f"{where}: must map field paths to {{option value: English title}} maps"]
    fields = dict(option_fields(schema))
    problems = []
    for key, by_value in titles.items():
        if key not in fields:
            problems.append(f"{where}/{key}: no field with options at this path")
            continue
        known = {option_key(value) for value, _ in fields[key]}
        problems += [
            f"{where}/{key}/{o}: not an option of the field" for o in by_value if o not in known
        ]
    return problems


def english_labels(schema: Mapping[str, Any]) -> dict[str, str]:
    """The form's English label map (``x-labels-en``), ``{}`` if it has none."""
    labels = schema.get(LABELS_EN_KEY) or {}
    if not isinstance(labels, Mapping):
        return {}
    return {str(k): str(v) for k, v in labels.items()}


def option_key(value: Any) -> str:
    """How an option value is spelt as a key of ``x-options-en``: a string as is, any other
    JSON value as JSON (``true``, ``3``)."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def field_options(node: Any) -> list[tuple[Any, str]] | None:
    """The choices of one field schema as ``(value, Chinese title)``, or ``None`` when it has
    none: ``enum`` (the value is its own title), or ``oneOf``/``anyOf`` whose every
    alternative is a ``const`` (titled by its ``title``). A multi-select's choices are those
    of its ``items``: see :func:`option_fields`."""
    if not isinstance(node, Mapping):
        return None
    if isinstance(node.get("enum"), list):
        return [(value, _show(value)) for value in node["enum"]]
    alternatives = node.get("oneOf") or node.get("anyOf")
    if (
        isinstance(alternatives, list)
        and alternatives
        and all(isinstance(alt, Mapping) and "const" in alt for alt in alternatives)
    ):
        return [(alt["const"], str(alt.get("title", _show(alt["const"])))) for alt in alternatives]
    return None


def option_fields(schema: Any, prefix: str = "") -> Iterable[tuple[str, list[tuple[Any, str]]]]:
    """``(label key, options)`` of every field with choices, following ``properties`` and
    ``items`` (a list of choices is keyed by the list field)."""
    properties = schema.get("properties") if isinstance(schema, Mapping) else None
    for name, sub in (properties or {}).items():
        if not isinstance(sub, Mapping):
            continue
        key = f"{prefix}{name}"
        items = sub.get("items") if _node_type(sub) == "array" else None
        options = field_options(items) if isinstance(items, Mapping) else field_options(sub)
        if options:
            yield key, options
        yield from option_fields(sub, f"{key}.")
        if isinstance(items, Mapping):
            yield from option_fields(items, f"{key}.")


def english_option_titles(schema: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """The form's English option titles (``x-options-en``): label key -> option key -> title."""
    titles = schema.get(OPTIONS_EN_KEY) or {}
    if not isinstance(titles, Mapping):
        return {}
    return {
        str(key): {str(o): str(t) for o, t in by_value.items()}
        for key, by_value in titles.items()
        if isinstance(by_value, Mapping)
    }


def option_title(
    schema: Mapping[str, Any], key: str, value: Any, locale: str | None = "zh-CN"
) -> str:
    """The title of option ``value`` of the field at label key ``key``: English from
    ``x-options-en`` when ``locale`` is English, else its Chinese title; the value itself
    when it is not an option."""
    if _lang(locale) == EN:
        title = english_option_titles(schema).get(key, {}).get(option_key(value))
        if title:
            return title
    for field_key, options in option_fields(schema):
        if field_key == key:
            return next((title for option, title in options if option == value), _show(value))
    return _show(value)


def _subschema_at(schema: Any, key: str) -> Any:
    """Follow one label-key segment through properties / items (no $ref resolution)."""
    if not isinstance(schema, Mapping):
        return None
    while isinstance(schema, Mapping) and schema.get("type") == "array" and "items" in schema:
        schema = schema["items"]
    if not isinstance(schema, Mapping):
        return None
    return schema.get("properties", {}).get(key)


def attachment_field(schema: Mapping[str, Any], path: str) -> str | None:
    """What the field at ``path`` (dotted, list indices included: ``items.0.photos``) holds:
    ``"one"`` attachment id, ``"many"`` (an array of them), or ``None`` when it is not a file
    field. A list item itself (``photos.0``) is not a field. Follows ``properties`` and
    ``items`` only (no ``$ref``, no combinators)."""
    node: Any = schema
    segments = path.split(".") if path else []
    if not segments or "" in segments:
        return None
    for position, segment in enumerate(segments):
        if _node_type(node) == "array":
            if position == len(segments) - 1 or not is_list_index(segment):
                return None
            node = node.get("items")
            continue
        properties = node.get("properties") if isinstance(node, Mapping) else None
        node = properties.get(segment) if isinstance(properties, Mapping) else None
        if not isinstance(node, Mapping):
            return None
    if _node_type(node) == "array" and _is_attachment(node.get("items")):
        return "many"
    return "one" if _is_attachment(node) else None


def is_list_index(segment: str) -> bool:
    """A list index in a field path, in its one spelling: ``0``, ``7``, ``12`` (not ``07``),
    so two spellings cannot name the same slot."""
    return (
        segment.isascii()
        and segment.isdigit()
        and len(segment) <= 9
        and (segment == "0" or not segment.startswith("0"))
    )


def _node_type(node: Any) -> str | None:
    if not isinstance(node, Mapping):
        return None
    kind = node.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    return kind


def _is_attachment(node: Any) -> bool:
    return isinstance(node, Mapping) and node.get("format") == "attachment"


def form_title(schema: Mapping[str, Any], locale: str = "zh-CN") -> str:
    """The form's title: ``x-title-en`` when ``locale`` is English and the form has one,
    else its (Chinese) ``title``; ``""`` without either."""
    if _lang(locale) == EN:
        title_en = schema.get(TITLE_EN_KEY)
        if isinstance(title_en, str) and title_en.strip():
            return title_en
    title = schema.get("title")
    return title if isinstance(title, str) else ""


def field_label(schema: Mapping[str, Any], path: str, locale: str = "zh-CN") -> str:
    """Human label for a field path: English from ``x-labels-en`` when ``locale`` is
    English, else the field's ``title``; falls back to the last path segment."""
    key = label_key(path)
    if _lang(locale) == EN:
        label = english_labels(schema).get(key)
        if label:
            return label
    node: Any = schema
    for seg in key.split(".") if key else []:
        node = _subschema_at(node, seg)
    if isinstance(node, Mapping) and isinstance(node.get("title"), str):
        return node["title"]
    return key.rsplit(".", 1)[-1] if key else ""
