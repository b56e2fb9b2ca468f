"""English names of procedures and tasks (the BPMN `name_en` property) through the API: kept
at deploy, returned beside the Chinese ones, refused when empty, and no cost to a completion."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import event

from engine import calendar
from engine.services import deadlines
from engine.worker import run_due_jobs
from tests.conftest import fixture_bytes
from tests.factories import deploy, start, task_by_element

from .conftest import assert_deploy_refused, post_bpmn, upload

FIRE_TASK = "Task_fire_review"
NAME_EN = '<spiffworkflow:property name="name_en" value="Fire protection design review" />'


def _with_fire_task_name_en(value: str) -> bytes:
    return fixture_bytes("web_review.bpmn").replace(
        NAME_EN.encode(), f'<spiffworkflow:property name="name_en" value="{value}" />'.encode()
    )


def _deploy_web_review(analyst) -> dict:
    response = analyst.post("/api/v1/definitions", data=upload("web_review.bpmn"))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _start(enterprise) -> dict:
    body = {"definition_key": "web_review", "project_name": "琶洲测试项目", "data": {}}
    response = enterprise.post("/api/v1/cases", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_deployed_procedure_is_listed_with_its_english_name(analyst, enterprise_a):
    deployed = _deploy_web_review(analyst)
    assert deployed["definitions"] == [
        {
            "key": "web_review",
            "version": 1,
            "name": "并联审查（网页测试）",
            "name_en": "Parallel review (web test)",
        }
    ]
    listed = enterprise_a.get("/api/v1/definitions").get_json()["items"]
    assert [(d["name"], d["name_en"]) for d in listed] == [
        ("并联审查（网页测试）", "Parallel review (web test)")
    ]


def test_a_case_and_its_tasks_carry_english_titles_where_the_bpmn_gives_them(
    analyst, enterprise_a, fire_officer
):
    _deploy_web_review(analyst)
    case = _start(enterprise_a)
    assert case["definition"]["name_en"] == "Parallel review (web test)"
    titles = {t["title"]: t["title_en"] for t in case["open_tasks"]}
    # the civil-defense review has no name_en: no English title, the Chinese one stands
    assert titles == {"消防设计审查": "Fire protection design review", "人防设计审查": None}

    [task] = fire_officer.get(f"/api/v1/tasks?case={case['id']}&department=fire").get_json()[
        "items"
    ]
    assert (task["title"], task["title_en"]) == ("消防设计审查", "Fire protection design review")
    detail = fire_officer.get(f"/api/v1/tasks/{task['id']}").get_json()
    assert detail["title_en"] == "Fire protection design review"
    assert detail["form"]["schema"]["x-title-en"] == (
        "Fire protection design review opinion for special construction works"
    )

    events = enterprise_a.get(f"/api/v1/cases/{case['id']}/timeline").get_json()["items"]
    created = {e["payload"]["title"]: e["payload"] for e in events if e["type"] == "task.created"}
    assert created["消防设计审查"]["title_en"] == "Fire protection design review"
    assert "title_en" not in created["人防设计审查"]


def test_an_empty_english_name_is_refused_at_deploy_naming_the_element(analyst):
    for blank in ("", "   "):
        assert_deploy_refused(analyst, _with_fire_task_name_en(blank), FIRE_TASK, "name_en")


def test_validation_reports_an_empty_english_name_of_the_process_itself(analyst):
    content = fixture_bytes("web_review.bpmn").replace(
        b'value="Parallel review (web test)"', b'value=""'
    )
    response = post_bpmn(analyst, content, "/api/v1/definitions/validate")
    body = response.get_json()
    assert body["valid"] is False
    assert [p["element_id"] for p in body["problems"]] == ["web_review"]
    assert "empty name_en" in body["problems"][0]["message"]


def test_completing_a_task_reads_no_definition_row_for_the_english_name(
    app, analyst, enterprise_a, fire_officer
):
    """The case's definition comes with the case lock (its English name included): a lazy
    read of the new column would cost every completion one more statement."""
    _deploy_web_review(analyst)
    case = _start(enterprise_a)
    [task] = fire_officer.get(f"/api/v1/tasks?case={case['id']}&department=fire").get_json()[
        "items"
    ]
    engine = app.extensions["pazhou"]["db"].engine
    sent: list[str] = []

    def capture(conn, cursor, statement, *args):
        sent.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        response = fire_officer.post(
            f"/api/v1/tasks/{task['id']}/complete",
            json={
                "data": {
                    "result": "pass",
                    "opinion_no": "穗消审字〔2026〕001号",
                    "opinion_date": "2026-03-02",
                }
            },
        )
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["case"]["definition"]["name_en"] == "Parallel review (web test)"
    assert not [s for s in sent if s.startswith("SELECT process_definition")], sent


@pytest.fixture
def fresh_default_calendar():
    calendar.set_default_calendar(None)
    yield
    calendar.set_default_calendar(None)


def test_an_escalation_is_titled_in_english_after_the_task_it_escalates(db, fresh_default_calendar):
    when = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # a Monday; 5 working days -> due 03-09
    deploy(
        db,
        when,
        "sla_pause.bpmn",
        {
            b'<spiffworkflow:property name="sla_working_days" value="5" />': (
                b'<spiffworkflow:property name="sla_working_days" value="5" />'
                b'<spiffworkflow:property name="name_en" value="Construction permit review" />'
            )
        },
    )
    with time_machine.travel(when, tick=False):
        case_id = start(db, when, "sla_pause")
    review = task_by_element(db, case_id, "Task_housing_review")
    breach = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)
    with time_machine.travel(breach, tick=False):
        run_due_jobs(db, breach, 50)
    escalation = task_by_element(db, case_id, f"Escalation_{review.id}")
    assert escalation.title == "超期督办：施工许可审查"
    assert escalation.title_en == "Overdue escalation: Construction permit review"
    assert escalation.department == "leadership"
    assert deadlines.task_payload(escalation)["title_en"] == escalation.title_en


def test_an_element_given_two_english_names_is_refused_at_deploy(analyst):
    """SpiffWorkflow would title the task with the last, the page the analyst reads the first."""
    content = fixture_bytes("web_review.bpmn").replace(
        NAME_EN.encode(),
        NAME_EN.encode() + b'<spiffworkflow:property name="name_en" value="Fire review" />',
    )
    response = post_bpmn(analyst, content, "/api/v1/definitions/validate")
    body = response.get_json()
    assert body["valid"] is False
    assert [p["element_id"] for p in body["problems"]] == [FIRE_TASK]
    assert "name_en given twice" in body["problems"][0]["message"]
