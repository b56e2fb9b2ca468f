"""One step of the engine: lock the case, act on its workflow, and write everything it changed.

Everything a step changes (task rows, audit events, timer jobs, webhook outbox rows, the
serialized workflow and lock_version) is written in the caller's transaction, so it commits
together or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import bindparam, delete, inspect, select, update
from sqlalchemy.orm import Session, lazyload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.session import make_transient_to_detached

from .. import calendar, definitions, element_names
from ..departments import ENTERPRISE, is_assignable
from ..errors import NotFound, ScriptError
from ..models import (
    Case,
    CaseState,
    Job,
    ProcessDefinition,
    Task,
)
from ..row_writes import update_columns, write_changes
from ..runtime import Runtime, StepResult
from . import calendar_admin, deadlines, journal
from .journal import OPEN, WEBHOOK_EVENTS, StepContext, record  # noqa: F401 (re-exported)

SEARCH_FIELDS = ("project_code",)
# Keys of case.summary saying what a case with no open task waits for (see _note_waiting).
WAITING_KEYS = ("waiting_for", "waiting_until")
PERMIT_FIELDS = ("permit_no", "permit_number", "issued_permits")
_runtime: Runtime | None = None
# Statements every step runs, built once.
# Task rows join their case by default (for lists); a step holds the case already.
_OPEN_TASKS_OF_CASE = (
    select(Task)
    .where(Task.case_id == bindparam("case_id"), journal.one_of(Task.status, OPEN))
    .options(lazyload(Task.case))
)
_INSERT_TASK = Task.__table__.insert().returning(Task.__table__.c.id)
# A timer's earlier job (done, or dead) gives way to the new one: (case, kind, ref) is unique.
_DELETE_TIMER_JOB = delete(Job).where(
    Job.case_id == bindparam("case_id"), Job.kind == "timer", Job.ref == bindparam("ref")
)
# What a new task row holds in the columns a step does not set.
_TASK_COLUMN_DEFAULTS = {column.key: None for column in Task.__table__.c} | {
    "due_provisional": False,
    "paused_seconds": 0,
}


def runtime() -> Runtime:
    global _runtime
    if _runtime is None:
        _runtime = Runtime(helpers={"add_working_days": calendar.add_working_days})
    return _runtime


def specs_for(session: Session, case: Case):
    """The cached spec of the case's definition and of every process it calls."""
    refs = dict(case.spec_refs or {})
    rows = (
        {
            row.id: row
            for row in session.scalars(
                select(ProcessDefinition).where(ProcessDefinition.id.in_(refs.values()))
            )
        }
        if refs
        else {}
    )
    # The hash is kept on the case so a step finds the cached spec without loading the definition.
    top_hash = (case.summary or {}).get("definition_hash") or case.definition.content_hash
    top, subprocess_specs = definitions.spec_cache.get(top_hash, lambda: case.definition.spec)
    subprocess_specs = dict(subprocess_specs)
    for key, def_id in refs.items():
        row = rows[def_id]
        called, embedded = definitions.spec_cache.get(row.content_hash, lambda row=row: row.spec)
        subprocess_specs[key] = called
        subprocess_specs.update(embedded)
    return top, subprocess_specs


def resolve_spec_refs(session: Session, definition: ProcessDefinition) -> dict[str, int]:
    """Pin the newest version of every (transitively) called process when a case starts."""
    refs: dict[str, int] = {}
    pending = list(definition.called_keys or [])
    while pending:
        key = pending.pop()
        if key in refs:
            continue
        called = session.scalars(
            select(ProcessDefinition)
            .where(ProcessDefinition.key == key)
            .order_by(ProcessDefinition.version.desc())
            .limit(1)
        ).first()
        if called is None:
            raise NotFound(f"被调用的流程 {key} 未部署 (called process not deployed)")
        refs[key] = called.id
        pending.extend(called.called_keys or [])
    return refs


def load_workflow(session: Session, case: Case):
    top, subprocess_specs = specs_for(session, case)
    state = journal.state_row(session, case.id)
    return runtime().load(state.state, top, subprocess_specs)


def lock_case(session: Session, case_id: int) -> Case:
    """The case locked for a step (``journal.lock_case``), with this process's calendar made
    current before the engine runs: timer expressions count working days too."""
    case = journal.lock_case(session, case_id)
    calendar_admin.keep_current(session)
    return case


def finish(ctx: StepContext, workflow) -> StepResult:
    """Sync inbox rows, stage, timers and searchable fields with the workflow, then save it."""
    # Queries below would otherwise flush after every recorded event; the explicit flushes
    # (new task rows, before the due-date query) are the only ones the reads depend on.
    with ctx.session.no_autoflush:
        return _finish(ctx, workflow)


def _finish(ctx: StepContext, workflow) -> StepResult:
    rt = runtime()
    result = rt.observe(workflow, ctx.since)
    case = ctx.case
    session = ctx.session
    # New due dates below use the process-wide calendar: current with any import, also one
    # another process committed a moment ago (checked already when the step locked the case).
    calendar_admin.keep_current(session)

    # One read of the case's open tasks and live jobs serves the whole step: the inbox sync,
    # the timers, the SLA bookkeeping and the case's due date.
    open_tasks = list(session.scalars(_OPEN_TASKS_OF_CASE, {"case_id": case.id}))
    jobs = deadlines.jobs_of(session, case.id)
    # escalation tasks (engine/services/deadlines.py) live outside the workflow
    open_rows = {row.spiff_task_id: row for row in open_tasks if not deadlines.is_escalation(row)}
    ready_ids = {h.spiff_id for h in result.ready}
    for spiff_id, row in open_rows.items():
        if spiff_id not in ready_ids and spiff_id not in ctx.completed_spiff_ids:
            row.status = "cancelled"
            row.completed_at = ctx.now
            record(
                ctx,
                "task.cancelled",
                deadlines.with_title_en(
                    {"task_id": row.id, "element_id": row.element_id, "title": row.title}, row
                ),
            )
    for human in result.ready:
        if human.spiff_id in open_rows:
            continue
        open_tasks.append(_create_task_row(ctx, human))

    if result.stage and result.stage != case.stage:
        previous = case.stage
        case.stage = result.stage
        record(ctx, "case.stage_changed", {"from": previous, "to": result.stage})

    _sync_timer_jobs(ctx, result, [job for job in jobs if job.kind == "timer"])

    data = rt.data(workflow)
    for name in SEARCH_FIELDS:
        if data.get(name):
            setattr(case, name, str(data[name])[:40])
    permits = _permit_numbers(data)
    if permits:
        case.permit_numbers = ",".join(dict.fromkeys(permits))[:300]

    if result.completed and case.status == "running":
        case.status = "completed"
        case.completed_at = ctx.now
        record(ctx, "case.completed", {"stage": case.stage})
    still_open = [row for row in open_tasks if row.status in OPEN]
    deadlines.sync_case(ctx, still_open, [job for job in jobs if job.kind in deadlines.SLA_KINDS])
    still_open = sorted((row for row in still_open if row.status in OPEN), key=lambda r: r.id)
    case.due_at = min((row.due_at for row in still_open if row.due_at is not None), default=None)
    set_committed_value(case, "open_tasks", still_open)
    _note_waiting(case, rt, workflow, result, still_open)
    # The diagram shows what the case went through; pruning is about to drop that history.
    _, completed_elements = rt.element_states(workflow)
    known = set((case.summary or {}).get("completed_elements", []))
    if not set(completed_elements) <= known:
        case.summary = {
            **(case.summary or {}),
            "completed_elements": sorted(known | set(completed_elements)),
        }
    rt.prune(workflow)
    save_state(session, case, rt.dump(workflow), data)
    return result


def _note_waiting(case: Case, rt: Runtime, workflow, result: StepResult, still_open) -> None:
    """What a running case with no open task waits for, kept in ``case.summary`` for the case
    list and page: ``waiting_for`` (message names) and ``waiting_until`` (earliest timer).

    Only computed when no task is open, and written with the case row's one UPDATE."""
    summary = case.summary or {}
    waiting: dict = {}
    if case.status == "running" and not still_open:
        messages = sorted(rt.waiting_messages(workflow))
        if messages:
            waiting["waiting_for"] = messages
        if result.timers:
            waiting["waiting_until"] = min(result.timers.values()).isoformat()
    if {key: summary[key] for key in WAITING_KEYS if key in summary} != waiting:
        kept = {key: value for key, value in summary.items() if key not in WAITING_KEYS}
        case.summary = {**kept, **waiting}


def _permit_numbers(data: dict) -> list[str]:
    found = []
    for name in PERMIT_FIELDS:
        value = data.get(name)
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, dict):
                item = item.get("permit_no") or item.get("permit_number")
            if isinstance(item, str | int) and str(item).strip():
                found.append(str(item).strip())
    return found


def save_state(session: Session, case: Case, state: bytes, data: dict | None = None) -> None:
    """The serialized workflow plus a JSON snapshot of the case data, so reads skip the workflow."""
    snapshot = json_safe(data) if data is not None else None
    existing = journal.state_row(session, case.id)
    if existing is None:
        existing = CaseState(case_id=case.id, state=state, data=snapshot)
        session.add(existing)
        journal.keep_state(session, existing)
    else:
        update_columns(session, existing, state=state, data=snapshot)
    case.lock_version = (case.lock_version or 0) + 1
    # The step is done with the case row: one direct UPDATE instead of the unit of work's.
    write_changes(session, case)


def json_safe(data: dict) -> dict:
    """Task data as plain JSON (dates and other values SpiffWorkflow allows become strings)."""
    return json.loads(json.dumps(data, default=str, ensure_ascii=False))


def _department_of(ctx: StepContext, human) -> str:
    expression = human.properties.get("department")
    if expression:
        try:
            value = runtime().evaluate(expression, human.data)
        except ScriptError as exc:
            raise ScriptError(f"无法确定任务 {human.element_id} 的部门: {exc.detail}") from None
    else:
        value = human.lane
    value = str(value or "").strip()
    if not is_assignable(value):
        raise ScriptError(
            f"任务 {human.element_id} 的部门 '{value}' 不是有效的部门代码 (not a department code)"
        )
    return value


def _create_task_row(ctx: StepContext, human) -> Task:
    department = _department_of(ctx, human)
    props = human.properties
    sla = (
        int(props["sla_working_days"]) if str(props.get("sla_working_days", "")).isdigit() else None
    )
    due_at, provisional = None, False
    if sla and department != ENTERPRISE:
        due = calendar.get_default_calendar().add_working_days(ctx.now, sla)
        due_at, provisional = due.date, due.provisional
    values = {
        "case_id": ctx.case.id,
        "spiff_task_id": human.spiff_id,
        "element_id": human.element_id,
        "process_key": human.process_key,
        "title": human.title,
        "title_en": element_names.english(props),
        "department": department,
        "status": "ready",
        "form_key": props.get("formKey"),
        "sla_working_days": sla,
        "legal_basis": props.get("legal_basis"),
        "legal_basis_en": element_names.english(props, element_names.LEGAL_BASIS_EN),
        "created_at": ctx.now,
        "due_at": due_at,
        "due_provisional": provisional,
    }
    row = _insert_task(ctx.session, values)
    record(ctx, "task.created", deadlines.task_payload(row))
    return row


def _insert_task(session: Session, values: dict) -> Task:
    """INSERT … RETURNING of this row alone, for its id: a session.flush() here would also
    write everything else the step has changed so far, and the step flushes once, at COMMIT.

    The row is a plain INSERT and the object is attached as the persistent row it is (every
    column known), which costs a tenth of the ORM's INSERT … RETURNING. SQLite before 3.35
    has no RETURNING; there the unit of work inserts it.
    """
    if not session.get_bind().dialect.insert_returning:
        row = Task(**values)
        session.add(row)
        session.flush()
        return row
    row = Task(**{**_TASK_COLUMN_DEFAULTS, **values})
    row.id = session.execute(_INSERT_TASK, values).scalar_one()
    make_transient_to_detached(row)
    session.add(row)
    # What a flush records of a row it inserted (private in SQLAlchemy 2.0 and 2.1): the
    # rollback of this transaction or savepoint then expunges the object with the row.
    session._transaction._new[inspect(row)] = True
    return row


def _sync_timer_jobs(ctx: StepContext, result: StepResult, timer_jobs: list[Job]) -> None:
    session = ctx.session
    existing = {job.ref: job for job in timer_jobs if job.status == "pending"}
    for ref, job in existing.items():
        if ref not in result.timers:
            job.status = "done"
    for ref, due in result.timers.items():
        job = existing.get(ref)
        if job is None:
            session.execute(_DELETE_TIMER_JOB, {"case_id": ctx.case.id, "ref": ref})
            session.add(
                Job(kind="timer", case_id=ctx.case.id, ref=ref, due_at=due, status="pending")
            )
        elif job.due_at != due:
            job.due_at = due


def cancel_open_tasks(ctx: StepContext) -> None:
    ctx.session.execute(
        update(Task)
        .where(Task.case_id == ctx.case.id, Task.status.in_(OPEN))
        .values(status="cancelled", completed_at=ctx.now)
    )
    ctx.session.execute(
        update(Job).where(Job.case_id == ctx.case.id, Job.status == "pending").values(status="done")
    )


def act(
    session: Session, case_id: int, actor: str, now: datetime, action: Callable
) -> tuple[Case, StepResult]:
    """Lock, load, act, finish: the common shape of every step after the first."""
    case = lock_case(session, case_id)
    workflow = load_workflow(session, case)
    ctx = StepContext(session, case, actor, now)
    action(ctx, workflow)
    result = finish(ctx, workflow)
    return case, result
