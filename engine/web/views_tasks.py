"""Officer pages (and the enterprise's own tasks): the inbox, claiming, the task form."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select

import forms

from ..errors import Conflict, InvalidInput, TaskNotReady
from ..http_files import several_files_allowed
from ..models import Attachment, Task
from ..services import attachments, cases, tasks, users
from ..services.journal import OPEN
from . import bp
from .context import database, now, settings
from .display import person
from .facts import facts
from .formfields import build_fields, field_paths, parse, upload_paths
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
            # who holds a claim, by name (one query for the page)
            assignee_names=users.display_names(session, [row.assignee for row in rows]),
            next_cursor=next_cursor,
            status=status,
            mine=mine,
            q=q,
        )


@bp.route("/tasks/<int:task_id>/claim", methods=["POST"])
def claim_task(task_id: int):
    try:
        with database().write() as session:
            tasks.claim(session, current_actor(), task_id)
    except Conflict as exc:
        flash(_conflict_message(task_id, exc, _("认领未成功")), "error")
    else:
        flash(_("任务已认领"), "success")
    back = request.form.get("back")
    if back == "task":
        return redirect(url_for("web.task_page", task_id=task_id))
    return redirect(url_for("web.inbox"))


@bp.route("/tasks/<int:task_id>/unclaim", methods=["POST"])
def unclaim_task(task_id: int):
    try:
        with database().write() as session:
            tasks.unclaim(session, current_actor(), task_id)
    except Conflict as exc:
        flash(_conflict_message(task_id, exc, _("释放未成功")), "error")
    else:
        flash(_("任务已释放，其他人可以认领"), "success")
    return redirect(url_for("web.task_page", task_id=task_id))


def _holder_name(session, task: Task) -> str | None:
    if not task.assignee:
        return None
    return person(task.assignee, users.display_names(session, [task.assignee]))


def _conflict_message(task_id: int, exc: Conflict, failed: str) -> str:
    """Why a claim, release or completion was refused, naming whoever holds the task now."""
    colon = ": " if is_en() else "："
    if isinstance(exc, TaskNotReady):
        return failed + colon + _("此任务已办结或已取消，无需再办理。")
    with database().read() as session:
        task = tasks.get_task(session, current_actor(), task_id)
        holder = _holder_name(session, task) or _("他人")
    return failed + colon + _("此任务已由 %(name)s 认领。", name=holder)


def _attachments_of(session, case_id: int) -> dict[str, Attachment]:
    return {row.id: row for row in attachments.case_attachments(session, case_id)}


def _render_task(
    task_id: int,
    data: dict | None = None,
    errors: dict | None = None,
    status=200,
    notice: str | None = None,
):
    actor = current_actor()
    with database().read() as session:
        task = tasks.get_task(session, actor, task_id)
        case = task.case
        form = tasks.task_form(task)
        case_data = cases.case_data(session, case) if actor.is_staff else {}
        # the form is shown only while the task is open: only then its read-only values
        held = tasks.read_only_values(session, task) if form and task.status in OPEN else {}
        fields = build_fields(form["schema"], data, errors, is_en(), held) if form else []
        shown = field_paths(fields)
        general_errors = [
            message
            for key, messages in (errors or {}).items()
            if key not in shown
            for message in messages
        ]
        events = cases.timeline(session, actor, case.id)
        files = _attachments_of(session, case.id)
        forms_of_tasks = _task_forms(session, case.id)
        decisions = [
            (
                event,
                facts(
                    event.payload.get("data") or {},
                    _schemas(forms_of_tasks.get(event.payload.get("task_id"))),
                    files,
                    hide_read_only=True,
                ),
            )
            for event in events
            if event.type == "task.completed"
        ]
        project = []
        if actor.is_staff:
            keys = [case.definition.start_form_key, *forms_of_tasks.values()]
            project = facts(case_data, _schemas(*keys), files, short_only=True)
        holder = _holder_name(session, task)
        # One query names everyone the page mentions (the case page does the same).
        actor_names = users.display_names(
            session, [event.actor for event, _facts in decisions] + [task.completed_by]
        )
        return render_template(
            "task.html",
            task=task,
            case=case,
            form=form,
            fields=fields,
            has_errors=bool(errors),
            general_errors=general_errors,
            notice=notice,
            holder=holder,
            claimed_by_other=bool(task.assignee) and task.assignee != actor.username,
            decisions=decisions,
            actor_names=actor_names,
            project=project,
            attachments=files,
            open_tasks=cases.open_tasks(session, case),
        ), status


def _task_forms(session, case_id: int) -> dict[int, str]:
    """task id -> form key, for the case's tasks that have a form."""
    rows = session.execute(
        select(Task.id, Task.form_key)
        .where(Task.case_id == case_id, Task.form_key.is_not(None))
        .order_by(Task.id)
    )
    return {task_id: form_key for task_id, form_key in rows}


def _schemas(*form_keys: str | None) -> list[dict]:
    result, seen = [], set()
    for key in form_keys:
        if key and key not in seen and forms.form_exists(key):
            seen.add(key)
            result.append(forms.shared_form(key))
    return result


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
    except Conflict as exc:
        # Claimed by someone else, or done already: show the page again with what was typed.
        message = _conflict_message(task_id, exc, _("提交未成功"))
        if not isinstance(exc, TaskNotReady):
            message += _("您填写的内容已保留在下方；请与认领人协调，待其释放任务后再提交。")
        return _render_task(task_id, data, status=409, notice=message)
    except InvalidInput as exc:
        errors = dict(exc.errors)
        if is_en() and form:
            # Same rule, English wording: re-run the validator only for the messages.
            with database().read() as session:
                ids = set(_attachments_of(session, case_id))
                # the service kept the read-only fields; so does this second opinion
                held = tasks.read_only_values(session, tasks.get_task(session, actor, task_id))
            submitted = forms.keep_read_only(form["schema"], data, held)
            errors = (
                forms.validate(form["schema"], submitted, attachment_ids=ids, locale="en") or errors
            )
        for path, messages in upload_errors.items():
            errors.setdefault(path, []).extend(messages)
        # the summary above the form says it; a flash banner too would say it twice
        return _render_task(task_id, data, errors, status=422)
    flash(_("任务已办结"), "success")
    if actor.role == "enterprise":
        return redirect(url_for("web.case_page", ref=case_ref))
    return redirect(url_for("web.inbox"))
