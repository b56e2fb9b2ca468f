"""The inbox: list, read, claim, unclaim, assign, complete."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, or_, select, text, update
from sqlalchemy.orm import Session, lazyload

import forms

from ..db import writer_holds_database
from ..departments import ENTERPRISE
from ..errors import Conflict, Forbidden, InvalidInput, NotFound, TaskNotReady
from ..models import Case, Task, User
from ..row_writes import update_columns
from . import cases, deadlines, steps
from .actors import Actor

STATUSES = ("ready", "claimed", "completed", "cancelled")
# Written as literal SQL, identical to the predicate of the partial index ix_task_open_due:
# SQLite uses a partial index only when the query repeats its WHERE term (not a bound parameter).
OPEN_TASK = text("task.status IN ('ready', 'claimed')")


def _readable(actor: Actor, task: Task) -> bool:
    if actor.is_staff:
        return True
    return (
        actor.role == "enterprise"
        and task.department == ENTERPRISE
        and task.case.enterprise_id == actor.enterprise_id
    )


def _may_act(actor: Actor, task: Task) -> None:
    if actor.role == "admin":
        return
    if actor.role == "officer" and actor.department == task.department:
        return
    if (
        actor.role == "enterprise"
        and task.department == ENTERPRISE
        and task.case.enterprise_id == actor.enterprise_id
    ):
        return
    raise Forbidden("只能办理本部门的任务 (only tasks of your own department)")


def get_task(session: Session, actor: Actor, task_id: int) -> Task:
    task = session.get(Task, task_id)
    if task is None or not _readable(actor, task):
        raise NotFound("任务不存在 (no such task)")
    return task


# The task as it is now (read again even if the session holds it), without joining its case:
# the step locks and reads the case itself. Built once, as the step's other statements.
_TASK_FOR_STEP = (
    select(Task)
    .where(Task.id == bindparam("task_id"))
    .options(lazyload(Task.case))
    .execution_options(populate_existing=True)
)


def _task_for_step(session: Session, actor: Actor, task_id: int) -> Task:
    task = session.scalars(_TASK_FOR_STEP, {"task_id": task_id}).first()
    if task is None or not _readable(actor, task):
        raise NotFound("任务不存在 (no such task)")
    return task


def list_tasks(
    session: Session,
    actor: Actor,
    department: str | None = None,
    status: str | None = None,
    assignee: str | None = None,
    case: str | None = None,
    due_before: datetime | None = None,
    q: str | None = None,
    sort: str = "due_at",
    page_size: int = 20,
    cursor: str | None = None,
) -> tuple[list[Task], str | None]:
    """Inbox query on the task table alone (index department, status, due_at, id)."""
    query = select(Task)
    if actor.role == "enterprise":
        query = query.join(Case, Task.case_id == Case.id).where(
            Case.enterprise_id == actor.enterprise_id, Task.department == ENTERPRISE
        )
        status = status or None
        if status is None:
            query = query.where(OPEN_TASK)
    elif actor.role == "officer" and department is None and assignee is None and case is None:
        department = actor.department
    if department:
        query = query.where(Task.department == department)
    if status:
        if status not in STATUSES:
            raise InvalidInput("status 无效", {"status": [f"必须是 {', '.join(STATUSES)} 之一"]})
        query = query.where(Task.status == status)
    elif actor.role != "enterprise":
        query = query.where(OPEN_TASK)
    if assignee:
        query = query.where(Task.assignee == (actor.username if assignee == "me" else assignee))
    if case:
        case_row = cases.get_case(session, actor, case)
        query = query.where(Task.case_id == case_row.id)
    if due_before:
        query = query.where(Task.due_at < due_before)
    if q and q.strip():
        query = query.where(Task.case_id.in_(cases.matching_case_ids(q)))

    after = cases.decode_cursor(cursor)
    if sort == "due_at":
        rows = _by_due_date(session, query, after, page_size + 1)
    elif sort == "created_at":
        if after is not None:
            query = query.where(Task.id < cases.cursor_id(after[-1]))
        rows = list(session.scalars(query.order_by(Task.id.desc()).limit(page_size + 1)))
    else:
        raise InvalidInput("sort 无效", {"sort": ["必须是 due_at 或 created_at"]})
    next_cursor = None
    if len(rows) > page_size:
        last = rows[page_size - 1]
        next_cursor = cases.encode_cursor(
            [last.due_at.isoformat() if last.due_at else None, last.id]
        )
    return rows[:page_size], next_cursor


def _by_due_date(session: Session, query, after: list | None, limit: int) -> list[Task]:
    """Tasks with a due date in (due_at, id) order, then those without one in id order.

    Two plain keyset queries instead of one ORDER BY (due_at IS NULL, due_at, id): each can be
    read straight from the partial index ix_task_open_due, so the first page costs the same
    with ten thousand or a million open tasks.
    """
    rows: list[Task] = []
    due, last_id = None, None
    if after is not None:
        due_iso, last_id = after[0], cases.cursor_id(after[-1])
        if due_iso is not None:
            try:
                due = datetime.fromisoformat(due_iso)
            except (TypeError, ValueError):
                due = None
            if due is None or due.tzinfo is None:
                raise InvalidInput("cursor 无效 (invalid cursor)", {"cursor": ["无效的分页游标"]})
    if after is None or due is not None:
        dated = query.where(Task.due_at.is_not(None))
        if due is not None:
            dated = dated.where(or_(Task.due_at > due, (Task.due_at == due) & (Task.id > last_id)))
        rows = list(session.scalars(dated.order_by(Task.due_at, Task.id).limit(limit)))
        last_id = None
    if len(rows) < limit:
        undated = query.where(Task.due_at.is_(None))
        if last_id is not None:
            undated = undated.where(Task.id > last_id)
        rows += session.scalars(undated.order_by(Task.id).limit(limit - len(rows)))
    return rows


def claim(session: Session, actor: Actor, task_id: int) -> Task:
    task = get_task(session, actor, task_id)
    _may_act(actor, task)
    unheld_or_mine = or_(Task.assignee.is_(None), Task.assignee == actor.username)
    _change_open_task(session, task, unheld_or_mine, assignee=actor.username, status="claimed")
    return task


def unclaim(session: Session, actor: Actor, task_id: int) -> Task:
    task = get_task(session, actor, task_id)
    _may_act(actor, task)
    if task.status not in steps.OPEN:
        raise TaskNotReady()
    if task.assignee not in (None, actor.username) and actor.role != "admin":
        raise Conflict(f"任务由 {task.assignee} 认领 (claimed by someone else)")
    _change_open_task(session, task, _held_as_read(task), assignee=None, status="ready")
    return task


def assign(session: Session, actor: Actor, task_id: int, username: str) -> Task:
    task = get_task(session, actor, task_id)
    if actor.role not in ("officer", "admin"):
        raise Forbidden("只有本部门人员或管理员可以指派 (officers of the department and admins)")
    _may_act(actor, task)
    if task.status not in steps.OPEN:
        raise TaskNotReady()
    user = session.scalars(
        select(User).where(User.username == username, User.active.is_(True))
    ).first()
    if user is None:
        raise InvalidInput("用户不存在 (no such user)", {"user": ["用户不存在"]})
    if user.role != "officer" or user.department_code != task.department:
        raise InvalidInput(
            "只能指派给本部门人员 (only to an officer of the task's department)",
            {"user": ["不是本部门人员"]},
        )
    _change_open_task(session, task, _held_as_read(task), assignee=user.username, status="claimed")
    return task


def _held_as_read(task: Task):
    return Task.assignee.is_(None) if task.assignee is None else Task.assignee == task.assignee


def _change_open_task(session: Session, task: Task, held, **values) -> None:
    """Change a task only if it is still open and ``held`` (a condition on its assignee) is
    true: on PostgreSQL a completion or claim may have committed since it was read, and must
    not be undone. TaskNotReady if it is no longer open, Conflict if someone else holds it."""
    result = session.execute(
        update(Task)
        .where(Task.id == task.id, Task.status.in_(steps.OPEN), held)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.refresh(task)
    if result.rowcount != 1:
        if task.status not in steps.OPEN:
            raise TaskNotReady()
        raise Conflict(f"任务已被 {task.assignee} 认领 (already claimed by {task.assignee})")


def task_form(task: Task) -> dict | None:
    if not task.form_key:
        return None
    schema = forms.load_form(task.form_key)
    return {"key": task.form_key, "schema": schema, "ui": schema.get("x-ui", {})}


def _read_only_form(task: Task) -> dict | None:
    """The task's form schema if it shows fields read-only (see forms/read_only.py)."""
    if not task.form_key:
        return None
    schema = forms.shared_form(task.form_key)
    return schema if forms.read_only_keys(schema) else None


def read_only_values(session: Session, task: Task) -> dict:
    """What the task's form shows read-only: the values its workflow task holds, which for a
    task of a called procedure are that procedure's, not the case's."""
    schema = _read_only_form(task)
    if schema is None:
        return {}
    return _held(schema, steps.load_workflow(session, task.case), task)


def _held(schema: dict, workflow, task: Task) -> dict:
    """The values ``task`` holds in ``workflow`` for the form's read-only fields, as JSON."""
    data = steps.runtime().task_data(workflow, task.spiff_task_id)
    keys = forms.read_only_keys(schema)
    return steps.json_safe({key: data[key] for key in keys if data.get(key) is not None})


def complete(session: Session, actor: Actor, task_id: int, data: dict, now: datetime) -> Case:
    """Complete a human task: exactly one of two concurrent completions wins, the other gets TaskNotReady."""
    task = _task_for_step(session, actor, task_id)
    if task.spiff_task_id.startswith(deadlines.ESCALATION_PREFIX):
        return deadlines.complete_escalation(session, actor, task_id, data, now)
    _may_act(actor, task)
    if task.status not in steps.OPEN:
        raise TaskNotReady()
    read_only_form = _read_only_form(task) if isinstance(data, dict) else None
    if read_only_form is None:  # otherwise validated once the held values are known, below
        cases.validate_form_data(session, task.form_key, data, task.case_id)

    case = steps.lock_case(session, task.case_id)
    # Lock the task row too: a concurrent claim must not slip in between this read and COMMIT.
    # A SQLite writer read it under BEGIN IMMEDIATE already (_task_for_step).
    if not writer_holds_database(session):
        session.refresh(task, with_for_update={"of": Task})
    if task.status not in steps.OPEN:
        raise TaskNotReady()
    if task.assignee and task.assignee != actor.username and actor.role != "admin":
        raise Conflict(f"任务由 {task.assignee} 认领 (claimed by {task.assignee})")
    workflow = steps.load_workflow(session, case)
    if read_only_form is not None:
        # Shown read-only, kept as the task holds them: a submitted value is not taken.
        data = forms.keep_read_only(read_only_form, data, _held(read_only_form, workflow, task))
        cases.validate_form_data(session, task.form_key, data, task.case_id)
    ctx = steps.StepContext(session, case, actor.username, now)
    ctx.completed_spiff_ids.add(task.spiff_task_id)
    steps.runtime().complete(workflow, task.spiff_task_id, data)
    update_columns(
        session, task, status="completed", completed_at=now, completed_by=actor.username, data=data
    )
    steps.record(
        ctx,
        "task.completed",
        deadlines.with_title_en(
            {
                "task_id": task.id,
                "element_id": task.element_id,
                "title": task.title,
                "department": task.department,
                "data": data,
            },
            task,
        ),
    )
    steps.finish(ctx, workflow)
    return case
