"""Officer pages (and the enterprise's own tasks): the inbox, claiming, the task form."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select

import forms

from ..errors import InvalidInput
from ..http_files import several_files_allowed
from ..models import Attachment
from ..services import attachments, cases, tasks
from . import bp
from .context import database, now, settings
from .formfields import build_fields, parse, upload_paths
from .i18n import gettext as _
from .i18n import is_en
from .session_auth import current_actor, roles

PAGE_SIZE = 30


@bp.route("/inbox")
@roles("officer", "admin")
def inbox():
    actor = current_actor()
    status = request.args.get("status") or None
    mine = request.args.get("mine") == "1"
    q = (request.args.get("q") or "").strip()
    with database().read() as session:
        rows, next_cursor = tasks.list_tasks(
            session,
            actor,
            status=status if status in ("ready", "claimed") else None,
            assignee="me" if mine else None,
            q=q or None,
            page_size=PAGE_SIZE,
            cursor=request.args.get("cursor"),
        )
        return render_template(
            "inbox.html",
            tasks=rows,
            next_cursor=next_cursor,
            status=status,
            mine=mine,
            q=q,
        )


@bp.route("/tasks/<int:task_id>/claim", methods=["POST"])
def claim_task(task_id: int):
    with database().write() as session:
        tasks.claim(session, current_actor(), task_id)
    flash(_("任务已认领"), "success")
    back = request.form.get("back")
    if back == "task":
        return redirect(url_for("web.task_page", task_id=task_id))
    return redirect(url_for("web.inbox"))


def _attachments_of(session, case_id: int) -> dict[str, Attachment]:
    rows = session.scalars(
        select(Attachment).where(Attachment.case_id == case_id).order_by(Attachment.created_at)
    )
    return {row.id: row for row in rows}


def _render_task(task_id: int, data: dict | None = None, errors: dict | None = None, status=200):
    actor = current_actor()
    with database().read() as session:
        task = tasks.get_task(session, actor, task_id)
        case = task.case
        form = tasks.task_form(task)
        fields = build_fields(form["schema"], data, errors, is_en()) if form else []
        field_paths = _paths(fields)
        general_errors = [
            message
            for key, messages in (errors or {}).items()
            if key not in field_paths
            for message in messages
        ]
        events = cases.timeline(session, actor, case.id)
        decisions = [event for event in events if event.type == "task.completed"]
        project = cases.case_data(session, case) if actor.is_staff else {}
        return render_template(
            "task.html",
            task=task,
            case=case,
            form=form,
            fields=fields,
            has_errors=bool(errors),
            general_errors=general_errors,
            decisions=decisions,
            project=_scalars(project),
            attachments=_attachments_of(session, case.id),
            open_tasks=cases.open_tasks(session, case),
        ), status


def _paths(fields) -> set[str]:
    paths = set()
    for item in fields:
        paths.add(item.name)
        paths |= _paths(item.children)
        for row in item.rows:
            paths |= _paths(row)
    return paths


def _scalars(data: dict) -> dict:
    """The case data worth showing as project facts: short scalar values only."""
    return {
        key: value
        for key, value in data.items()
        if isinstance(value, str | int | float | bool) and len(str(value)) <= 200
    }


@bp.route("/tasks/<int:task_id>")
def task_page(task_id: int):
    return _render_task(task_id)


@bp.route("/tasks/<int:task_id>", methods=["POST"])
# A browser posts every field and every empty file input as a part: keep the app's part limit.
@several_files_allowed(max_parts=None)
def complete_task(task_id: int):
    actor = current_actor()
    at = now()
    with database().read() as session:
        task = tasks.get_task(session, actor, task_id)
        form = tasks.task_form(task)
        case_id = task.case_id
    uploaded: dict[str, list[str]] = {}
    upload_errors: dict[str, list[str]] = {}
    # Uploads commit on their own, so a file survives a form that comes back with errors.
    for path, files in upload_paths(request.files).items():
        for storage in files:
            try:
                with database().write() as session:
                    row = attachments.add_attachment(
                        session,
                        actor,
                        case_id,
                        storage.filename,
                        storage.mimetype,
                        storage.read(),
                        at,
                        settings().max_upload_bytes,
                    )
                    uploaded.setdefault(path, []).append(row.id)
            except InvalidInput as exc:
                upload_errors.setdefault(path, []).extend(
                    message for messages in exc.errors.values() for message in messages
                )
    data = parse(form["schema"], request.form, uploaded) if form else {}
    try:
        if upload_errors:
            raise InvalidInput(_("表单有错误，请修改后重新提交"), upload_errors)
        with database().write() as session:
            case = tasks.complete(session, actor, task_id, data, at)
            case_ref = case.case_number
    except InvalidInput as exc:
        errors = dict(exc.errors)
        if is_en() and form:
            # Same rule, English wording: re-run the validator only for the messages.
            with database().read() as session:
                ids = set(_attachments_of(session, case_id))
            errors = forms.validate(form["schema"], data, attachment_ids=ids, locale="en") or errors
        for path, messages in upload_errors.items():
            errors.setdefault(path, []).extend(messages)
        flash(_("表单有错误，请修改后重新提交"), "error")
        return _render_task(task_id, data, errors, status=422)
    flash(_("任务已办结"), "success")
    if actor.role == "enterprise":
        return redirect(url_for("web.case_page", ref=case_ref))
    return redirect(url_for("web.inbox"))
