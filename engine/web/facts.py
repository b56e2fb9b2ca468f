"""Case and task data as people read it: schema titles as labels, 是/否 for booleans, lists
joined, option titles for codes, attachments as their file names (linked by the template)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import forms

from .formfields import choice_title
from .i18n import gettext, is_en

MAX_TEXT = 200


@dataclass
class Fact:
    label: str
    text: str = ""
    files: list[tuple[str, str]] = field(default_factory=list)  # (attachment id, file name)


def facts(
    data: Mapping[str, Any],
    schemas: Iterable[Mapping[str, Any]],
    attachments: Mapping[str, Any],
    short_only: bool = False,
    hide_read_only: bool = False,
) -> list[Fact]:
    """One fact per key of ``data`` that one of ``schemas`` defines, labelled by the first
    schema that has the key (its English label in English mode). Keys no form defines are the
    process's own variables (review_round, item_results…) and are left out: people never see
    a raw variable name. ``short_only`` leaves out objects, lists of objects and text longer
    than :data:`MAX_TEXT` (the project summary); ``hide_read_only`` leaves out fields the form
    only shows (``readOnly``: they repeat what an earlier task recorded)."""
    schemas = list(schemas)
    locale = "en" if is_en() else "zh"
    result = []
    for key, value in data.items():
        defining = [s for s in schemas if key in s.get("properties", {})]
        # The form that asks for the field names it best (a readOnly copy says "（只读）").
        root = next((s for s in defining if not s["properties"][key].get("readOnly")), None)
        root = root or (defining[0] if defining else None)
        if root is None:
            continue
        schema = root["properties"][key]
        if hide_read_only and schema.get("readOnly"):
            continue
        if short_only and _structured(value):
            continue
        label = forms.field_label(root, key, locale)
        files = _files(schema, value, attachments)
        if files is not None:
            result.append(Fact(label, files=files))
            continue
        text = show(value, schema, attachments, root, key, locale)
        if short_only and len(text) > MAX_TEXT:
            continue
        result.append(Fact(label, text=text))
    return result


def _structured(value: Any) -> bool:
    if isinstance(value, dict):
        return True
    return isinstance(value, list) and any(isinstance(item, dict | list) for item in value)


def _files(schema: Mapping, value: Any, attachments: Mapping[str, Any]) -> list | None:
    """(id, file name) of each attachment ``value`` names, or None if it holds no files."""
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(item, str) for item in values):
        return None
    declared = (
        schema.get("format") == "attachment"
        or (schema.get("items") or {}).get("format") == "attachment"
    )
    if not declared and not (values and all(item in attachments for item in values)):
        return None
    # A file the case does not hold (any more) is named as unknown, never by its raw id.
    return [
        (item if item in attachments else None, _file_name(item, attachments)) for item in values
    ]


def _file_name(attachment_id: str, attachments: Mapping[str, Any]) -> str:
    row = attachments.get(attachment_id)
    return row.filename if row is not None else gettext("未知附件")


def show(
    value: Any,
    schema: Mapping | None,
    attachments: Mapping[str, Any],
    root: Mapping | None = None,
    path: str = "",
    locale: str = "zh",
) -> str:
    """A value as text: 是/否, option titles, lists joined with 、 (", " in English)."""
    schema = schema or {}
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return gettext("是") if value else gettext("否")
    if isinstance(value, list):
        items = schema.get("items") or {}
        sep = ", " if locale == "en" else "、"
        if any(isinstance(item, dict) for item in value):
            sep = "; " if locale == "en" else "；"
        return sep.join(show(item, items, attachments, root, path, locale) for item in value)
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        parts = []
        for key, item in value.items():
            if properties and key not in properties:
                continue  # not the form's: a variable the process added, never shown raw
            sub_path = f"{path}.{key}" if path else key
            label = forms.field_label(root, sub_path, locale) if root and key in properties else key
            parts.append(
                f"{label}: {show(item, properties.get(key), attachments, root, sub_path, locale)}"
            )
        return ", ".join(parts)
    for option, title in forms.field_options(schema) or []:
        if option == value:
            english = (
                forms.english_option_titles(root).get(forms.label_key(path), {}) if root else {}
            )
            return choice_title(value, title, english.get(forms.option_key(value)), locale == "en")
    if isinstance(value, str) and value in attachments:
        return _file_name(value, attachments)
    return str(value)
