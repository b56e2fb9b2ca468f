"""The case's journal: the step context, the case row lock, and hash-chained audit events
with their webhook outbox rows. Everything that records what happened to a case writes here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session, joinedload

import webhooks

from .. import audit, calendar
from ..db import share
from ..errors import NotFound
from ..models import (
    Case,
    CaseState,
    Event,
    ProcessDefinition,
    WebhookDelivery,
    WebhookSubscription,
)
from ..runtime import monotonic_marker

OPEN = ("ready", "claimed")
# The outbox takes exactly the event types the webhooks package can deliver.
WEBHOOK_EVENTS = frozenset(webhooks.EVENT_TYPES)


def one_of(column, values):
    """``column IN (values)`` written as OR'ed equalities, for statements built once: an IN
    list is rendered anew on every execution."""
    return or_(*(column == value for value in values))


# Statements every step runs, built once.
INSERT_EVENT = Event.__table__.insert()
INSERT_DELIVERIES = WebhookDelivery.__table__.insert()
STATE_OF_CASE = select(CaseState).where(CaseState.case_id == bindparam("case_id"))
ACTIVE_SUBSCRIPTIONS = select(WebhookSubscription.id, WebhookSubscription.events).where(
    WebhookSubscription.active.is_(True)
)


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


@cache
def _lock_case_statement():
    """Built once (and after the mappers are configured): it runs in every step."""
    return (
        select(Case)
        .where(Case.id == bindparam("case_id"))
        .with_for_update(of=Case)
        # Re-read the case's own columns; of its (immutable) definition only the label the
        # response shows, never the spec JSON;
        .options(
            joinedload(Case.definition).load_only(
                ProcessDefinition.key,
                ProcessDefinition.version,
                ProcessDefinition.name,
                ProcessDefinition.name_en,
                ProcessDefinition.content_hash,
            ),
            # the enterprise too, for the response (its row never changes with a step)
            joinedload(Case.enterprise),
        )
        .execution_options(populate_existing=True)
    )


def lock_case(session: Session, case_id: int) -> Case:
    """SELECT … FOR UPDATE on PostgreSQL; SQLite writers already hold BEGIN IMMEDIATE.

    On PostgreSQL a locked row is re-read after the wait, but rows joined to it in the same
    statement come from before it. So only rows no step changes are joined here (the
    definition's label, the enterprise); whatever else the step reads about the case (its
    state, tasks, jobs) comes from statements after this one.

    The calendar import lock comes first, shared (see ``calendar_admin.keep_current``): an
    import locks the cases whose due dates it recomputes, so a step that took it after the
    case could deadlock with one.
    """
    share(session, calendar.IMPORT_LOCK)
    case = session.scalars(_lock_case_statement(), {"case_id": case_id}).first()
    if case is None:
        raise NotFound("案件不存在 (no such case)")
    return case


def keep_state(session: Session, state: CaseState) -> None:
    """Hold the case's state row for this session (the identity map holds rows only weakly),
    so loading and saving the workflow do not select it again."""
    session.info.setdefault("case_states", {})[state.case_id] = state


def kept_state(session: Session, case_id: int) -> CaseState | None:
    state = session.info.get("case_states", {}).get(case_id)
    # A rolled-back savepoint may have undone the row: then it has left the session.
    return state if state is not None and state in session else None


def state_row(session: Session, case_id: int) -> CaseState | None:
    """The case's state row, selected at most once per session; None before the first save."""
    state = kept_state(session, case_id)
    if state is None:
        state = session.scalars(STATE_OF_CASE, {"case_id": case_id}).first()
        if state is not None:
            keep_state(session, state)
    return state


def record(ctx: StepContext, type_: str, payload: dict) -> None:
    """Append one audit event to the case's hash chain (and to the webhook outbox).

    Events and outbox rows are plain INSERTs, written at once: nothing reads them back as
    objects within the step, and no pending change of the step needs to be in the database
    before them (the case row is), so they do not flush the step.
    """
    case = ctx.case
    seq = case.event_count + 1
    prev = case.last_event_hash or audit.GENESIS
    digest = audit.event_hash(prev, seq, type_, ctx.actor, ctx.now, payload)
    with ctx.session.no_autoflush:
        ctx.session.execute(
            INSERT_EVENT,
            {
                "case_id": case.id,
                "seq": seq,
                "type": type_,
                "actor": ctx.actor,
                "at": ctx.now,
                "payload": payload,
                "prev_hash": prev,
                "hash": digest,
            },
        )
        if type_ in WEBHOOK_EVENTS:
            _enqueue_webhooks(ctx, seq, type_, payload)
    case.event_count = seq
    case.last_event_hash = digest


def _enqueue_webhooks(ctx: StepContext, seq: int, type_: str, payload: dict) -> None:
    if ctx.subscriptions is None:
        ctx.subscriptions = ctx.session.execute(ACTIVE_SUBSCRIPTIONS).all()
    data = {"case_id": ctx.case.id, "case_number": ctx.case.case_number, **payload}
    rows = [
        {
            "msg_id": f"msg_{ctx.case.id}_{seq}_{sub.id}",
            "subscription_id": sub.id,
            "case_id": ctx.case.id,
            "event_type": type_,
            "payload": data,
            "created_at": ctx.now,
            "next_attempt_at": ctx.now,
        }
        for sub in ctx.subscriptions
        if type_ in (sub.events or [])
    ]
    if rows:
        ctx.session.execute(INSERT_DELIVERIES, rows)
