"""Engine core through the service layer, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select, update

from engine import audit
from engine.errors import InvalidDefinition, ScriptError, TaskNotReady
from engine.models import Case, CaseState, Event, Task
from engine.services import cases, deployments, tasks
from engine.services.actors import SYSTEM, Actor
from tests.conftest import fixture_bytes

from .race_helpers import race

ANALYST = Actor("analyst", "analyst")
FIRE = Actor("fire.officer", "officer", "fire")
CIVIL = Actor("civil_defense.officer", "officer", "civil_defense")
MAX = 5 * 1024 * 1024


def deploy(db, now, *names, content=None):
    files = [(name, content if content is not None else fixture_bytes(name)) for name in names]
    with db.write() as session:
        _, definitions = deployments.deploy_bundle(session, ANALYST, files, now, MAX)
        return [(d.key, d.version) for d in definitions]


def start(db, now, key, data=None):
    with db.write() as session:
        return cases.start_case(session, SYSTEM, key, "琶洲测试项目", data or {}, now).id


def open_tasks(db, case_id):
    with db.read() as session:
        return list(
            session.scalars(
                select(Task).where(Task.case_id == case_id, Task.status.in_(("ready", "claimed")))
            )
        )


def test_same_content_keeps_version_and_changed_content_bumps_it(db, now):
    assert deploy(db, now, "parallel_review.bpmn") == [("parallel_review", 1)]
    assert deploy(db, now, "parallel_review.bpmn") == [("parallel_review", 1)]
    running = start(db, now, "parallel_review")
    changed = fixture_bytes("parallel_review.bpmn").replace(
        "消防审查".encode(), "消防设计审查".encode()
    )
    with db.write() as session:
        _, defs = deployments.deploy_bundle(
            session, ANALYST, [("parallel_review.bpmn", changed)], now, MAX
        )
        assert [(d.key, d.version) for d in defs] == [("parallel_review", 2)]
    newer = start(db, now, "parallel_review")
    with db.read() as session:
        assert session.get(Case, running).definition.version == 1
        assert session.get(Case, newer).definition.version == 2
    titles_old = {t.title for t in open_tasks(db, running)}
    titles_new = {t.title for t in open_tasks(db, newer)}
    assert "消防审查" in titles_old and "消防设计审查" in titles_new


def _problems(db, now, files):
    with db.write() as session, pytest.raises(InvalidDefinition) as raised:
        deployments.deploy_bundle(session, ANALYST, files, now, MAX)
    return raised.value.problems


def test_validation_names_file_line_and_element(db, now):
    bad_lane = fixture_bytes("parallel_review.bpmn").replace(b'name="fire"', b'name="firefighters"')
    problems = _problems(db, now, [("bad_lane.bpmn", bad_lane)])
    assert any(
        p["file"] == "bad_lane.bpmn" and p["element_id"] == "Task_fire_review" and p["line"]
        for p in problems
    ), problems

    missing_form = fixture_bytes("parallel_review.bpmn").replace(
        b'<spiffworkflow:property name="sla_working_days" value="7" />',
        b'<spiffworkflow:property name="formKey" value="no_such_form" />',
    )
    problems = _problems(db, now, [("missing_form.bpmn", missing_form)])
    assert [p["element_id"] for p in problems] == ["Task_civil_defense_review"]
    assert "no_such_form" in problems[0]["message"]

    malformed = b'<?xml version="1.0"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">\n<bpmn:process id="x">\n</bpmn:definitions>'
    problems = _problems(db, now, [("broken.bpmn", malformed)])
    assert problems[0]["file"] == "broken.bpmn" and problems[0]["line"] == 4

    schema_error = fixture_bytes("parallel_review.bpmn").replace(
        b"<bpmn:incoming>Flow_6</bpmn:incoming>", b"<bpmn:bogus/>"
    )
    problems = _problems(db, now, [("schema.bpmn", schema_error)])
    assert problems[0]["line"] and problems[0]["element_id"] == "Task_enterprise_confirm", problems


def test_missing_called_process_and_decision_are_reported(db, now):
    caller = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="D" targetNamespace="t">
  <bpmn:process id="caller" isExecutable="true">
    <bpmn:startEvent id="Start"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:callActivity id="Call_missing" calledElement="not_deployed"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:callActivity>
    <bpmn:businessRuleTask id="Rule_missing">
      <bpmn:extensionElements><spiffworkflow:calledDecisionId>no_decision</spiffworkflow:calledDecisionId></bpmn:extensionElements>
      <bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:endEvent id="End"><bpmn:incoming>F3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Call_missing" />
    <bpmn:sequenceFlow id="F2" sourceRef="Call_missing" targetRef="Rule_missing" />
    <bpmn:sequenceFlow id="F3" sourceRef="Rule_missing" targetRef="End" />
  </bpmn:process>
</bpmn:definitions>"""
    problems = _problems(db, now, [("caller.bpmn", caller)])
    by_element = {p["element_id"]: p for p in problems}
    assert by_element["Call_missing"]["line"] == 5
    assert by_element["Rule_missing"]["line"] == 6


@pytest.mark.parametrize(
    "payload",
    [
        b'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"><bpmn:process id="p" name="&xxe;"/></bpmn:definitions>',
        b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>\n'
        b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"><bpmn:process id="p" name="&lol3;"/></bpmn:definitions>',
    ],
    ids=["xxe", "billion-laughs"],
)
def test_hostile_xml_is_rejected_without_reading_files(db, now, payload):
    problems = _problems(db, now, [("hostile.bpmn", payload)])
    assert "DTD" in problems[0]["message"]
    assert "root:" not in repr(problems)
    with db.read() as session:
        assert deployments.list_definitions(session) == []


def test_script_import_is_rejected_at_deploy(db, now):
    hostile = fixture_bytes("rectification_loop.bpmn").replace(
        b"rounds = 0", b"__import__('os').system('id')"
    )
    problems = _problems(db, now, [("hostile.bpmn", hostile)])
    assert problems[0]["element_id"] == "Script_init"


def test_endless_script_fails_cleanly_and_changes_nothing(db, now):
    deploy(db, now, "endless_script.bpmn")
    case_id = start(db, now, "endless_script")
    [task] = open_tasks(db, case_id)
    with db.read() as session:
        before = session.get(Case, case_id).lock_version
    with db.write() as session, pytest.raises(ScriptError) as raised:
        tasks.complete(session, Actor("h", "officer", "housing"), task.id, {}, now)
    assert "Script_spin" in raised.value.detail
    with db.read() as session:
        assert session.get(Case, case_id).lock_version == before
        assert session.get(Task, task.id).status == "ready"


def test_parallel_split_gives_one_inbox_row_per_branch(db, now):
    deploy(db, now, "parallel_review.bpmn")
    case_id = start(db, now, "parallel_review")
    rows = open_tasks(db, case_id)
    assert sorted((t.element_id, t.department) for t in rows) == [
        ("Task_civil_defense_review", "civil_defense"),
        ("Task_fire_review", "fire"),
    ]
    fire_task = next(t for t in rows if t.department == "fire")
    assert fire_task.legal_basis.startswith("《建设工程消防设计审查验收管理暂行规定》")
    assert fire_task.due_at > now
    with db.read() as session:
        inbox, _ = tasks.list_tasks(session, FIRE)
        assert [t.id for t in inbox] == [fire_task.id]
        assert session.get(Case, case_id).stage == "permit_p1"


def test_multi_instance_fans_out_over_departments(db, now):
    deploy(db, now, "multi_department.bpmn")
    case_id = start(
        db,
        now,
        "multi_department",
        {
            "required_departments": [
                {"department": "fire"},
                {"department": "planning"},
                {"department": "archives"},
            ]
        },
    )
    assert sorted(t.department for t in open_tasks(db, case_id)) == ["archives", "fire", "planning"]


def test_walk_to_the_end_with_stages_and_an_intact_audit_chain(db, now):
    deploy(db, now, "parallel_review.bpmn")
    case_id = start(db, now, "parallel_review")
    for actor in (FIRE, CIVIL):
        task = next(t for t in open_tasks(db, case_id) if t.department == actor.department)
        with db.write() as session:
            tasks.complete(session, actor, task.id, {"opinion": "同意"}, now)
    [confirm] = open_tasks(db, case_id)
    assert confirm.department == "enterprise"
    with db.write() as session:
        case = tasks.complete(session, SYSTEM, confirm.id, {}, now)
        assert (case.status, case.stage) == ("completed", "completed")
    with db.read() as session:
        count, broken = cases.verify_audit(session, case_id)
        assert broken is None and count >= 8
        types = [e.type for e in cases.timeline(session, SYSTEM, case_id)]
        assert types[0] == "case.started" and types[-1] == "case.completed"


def test_tampered_audit_row_is_detected(db, now):
    deploy(db, now, "parallel_review.bpmn")
    case_id = start(db, now, "parallel_review")
    with db.write() as session:
        event = session.scalars(select(Event).where(Event.case_id == case_id, Event.seq == 2)).one()
        session.execute(update(Event).where(Event.id == event.id).values(actor="mallory"))
    with db.read() as session:
        _, broken = cases.verify_audit(session, case_id)
    assert broken == 2


def test_completing_a_completed_task_is_not_ready(db, now):
    deploy(db, now, "parallel_review.bpmn")
    case_id = start(db, now, "parallel_review")
    task = next(t for t in open_tasks(db, case_id) if t.department == "fire")
    with db.write() as session:
        tasks.complete(session, FIRE, task.id, {}, now)
    with db.write() as session, pytest.raises(TaskNotReady):
        tasks.complete(session, FIRE, task.id, {}, now)


def test_two_threads_completing_the_same_task_exactly_one_wins(db, now):
    deploy(db, now, "parallel_review.bpmn")
    case_id = start(db, now, "parallel_review")
    task = next(t for t in open_tasks(db, case_id) if t.department == "fire")
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def attempt(name):
        barrier.wait()
        try:
            with db.write() as session:
                tasks.complete(session, Actor(name, "officer", "fire"), task.id, {"by": name}, now)
            outcomes.append("ok")
        except TaskNotReady:
            outcomes.append("not-ready")

    threads = [threading.Thread(target=attempt, args=(f"officer{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["not-ready", "ok"]
    with db.read() as session:
        completed = session.scalars(select(Task).where(Task.id == task.id)).one()
        assert completed.status == "completed"
        events = [e for e in cases.timeline(session, SYSTEM, case_id) if e.type == "task.completed"]
        assert len(events) == 1
        assert cases.verify_audit(session, case_id)[1] is None
    remaining = open_tasks(db, case_id)
    assert [t.department for t in remaining] == ["civil_defense"]


def test_looping_case_state_does_not_grow_with_rounds(db, now):
    deploy(db, now, "rectification_loop.bpmn")
    case_id = start(db, now, "rectification_loop")
    sizes = []
    for round_number in range(60):
        [task] = open_tasks(db, case_id)
        with db.write() as session:
            tasks.complete(session, SYSTEM, task.id, {"passed": False}, now)
        if round_number in (1, 59):
            with db.read() as session:
                sizes.append(len(session.get(CaseState, case_id).state))
    assert sizes[1] <= sizes[0] * 1.2
    [task] = open_tasks(db, case_id)
    with db.write() as session:
        case = tasks.complete(session, SYSTEM, task.id, {"passed": True}, now)
        assert case.status == "completed"
    with db.read() as session:
        assert cases.case_data(session, case)["rounds"] == 61


@contextmanager
def sent_statements(db):
    """The (statement, parameters) the database receives inside the block."""
    sent: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, *args):
        sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)


def query_plan(db, statement: str, parameters) -> str:
    """The plan of a statement as it was sent (PostgreSQL: sequential scans ruled out, so the
    plan shows which index the query can use even on a tiny table)."""
    with db.engine.connect() as conn:
        if db.is_sqlite:
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            return " ".join(str(r) for r in rows)
        conn.exec_driver_sql("SET enable_seqscan = off")
        return " ".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters))


def test_inbox_query_reads_the_open_index_in_order_and_never_reads_workflow_state(db, now):
    deploy(db, now, "parallel_review.bpmn")
    start(db, now, "parallel_review")
    with sent_statements(db) as statements, db.read() as session:
        rows, _ = tasks.list_tasks(session, FIRE)
    assert [t.department for t in rows] == ["fire"]
    assert statements and not any("case_state" in s for s, _ in statements)

    # The plan of the very statement the inbox ran: the partial index, read in order (no sort).
    plan = query_plan(db, *next(s for s in statements if "FROM task" in s[0]))
    assert "ix_task_open_due" in plan, plan
    sorting = "TEMP B-TREE" if db.is_sqlite else "Sort"
    assert sorting not in plan, plan


def test_looping_call_activity_drops_finished_subprocesses(db, now):
    deploy(db, now, "call_loop.bpmn")
    case_id = start(db, now, "call_loop")
    sizes = []
    for round_number in range(30):
        [task] = open_tasks(db, case_id)
        assert task.department == "quality_safety" and task.process_key == "child_review"
        with db.write() as session:
            tasks.complete(session, SYSTEM, task.id, {"passed": False}, now)
        if round_number in (1, 29):
            with db.read() as session:
                sizes.append(len(session.get(CaseState, case_id).state))
    assert sizes[1] <= sizes[0] * 1.2
    [task] = open_tasks(db, case_id)
    with db.write() as session:
        assert tasks.complete(session, SYSTEM, task.id, {"passed": True}, now).status == "completed"


class _Refused(Exception):
    pass


def test_a_start_rolled_back_in_a_savepoint_leaves_nothing_behind_for_the_next(db, now):
    """The demo seeds with savepoints: a refused start must not haunt the next case, whose
    rows may reuse its ids (SQLite does), neither its task rows nor its workflow state."""
    deploy(db, now, "parallel_review.bpmn", "rectification_loop.bpmn")
    with db.write() as session:
        with pytest.raises(_Refused), session.begin_nested():
            cases.start_case(session, SYSTEM, "parallel_review", "撤回", {}, now)
            raise _Refused
        case = cases.start_case(session, SYSTEM, "rectification_loop", "琶洲测试项目", {}, now)
        shown = [(t.id, t.title, t.element_id) for t in case.open_tasks]
        case_id = case.id
    stored = [(t.id, t.title, t.element_id) for t in open_tasks(db, case_id)]
    assert shown == stored and len(stored) == 1
    with db.write() as session:
        after = tasks.complete(session, SYSTEM, stored[0][0], {"passed": True}, now)
        assert after.status == "completed"


def test_steps_work_without_insert_returning(db, now, monkeypatch):
    """SQLite before 3.35 (still shipped by some distributions) has no RETURNING: its dialect
    says so, and the database refuses any statement that uses it."""
    deploy(db, now, "parallel_review.bpmn")
    monkeypatch.setattr(db.engine.dialect, "insert_returning", False)

    def refuse_returning(conn, cursor, statement, params, context, executemany):
        if "RETURNING" in statement.upper():
            raise RuntimeError(f"near RETURNING: syntax error: {statement[:60]}")

    event.listen(db.engine, "before_cursor_execute", refuse_returning)
    try:
        case_id = start(db, now, "parallel_review")
    finally:
        event.remove(db.engine, "before_cursor_execute", refuse_returning)
    assert {t.department for t in open_tasks(db, case_id)} == {"fire", "civil_defense"}
    with db.read() as session:
        events = [e.type for e in session.scalars(select(Event).where(Event.case_id == case_id))]
    assert events.count("task.created") == 2


def test_a_completion_rolled_back_in_a_savepoint_leaves_the_case_as_it_was(db, now):
    """The demo completes tasks in savepoints and goes on in the same transaction after one
    fails: the case, its task and its workflow state must be what the database holds."""
    deploy(db, now, "rectification_loop.bpmn")
    case_id = start(db, now, "rectification_loop")
    [task] = open_tasks(db, case_id)
    with db.write() as session:
        with pytest.raises(_Refused), session.begin_nested():
            tasks.complete(session, SYSTEM, task.id, {"passed": False, "note": "撤回"}, now)
            raise _Refused
        case = tasks.complete(session, SYSTEM, task.id, {"passed": True}, now)
        assert case.status == "completed"
    with db.read() as session:
        case = session.get(Case, case_id)
        events = session.scalars(
            select(Event).where(Event.case_id == case_id).order_by(Event.seq)
        ).all()
        assert [e.type for e in events].count("task.completed") == 1
        assert case.event_count == len(events)
        assert "note" not in session.get(CaseState, case_id).data
        assert audit.first_broken(events) is None


def test_the_migrations_build_the_schema_the_models_declare(db):
    """A model change without its migration (or the reverse) would ship a database the code
    does not expect: an index the queries rely on, missing in production."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from engine.models import Base

    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_the_english_legal_basis_migrates_down_and_up_again(db, now):
    """0007 adds task.legal_basis_en to a database holding tasks, and takes it away again."""
    from alembic import command
    from sqlalchemy import inspect

    from engine.migrate import alembic_config

    deploy(db, now, "web_review.bpmn")
    case_id = start(db, now, "web_review")

    def migrate_to(revision: str, down: bool = False) -> set[str]:
        config = alembic_config(db.url)
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            (command.downgrade if down else command.upgrade)(config, revision)
        db.engine.dispose()  # the pool's connections may know the old columns
        return {column["name"] for column in inspect(db.engine).get_columns("task")}

    def fire_task() -> Task:
        with db.read() as session:
            return session.scalars(
                select(Task).where(Task.case_id == case_id, Task.element_id == "Task_fire_review")
            ).one()

    assert fire_task().legal_basis_en.startswith("Interim Provisions")
    assert "legal_basis_en" not in migrate_to("0006", down=True)
    assert "legal_basis_en" in migrate_to("head")
    fire = fire_task()
    assert fire.legal_basis_en is None  # the English went with the column: pages show Chinese
    assert fire.legal_basis.startswith("《建设工程消防设计审查验收管理暂行规定》")


def test_a_step_reads_the_jobs_of_its_own_case_through_their_index(db, now):
    """Not the live jobs of every case: with thousands of open tasks each holding SLA jobs,
    every step would search them all."""
    deploy(db, now, "parallel_review.bpmn")
    case_id = start(db, now, "parallel_review")
    task = open_tasks(db, case_id)[0]
    with sent_statements(db) as statements, db.write() as session:
        tasks.complete(session, SYSTEM, task.id, {"opinion": "同意"}, now)
    plan = query_plan(db, *next(s for s in statements if s[0].lstrip().startswith("SELECT job.")))
    assert "ix_job_case" in plan and "ix_job_due" not in plan, plan


@pytest.mark.parametrize("change", ["unclaim", "assign"])
def test_releasing_or_reassigning_a_task_being_completed_does_not_reopen_it(db, now, change):
    """Officer A completes a task she claimed; a colleague releases it (or the section chief
    reassigns it) at the same moment. The completion stands; the other change is refused."""
    deploy(db, now, "parallel_review.bpmn")
    case_id = start(db, now, "parallel_review")
    task = next(t for t in open_tasks(db, case_id) if t.department == "fire")
    colleague = Actor("fire.colleague", "officer", "fire")
    with db.write() as session:
        from engine.services import users

        users.seed_departments(session)
        users.create_user(session, colleague.username, "password-1234", "officer", "fire", now=now)
        tasks.claim(session, FIRE, task.id)

    def other_officer(session):
        if change == "unclaim":
            return tasks.unclaim(session, SYSTEM, task.id)
        return tasks.assign(session, SYSTEM, task.id, colleague.username)

    outcome = race(db, lambda s: tasks.complete(s, FIRE, task.id, {}, now), other_officer)
    assert isinstance(outcome, TaskNotReady), outcome
    with db.read() as session:
        row = session.get(Task, task.id)
        assert (row.status, row.completed_by) == ("completed", FIRE.username)


def test_a_session_rolled_back_and_used_again_starts_cleanly(db, now):
    """Task rows a step inserts leave the session with a rollback, as the rows leave the
    database: the next start (reusing the ids on SQLite) sees neither."""
    deploy(db, now, "parallel_review.bpmn")
    with db.write() as session:
        abandoned = cases.start_case(session, SYSTEM, "parallel_review", "撤回", {}, now)
        abandoned_tasks = list(abandoned.open_tasks)
        session.rollback()
        assert not any(task in session for task in abandoned_tasks)
        case = cases.start_case(session, SYSTEM, "parallel_review", "琶洲测试项目", {}, now)
        shown = sorted((t.id, t.department) for t in case.open_tasks)
        case_id = case.id
    stored = sorted((t.id, t.department) for t in open_tasks(db, case_id))
    assert shown == stored and sorted(d for _, d in stored) == ["civil_defense", "fire"]


def test_a_direct_write_to_a_row_gone_from_the_database_fails_loudly(db, now):
    """As the unit of work would: a step must never believe it wrote a row that is not there."""
    from sqlalchemy.orm.exc import StaleDataError

    from engine.row_writes import update_columns

    deploy(db, now, "parallel_review.bpmn")
    case_id = start(db, now, "parallel_review")
    task_id = open_tasks(db, case_id)[0].id
    with db.write() as session:
        task = session.get(Task, task_id)
        # behind the session's back, as another connection would
        session.execute(Task.__table__.delete().where(Task.__table__.c.id == task_id))
        with pytest.raises(StaleDataError):
            update_columns(session, task, status="completed")
        session.rollback()


def test_a_completion_leaves_nothing_for_commit_to_write(db, now):
    """The step writes its rows itself (engine/row_writes.py); had the unit of work still to
    flush them at COMMIT, every completion would pay for it twice."""
    deploy(db, now, "rectification_loop.bpmn")
    case_id = start(db, now, "rectification_loop")
    [task] = open_tasks(db, case_id)
    with db.write() as session:
        case = tasks.complete(session, SYSTEM, task.id, {"passed": False}, now)
        assert not session.dirty and not session.new, (session.dirty, session.new)
        assert [t.title for t in case.open_tasks]
    [next_task] = open_tasks(db, case_id)
    assert next_task.id != task.id
