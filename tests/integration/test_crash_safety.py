"""A process killed between flush and commit loses nothing it acknowledged and leaves no half step."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from sqlalchemy import select

from engine import migrate
from engine.db import Database
from engine.models import Case, Event, Task
from engine.services import cases, deployments
from engine.services.actors import SYSTEM, Actor
from tests.conftest import fixture_bytes

CHILD = textwrap.dedent(
    """
    import os, sys
    from datetime import UTC, datetime
    from engine.db import Database
    from engine.services import tasks
    from engine.services.actors import Actor

    url, acked_id, doomed_id = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    db = Database(url)
    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    with db.write() as session:
        tasks.complete(session, Actor("fire.officer", "officer", "fire"), acked_id, {"opinion": "同意"}, now)
    print("ACK", flush=True)
    with db.write() as session:
        tasks.complete(session, Actor("cd.officer", "officer", "civil_defense"), doomed_id, {}, now)
        session.flush()
        os._exit(9)  # dies after the step is flushed, before COMMIT
    """
)


def test_kill_between_flush_and_commit(database_url, now, tmp_path):
    db = Database(database_url)
    migrate.upgrade(db)
    with db.write() as session:
        deployments.deploy_bundle(
            session,
            Actor("a", "analyst"),
            [("p.bpmn", fixture_bytes("parallel_review.bpmn"))],
            now,
            10**7,
        )
        case_id = cases.start_case(session, SYSTEM, "parallel_review", "崩溃测试", {}, now).id
    with db.read() as session:
        rows = {
            t.department: t.id for t in session.scalars(select(Task).where(Task.case_id == case_id))
        }
        events_before = session.get(Case, case_id).event_count

    script = tmp_path / "child.py"
    script.write_text(CHILD)
    result = subprocess.run(
        [sys.executable, str(script), database_url, str(rows["fire"]), str(rows["civil_defense"])],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=str(tmp_path),
        env={"PYTHONPATH": str(__import__("pathlib").Path(__file__).resolve().parents[2])},
    )
    assert result.returncode == 9, result.stderr
    assert "ACK" in result.stdout

    db.dispose()
    db = Database(database_url)
    with db.read() as session:
        fire = session.get(Task, rows["fire"])
        civil = session.get(Task, rows["civil_defense"])
        assert fire.status == "completed" and fire.data == {"opinion": "同意"}
        assert civil.status == "ready"
        case = session.get(Case, case_id)
        events = list(session.scalars(select(Event).where(Event.case_id == case_id)))
        assert len(events) == case.event_count == events_before + 1
        assert cases.verify_audit(session, case_id)[1] is None
    # The case is not stuck: the lost step can be done again.
    from engine.services import tasks

    with db.write() as session:
        tasks.complete(
            session, Actor("cd", "officer", "civil_defense"), rows["civil_defense"], {}, now
        )
    with db.read() as session:
        assert [
            t.department
            for t in session.scalars(
                select(Task).where(Task.case_id == case_id, Task.status == "ready")
            )
        ] == ["enterprise"]
    db.dispose()
