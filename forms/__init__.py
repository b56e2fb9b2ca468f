"""Form schemas (JSON Schema draft 2020-12) and their validation.

Form files live next to this package as ``forms/<form_key>.json``; keys are
``[a-z0-9_]+``. This package must not import anything from ``engine``.

See ``forms.validation`` for the error-path convention (``items.0.name``, ``""`` for the
whole form), the ``x-title-en`` / ``x-labels-en`` / ``x-options-en`` English title and
label conventions and a pattern's ``x-pattern-message`` (``-en``), ``forms.conditions`` for fields required only under a condition
(``if``/``then``), and ``forms.formats`` for the custom formats ``uscc``, ``project-code``, ``cn-mobile`` and ``attachment``
(:func:`attachment_field` tells whether a field path is a file field).
"""

from __future__ import annotations

import copy
import json
import re
import threading
from pathlib import Path
from typing import Any

from .conditions import Condition, Requirement, conditional_requirements
from .formats import (
    is_valid_cn_mobile,
    is_valid_project_code,
    is_valid_uscc,
    uscc_check_char,
)
from .read_only import keep_read_only, read_only_keys
from .validation import (
    LABELS_EN_KEY,
    OPTIONS_EN_KEY,
    TITLE_EN_KEY,
    attachment_field,
    check_schema,
    english_labels,
    english_option_titles,
    field_label,
    field_options,
    form_title,
    has_attachment_fields,
    is_list_index,
    label_key,
    option_fields,
    option_key,
    option_title,
    validate,
)

__all__ = [
    "FORMS_DIR",
    "LABELS_EN_KEY",
    "OPTIONS_EN_KEY",
    "TITLE_EN_KEY",
    "Condition",
    "Requirement",
    "FormError",
    "FormNotFound",
    "InvalidFormKey",
    "attachment_field",
    "has_attachment_fields",
    "check_schema",
    "clear_cache",
    "conditional_requirements",
    "english_labels",
    "english_option_titles",
    "field_label",
    "field_options",
    "form_exists",
    "form_title",
    "is_list_index",
    "is_valid_cn_mobile",
    "is_valid_project_code",
    "is_valid_uscc",
    "keep_read_only",
    "label_key",
    "list_forms",
    "load_form",
    "option_fields",
    "option_key",
    "option_title",
    "read_only_keys",
    "shared_form",
    "takes_files",
    "uscc_check_char",
    "validate",
]

#: Directory holding ``<form_key>.json``; tests may point it elsewhere (then call clear_cache()).
FORMS_DIR = Path(__file__).parent

FORM_KEY_RE = re.compile(r"[a-z0-9_]+")

_cache: dict[tuple[str, str], dict[str, Any]] = {}
_takes_files: dict[tuple[str, str], bool] = {}
_lock = threading.Lock()


class FormError(Exception):
    """Base class for form loading problems."""


class InvalidFormKey(FormError, ValueError):
    """The key is not ``[a-z0-9_]+`` (guards against path traversal)."""

    def __init__(self, form_key: object):
        super().__init__(f"invalid form key {form_key!r}: must match [a-z0-9_]+")
        self.form_key = form_key


class FormNotFound(FormError, LookupError):
    def __init__(self, form_key: str):
        super().__init__(f"form not found: {form_key}")
        self.form_key = form_key


def _check_key(form_key: object) -> str:
    if not isinstance(form_key, str) or not FORM_KEY_RE.fullmatch(form_key):
        raise InvalidFormKey(form_key)
    return form_key


def _form_path(form_key: str) -> Path:
    return Path(FORMS_DIR) / f"{form_key}.json"


def load_form(form_key: str) -> dict[str, Any]:
    """Return the schema of form ``form_key`` (a fresh deep copy; the parsed file is cached).

    Raises InvalidFormKey for a bad key, FormNotFound if there is no file, and FormError if
    the file is not a JSON object.
    """
    return copy.deepcopy(shared_form(form_key))


def shared_form(form_key: str) -> dict[str, Any]:
    """The cached schema of form ``form_key`` itself, for callers that only read it (validating
    a task's data on every completion); :func:`load_form` gives a copy to change."""
    key = _check_key(form_key)
    cache_key = (str(FORMS_DIR), key)
    with _lock:
        schema = _cache.get(cache_key)
    if schema is None:
        path = _form_path(key)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise FormNotFound(key) from None
        try:
            schema = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FormError(f"form {key}: invalid JSON: {exc}") from exc
        if not isinstance(schema, dict):
            raise FormError(f"form {key}: top level must be a JSON object")
        with _lock:
            _cache[cache_key] = schema
    return schema


def takes_files(form_key: str) -> bool:
    """Whether form ``form_key`` has a field for attachment ids (answered once per file)."""
    cache_key = (str(FORMS_DIR), _check_key(form_key))
    with _lock:
        answer = _takes_files.get(cache_key)
    if answer is None:
        answer = has_attachment_fields(shared_form(form_key))
        with _lock:
            _takes_files[cache_key] = answer
    return answer


def form_exists(form_key: str) -> bool:
    """True if ``forms/<form_key>.json`` exists (False for an invalid key)."""
    try:
        key = _check_key(form_key)
    except InvalidFormKey:
        return False
    return _form_path(key).is_file()


def list_forms() -> list[str]:
    """Sorted keys of all form files."""
    return sorted(
        p.stem
        for p in Path(FORMS_DIR).glob("*.json")
        if p.is_file() and FORM_KEY_RE.fullmatch(p.stem)
    )


def clear_cache() -> None:
    """Forget parsed form files (after editing them, or in tests)."""
    with _lock:
        _cache.clear()
        _takes_files.clear()
