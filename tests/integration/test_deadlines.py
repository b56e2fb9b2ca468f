"""Working-day deadlines, provisional years, SLA warning/breach and the enterprise pause.

The clock is frozen with time-machine; services get ``now`` from it like from any clock.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import select

from engine import calendar, sla
from engine.errors import Forbidden, InvalidInput
from engine.models import CalendarDay, CalendarYear, Case, Event, Job, Task, WebhookDelivery
from engine.services import calendar_admin, cases, deadlines, subscriptions, tasks
from engine.services.actors import SYSTEM, Actor
from engine.worker import run_due_jobs
from tests.factories import complete, deploy, officer, start, task_by_element

from .race_helpers import race

REVIEW = "Task_housing_review"
REQUEST = "Task_housing_request_supplement"
SUPPLEMENT = "Task_enterprise_supplement"
LEADER = Actor("leader", "officer", "leadership")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fresh_default_calendar():
    calendar.set_default_calendar(None)
    yield
    calendar.set_default_calendar(None)


def deploy_review(db, days: int = 5):
    deploy(
        db,
        at(2026, 1, 5),
        "sla_pause.bpmn",
        {b'name="sla_working_days" value="5"': f'name="sla_working_days" value="{days}"'.encode()},
    )


def start_frozen(db, when: datetime) -> int:
    with time_machine.travel(when, tick=False):
        return start(db, datetime.now(UTC), "sla_pause")


def events(db, case_id: int, type_: str) -> list[Event]:
    with db.read() as session:
        return list(
            session.scalars(
                select(Event)
                .where(Event.case_id == case_id, Event.type == type_)
                .order_by(Event.seq)
            )
        )


def work_at(db, when: datetime) -> int:
    with time_machine.travel(when, tick=False):
        return run_due_jobs(db, datetime.now(UTC), 50)


def status_at(db, task_id: int, when: datetime) -> str | None:
    with db.read() as session:
        return sla.sla_status(session.get(Task, task_id), when)


YEAR_2027 = json.dumps(
    {
        "year": 2027,
        "holidays": ["2027-01-01", "2027-01-02", "2027-01-03"],
        "workdays": [],
        "source": "测试用 2027 年安排",
    }
)


def test_one_working_day_after_national_day_eve_is_october_8(db):
    deploy_review(db, days=1)
    case_id = start_frozen(db, at(2026, 9, 30, 2, 0))
    review = task_by_element(db, case_id, REVIEW)
    assert review.due_at == at(2026, 10, 8, 2, 0)
    assert review.due_provisional is False


def test_adjusted_saturday_october_10_is_a_working_day(db):
    deploy_review(db, days=1)
    friday = start_frozen(db, at(2026, 10, 9, 2, 0))
    saturday = start_frozen(db, at(2026, 10, 10, 2, 0))
    assert task_by_element(db, friday, REVIEW).due_at == at(2026, 10, 10, 2, 0)
    assert task_by_element(db, saturday, REVIEW).due_at == at(2026, 10, 12, 2, 0)


def test_2027_deadline_is_provisional_until_2027_is_imported(db):
    deploy_review(db, days=5)
    case_id = start_frozen(db, at(2026, 12, 28, 2, 0))
    review = task_by_element(db, case_id, REVIEW)
    # Mon-Fri assumed in 2027: Dec 29, 30, 31, Jan 1, Jan 4.
    assert (review.due_at, review.due_provisional) == (at(2027, 1, 4, 2, 0), True)

    with db.write() as session, pytest.raises(Forbidden):
        calendar_admin.import_year(session, officer("housing"), YEAR_2027, at(2026, 12, 29))
    with db.write() as session, pytest.raises(InvalidInput):
        calendar_admin.import_year(session, SYSTEM, '{"year": 2027, "bogus": 1}', at(2026, 12, 29))

    with db.write() as session:
        result = calendar_admin.import_year(session, SYSTEM, YEAR_2027, at(2026, 12, 29))
    assert result.recomputed_tasks == [
        {
            "task_id": review.id,
            "previous_due_at": at(2027, 1, 4, 2, 0),
            "due_at": at(2027, 1, 5, 2, 0),
        }
    ]
    review = task_by_element(db, case_id, REVIEW)
    assert (review.due_at, review.due_provisional) == (at(2027, 1, 5, 2, 0), False)
    assert [e.payload["task_id"] for e in events(db, case_id, "task.due_recomputed")] == [review.id]
    with db.read() as session:
        breach = session.scalars(
            select(Job).where(Job.kind == "sla_breach", Job.ref == str(review.id))
        ).one()
        assert breach.due_at == at(2027, 1, 5, 2, 0)
        assert calendar_admin.load_calendar(session).is_known_year(2027)
    # The process-wide calendar follows the committed import: new tasks are not provisional.
    assert calendar.get_default_calendar().is_known_year(2027)
    later = start_frozen(db, at(2026, 12, 28, 2, 0))
    assert task_by_element(db, later, REVIEW).due_provisional is False


def test_a_calendar_imported_by_another_process_is_used_for_new_due_dates(db):
    """Several gunicorn workers and the job worker each hold the calendar in memory; an import
    commits in one of them. The others must not compute a single legal deadline without it,
    not even a moment later: nothing would ever correct that due date."""
    deploy_review(db, days=5)
    with db.read() as session:  # this process has loaded its calendar
        calendar_admin.refresh_default_calendar(session)
    assert not calendar.get_default_calendar().is_known_year(2027)
    # Another process imports 2027: its rows appear in the database, this process is not told.
    with db.write() as session:
        session.add(CalendarYear(year=2027, source="另一进程导入", imported_at=at(2026, 12, 29)))
        session.add_all(CalendarDay(day=date(2027, 1, day), is_workday=False) for day in (1, 2, 3))
    case_id = start_frozen(db, at(2026, 12, 28, 2, 0))
    review = task_by_element(db, case_id, REVIEW)
    # Dec 29, 30, 31, then Jan 4 and 5 (Jan 1-3 are the imported holidays), not provisional.
    assert (review.due_at, review.due_provisional) == (at(2027, 1, 5, 2, 0), False)


def test_a_timer_counts_working_days_on_a_year_another_process_imported(db):
    """Timer expressions call add_working_days while the engine runs, before the step's
    due dates are computed: the calendar must be current by then too."""
    deploy(
        db,
        at(2026, 12, 1),
        "timer_wait.bpmn",
        {
            b'<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"PT1S"</bpmn:timeDuration>': (
                b'<bpmn:timeDate xsi:type="bpmn:tFormalExpression">'
                b"add_working_days(date(2026, 12, 31), 2).isoformat() + 'T10:00:00+08:00'"
                b"</bpmn:timeDate>"
            )
        },
    )
    with db.read() as session:  # this process has loaded its calendar, without 2027
        calendar_admin.refresh_default_calendar(session)
    with db.write() as session:  # another process imports 2027
        session.add(CalendarYear(year=2027, source="另一进程导入", imported_at=at(2026, 12, 29)))
        session.add_all(CalendarDay(day=date(2027, 1, day), is_workday=False) for day in (1, 2, 3))
    case_id = start(db, at(2026, 12, 30), "timer_wait")
    with db.read() as session:
        timer = session.scalars(select(Job).where(Job.case_id == case_id)).one()
    # Jan 1 is a holiday now: Dec 31 + 2 working days is Jan 5 (Jan 4 on a Mon-Fri guess).
    assert timer.due_at == at(2027, 1, 5, 2, 0)


def test_an_import_is_not_undone_by_a_reload_running_in_another_thread(db, monkeypatch):
    """The embedded job worker reloads the calendar in its own thread; if it read the database
    just before a request thread's import committed, it must not install the older calendar
    after the import's."""
    deploy_review(db, days=5)
    real_load = calendar_admin.load_calendar
    read_old, go_on = threading.Event(), threading.Event()

    def slow_load(session):
        cal = real_load(session)
        if threading.current_thread().name == "job-worker":
            read_old.set()
            go_on.wait(10)
        return cal

    monkeypatch.setattr(calendar_admin, "load_calendar", slow_load)

    def reload():
        with db.read() as session:
            calendar_admin.refresh_default_calendar(session)

    def import_2027():
        with db.write() as session:
            calendar_admin.import_year(session, SYSTEM, YEAR_2027, at(2026, 12, 29))

    worker = threading.Thread(target=reload, name="job-worker")
    worker.start()
    assert read_old.wait(10)
    importer = threading.Thread(target=import_2027)
    importer.start()
    time.sleep(0.3)  # the import commits while the worker still holds the old calendar
    go_on.set()
    worker.join(10)
    importer.join(10)
    assert calendar.get_default_calendar().is_known_year(2027)


def import_2027_during(db, when: datetime, step):
    """``step`` runs while an import of 2027 is in progress, then the import commits."""
    with db.read() as session:  # the calendar this process loaded knows no 2027
        calendar_admin.refresh_default_calendar(session)
    with time_machine.travel(when, tick=False):
        result = race(
            db, lambda session: calendar_admin.import_year(session, SYSTEM, YEAR_2027, when), step
        )
    assert not isinstance(result, Exception), repr(result)
    return result


def test_a_case_started_during_an_import_gets_its_due_date_from_the_imported_year(db):
    """The import recomputes the provisional due dates it can see; one a concurrent step
    computed on the older calendar and committed after it would stay wrong for good."""
    deploy_review(db, days=5)
    when = at(2026, 12, 28, 2, 0)
    case_id = import_2027_during(
        db,
        when,
        lambda session: cases.start_case(session, SYSTEM, "sla_pause", "琶洲", {}, when).id,
    )
    review = task_by_element(db, case_id, REVIEW)
    assert (review.due_at, review.due_provisional) == (at(2027, 1, 5, 2, 0), False)


def test_a_clock_resumed_during_an_import_counts_on_the_imported_year(db):
    deploy_review(db, days=5)
    case_id = start_frozen(db, at(2026, 12, 1, 2, 0))  # due Dec 8, nothing provisional
    complete(
        db, task_by_element(db, case_id, REQUEST).id, at(2026, 12, 2, 2, 0), officer("housing")
    )
    supplement = task_by_element(db, case_id, SUPPLEMENT)
    when = at(2026, 12, 28, 2, 0)
    import_2027_during(
        db, when, lambda session: tasks.complete(session, SYSTEM, supplement.id, {}, when)
    )
    review = task_by_element(db, case_id, REVIEW)
    assert (review.due_at, review.due_provisional) == (at(2027, 1, 4, 2, 0), False)


def test_warning_then_breach_escalates_to_leadership_without_deciding(db):
    deploy_review(db, days=5)
    with db.write() as session:
        subscriptions.create_subscription(
            session, SYSTEM, "http://127.0.0.1:9/hook", ["task.sla_breached"], at(2026, 3, 1)
        )
    case_id = start_frozen(db, at(2026, 3, 2, 1, 0))  # Mon; due Mon 03-09, warning Fri 03-06
    review = task_by_element(db, case_id, REVIEW)
    assert review.due_at == at(2026, 3, 9, 1, 0)
    assert status_at(db, review.id, at(2026, 3, 5, 12, 0)) == sla.ON_TIME

    work_at(db, at(2026, 3, 5, 12, 0))
    assert events(db, case_id, "task.sla_warning") == []
    work_at(db, at(2026, 3, 6, 1, 0))
    assert [e.payload["task_id"] for e in events(db, case_id, "task.sla_warning")] == [review.id]
    assert status_at(db, review.id, at(2026, 3, 6, 1, 0)) == sla.WARNING
    assert events(db, case_id, "task.sla_breached") == []

    work_at(db, at(2026, 3, 9, 1, 0))
    assert status_at(db, review.id, at(2026, 3, 9, 1, 0)) == sla.BREACHED
    (breached,) = events(db, case_id, "task.sla_breached")
    escalation = task_by_element(db, case_id, f"Escalation_{review.id}")
    assert breached.payload["escalation_task_id"] == escalation.id
    assert (escalation.department, escalation.status) == ("leadership", "ready")
    with db.read() as session:
        outbox = session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.case_id == case_id)
        ).all()
        assert [(d.event_type, d.payload["task_id"]) for d in outbox] == [
            ("task.sla_breached", review.id)
        ]
    # Never decided by timeout: the review is still waiting for its officer.
    assert task_by_element(db, case_id, REVIEW).status == "ready"
    work_at(db, at(2026, 3, 20))  # each job fires once
    assert len(events(db, case_id, "task.sla_warning")) == 1
    assert len(events(db, case_id, "task.sla_breached")) == 1

    # Later steps of the workflow leave the escalation alone; leadership closes it.
    complete(db, task_by_element(db, case_id, REQUEST).id, at(2026, 3, 10), officer("housing"))
    assert task_by_element(db, case_id, f"Escalation_{review.id}").status == "ready"
    with db.write() as session, pytest.raises(Forbidden):
        deadlines.complete_escalation(
            session, officer("housing"), escalation.id, {}, at(2026, 3, 10)
        )
    with db.write() as session:
        deadlines.complete_escalation(
            session, LEADER, escalation.id, {"comment": "已督办"}, at(2026, 3, 10)
        )
    closed = task_by_element(db, case_id, f"Escalation_{review.id}")
    assert (closed.status, closed.completed_by) == ("completed", "leader")


def test_enterprise_wait_pauses_the_officer_clock_and_resume_shifts_the_due_date(db):
    deploy_review(db, days=5)
    case_id = start_frozen(db, at(2026, 3, 2, 1, 0))
    review = task_by_element(db, case_id, REVIEW)
    assert review.due_at == at(2026, 3, 9, 1, 0)

    # Tue: the officer asks for a supplement; the enterprise now has an open task.
    complete(db, task_by_element(db, case_id, REQUEST).id, at(2026, 3, 3, 1, 0), officer("housing"))
    review = task_by_element(db, case_id, REVIEW)
    assert review.paused_since == at(2026, 3, 3, 1, 0)
    with db.read() as session:
        assert {
            j.status for j in session.scalars(select(Job).where(Job.ref == str(review.id)))
        } == {"paused"}
    # The original due date passes while paused: nothing fires, the status is frozen.
    assert work_at(db, at(2026, 3, 10, 1, 0)) == 0
    assert events(db, case_id, "task.sla_breached") == []
    assert status_at(db, review.id, at(2026, 3, 10, 1, 0)) == sla.ON_TIME

    # Thu 03-12 the enterprise supplements: 7 working days (03-04 .. 03-12) are given back.
    supplement = task_by_element(db, case_id, SUPPLEMENT)
    complete(db, supplement.id, at(2026, 3, 12, 1, 0))
    review = task_by_element(db, case_id, REVIEW)
    assert review.paused_since is None
    assert review.paused_seconds == 9 * 24 * 3600
    assert review.due_at == at(2026, 3, 18, 1, 0)
    with db.read() as session:  # what the enterprise tracker shows as "until when"
        assert session.get(Case, case_id).due_at == at(2026, 3, 18, 1, 0)
    assert [e.payload["paused_working_days"] for e in events(db, case_id, "task.sla_resumed")] == [
        7
    ]
    with db.read() as session:
        jobs = {j.kind: j for j in session.scalars(select(Job).where(Job.ref == str(review.id)))}
    assert (jobs["sla_breach"].status, jobs["sla_breach"].due_at) == (
        "pending",
        at(2026, 3, 18, 1, 0),
    )
    assert (jobs["sla_warning"].status, jobs["sla_warning"].due_at) == (
        "pending",
        at(2026, 3, 17, 1, 0),
    )
    work_at(db, at(2026, 3, 18, 1, 0))
    assert len(events(db, case_id, "task.sla_breached")) == 1


def test_completing_the_task_retires_its_sla_jobs(db):
    deploy_review(db, days=5)
    case_id = start_frozen(db, at(2026, 3, 2, 1, 0))
    review = task_by_element(db, case_id, REVIEW)
    complete(db, review.id, at(2026, 3, 4, 1, 0), officer("housing"))
    with db.read() as session:
        assert {
            j.status for j in session.scalars(select(Job).where(Job.ref == str(review.id)))
        } == {"done"}
        assert sla.sla_status(session.get(Task, review.id), at(2026, 4, 1)) == sla.ON_TIME
    assert work_at(db, at(2026, 4, 1)) == 0


def test_sla_status_thresholds_are_working_days():
    cal = calendar.from_chinese_calendar()
    due = at(2026, 10, 9, 1, 0)  # 15 working days; the warning is on day 12 = 3 days earlier

    def state(now, **kw):
        return sla.sla_state(limit_days=15, due_at=due, now=now, calendar=cal, **kw).status

    assert sla.warning_at(due, 15, cal) == at(2026, 9, 29, 1, 0)  # Oct 1-7 are holidays
    assert state(at(2026, 9, 29, 0, 59)) == sla.ON_TIME
    assert state(at(2026, 9, 29, 1, 0)) == sla.WARNING
    assert state(at(2026, 10, 9, 1, 0)) == sla.BREACHED
    assert state(at(2026, 10, 20), paused_since=at(2026, 9, 1)) == sla.ON_TIME
    assert state(at(2026, 10, 20), completed_at=at(2026, 9, 30)) == sla.WARNING
    assert sla.sla_state(limit_days=None, due_at=None, now=due) is None


def test_a_case_that_ends_closes_its_escalation_and_shows_no_open_task(db):
    deploy_review(db, days=5)
    case_id = start_frozen(db, at(2026, 3, 2, 1, 0))
    review = task_by_element(db, case_id, REVIEW)
    work_at(db, at(2026, 3, 9, 1, 0))  # breach: leadership gets an escalation task
    escalation = task_by_element(db, case_id, f"Escalation_{review.id}")
    assert escalation.status == "ready"

    complete(db, task_by_element(db, case_id, REQUEST).id, at(2026, 3, 10), officer("housing"))
    complete(db, task_by_element(db, case_id, SUPPLEMENT).id, at(2026, 3, 11))
    with db.write() as session:  # the last step, and the case as its response shows it
        case = tasks.complete(session, officer("housing"), review.id, {}, at(2026, 3, 12))
        shown = (case.status, [t.id for t in case.open_tasks], case.due_at)
    assert shown == ("completed", [], None)
    assert task_by_element(db, case_id, f"Escalation_{review.id}").status == "cancelled"
