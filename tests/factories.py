"""Test data factories shared by the integration tests (deploy, start, complete)."""

from __future__ import annotations

from sqlalchemy import select

from engine.models import Task
from engine.services import cases, deployments, outbox, subscriptions, tasks
from engine.services.actors import SYSTEM, Actor
from tests.conftest import fixture_bytes

ANALYST = Actor("analyst", "analyst")
MAX_BPMN = 5 * 1024 * 1024


def officer(department: str) -> Actor:
    return Actor(f"{department}.officer", "officer", department)


def deploy(db, now, name: str, replace: dict[bytes, bytes] | None = None) -> None:
    content = fixture_bytes(name)
    for old, new in (replace or {}).items():
        content = content.replace(old, new)
    with db.write() as session:
        deployments.deploy_bundle(session, ANALYST, [(name, content)], now, MAX_BPMN)


def start(db, now, key: str, data: dict | None = None, project_name: str = "琶洲测试项目") -> int:
    with db.write() as session:
        return cases.start_case(session, SYSTEM, key, project_name, data or {}, now).id


def task_by_element(db, case_id: int, element_id: str) -> Task:
    with db.read() as session:
        return session.scalars(
            select(Task).where(Task.case_id == case_id, Task.element_id == element_id)
        ).one()


def complete(db, task_id: int, now, actor: Actor = SYSTEM, data: dict | None = None):
    with db.write() as session:
        return tasks.complete(session, actor, task_id, data or {}, now)


def delivery_being_sent(db, now, claimed_at=None, lease_seconds: float = 60) -> int:
    """The id of a case.started webhook delivery a worker has claimed and is sending."""
    deploy(db, now, "parallel_review.bpmn")
    with db.write() as session:
        subscriptions.create_subscription(
            session, SYSTEM, "https://receiver.example/hook", ["case.started"], now
        )
    start(db, now, "parallel_review")
    with db.write() as session:
        (work,) = outbox.claim_due(session, claimed_at or now, 10, lease_seconds)
    return work.id
