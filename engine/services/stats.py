"""Operational numbers: per stage and department (open, completed, median cycle time, SLA
breaches), worker lag, and the Prometheus exposition built from them on every scrape."""

from __future__ import annotations

import statistics
from datetime import datetime

from prometheus_client import CollectorRegistry, Gauge, generate_latest
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from ..errors import Forbidden
from ..models import Case, Event, Job, Task, WebhookDelivery
from . import jobs, outbox, steps
from .actors import Actor


def _breached(now: datetime):
    """SQL: the task's clock (completion, pause start or now) has passed its due date."""
    clock = case(
        (Task.status == "completed", Task.completed_at),
        else_=func.coalesce(Task.paused_since, now),
    )
    return and_(Task.due_at.is_not(None), clock > Task.due_at)


def stage_stats(session: Session, actor: Actor, now: datetime) -> list[dict]:
    """Per (case stage, department): open, completed, median cycle seconds, SLA breaches.

    A task is counted under its case's current stage; cancelled tasks are left out.
    """
    if not actor.is_staff:
        raise Forbidden("仅限局内人员 (bureau staff only)")
    stage = func.coalesce(Case.stage, "")
    rows = session.execute(
        select(
            stage,
            Task.department,
            func.sum(case((Task.status.in_(steps.OPEN), 1), else_=0)),
            func.sum(case((Task.status == "completed", 1), else_=0)),
            func.sum(case((_breached(now), 1), else_=0)),
        )
        .join(Case, Task.case_id == Case.id)
        .where(Task.status != "cancelled")
        .group_by(stage, Task.department)
    ).all()
    cycles: dict[tuple[str, str], list[float]] = {}
    for stage_value, department, created, completed in session.execute(
        select(stage, Task.department, Task.created_at, Task.completed_at)
        .join(Case, Task.case_id == Case.id)
        .where(Task.status == "completed", Task.completed_at.is_not(None))
    ):
        cycles.setdefault((stage_value, department), []).append(
            (completed - created).total_seconds()
        )
    result = []
    for stage_value, department, open_count, completed_count, breaches in rows:
        durations = cycles.get((stage_value, department))
        result.append(
            {
                "stage": stage_value or None,
                "department": department,
                "open": int(open_count or 0),
                "completed": int(completed_count or 0),
                "median_cycle_seconds": statistics.median(durations) if durations else None,
                "sla_breaches": int(breaches or 0),
            }
        )
    result.sort(key=lambda r: (r["stage"] or "", r["department"]))
    return result


def worker_lag_seconds(session: Session, now: datetime) -> float:
    """Age of the oldest due work nobody has picked up (timers, SLA jobs, deliveries)."""
    return max(jobs.lag_seconds(session, now), outbox.lag_seconds(session, now))


def metrics(session: Session, now: datetime) -> bytes:
    """Prometheus text exposition, from a registry built for this scrape only."""
    registry = CollectorRegistry(auto_describe=True)
    open_tasks = Gauge(
        "pazhou_open_tasks", "Open tasks per department", ["department"], registry=registry
    )
    for department, count in session.execute(
        select(Task.department, func.count())
        .where(Task.status.in_(steps.OPEN))
        .group_by(Task.department)
    ):
        open_tasks.labels(department).set(count)
    overdue = Gauge(
        "pazhou_open_tasks_overdue",
        "Open tasks past their due date per department",
        ["department"],
        registry=registry,
    )
    for department, count in session.execute(
        select(Task.department, func.count())
        .where(Task.status.in_(steps.OPEN), _breached(now))
        .group_by(Task.department)
    ):
        overdue.labels(department).set(count)
    breaches = Gauge(
        "pazhou_sla_breaches", "task.sla_breached events recorded so far", registry=registry
    )
    breaches.set(session.scalar(select(func.count()).where(Event.type == "task.sla_breached")) or 0)
    cases = Gauge("pazhou_cases", "Cases per status", ["status"], registry=registry)
    for status, count in session.execute(select(Case.status, func.count()).group_by(Case.status)):
        cases.labels(status).set(count)
    pending_jobs = Gauge(
        "pazhou_jobs_pending", "Pending jobs per kind", ["kind"], registry=registry
    )
    for kind, count in session.execute(
        select(Job.kind, func.count()).where(Job.status == "pending").group_by(Job.kind)
    ):
        pending_jobs.labels(kind).set(count)
    deliveries = Gauge(
        "pazhou_webhook_deliveries", "Webhook deliveries per status", ["status"], registry=registry
    )
    for status, count in session.execute(
        select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)
    ):
        deliveries.labels(status).set(count)
    lag = Gauge(
        "pazhou_worker_lag_seconds",
        "Age of the oldest due job or delivery not yet picked up",
        registry=registry,
    )
    lag.set(worker_lag_seconds(session, now))
    return generate_latest(registry)
