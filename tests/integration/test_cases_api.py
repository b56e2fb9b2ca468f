"""Enterprises start and follow their own cases and never see anyone else's."""

from __future__ import annotations

import io


def test_enterprise_starts_a_case_for_itself(enterprise_a, enterprise_a_id, start_case):
    case = start_case(enterprise_a)
    assert case["case_number"].startswith("HZ-2026-")
    assert case["enterprise"]["id"] == enterprise_a_id
    assert case["definition"] == {
        "key": "parallel_review",
        "version": 1,
        "name": "并联审查测试",
        "name_en": None,  # parallel_review.bpmn gives no English name
    }
    assert case["status"] == "running" and case["stage"] == "permit_p1"
    assert sorted(t["department"] for t in case["open_tasks"]) == ["civil_defense", "fire"]
    fire = next(t for t in case["open_tasks"] if t["department"] == "fire")
    assert fire["legal_basis"].startswith("《建设工程消防设计审查验收管理暂行规定》")
    assert fire["due_at"] and case["due_at"]


def test_enterprise_cannot_start_a_case_for_another_enterprise(
    enterprise_a, enterprise_b_id, parallel_review
):
    body = {
        "definition_key": "parallel_review",
        "project_name": "x",
        "enterprise_id": enterprise_b_id,
    }
    assert enterprise_a.post("/api/v1/cases", json=body).status_code == 403


def test_admin_starts_a_case_for_any_enterprise(admin, enterprise_b_id, start_case):
    case = start_case(admin, enterprise_id=enterprise_b_id)
    assert case["enterprise"]["id"] == enterprise_b_id


def test_unknown_definition_is_404_and_blank_project_name_422(enterprise_a, parallel_review):
    assert (
        enterprise_a.post(
            "/api/v1/cases", json={"definition_key": "nope", "project_name": "x"}
        ).status_code
        == 404
    )
    response = enterprise_a.post(
        "/api/v1/cases", json={"definition_key": "parallel_review", "project_name": "  "}
    )
    assert response.status_code == 422 and "project_name" in response.get_json()["errors"]


def test_enterprise_cannot_list_open_or_guess_another_enterprises_case(
    enterprise_a, enterprise_b, start_case
):
    theirs = start_case(enterprise_b, "海珠项目")
    mine = start_case(enterprise_a, "琶洲项目")
    listed = enterprise_a.get("/api/v1/cases").get_json()["items"]
    assert [c["id"] for c in listed] == [mine["id"]]
    assert enterprise_a.get(f"/api/v1/cases?q={theirs['case_number']}").get_json()["items"] == []
    for ref in (theirs["id"], theirs["case_number"], theirs["case_number"].lower()):
        for suffix in ("", "/timeline", "/diagram"):
            response = enterprise_a.get(f"/api/v1/cases/{ref}{suffix}")
            assert response.status_code == 404, (ref, suffix)
    # The same answer as for a case that does not exist at all.
    assert (
        enterprise_a.get("/api/v1/cases/999999").get_json()["detail"]
        == enterprise_a.get(f"/api/v1/cases/{theirs['id']}").get_json()["detail"]
    )
    assert enterprise_a.get(f"/api/v1/tasks?case={theirs['id']}").status_code == 404
    upload = {"file": (io.BytesIO(b"%PDF-1.7 test"), "plan.pdf", "application/pdf")}
    assert (
        enterprise_a.post(f"/api/v1/cases/{theirs['id']}/attachments", data=upload).status_code
        == 404
    )


def test_staff_read_every_case(enterprise_a, fire_officer, analyst, start_case):
    case = start_case(enterprise_a)
    for staff in (fire_officer, analyst):
        assert staff.get(f"/api/v1/cases/{case['case_number']}").get_json()["id"] == case["id"]
        assert [c["id"] for c in staff.get("/api/v1/cases").get_json()["items"]] == [case["id"]]


def test_case_list_is_cursor_paginated_newest_first(admin, start_case, enterprise_a_id):
    ids = [start_case(admin, f"项目{i}", enterprise_id=enterprise_a_id)["id"] for i in range(5)]
    first = admin.get("/api/v1/cases?page_size=2").get_json()
    second = admin.get(f"/api/v1/cases?page_size=2&cursor={first['next_cursor']}").get_json()
    third = admin.get(f"/api/v1/cases?page_size=2&cursor={second['next_cursor']}").get_json()
    seen = [c["id"] for page in (first, second, third) for c in page["items"]]
    assert seen == sorted(ids, reverse=True) and third["next_cursor"] is None
    found = admin.get("/api/v1/cases?q=项目3").get_json()["items"]
    assert [c["id"] for c in found] == [ids[3]]


def test_timeline_and_diagram(enterprise_a, start_case):
    case = start_case(enterprise_a)
    events = enterprise_a.get(f"/api/v1/cases/{case['id']}/timeline").get_json()["items"]
    assert [e["type"] for e in events][:1] == ["case.started"]
    assert events[0]["actor"] == enterprise_a.username
    diagram = enterprise_a.get(f"/api/v1/cases/{case['id']}/diagram").get_json()
    assert set(diagram["active"]) == {"Task_fire_review", "Task_civil_defense_review"}
    assert {"StartEvent_apply", "Gateway_split"} <= set(diagram["completed"])


def test_only_admins_cancel_and_a_cancelled_case_has_no_open_tasks(admin, enterprise_a, start_case):
    case = start_case(enterprise_a)
    assert (
        enterprise_a.post(f"/api/v1/cases/{case['id']}/cancel", json={"reason": "撤回"}).status_code
        == 403
    )
    cancelled = admin.post(f"/api/v1/cases/{case['id']}/cancel", json={"reason": "企业撤回申请"})
    assert cancelled.status_code == 200
    assert (
        cancelled.get_json()["status"] == "cancelled" and cancelled.get_json()["open_tasks"] == []
    )
    assert (
        admin.post(f"/api/v1/cases/{case['id']}/cancel", json={"reason": "again"}).status_code
        == 409
    )


def test_message_nobody_waits_for_is_409(enterprise_a, start_case):
    case = start_case(enterprise_a)
    response = enterprise_a.post(
        f"/api/v1/cases/{case['id']}/messages", json={"name": "bim_model_accepted"}
    )
    assert response.status_code == 409


def test_attachments_are_typed_and_hashed(enterprise_a, start_case):
    case = start_case(enterprise_a)
    ok = enterprise_a.post(
        f"/api/v1/cases/{case['id']}/attachments",
        data={"file": (io.BytesIO(b"%PDF-1.7 drawing"), "图纸.pdf", "application/pdf")},
    )
    assert ok.status_code == 201, ok.get_json()
    body = ok.get_json()
    assert body["filename"] == "图纸.pdf" and body["size"] == 16 and len(body["sha256"]) == 64
    fake = enterprise_a.post(
        f"/api/v1/cases/{case['id']}/attachments",
        data={"file": (io.BytesIO(b"MZ\x90\x00"), "virus.pdf", "application/pdf")},
    )
    assert fake.status_code == 422
    exe = enterprise_a.post(
        f"/api/v1/cases/{case['id']}/attachments", data={"file": (io.BytesIO(b"MZ"), "run.exe")}
    )
    assert exe.status_code == 422 and "file" in exe.get_json()["errors"]
