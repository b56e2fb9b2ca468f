"""The English legal basis of a task (the BPMN `legal_basis_en` property): shown on English
pages with the Chinese one as fallback, returned by the API beside `legal_basis`, refused at
deploy when empty, and no cost to a completion."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import event

from engine import calendar
from engine.models import Case
from engine.worker import run_due_jobs
from tests.conftest import fixture_bytes
from tests.factories import deploy, start, task_by_element

from .conftest import assert_deploy_refused, post_bpmn, upload

FIRE_TASK = "Task_fire_review"
CIVIL_DEFENSE_TASK = "Task_civil_defense_review"
FIRE_ZH = "《建设工程消防设计审查验收管理暂行规定》第十五条"
FIRE_EN = (
    "Interim Provisions on the Administration of Fire Protection Design Review and Acceptance "
    "of Construction Projects, Art. 15"
)
# web_review's civil-defense review has a legal basis but no English one
CIVIL_DEFENSE_ZH = "《广东省人民防空工程建设管理规定》"
LEGAL_BASIS_EN = f'<spiffworkflow:property name="legal_basis_en" value="{FIRE_EN}" />'


def _with_fire_legal_basis_en(value: str) -> bytes:
    content = fixture_bytes("web_review.bpmn")
    assert LEGAL_BASIS_EN.encode() in content
    return content.replace(
        LEGAL_BASIS_EN.encode(),
        f'<spiffworkflow:property name="legal_basis_en" value="{value}" />'.encode(),
    )


def _property(value: str) -> bytes:
    return f'<spiffworkflow:property name="legal_basis_en" value="{value}" />'.encode()


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def _holders(page: str) -> str:
    return re.search(r'data-testid="holders">(.*?)</table>', page, re.S).group(1)


def _web_review_case(db, factory) -> tuple[int, str]:
    deploy(db, factory.now, "web_review.bpmn")
    case_id = start(db, factory.now, "web_review")
    with db.read() as session:
        return case_id, session.get(Case, case_id).case_number


def test_english_pages_show_the_english_legal_basis_and_chinese_pages_the_chinese(app, db, factory):
    case_id, number = _web_review_case(db, factory)
    task_id = task_by_element(db, case_id, FIRE_TASK).id
    client, _ = factory.web_login(factory.user("officer", "fire"))

    inbox = _page(client, "/inbox?lang=en")
    assert f'title="{FIRE_EN}"' in inbox and FIRE_ZH not in inbox
    page = _page(client, f"/tasks/{task_id}?lang=en")
    assert f'Legal basis: <span data-testid="legal-basis">{FIRE_EN}</span>' in page
    assert FIRE_ZH not in page
    holders = _holders(_page(client, f"/cases/{number}?lang=en"))
    assert f'data-testid="holder-legal-basis">{FIRE_EN} <small>' in holders
    assert f'title="{FIRE_EN}"' in holders  # the deadline badge's tooltip
    assert FIRE_ZH not in holders

    inbox = _page(client, "/inbox?lang=zh")
    assert f'title="{FIRE_ZH}"' in inbox and FIRE_EN not in inbox
    page = _page(client, f"/tasks/{task_id}?lang=zh")
    assert f'法律依据: <span data-testid="legal-basis">{FIRE_ZH}</span>' in page
    assert FIRE_EN not in page
    page = _page(client, f"/cases/{number}?lang=zh")
    assert f'data-testid="holder-legal-basis">{FIRE_ZH} <small>' in _holders(page)
    assert FIRE_EN not in page


def test_a_legal_basis_without_an_english_one_stays_chinese_on_english_pages(app, db, factory):
    case_id, number = _web_review_case(db, factory)
    task_id = task_by_element(db, case_id, CIVIL_DEFENSE_TASK).id
    client, _ = factory.web_login(factory.user("officer", "civil_defense"))

    assert f'title="{CIVIL_DEFENSE_ZH}"' in _page(client, "/inbox?lang=en")
    page = _page(client, f"/tasks/{task_id}?lang=en")
    assert f'Legal basis: <span data-testid="legal-basis">{CIVIL_DEFENSE_ZH}</span>' in page
    holders = _holders(_page(client, f"/cases/{number}?lang=en"))
    assert f'data-testid="holder-legal-basis">{CIVIL_DEFENSE_ZH} <small>' in holders
    assert f'data-testid="holder-legal-basis">{FIRE_EN} <small>' in holders


def test_the_api_returns_the_english_legal_basis_beside_the_chinese(
    analyst, enterprise_a, fire_officer
):
    response = analyst.post("/api/v1/definitions", data=upload("web_review.bpmn"))
    assert response.status_code == 201, response.get_json()
    body = {"definition_key": "web_review", "project_name": "琶洲测试项目", "data": {}}
    case = enterprise_a.post("/api/v1/cases", json=body).get_json()
    open_tasks = {t["legal_basis"]: t["legal_basis_en"] for t in case["open_tasks"]}
    assert open_tasks == {FIRE_ZH: FIRE_EN, CIVIL_DEFENSE_ZH: None}

    [task] = fire_officer.get(f"/api/v1/tasks?case={case['id']}&department=fire").get_json()[
        "items"
    ]
    assert (task["legal_basis"], task["legal_basis_en"]) == (FIRE_ZH, FIRE_EN)
    assert fire_officer.get(f"/api/v1/tasks/{task['id']}").get_json()["legal_basis_en"] == FIRE_EN
    read = enterprise_a.get(f"/api/v1/cases/{case['id']}").get_json()
    assert {t["legal_basis_en"] for t in read["open_tasks"]} == {FIRE_EN, None}


def test_an_empty_english_legal_basis_is_refused_at_deploy_naming_the_element(analyst):
    for blank in ("", "   "):
        assert_deploy_refused(
            analyst, _with_fire_legal_basis_en(blank), FIRE_TASK, "empty legal_basis_en"
        )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            lambda: fixture_bytes("web_review.bpmn").replace(
                LEGAL_BASIS_EN.encode(),
                LEGAL_BASIS_EN.encode()
                + b'<spiffworkflow:property name="legal_basis_en" value="Art. 15" />',
            ),
            "legal_basis_en given twice",
        ),
        (
            lambda: _with_fire_legal_basis_en("x" * 501),
            "legal_basis_en is over 500 characters",
        ),
    ],
    ids=["twice", "too long"],
)
def test_validation_refuses_a_second_or_too_long_english_legal_basis(analyst, content, message):
    response = post_bpmn(analyst, content(), "/api/v1/definitions/validate")
    body = response.get_json()
    assert body["valid"] is False
    assert [p["element_id"] for p in body["problems"]] == [FIRE_TASK]
    assert message in body["problems"][0]["message"]


def test_an_english_legal_basis_of_500_characters_is_kept_whole(db, factory):
    long = "Art. 15 " + "y" * 492
    deploy(db, factory.now, "web_review.bpmn", {LEGAL_BASIS_EN.encode(): _property(long)})
    case_id = start(db, factory.now, "web_review")
    assert task_by_element(db, case_id, FIRE_TASK).legal_basis_en == long


@pytest.fixture
def fresh_default_calendar():
    calendar.set_default_calendar(None)
    yield
    calendar.set_default_calendar(None)


def test_an_escalation_keeps_the_english_legal_basis_of_the_task_it_escalates(
    db, fresh_default_calendar
):
    when = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # a Monday; 5 working days -> due 03-09
    legal_basis = (
        '<spiffworkflow:property name="legal_basis" value="《建筑工程施工许可管理办法》第六条" />'
    )
    english = (
        "Measures for the Administration of Construction Permits for Building Projects, Art. 6"
    )
    deploy(
        db,
        when,
        "sla_pause.bpmn",
        {legal_basis.encode(): legal_basis.encode() + _property(english)},
    )
    with time_machine.travel(when, tick=False):
        case_id = start(db, when, "sla_pause")
    review = task_by_element(db, case_id, "Task_housing_review")
    assert review.legal_basis_en == english
    breach = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)
    with time_machine.travel(breach, tick=False):
        run_due_jobs(db, breach, 50)
    escalation = task_by_element(db, case_id, f"Escalation_{review.id}")
    assert (escalation.legal_basis, escalation.legal_basis_en) == (review.legal_basis, english)


def test_a_completion_that_creates_a_task_with_an_english_legal_basis_sends_no_more_sql(
    app, db, factory
):
    """The English legal basis rides in the task row's INSERT and in every SELECT of task rows:
    a completion sends the statements it sends for a task without one."""
    stage = b'<spiffworkflow:property name="stage" value="rectifying" />'
    legal_basis = '<spiffworkflow:property name="legal_basis" value="《建设工程安全生产管理条例》第四十三条" />'
    deploy(db, factory.now, "rectification_loop.bpmn")
    deploy(
        db,
        factory.now,
        "rectification_loop.bpmn",
        {
            b'id="rectification_loop"': b'id="rectification_loop_en"',
            stage: stage + legal_basis.encode() + _property("Work safety rules, Art. 43"),
        },
    )
    officer = factory.logged_in("officer", "quality_safety")
    engine = app.extensions["pazhou"]["db"].engine

    def completion(key: str) -> tuple[list[str], dict]:
        case_id = start(db, factory.now, key)
        task_id = task_by_element(db, case_id, "Task_verify").id
        sent: list[str] = []

        def capture(conn, cursor, statement, *args):
            sent.append(" ".join(statement.split()))

        for measured in (False, True):  # the first completion warms the caches
            if measured:
                event.listen(engine, "before_cursor_execute", capture)
            try:
                response = officer.post(
                    f"/api/v1/tasks/{task_id}/complete", json={"data": {"passed": False}}
                )
            finally:
                if measured:
                    event.remove(engine, "before_cursor_execute", capture)
            assert response.status_code == 200, response.get_json()
            [task] = response.get_json()["case"]["open_tasks"]
            task_id = task["id"]
        return sent, task

    without, plain = completion("rectification_loop")
    with_english, task = completion("rectification_loop_en")
    assert plain["legal_basis_en"] is None
    assert task["legal_basis_en"] == "Work safety rules, Art. 43"
    assert len(with_english) == len(without), (with_english, without)
    assert [s.split(" (")[0] for s in with_english] == [s.split(" (")[0] for s in without]
    inserts = [s for s in with_english if s.startswith("INSERT INTO task ")]
    assert len(inserts) == 1 and "legal_basis_en" in inserts[0]
