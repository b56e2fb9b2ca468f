"""The inbox: departments act only on their own tasks; races end in 409, never in a mess."""

from __future__ import annotations

import json

import pytest

import forms
from tests.conftest import fixture_bytes
from tests.integration.conftest import task_of, upload


def test_fire_officer_cannot_complete_a_civil_defense_task_nor_sees_it(
    fire_officer, enterprise_a, start_case
):
    case = start_case(enterprise_a)
    civil = task_of(case, "civil_defense")
    response = fire_officer.post(f"/api/v1/tasks/{civil['id']}/complete", json={"data": {}})
    assert response.status_code == 403
    assert fire_officer.post(f"/api/v1/tasks/{civil['id']}/claim").status_code == 403
    inbox = fire_officer.get("/api/v1/tasks").get_json()["items"]
    assert [t["department"] for t in inbox] == ["fire"]
    assert civil["id"] not in [t["id"] for t in inbox]
    still = fire_officer.get(f"/api/v1/tasks/{civil['id']}").get_json()
    assert still["status"] == "ready"


def test_enterprise_sees_only_its_own_enterprise_lane_tasks(
    enterprise_a, enterprise_b, fire_officer, civil_defense_officer, start_case
):
    case = start_case(enterprise_a)
    assert enterprise_a.get("/api/v1/tasks").get_json()["items"] == []
    assert enterprise_a.get(f"/api/v1/tasks/{task_of(case, 'fire')['id']}").status_code == 404
    fire_officer.post(f"/api/v1/tasks/{task_of(case, 'fire')['id']}/complete", json={"data": {}})
    after = civil_defense_officer.post(
        f"/api/v1/tasks/{task_of(case, 'civil_defense')['id']}/complete", json={"data": {}}
    ).get_json()["case"]
    confirm = task_of(after, "enterprise")
    assert [t["id"] for t in enterprise_a.get("/api/v1/tasks").get_json()["items"]] == [
        confirm["id"]
    ]
    assert enterprise_b.get("/api/v1/tasks").get_json()["items"] == []
    assert enterprise_b.get(f"/api/v1/tasks/{confirm['id']}").status_code == 404
    assert (
        enterprise_b.post(f"/api/v1/tasks/{confirm['id']}/complete", json={"data": {}}).status_code
        == 404
    )


def test_claim_by_a_second_officer_is_409(factory, enterprise_a, start_case):
    first, second = factory.logged_in("officer", "fire"), factory.logged_in("officer", "fire")
    fire = task_of(start_case(enterprise_a), "fire")
    claimed = first.post(f"/api/v1/tasks/{fire['id']}/claim")
    assert claimed.status_code == 200
    assert (
        claimed.get_json()["assignee"] == first.username
        and claimed.get_json()["status"] == "claimed"
    )
    assert second.post(f"/api/v1/tasks/{fire['id']}/claim").status_code == 409
    assert second.post(f"/api/v1/tasks/{fire['id']}/complete", json={"data": {}}).status_code == 409
    assert (
        first.post(f"/api/v1/tasks/{fire['id']}/claim").status_code == 200
    )  # idempotent for the holder
    mine = first.get("/api/v1/tasks?assignee=me").get_json()["items"]
    assert [t["id"] for t in mine] == [fire["id"]]
    assert first.post(f"/api/v1/tasks/{fire['id']}/unclaim").get_json()["status"] == "ready"
    assert second.post(f"/api/v1/tasks/{fire['id']}/claim").status_code == 200


def test_assign_to_a_colleague_of_the_same_department(
    factory, fire_officer, enterprise_a, start_case
):
    colleague = factory.user("officer", "fire")
    outsider = factory.user("officer", "civil_defense")
    fire = task_of(start_case(enterprise_a), "fire")
    assigned = fire_officer.post(f"/api/v1/tasks/{fire['id']}/assign", json={"user": colleague})
    assert assigned.status_code == 200 and assigned.get_json()["assignee"] == colleague
    wrong = fire_officer.post(f"/api/v1/tasks/{fire['id']}/assign", json={"user": outsider})
    assert wrong.status_code == 422 and "user" in wrong.get_json()["errors"]
    users = fire_officer.get("/api/v1/users?department=fire").get_json()["items"]
    assert colleague in [u["username"] for u in users]


def test_double_completion_is_409_and_changes_nothing(
    fire_officer, admin, enterprise_a, start_case
):
    case = start_case(enterprise_a)
    fire = task_of(case, "fire")
    done = fire_officer.post(
        f"/api/v1/tasks/{fire['id']}/complete", json={"data": {"opinion": "同意"}}
    )
    assert done.status_code == 200
    before = admin.get(f"/api/v1/cases/{case['id']}").get_json()
    timeline_before = admin.get(f"/api/v1/cases/{case['id']}/timeline").get_json()["items"]
    again = fire_officer.post(
        f"/api/v1/tasks/{fire['id']}/complete", json={"data": {"opinion": "改主意"}}
    )
    assert again.status_code == 409
    assert again.get_json()["type"] == "urn:pazhou:problem:task-not-ready"
    assert admin.get(f"/api/v1/cases/{case['id']}").get_json() == before
    assert admin.get(f"/api/v1/cases/{case['id']}/timeline").get_json()["items"] == timeline_before
    task = admin.get(f"/api/v1/tasks/{fire['id']}").get_json()
    assert task["status"] == "completed" and task["data"] == {"opinion": "同意"}
    assert task["completed_by"] == fire_officer.username


def test_a_case_walks_from_start_to_end_through_the_api(
    analyst, enterprise_a, fire_officer, civil_defense_officer, admin
):
    deployed = analyst.post("/api/v1/definitions", data=upload("parallel_review.bpmn"))
    assert deployed.status_code == 201
    definition = enterprise_a.get("/api/v1/definitions/parallel_review").get_json()
    started = enterprise_a.post(
        "/api/v1/cases",
        json={
            "definition_key": definition["key"],
            "project_name": "琶洲数字经济总部大楼",
            "data": {"floors": 30},
        },
    )
    assert started.status_code == 201
    case = started.get_json()

    fire = fire_officer.get("/api/v1/tasks").get_json()["items"]
    assert [t["case"]["id"] for t in fire] == [case["id"]]
    assert fire_officer.post(f"/api/v1/tasks/{fire[0]['id']}/claim").status_code == 200
    after_fire = fire_officer.post(
        f"/api/v1/tasks/{fire[0]['id']}/complete", json={"data": {"fire_ok": True}}
    )
    assert after_fire.status_code == 200
    assert [t["department"] for t in after_fire.get_json()["case"]["open_tasks"]] == [
        "civil_defense"
    ]

    civil = civil_defense_officer.get("/api/v1/tasks").get_json()["items"]
    after_civil = civil_defense_officer.post(
        f"/api/v1/tasks/{civil[0]['id']}/complete", json={"data": {"civil_ok": True}}
    ).get_json()["case"]
    assert after_civil["stage"] == "under_construction"

    confirm = enterprise_a.get("/api/v1/tasks").get_json()["items"]
    assert [t["title"] for t in confirm] == ["企业确认"]
    finished = enterprise_a.post(
        f"/api/v1/tasks/{confirm[0]['id']}/complete", json={"data": {"confirmed": True}}
    )
    assert finished.status_code == 200
    final = finished.get_json()["case"]
    assert (
        final["status"] == "completed" and final["stage"] == "completed" and final["completed_at"]
    )
    assert final["open_tasks"] == []
    assert final["data"]["fire_ok"] is True and final["data"]["floors"] == 30

    events = [
        e["type"]
        for e in enterprise_a.get(f"/api/v1/cases/{case['id']}/timeline").get_json()["items"]
    ]
    assert events[0] == "case.started" and events[-1] == "case.completed"
    assert events.count("task.completed") == 3
    done = admin.get("/api/v1/cases?status=completed").get_json()["items"]
    assert [c["id"] for c in done] == [case["id"]]
    completed = admin.get(f"/api/v1/tasks?case={case['id']}&status=completed").get_json()["items"]
    assert len(completed) == 3


@pytest.fixture
def review_form(tmp_path, monkeypatch):
    """A form with required fields, in a forms folder of the test's own."""
    schema = {
        "type": "object",
        "required": ["opinion", "contact_mobile"],
        "properties": {
            "opinion": {"type": "string", "enum": ["同意", "不同意"]},
            "contact_mobile": {"type": "string", "format": "cn-mobile"},
        },
    }
    (tmp_path / "fire_review_test.json").write_text(json.dumps(schema), encoding="utf-8")
    monkeypatch.setattr(forms, "FORMS_DIR", tmp_path)
    forms.clear_cache()
    yield "fire_review_test"
    forms.clear_cache()


def test_invalid_form_data_is_422_naming_the_fields_and_changes_nothing(
    review_form, analyst, fire_officer, enterprise_a
):
    xml = fixture_bytes("parallel_review.bpmn").replace(
        b'<spiffworkflow:property name="sla_working_days" value="15" />',
        b'<spiffworkflow:property name="sla_working_days" value="15" />'
        + f'<spiffworkflow:property name="formKey" value="{review_form}" />'.encode(),
    )
    deployed = analyst.post(
        "/api/v1/definitions",
        data=upload("parallel_review.bpmn", contents={"parallel_review.bpmn": xml}),
    )
    assert deployed.status_code == 201, deployed.get_json()
    case = enterprise_a.post(
        "/api/v1/cases", json={"definition_key": "parallel_review", "project_name": "p"}
    ).get_json()
    fire = task_of(case, "fire")
    task = fire_officer.get(f"/api/v1/tasks/{fire['id']}").get_json()
    assert task["form"]["key"] == review_form and task["form"]["schema"]["required"] == [
        "opinion",
        "contact_mobile",
    ]

    bad = fire_officer.post(
        f"/api/v1/tasks/{fire['id']}/complete",
        json={"data": {"opinion": "也许", "contact_mobile": "12345"}},
    )
    assert bad.status_code == 422
    assert {"opinion", "contact_mobile"} <= bad.get_json()["errors"].keys()
    assert fire_officer.get(f"/api/v1/tasks/{fire['id']}").get_json()["status"] == "ready"
    good = fire_officer.post(
        f"/api/v1/tasks/{fire['id']}/complete",
        json={"data": {"opinion": "同意", "contact_mobile": "13800138000"}},
    )
    assert good.status_code == 200


def test_inbox_search_finds_a_case_beyond_the_first_page(fire_officer, enterprise_a, start_case):
    for number in range(6):
        start_case(enterprise_a, project_name=f"海珠普通项目{number}")
    wanted = start_case(enterprise_a, project_name="琶洲塔二期")
    first_page = fire_officer.get("/api/v1/tasks?page_size=3").get_json()
    assert first_page["next_cursor"] and wanted["id"] not in {
        t["case"]["id"] for t in first_page["items"]
    }

    found = fire_officer.get("/api/v1/tasks?page_size=3&q=琶洲塔").get_json()
    assert [(t["case"]["id"], t["department"]) for t in found["items"]] == [(wanted["id"], "fire")]
    assert found["next_cursor"] is None
    by_number = fire_officer.get(f"/api/v1/tasks?q={wanted['case_number']}").get_json()
    assert [t["case"]["id"] for t in by_number["items"]] == [wanted["id"]]
