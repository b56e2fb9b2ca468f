"""Due jobs (BPMN timers, SLA warnings and breaches): claiming with a lease, and running one.

Claiming is its own short transaction: ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL (so
concurrent workers take disjoint jobs), a write transaction on SQLite; a claim sets
``locked_until`` (the lease) and counts the attempt. Running a job is a second transaction
that locks the case first (the same order as every engine step), re-reads the job and only
acts while it is still pending — so a job whose lease expired while a slow worker still ran
it fires once: the second runner finds it done. A crashed worker's claim simply expires.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from .. import audit
from ..models import Job
from . import deadlines, steps

TIMER = "timer"
MAX_ATTEMPTS = 5
RETRY_SECONDS = 30
# A timer SpiffWorkflow does not consider due yet (clock skew between hosts): look again soon.
NOT_YET_SECONDS = 1


def claim_due(session: Session, now: datetime, limit: int, lease_seconds: float) -> list[int]:
    """Claim up to ``limit`` due jobs for this worker; returns their ids."""
    ids = list(
        session.scalars(
            select(Job.id)
            .where(
                Job.status == "pending",
                Job.due_at <= now,
                or_(Job.locked_until.is_(None), Job.locked_until < now),
            )
            .order_by(Job.due_at, Job.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if ids:
        session.execute(
            update(Job)
            .where(Job.id.in_(ids))
            .values(locked_until=now + timedelta(seconds=lease_seconds), attempts=Job.attempts + 1)
        )
    return ids


def run(session: Session, job_id: int, actor: str, now: datetime) -> str:
    """Run one claimed job in the caller's transaction; returns what happened."""
    case_id = session.scalar(select(Job.case_id).where(Job.id == job_id))
    case = steps.lock_case(session, case_id) if case_id is not None else None
    job = session.scalars(
        select(Job)
        .where(Job.id == job_id)
        .with_for_update(of=Job)
        .execution_options(populate_existing=True)
    ).first()
    if job is None or job.status != "pending":
        return "already done"
    if case is None or case.status != "running":
        job.status = "done"
        return "obsolete"
    if job.kind == TIMER:
        outcome = _fire_timer(session, case, job, actor, now)
    elif job.kind in deadlines.SLA_KINDS:
        outcome = deadlines.fire_sla_job(session, case, job, actor, now)
    else:
        job.status = "dead"
        job.last_error = f"unknown job kind {job.kind!r}"
        return "unknown"
    job.locked_until = None
    return outcome


def _fire_timer(session: Session, case, job: Job, actor: str, now: datetime) -> str:
    rt = steps.runtime()
    workflow = steps.load_workflow(session, case)
    ctx = steps.StepContext(session, case, actor, now)
    before = rt.observe(workflow, ctx.since).timers
    if job.ref not in before:
        job.status = "done"  # the timer was cancelled or fired with another job of the case
        return "obsolete"
    rt.fire_timers(workflow)
    after = rt.observe(workflow, ctx.since).timers
    fired = [ref for ref in before if ref not in after or after[ref] != before[ref]]
    if job.ref not in fired:
        job.due_at = max(job.due_at, now) + timedelta(seconds=NOT_YET_SECONDS)
        return "not yet due"
    for ref in fired:
        steps.record(
            ctx, "timer.fired", {"timer": ref, "due_at": audit.canonical_time(before[ref])}
        )
    # finish marks the jobs of fired timers done; a cycle timer's job moves to its next due.
    steps.finish(ctx, workflow)
    return "fired"


def record_failure(session: Session, job_id: int, error: str, now: datetime) -> None:
    """After a job's transaction rolled back: keep the error, retry later or give up."""
    # Locked and read as committed: a step may have retired (done) or paused the job since.
    job = session.get(Job, job_id, with_for_update=True, populate_existing=True)
    if job is None or job.status != "pending":
        return
    job.last_error = error[:2000]
    if job.attempts >= MAX_ATTEMPTS:
        job.status = "dead"
        job.locked_until = None
    else:
        job.locked_until = now + timedelta(seconds=RETRY_SECONDS * 2 ** (job.attempts - 1))


def lag_seconds(session: Session, now: datetime) -> float:
    """How far behind the workers are: age of the oldest due, unclaimed pending job."""
    oldest = session.scalar(
        select(Job.due_at)
        .where(
            Job.status == "pending",
            Job.due_at <= now,
            or_(Job.locked_until.is_(None), Job.locked_until < now),
        )
        .order_by(Job.due_at)
        .limit(1)
    )
    return max((now - oldest).total_seconds(), 0.0) if oldest else 0.0
