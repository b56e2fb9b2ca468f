"""Which form field each uploaded file of a case was given for ("竣工验收报告", not "report.pdf").

Forms hold attachment ids in their file fields: the start form's data is in the case.started
event, a task's in its row. A file's label is the title (or English label) of the field
whose value holds its id; a file no form names has none.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

import forms
from forms.validation import field_label

from ..models import Case, Event, Task
from .i18n import is_en


def _strings(value, path: str = "") -> Iterator[tuple[str, str]]:
    """(dotted path, text) of every string in a form's data."""
    if isinstance(value, dict):
        for key, sub in value.items():
            yield from _strings(sub, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            yield from _strings(sub, f"{path}.{index}" if path else str(index))
    elif isinstance(value, str):
        yield path, value


def _schema(form_key: str | None) -> dict | None:
    if not form_key:
        return None
    try:
        return forms.shared_form(form_key)
    except forms.FormError:
        return None


def labels(
    session: Session, case: Case, events: Iterable[Event], attachment_ids: Iterable[str]
) -> dict[str, str]:
    """attachment id -> its field's label, in the page's language (one query for tasks)."""
    wanted = set(attachment_ids)
    if not wanted:
        return {}
    filled: list[tuple[str | None, dict]] = []
    for event in events:
        if event.type == "case.started":
            filled.append((case.definition.start_form_key, (event.payload or {}).get("data")))
    rows = session.execute(
        select(Task.form_key, Task.data).where(
            Task.case_id == case.id, Task.form_key.is_not(None), Task.data.is_not(None)
        )
    )
    filled.extend(rows)
    locale = "en" if is_en() else "zh-CN"
    found: dict[str, str] = {}
    for form_key, data in filled:
        schema = _schema(form_key)
        if schema is None or not isinstance(data, dict):
            continue
        for path, text in _strings(data):
            if text in wanted and text not in found:
                found[text] = field_label(schema, path, locale)
    return found
