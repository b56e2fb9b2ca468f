"""Check-then-act races: one session holds a row (or key) uncommitted, the other blocks on
it after deciding on a stale read, then the first commits."""

from __future__ import annotations

import json

from sqlalchemy import select, update

import webhooks
from engine.errors import Conflict
from engine.models import (
    Attachment,
    Case,
    Job,
    ProcessDefinition,
    Task,
    User,
    WebhookDelivery,
)
from engine.services import (
    attachments,
    calendar_admin,
    cases,
    deployments,
    jobs,
    outbox,
    subscriptions,
    users,
)
from engine.services.actors import SYSTEM
from tests.conftest import fixture_bytes

from .race_helpers import race
from .test_engine_core import ANALYST, MAX, deploy, start

ADMIN = SYSTEM
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 32


def test_a_message_to_a_case_being_cancelled_does_not_reopen_it(db, now):
    """A webhook or an officer sends the message the case waits for while an admin cancels
    it: the case must not come back to life with a new task in someone's inbox."""
    deploy(db, now, "bim_wait.bpmn")
    case_id = start(db, now, "bim_wait")
    result = race(
        db,
        lambda s: cases.cancel_case(s, ADMIN, case_id, "撤销", now),
        lambda s: (
            cases.send_message(s, ADMIN, case_id, "bim_model_accepted", {"ok": 1}, now).status
        ),
    )
    with db.read() as session:
        status = session.get(Case, case_id).status
        open_rows = session.scalars(
            select(Task.title).where(Task.case_id == case_id, Task.status.in_(("ready", "claimed")))
        ).all()
    assert isinstance(result, Conflict), result
    assert status == "cancelled" and open_rows == []


def test_a_file_uploaded_to_a_case_being_cancelled_is_refused(db, now):
    """No file dated after the end of a finished case."""
    deploy(db, now, "bim_wait.bpmn")
    case_id = start(db, now, "bim_wait")
    result = race(
        db,
        lambda s: cases.cancel_case(s, ADMIN, case_id, "撤销", now),
        lambda s: attachments.add_attachment(s, ADMIN, case_id, "a.png", "image/png", PNG, now).id,
    )
    with db.read() as session:
        files = session.scalars(select(Attachment.id).where(Attachment.case_id == case_id)).all()
    assert isinstance(result, Conflict), result
    assert files == []


def _changed(old: str, new: str) -> list[tuple[str, bytes]]:
    content = fixture_bytes("parallel_review.bpmn").replace(old.encode(), new.encode())
    return [("parallel_review.bpmn", content)]


def test_two_concurrent_deployments_of_one_process_both_get_a_version(db, now):
    """Two analysts deploy changes of one process at once: versions 2 and 3, not a 500."""
    deploy(db, now, "parallel_review.bpmn")
    result = race(
        db,
        lambda s: deployments.deploy_bundle(
            s, ANALYST, _changed("消防审查", "消防设计审查"), now, MAX
        ),
        lambda s: [
            d.version
            for d in deployments.deploy_bundle(
                s, ANALYST, _changed("消防审查", "消防验收审查"), now, MAX
            )[1]
        ],
    )
    assert result == [3], result
    with db.read() as session:
        versions = session.scalars(
            select(ProcessDefinition.version).where(ProcessDefinition.key == "parallel_review")
        ).all()
    assert sorted(versions) == [1, 2, 3]


def test_two_concurrent_imports_of_one_calendar_year_both_succeed(db, now):
    """The second import replaces the first, as one after the other would."""

    def year(holiday: str) -> str:
        return json.dumps({"year": 2031, "holidays": [holiday], "workdays": []})

    result = race(
        db,
        lambda s: calendar_admin.import_year(s, ADMIN, year("2031-01-01"), now),
        lambda s: calendar_admin.import_year(s, ADMIN, year("2031-01-02"), now).holidays,
    )
    assert not isinstance(result, Exception), repr(result)


def test_two_admins_creating_one_username_get_a_conflict(db, now):
    """The second gets the 409 the admin page explains, not a 500."""

    def create(s):
        users.seed_departments(s)
        return users.create_user(s, "dup.user", "password-1234", "officer", "fire", now=now)

    with db.write() as session:
        users.seed_departments(session)
    result = race(db, create, lambda s: create(s).id)
    assert isinstance(result, Conflict), repr(result)
    with db.read() as session:
        assert len(session.scalars(select(User).where(User.username == "dup.user")).all()) == 1


def test_a_delivery_in_flight_when_its_subscription_is_deleted_stays_dead(db, now):
    """A failed send of a delivery whose subscription was deleted meanwhile is not retried."""
    with db.write() as session:
        sub, _ = subscriptions.create_subscription(
            session, ADMIN, "https://receiver.example/hook", ["case.cancelled"], now
        )
        sub_id = sub.id
    deploy(db, now, "bim_wait.bpmn")
    case_id = start(db, now, "bim_wait")
    with db.write() as session:
        cases.cancel_case(session, ADMIN, case_id, "撤销", now)
    with db.write() as session:
        (work,) = outbox.claim_due(session, now, 10, 60)  # the worker starts sending
    with db.write() as session:
        subscriptions.delete_subscription(session, ADMIN, sub_id)  # the admin deletes
    failed = webhooks.DeliveryOutcome(False, 503, "503", 1.0, True)
    with db.write() as session:
        outbox.record_outcome(session, work.id, failed, now, webhooks.RetryPolicy())
    with db.read() as session:
        assert session.get(WebhookDelivery, work.id).status == "dead"


def test_a_job_failure_recorded_while_a_step_retires_the_job_leaves_it_retired(db, now):
    """A worker's SLA job failed; meanwhile the officer completed the task, which retires the
    job. The failure must not mark it dead (the admin would see a dead job for a done task)."""
    deploy(db, now, "parallel_review.bpmn")
    case_id = start(db, now, "parallel_review")
    with db.write() as session:
        job = session.scalars(select(Job).where(Job.case_id == case_id)).first()
        job.attempts = jobs.MAX_ATTEMPTS  # its last attempt
        job_id = job.id

    def retire(session):
        session.execute(update(Job).where(Job.id == job_id).values(status="done"))

    race(db, retire, lambda s: jobs.record_failure(s, job_id, "receiver down", now))
    with db.read() as session:
        assert session.get(Job, job_id).status == "done"
