"""Starting a case together with the files of its start form, in one transaction.

A file is posted for a *field path* of the start form: object keys and list indices joined
with ``.`` (``survey_report_file``, ``attachments``, ``rect_problems.0.photos``), the same
paths form errors are keyed by. Each file is checked and given the id it will be stored
under, the ids are written into ``data`` at their paths (appended for an array field, the
single value of a scalar one) and the start form is validated against them; only then is the
case opened, the files stored as its attachments and the case begun. A refusal raises before
anything is written.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

import forms

from ..errors import InvalidInput
from ..models import Case
from . import attachments, cases, deployments
from .actors import Actor

NOT_A_FILE_FIELD = "不是发起表单的文件字段 (not a file field of the start form)"
NO_PARENT = (
    "data 中没有此字段所在的对象或列表项 "
    "(the object or list item holding this field is not in data)"
)
ONE_FILE_ONLY = "此字段只能上传一个文件 (this field takes exactly one file)"
NOT_A_LIST = "data 中此字段必须是列表 (this field must be a list in data)"


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    content_type: str | None
    content: bytes


@dataclass(frozen=True)
class _Slot:
    """Where the ids of one field path go: ``parent[key]``, a list when ``many``."""

    parent: dict
    key: str
    many: bool


def start_case_with_files(
    session: Session,
    actor: Actor,
    definition_key: str,
    project_name: str,
    data: dict,
    files: Iterable[tuple[str, UploadedFile]],
    now: datetime,
    version: int | None = None,
    enterprise_id: int | None = None,
    max_bytes: int = attachments.DEFAULT_MAX_BYTES,
) -> Case:
    """Check ``files`` (``(field path, file)`` pairs), put their ids into ``data`` (after the
    ids already in an array field; a scalar field's value is replaced), validate the start
    form, then open the case, store the files as its attachments and begin it. InvalidInput keyed by field path for a path that is
    not a file field of the start form, whose object or list item is missing from ``data``,
    with several files for a scalar field, or for a file refused by size or type."""
    definition = deployments.get_definition(session, definition_key, version)
    enterprise_id = cases.starting_enterprise(session, actor, enterprise_id, definition)
    if not isinstance(data, dict):
        raise InvalidInput(
            "data 必须是对象 (data must be an object)", {"data": ["必须是 JSON 对象"]}
        )
    data = copy.deepcopy(data)
    grouped: dict[str, list[UploadedFile]] = {}
    for path, upload in files:
        grouped.setdefault(path, []).append(upload)
    schema = forms.shared_form(definition.start_form_key) if definition.start_form_key else {}
    slots = _slots(schema, data, grouped)

    # Everything is checked before the case row exists: a refused start writes nothing (no
    # case number used up, no file written while the database is held).
    checked, refused = check_uploads(grouped, max_bytes)
    for path, uploads in checked.items():
        ids = [upload.id for upload in uploads]
        slot = slots[path]
        if slot.many:
            slot.parent[slot.key] = [*(slot.parent.get(slot.key) or []), *ids]
        else:
            slot.parent[slot.key] = ids[0]
    file_ids = [upload.id for uploads in checked.values() for upload in uploads]
    cases.validate_start_files(
        definition.start_form_key,
        data,
        file_ids,
        project_name=project_name,
        refused_files=refused,
    )
    return open_with_files(
        session, actor, definition, project_name, data, checked, now, enterprise_id
    )


def open_with_files(
    session: Session,
    actor: Actor,
    definition,
    project_name: str,
    data: dict,
    checked: Mapping[str, list[attachments.CheckedUpload]],
    now: datetime,
    enterprise_id: int | None,
) -> Case:
    """Open the case, store its checked files and begin it; ``data`` (holding the files' ids)
    was validated against the start form already."""
    case = cases.open_case(session, actor, definition, project_name, now, enterprise_id)
    for uploads in checked.values():
        for upload in uploads:
            attachments.store_upload(session, actor, case.id, upload, now)
    return cases.begin(session, actor, case, data, now, validated=True)


def check_uploads(
    grouped: Mapping[str, list[UploadedFile]], max_bytes: int
) -> tuple[dict[str, list[attachments.CheckedUpload]], dict[str, list[str]]]:
    """Every file checked (type, size, content): the accepted ones and the messages of the
    refused ones, both by field path. A path with a refused file has no accepted one."""
    checked: dict[str, list[attachments.CheckedUpload]] = {}
    refused: dict[str, list[str]] = {}
    for path, uploads in grouped.items():
        for upload in uploads:
            try:
                ok = attachments.check_upload(
                    upload.filename, upload.content_type, upload.content, max_bytes
                )
            except InvalidInput as exc:
                messages = [text for texts in exc.errors.values() for text in texts]
                refused.setdefault(path, []).extend(messages or [exc.detail])
            else:
                checked.setdefault(path, []).append(ok)
    for path in refused:
        checked.pop(path, None)
    return checked, refused


def _slots(schema: Mapping, data: dict, grouped: Mapping[str, list]) -> dict[str, _Slot]:
    """The slot of every posted path, or InvalidInput naming every path that has none."""
    slots: dict[str, _Slot] = {}
    errors: dict[str, list[str]] = {}
    for path, uploads in grouped.items():
        problem, slot = _resolve(schema, data, path)
        if slot is not None and not slot.many and len(uploads) > 1:
            problem = ONE_FILE_ONLY
        if problem is not None:
            errors[path] = [problem]
        else:
            slots[path] = slot
    if errors:
        raise InvalidInput("文件字段无效 (invalid file fields)", errors)
    return slots


def _resolve(schema: Mapping, data: dict, path: str) -> tuple[str | None, _Slot | None]:
    """(problem, None) or (None, slot) for one field path."""
    kind = forms.attachment_field(schema, path)
    if kind is None:
        return NOT_A_FILE_FIELD, None
    *parents, key = path.split(".")
    holder: Any = data
    for segment in parents:
        index = _index(segment)
        if isinstance(holder, list) and index is not None and index < len(holder):
            holder = holder[index]
        elif isinstance(holder, dict) and segment in holder:
            holder = holder[segment]
        else:
            return NO_PARENT, None
    if not isinstance(holder, dict):
        return NO_PARENT, None
    many = kind == "many"
    if many and holder.get(key) is not None and not isinstance(holder[key], list):
        return NOT_A_LIST, None
    return None, _Slot(holder, key, many)


def _index(segment: str) -> int | None:
    """A list index in its one spelling (``0``, ``12``; not ``00`` or ``012``)."""
    if forms.is_list_index(segment):
        return int(segment)
    return None
