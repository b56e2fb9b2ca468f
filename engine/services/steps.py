"""One step of the engine: lock the case, act on its workflow, and write everything it changed.

Everything a step changes (task rows, audit events, timer jobs, webhook outbox rows, the
serialized workflow and lock_version) is written in the caller's transaction, so it commits
together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, lazyload

from .. import audit, calendar, definitions
from ..departments import ENTERPRISE, is_assignable
from ..errors import NotFound, ScriptError
from ..models import (
    Case,
    CaseState,
    Event,
    Job,
    ProcessDefinition,
    Task,
    WebhookDelivery,
    WebhookSubscription,
)
from ..runtime import Runtime, StepResult, monotonic_marker

OPEN = ("ready", "claimed")
SEARCH_FIELDS = ("project_code",)
PERMIT_FIELDS = ("permit_no", "permit_number", "issued_permits")
WEBHOOK_EVENTS = {
    "case.started",
    "case.stage_changed",
    "case.completed",
    "case.cancelled",
    "task.created",
    "task.completed",
    "task.sla_breached",
    "rectification.issued",
}

_runtime: Runtime | None = None


def runtime() -> Runtime:
    global _runtime
    if _runtime is None:
        _runtime = Runtime(helpers={"add_working_days": calendar.add_working_days})
    return _runtime


@dataclass
class StepContext:
    session: Session
    case: Case
    actor: str
    now: datetime
    since: float = field(default_factory=monotonic_marker)
    completed_spiff_ids: set[str] = field(default_factory=set)
    # Active webhook subscriptions, read once per step (not once per recorded event).
    subscriptions: list | None = None


def lock_case(session: Session, case_id: int) -> Case:
    """SELECT … FOR UPDATE on PostgreSQL; SQLite writers already hold BEGIN IMMEDIATE."""
    case = session.scalars(
        select(Case)
        .where(Case.id == case_id)
        .with_for_update(of=Case)
        # Re-read the case's own columns, not its (immutable) definition's spec and XML.
        .options(lazyload(Case.definition), lazyload(Case.enterprise))
        .execution_options(populate_existing=True)
    ).first()
    if case is None:
        raise NotFound("案件不存在 (no such case)")
    return case


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
    definition = case.definition
    top, subprocess_specs = definitions.spec_cache.get(
        definition.content_hash, lambda: definition.spec
    )
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
    state = session.get(CaseState, case.id)
    return runtime().load(state.state, top, subprocess_specs)


def record(ctx: StepContext, type_: str, payload: dict) -> Event:
    """Append one audit event to the case's hash chain (and to the webhook outbox)."""
    case = ctx.case
    seq = case.event_count + 1
    prev = case.last_event_hash or audit.GENESIS
    digest = audit.event_hash(prev, seq, type_, ctx.actor, ctx.now, payload)
    event = Event(
        case_id=case.id,
        seq=seq,
        type=type_,
        actor=ctx.actor,
        at=ctx.now,
        payload=payload,
        prev_hash=prev,
        hash=digest,
    )
    ctx.session.add(event)
    case.event_count = seq
    case.last_event_hash = digest
    if type_ in WEBHOOK_EVENTS:
        _enqueue_webhooks(ctx, type_, payload)
    return event


def _enqueue_webhooks(ctx: StepContext, type_: str, payload: dict) -> None:
    if ctx.subscriptions is None:
        ctx.subscriptions = list(
            ctx.session.scalars(
                select(WebhookSubscription).where(WebhookSubscription.active.is_(True))
            )
        )
    if not ctx.subscriptions:
        return
    data = {"case_id": ctx.case.id, "case_number": ctx.case.case_number, **payload}
    for sub in ctx.subscriptions:
        if type_ not in (sub.events or []):
            continue
        ctx.session.add(
            WebhookDelivery(
                msg_id=f"msg_{ctx.case.id}_{ctx.case.event_count}_{sub.id}",
                subscription_id=sub.id,
                case_id=ctx.case.id,
                event_type=type_,
                payload=data,
                created_at=ctx.now,
                next_attempt_at=ctx.now,
            )
        )


def finish(ctx: StepContext, workflow) -> StepResult:
    """Sync inbox rows, stage, timers and searchable fields with the workflow, then save it."""
    rt = runtime()
    result = rt.observe(workflow, ctx.since)
    case = ctx.case
    session = ctx.session

    open_rows = {
        row.spiff_task_id: row
        for row in session.scalars(
            select(Task).where(
                Task.case_id == case.id,
                Task.status.in_(OPEN),
                # escalation tasks (engine/services/deadlines.py) live outside the workflow
                ~Task.spiff_task_id.startswith("esc-"),
            )
        )
    }
    ready_ids = {h.spiff_id for h in result.ready}
    for spiff_id, row in open_rows.items():
        if spiff_id not in ready_ids and spiff_id not in ctx.completed_spiff_ids:
            row.status = "cancelled"
            row.completed_at = ctx.now
            record(
                ctx,
                "task.cancelled",
                {"task_id": row.id, "element_id": row.element_id, "title": row.title},
            )
    for human in result.ready:
        if human.spiff_id in open_rows:
            continue
        _create_task_row(ctx, human)

    if result.stage and result.stage != case.stage:
        previous = case.stage
        case.stage = result.stage
        record(ctx, "case.stage_changed", {"from": previous, "to": result.stage})

    _sync_timer_jobs(ctx, result)

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
    session.flush()
    case.due_at = session.scalar(
        select(Task.due_at)
        .where(Task.case_id == case.id, Task.status.in_(OPEN), Task.due_at.is_not(None))
        .order_by(Task.due_at)
        .limit(1)
    )
    rt.prune(workflow)
    save_state(session, case, rt.dump(workflow))
    return result


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


def save_state(session: Session, case: Case, state: bytes) -> None:
    existing = session.get(CaseState, case.id)
    if existing is None:
        session.add(CaseState(case_id=case.id, state=state))
    else:
        existing.state = state
    case.lock_version = (case.lock_version or 0) + 1


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
    row = Task(
        case_id=ctx.case.id,
        spiff_task_id=human.spiff_id,
        element_id=human.element_id,
        process_key=human.process_key,
        title=human.title,
        department=department,
        status="ready",
        form_key=props.get("formKey"),
        sla_working_days=sla,
        legal_basis=props.get("legal_basis"),
        created_at=ctx.now,
        due_at=due_at,
        due_provisional=provisional,
    )
    ctx.session.add(row)
    ctx.session.flush()
    record(
        ctx,
        "task.created",
        {
            "task_id": row.id,
            "element_id": row.element_id,
            "title": row.title,
            "department": department,
            "due_at": audit.canonical_time(due_at) if due_at else None,
        },
    )
    return row


def _sync_timer_jobs(ctx: StepContext, result: StepResult) -> None:
    session = ctx.session
    existing = {
        job.ref: job
        for job in session.scalars(
            select(Job).where(
                Job.case_id == ctx.case.id, Job.kind == "timer", Job.status == "pending"
            )
        )
    }
    for ref, job in existing.items():
        if ref not in result.timers:
            job.status = "done"
    for ref, due in result.timers.items():
        job = existing.get(ref)
        if job is None:
            session.execute(
                delete(Job).where(Job.case_id == ctx.case.id, Job.kind == "timer", Job.ref == ref)
            )
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
