"""Deadlines of officer tasks: warning and breach jobs, the pause while the case waits on its
enterprise, escalation to `leadership`, and recomputing provisional due dates.

An officer task is an open task with a working-day limit (``sla_working_days``) outside the
`enterprise` lane. Each gets two jobs, ``sla_warning`` (80 %) and ``sla_breach`` (100 %),
keyed by the task id. While any `enterprise` task of the same case is open, the officer
tasks are paused (their jobs too); on resume the due date moves by the working days the pause
covered (days in ``(paused_since, resumed]``, the statutory "the day the supplement arrives
does not count" convention of :mod:`engine.calendar`). A breach records `task.sla_breached`
(which the outbox turns into webhooks) and opens an escalation task for `leadership`; it
never completes or approves anything in the workflow.

Escalation tasks are plain task rows outside the workflow: ``spiff_task_id`` starts with
``esc-`` and ``element_id`` is ``Escalation_<task id>``; :func:`complete_escalation` closes
them. They are cancelled when the case ends.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String, bindparam, cast, or_, select
from sqlalchemy.orm import Session

from .. import audit, calendar, sla
from ..departments import ENTERPRISE
from ..errors import Forbidden, InvalidInput, NotFound, TaskNotReady
from ..models import Case, Job, Task
from . import journal
from .actors import Actor

SLA_WARNING = "sla_warning"
SLA_BREACH = "sla_breach"
SLA_KINDS = (SLA_WARNING, SLA_BREACH)
LEADERSHIP = "leadership"
ESCALATION_PREFIX = "esc-"
LIVE = ("pending", "paused")


def is_escalation(task: Task) -> bool:
    return task.spiff_task_id.startswith(ESCALATION_PREFIX)


def has_sla(task: Task) -> bool:
    return bool(
        task.sla_working_days
        and task.due_at is not None
        and task.department != ENTERPRISE
        and not is_escalation(task)
    )


def threshold(kind: str, task: Task, cal=None) -> datetime:
    if kind == SLA_BREACH:
        return task.due_at
    return sla.warning_at(task.due_at, task.sla_working_days, cal)


def _kinds(task: Task) -> tuple[str, ...]:
    # With a one-day limit the warning day is the due day itself: only the breach is useful.
    if sla.warning_day(task.sla_working_days) >= task.sla_working_days:
        return (SLA_BREACH,)
    return SLA_KINDS


def task_payload(task: Task) -> dict:
    """What events about a task say of it (task.created, SLA events, escalations)."""
    payload = {
        "task_id": task.id,
        "element_id": task.element_id,
        "title": task.title,
        "department": task.department,
        "due_at": audit.canonical_time(task.due_at) if task.due_at else None,
    }
    return with_title_en(payload, task)


def with_title_en(payload: dict, task: Task) -> dict:
    """The payload with the task's English title, when it has one (events of tasks whose
    element has no ``name_en`` keep the shape they always had)."""
    if task.title_en:
        payload["title_en"] = task.title_en
    return payload


def jobs_of(session: Session, case_id: int) -> list[Job]:
    """The case's live jobs (timers and SLA), and any SLA job of a task still open.

    A fired breach of an open task must not be scheduled again; the jobs of tasks finished
    long ago are history and are not read on every step.
    """
    return list(session.scalars(_JOBS_OF_CASE, {"case_id": case_id}))


# Built once: every step runs it. SLA jobs refer to their task by id, as text.
_OPEN_TASK_REFS = select(cast(Task.id, String)).where(
    Task.case_id == bindparam("case_id"), journal.one_of(Task.status, journal.OPEN)
)
_JOBS_OF_CASE = select(Job).where(
    Job.case_id == bindparam("case_id"),
    or_(
        journal.one_of(Job.status, LIVE),
        journal.one_of(Job.kind, SLA_KINDS) & Job.ref.in_(_OPEN_TASK_REFS.scalar_subquery()),
    ),
)


def sync_case(ctx: journal.StepContext, open_rows: list[Task], sla_jobs: list[Job]) -> None:
    """After a step: schedule SLA jobs for new officer tasks, pause/resume, retire old jobs.

    ``open_rows`` are the case's open tasks after the step and ``sla_jobs`` what
    :func:`jobs_of` read of its SLA jobs.
    """
    session, case, now = ctx.session, ctx.case, ctx.now
    cal = calendar.get_default_calendar()
    if case.status != "running":
        for row in open_rows:
            if is_escalation(row):
                row.status = "cancelled"
                row.completed_at = now
    waiting = any(row.department == ENTERPRISE for row in open_rows)
    officer = {str(row.id): row for row in open_rows if has_sla(row)}
    jobs = {(job.kind, job.ref): job for job in sla_jobs}
    for (_, ref), job in jobs.items():
        if job.status in LIVE and ref not in officer:
            job.status = "done"
    for ref, task in officer.items():
        if waiting and task.paused_since is None:
            task.paused_since = now
            for kind in SLA_KINDS:
                job = jobs.get((kind, ref))
                if job is not None and job.status == "pending":
                    job.status = "paused"
            journal.record(ctx, "task.sla_paused", task_payload(task))
        elif not waiting and task.paused_since is not None:
            _resume(ctx, task, jobs, cal)
        for kind in _kinds(task):
            if (kind, ref) not in jobs:
                session.add(
                    Job(
                        kind=kind,
                        case_id=case.id,
                        ref=ref,
                        due_at=threshold(kind, task, cal),
                        status="paused" if task.paused_since else "pending",
                        attempts=0,
                    )
                )


def _resume(ctx: journal.StepContext, task: Task, jobs: dict, cal) -> None:
    now = ctx.now
    lost = max(cal.working_days_between(task.paused_since, now), 0)
    if lost:
        due = cal.add_working_days(task.due_at, lost)
        task.due_at = due.date
        task.due_provisional = bool(task.due_provisional or due.provisional)
    task.paused_seconds = (task.paused_seconds or 0) + max(
        int((now - task.paused_since).total_seconds()), 0
    )
    task.paused_since = None
    for kind in SLA_KINDS:
        job = jobs.get((kind, str(task.id)))
        if job is not None and job.status in LIVE:
            job.status = "pending"
            job.due_at = threshold(kind, task, cal)
            job.locked_until = None
    journal.record(ctx, "task.sla_resumed", {**task_payload(task), "paused_working_days": lost})


def reschedule(session: Session, task: Task, cal=None) -> None:
    """Move the task's live SLA jobs to its current due date."""
    for job in session.scalars(
        select(Job).where(
            Job.case_id == task.case_id,
            Job.kind.in_(SLA_KINDS),
            Job.ref == str(task.id),
            Job.status.in_(LIVE),
        )
    ):
        job.due_at = threshold(job.kind, task, cal)


def fire_sla_job(session: Session, case: Case, job: Job, actor: str, now: datetime) -> str:
    """Run a due warning/breach job of a locked case; returns what happened."""
    task = session.get(Task, int(job.ref)) if job.ref.isdigit() else None
    if task is None or task.status not in journal.OPEN or case.status != "running":
        job.status = "done"
        return "obsolete"
    if task.paused_since is not None:
        job.status = "paused"
        return "paused"
    due = threshold(job.kind, task)
    if due > now:
        job.due_at = due
        return "rescheduled"
    ctx = journal.StepContext(session, case, actor, now)
    payload = {**task_payload(task), "sla_working_days": task.sla_working_days}
    if job.kind == SLA_WARNING:
        journal.record(ctx, "task.sla_warning", payload)
    else:
        escalation = _escalate(ctx, task)
        journal.record(ctx, "task.sla_breached", {**payload, "escalation_task_id": escalation.id})
        journal.record(ctx, "task.created", {**task_payload(escalation), "escalation_of": task.id})
    job.status = "done"
    case.lock_version = (case.lock_version or 0) + 1
    return "fired"


def _escalate(ctx: journal.StepContext, task: Task) -> Task:
    row = Task(
        case_id=task.case_id,
        spiff_task_id=ESCALATION_PREFIX + uuid.uuid4().hex,
        element_id=f"Escalation_{task.id}",
        process_key=task.process_key,
        title=f"超期督办：{task.title}"[:300],
        title_en=f"Overdue escalation: {task.title_en or task.title}"[:300],
        department=LEADERSHIP,
        status="ready",
        legal_basis=task.legal_basis,
        legal_basis_en=task.legal_basis_en,
        created_at=ctx.now,
        due_provisional=False,
        paused_seconds=0,
    )
    ctx.session.add(row)
    ctx.session.flush()
    return row


def complete_escalation(
    session: Session, actor: Actor, task_id: int, data: dict, now: datetime
) -> Case:
    """Close a leadership escalation task (it is not part of the workflow)."""
    task = session.get(Task, task_id)
    if task is None or not actor.is_staff:
        raise NotFound("任务不存在 (no such task)")
    if not is_escalation(task):
        raise InvalidInput("不是督办任务 (not an escalation task)")
    if not (actor.role == "admin" or (actor.role == "officer" and actor.department == LEADERSHIP)):
        raise Forbidden("只能办理本部门的任务 (only tasks of your own department)")
    if not isinstance(data, dict):
        raise InvalidInput(
            "data 必须是对象 (data must be an object)", {"data": ["必须是 JSON 对象"]}
        )
    case = journal.lock_case(session, task.case_id)
    session.refresh(task)
    if task.status not in journal.OPEN:
        raise TaskNotReady()
    task.status = "completed"
    task.completed_at = now
    task.completed_by = actor.username
    task.data = data
    ctx = journal.StepContext(session, case, actor.username, now)
    journal.record(ctx, "task.completed", {**task_payload(task), "data": data})
    case.lock_version = (case.lock_version or 0) + 1
    return case


def recompute_provisional(
    session: Session, before, after, actor: str, now: datetime
) -> list[tuple[int, datetime, datetime]]:
    """Recompute open provisional due dates on the calendar ``after`` (a year was imported).

    The working days already granted (limit + earlier pauses) are measured on ``before``,
    the calendar the due date was computed on, and re-added from ``created_at``.
    """
    case_ids = sorted(
        set(
            session.scalars(
                select(Task.case_id).where(
                    Task.status.in_(journal.OPEN),
                    Task.due_provisional.is_(True),
                    Task.due_at.is_not(None),
                )
            )
        )
    )
    changed = []
    for case_id in case_ids:
        case = journal.lock_case(session, case_id)
        ctx = journal.StepContext(session, case, actor, now)
        rows = session.scalars(
            select(Task)
            .where(
                Task.case_id == case_id,
                Task.status.in_(journal.OPEN),
                Task.due_provisional.is_(True),
                Task.due_at.is_not(None),
            )
            .order_by(Task.id)
            .execution_options(populate_existing=True)
        )
        for task in rows:
            if not task.sla_working_days:
                continue
            granted = max(
                before.working_days_between(task.created_at, task.due_at), task.sla_working_days
            )
            due = after.add_working_days(task.created_at, granted)
            old = task.due_at
            if due.date == old and due.provisional == task.due_provisional:
                continue
            task.due_at, task.due_provisional = due.date, due.provisional
            reschedule(session, task, after)
            journal.record(
                ctx,
                "task.due_recomputed",
                {
                    **task_payload(task),
                    "previous_due_at": audit.canonical_time(old),
                    "provisional": due.provisional,
                },
            )
            changed.append((task.id, old, due.date))
        session.flush()
        case.due_at = session.scalar(
            select(Task.due_at)
            .where(Task.case_id == case_id, Task.status.in_(journal.OPEN), Task.due_at.is_not(None))
            .order_by(Task.due_at)
            .limit(1)
        )
    return changed
