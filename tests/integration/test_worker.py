"""The worker: timers fire through the engine, leases survive a crashed worker, and many
worker processes on PostgreSQL fire every timer exactly once."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
import zlib
from collections import Counter
from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import func, insert, select

from engine.models import Case, CaseState, Event, Job, Task
from engine.services import jobs
from engine.worker import WorkerOptions, run_due_jobs, start_embedded
from tests.factories import deploy, start

FOLLOWUP = "Task_housing_followup"


def timer_jobs(db) -> list[Job]:
    with db.read() as session:
        return list(session.scalars(select(Job).where(Job.kind == "timer").order_by(Job.id)))


def fired_events(db) -> list[Event]:
    with db.read() as session:
        return list(session.scalars(select(Event).where(Event.type == "timer.fired")))


def test_timer_fires_once_and_opens_the_next_task(db):
    t0 = datetime.now(UTC)
    deploy(db, t0, "timer_wait.bpmn")
    case_id = start(db, t0, "timer_wait")
    (job,) = timer_jobs(db)
    assert job.status == "pending" and t0 < job.due_at <= t0 + timedelta(seconds=2)
    assert run_due_jobs(db, t0, 10) == 0  # not due yet

    with time_machine.travel(t0 + timedelta(seconds=5), tick=False):
        assert run_due_jobs(db, datetime.now(UTC), 10) == 1
        assert run_due_jobs(db, datetime.now(UTC), 10) == 0
    (job,) = timer_jobs(db)
    assert (job.status, job.attempts) == ("done", 1)
    assert [e.case_id for e in fired_events(db)] == [case_id]
    with db.read() as session:
        task = session.scalars(select(Task).where(Task.case_id == case_id)).one()
    assert (task.element_id, task.department, task.status) == (FOLLOWUP, "housing", "ready")


def test_a_crashed_workers_claim_is_retried_after_its_lease(db):
    t0 = datetime.now(UTC)
    deploy(db, t0, "timer_wait.bpmn")
    start(db, t0, "timer_wait")
    claimed_at = t0 + timedelta(seconds=5)
    with db.write() as session:  # a worker claims the job, then dies before running it
        assert len(jobs.claim_due(session, claimed_at, 10, lease_seconds=60)) == 1

    with time_machine.travel(claimed_at + timedelta(seconds=30), tick=False):
        assert run_due_jobs(db, datetime.now(UTC), 10) == 0  # still leased
    with time_machine.travel(claimed_at + timedelta(seconds=61), tick=False):
        assert run_due_jobs(db, datetime.now(UTC), 10) == 1
    (job,) = timer_jobs(db)
    assert (job.status, job.attempts) == ("done", 2)
    assert len(fired_events(db)) == 1


def test_a_failing_job_keeps_its_error_and_gives_up_after_max_attempts(db, monkeypatch):
    t0 = datetime.now(UTC)
    deploy(db, t0, "timer_wait.bpmn")
    start(db, t0, "timer_wait")

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(jobs, "_fire_timer", broken)
    now = t0 + timedelta(seconds=5)
    for _ in range(jobs.MAX_ATTEMPTS):
        run_due_jobs(db, now, 10)
        now += timedelta(hours=2)
    (job,) = timer_jobs(db)
    assert (job.status, job.attempts, job.last_error) == (
        "dead",
        jobs.MAX_ATTEMPTS,
        "RuntimeError: boom",
    )
    assert fired_events(db) == []


def test_embedded_worker_thread_fires_due_timers(sqlite_db):
    t0 = datetime.now(UTC)
    deploy(sqlite_db, t0, "timer_wait.bpmn")
    start(sqlite_db, t0, "timer_wait")
    thread, stop = start_embedded(sqlite_db, options=WorkerOptions(poll_interval=0.1))
    try:
        deadline = time.monotonic() + 10
        while not fired_events(sqlite_db) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(5)
    assert len(fired_events(sqlite_db)) == 1
    assert not thread.is_alive()


UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def clone_case(db, case_id: int, copies: int) -> None:
    """Bulk-insert copies of a waiting case (fresh SpiffWorkflow task ids) and its timer job."""
    with db.write() as session:
        case = session.get(Case, case_id)
        state = zlib.decompress(session.get(CaseState, case_id).state)
        job = session.scalars(select(Job).where(Job.case_id == case_id)).one()
        columns = {
            c.key: getattr(case, c.key)
            for c in Case.__table__.columns
            if c.key not in ("id", "case_number")
        }
        ids = session.scalars(
            insert(Case).returning(Case.id, sort_by_parameter_order=True),
            [{**columns, "case_number": f"CLONE-{n:06d}"} for n in range(copies)],
        ).all()
        states, jobs_ = [], []
        for new_id in ids:
            fresh: dict[bytes, bytes] = {}
            text = UUID.sub(
                lambda m, fresh=fresh: fresh.setdefault(m[0], str(uuid.uuid4()).encode()), state
            )
            states.append({"case_id": new_id, "state": zlib.compress(text, 1)})
            ref = fresh[job.ref.encode()].decode()
            jobs_.append(
                {
                    "kind": "timer",
                    "case_id": new_id,
                    "ref": ref,
                    "due_at": job.due_at,
                    "status": "pending",
                    "attempts": 0,
                }
            )
        session.execute(insert(CaseState), states)
        session.execute(insert(Job), jobs_)


def test_two_worker_processes_fire_1000_timers_exactly_once(pg_db):
    began = time.monotonic()
    t0 = datetime.now(UTC)
    deploy(pg_db, t0, "timer_wait.bpmn")
    clone_case(pg_db, start(pg_db, t0, "timer_wait"), copies=999)
    latest_due = max(job.due_at for job in timer_jobs(pg_db))
    time.sleep(max((latest_due - datetime.now(UTC)).total_seconds(), 0) + 0.1)

    command = [
        sys.executable,
        "-m",
        "engine.cli",
        "--database-url",
        pg_db.url,
        "worker",
        "--once",
    ]
    workers = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)
    ]
    for worker in workers:
        _, stderr = worker.communicate(timeout=120)
        assert worker.returncode == 0, stderr.decode()[-2000:]

    events = fired_events(pg_db)
    per_case = Counter(e.case_id for e in events)
    assert len(per_case) == 1000 and set(per_case.values()) == {1}
    assert len({e.actor for e in events}) == 2  # both processes did work
    with pg_db.read() as session:
        followups = session.scalar(
            select(func.count()).select_from(Task).where(Task.element_id == FOLLOWUP)
        )
        statuses = Counter(session.scalars(select(Job.status).where(Job.kind == "timer")))
    assert followups == 1000
    assert statuses == {"done": 1000}
    assert time.monotonic() - began < 60
