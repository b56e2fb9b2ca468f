"""Who may start a procedure: the start event's `starters` (rectification: quality-safety)."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from engine.models import Case
from tests.conftest import fixture_bytes

from .process_helpers import deploy_processes

RECTIFICATION_START = {
    "definition_key": "rectification",
    "project_name": "琶洲整改测试",
    "data": {},
}


def test_an_enterprise_may_not_open_a_rectification_against_itself(app, factory):
    db = app.extensions["pazhou"]["db"]
    deploy_processes(db)
    enterprise_id = factory.enterprise()
    enterprise = factory.logged_in("enterprise", enterprise_id=enterprise_id)
    fire = factory.logged_in("officer", "fire")

    for caller in (enterprise, fire):
        response = caller.post("/api/v1/cases", json=RECTIFICATION_START)
        assert response.status_code == 403, response.get_json()
        # says who may start it instead, in both languages
        detail = response.get_json()["detail"]
        assert "仅由质量安全" in detail and "rectification" in detail, detail
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0

    listed = {d["key"]: d for d in enterprise.get("/api/v1/definitions").get_json()["items"]}
    assert listed["rectification"]["starters"] == ["quality_safety"]
    assert listed["joint_completion_acceptance"]["starters"] is None

    web, _ = factory.web_login(factory.user("enterprise", enterprise_id=enterprise_id))
    assert "rectification" not in web.get("/cases/new").get_data(as_text=True)
    assert web.get("/cases/new/rectification").status_code == 403
    assert "joint_completion_acceptance" in web.get("/cases/new").get_data(as_text=True)

    quality_safety, _ = factory.web_login(factory.user("officer", "quality_safety"))
    assert 'data-key="rectification"' in quality_safety.get("/cases/new").get_data(as_text=True)
    assert quality_safety.get("/cases/new/rectification").status_code == 200


def test_a_starter_that_names_no_department_is_refused_at_validation(app, factory):
    start = '<bpmn:startEvent id="StartEvent_apply" name="企业申请">'
    content = fixture_bytes("web_review.bpmn").replace(
        start.encode(),
        f"{start}<bpmn:extensionElements>"
        '<spiffworkflow:properties><spiffworkflow:property name="starters" value="fire, firemen"/>'
        "</spiffworkflow:properties></bpmn:extensionElements>".encode(),
    )
    analyst = factory.logged_in("analyst")
    response = analyst.post(
        "/api/v1/definitions/validate",
        data={"files[]": [(io.BytesIO(content), "web_review.bpmn")]},
        content_type="multipart/form-data",
    )
    body = response.get_json()
    assert body["valid"] is False, body
    assert [p["element_id"] for p in body["problems"]] == ["StartEvent_apply"]
    assert "firemen" in body["problems"][0]["message"]


def test_naming_an_older_version_from_before_the_rule_does_not_get_round_it(app, factory, now):
    from engine.services import deployments
    from engine.services.actors import SYSTEM
    from tests.integration.process_helpers import PROCESSES

    db = app.extensions["pazhou"]["db"]
    shipped = (PROCESSES / "rectification.bpmn").read_bytes()
    before_the_rule = shipped.replace(
        b'<spiffworkflow:property name="starters" value="quality_safety"/>', b""
    )
    assert before_the_rule != shipped
    dmn = [(p.name, p.read_bytes()) for p in PROCESSES.glob("*.dmn")]
    for content in (before_the_rule, shipped):  # v1 open to all, v2 quality-safety only
        with db.write() as session:
            deployments.deploy_bundle(
                session, SYSTEM, [("rectification.bpmn", content), *dmn], now, 5 * 1024 * 1024
            )
    enterprise = factory.logged_in("enterprise", enterprise_id=factory.enterprise())
    response = enterprise.post("/api/v1/cases", json={**RECTIFICATION_START, "version": 1})
    assert response.status_code == 403, response.get_json()
