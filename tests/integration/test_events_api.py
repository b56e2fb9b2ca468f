"""HTTP endpoints for webhooks, inbound callbacks, messages, calendar and operations."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

import webhooks
from tests.factories import deploy, start

CIM_SECRET = webhooks.generate_secret()


@pytest.fixture
def cim(app):
    app.config["INBOUND_SECRETS"] = {"cim": CIM_SECRET}
    db = app.extensions["pazhou"]["db"]
    now = app.extensions["pazhou"]["clock"].now()
    deploy(db, now, "bim_wait.bpmn")
    return start(db, now, "bim_wait")


def cim_post(anonymous, body: dict, msg_id: str = "msg_cim_1", secret: str = CIM_SECRET):
    raw = json.dumps(body, ensure_ascii=False).encode()
    headers = webhooks.sign(secret, msg_id, datetime.now(UTC), raw)
    return anonymous.post("/api/v1/hooks/cim", data=raw, headers=headers)


def test_admin_manages_subscriptions_and_reads_the_delivery_log(admin, fire_officer, start_case):
    assert (
        fire_officer.post(
            "/api/v1/webhooks", json={"url": "http://x.test/", "events": ["case.started"]}
        ).status_code
        == 403
    )
    bad = admin.post("/api/v1/webhooks", json={"url": "http://x.test/", "events": ["case.bogus"]})
    assert bad.status_code == 422 and "events.0" in bad.get_json()["errors"]

    created = admin.post(
        "/api/v1/webhooks", json={"url": "http://127.0.0.1:9/in", "events": ["case.started"]}
    )
    assert created.status_code == 201
    sub = created.get_json()
    assert sub["secret"].startswith("whsec_")
    listed = admin.get("/api/v1/webhooks").get_json()["items"]
    assert [s["id"] for s in listed] == [sub["id"]] and "secret" not in listed[0]

    case = start_case(admin)
    log = admin.get(f"/api/v1/webhooks/{sub['id']}/deliveries?status=pending").get_json()
    (delivery,) = log["items"]
    assert (delivery["event_type"], delivery["case_id"], delivery["attempts"]) == (
        "case.started",
        case["id"],
        0,
    )
    assert admin.get(f"/api/v1/webhooks/{sub['id']}/deliveries?status=bogus").status_code == 422
    again = admin.post(f"/api/v1/webhooks/deliveries/{delivery['id']}/redeliver")
    assert again.status_code == 202 and again.get_json()["status"] == "pending"

    assert admin.open("DELETE", f"/api/v1/webhooks/{sub['id']}").status_code == 204
    assert admin.get("/api/v1/webhooks").get_json()["items"] == []
    assert admin.get(f"/api/v1/webhooks/{sub['id']}/deliveries").status_code == 404


def test_cim_callback_is_verified_correlated_and_idempotent(anonymous, admin, cim):
    case_number = admin.get(f"/api/v1/cases/{cim}").get_json()["case_number"]
    body = {"case_number": case_number, "data": {"model_id": "BIM-001", "result": "accepted"}}

    forged = cim_post(anonymous, body, secret=webhooks.generate_secret())
    assert forged.status_code == 401
    assert forged.mimetype == "application/problem+json"
    unsigned = anonymous.post("/api/v1/hooks/cim", json=body)
    assert unsigned.status_code == 401

    accepted = cim_post(anonymous, body)
    assert accepted.status_code == 202, accepted.get_json()
    assert accepted.get_json() == {
        "case_number": case_number,
        "message": "bim_model_accepted",
        "duplicate": False,
    }
    replay = cim_post(anonymous, body)
    assert replay.status_code == 202 and replay.get_json()["duplicate"] is True

    timeline = admin.get(f"/api/v1/cases/{cim}/timeline").get_json()
    items = timeline["items"] if isinstance(timeline, dict) else timeline
    received = [e for e in items if e["type"] == "message.received"]
    assert len(received) == 1 and received[0]["payload"]["name"] == "bim_model_accepted"
    case = admin.get(f"/api/v1/cases/{cim}").get_json()
    assert [t["title"] for t in case["open_tasks"]] == ["联合现场验收"]

    # A new callback for a case that no longer waits: 409, and nothing is recorded.
    late = cim_post(anonymous, body, msg_id="msg_cim_2")
    assert late.status_code == 409
    assert (
        cim_post(anonymous, {"case_number": "HZ-2026-999999", "data": {}}, "msg_cim_3").status_code
        == 404
    )
    assert cim_post(anonymous, {"data": {}}, "msg_cim_4").status_code == 422


def test_unknown_inbound_source_is_404(anonymous, cim):
    raw = b"{}"
    headers = webhooks.sign(CIM_SECRET, "msg_x", datetime.now(UTC), raw)
    assert anonymous.post("/api/v1/hooks/erp", data=raw, headers=headers).status_code == 404


def test_message_nobody_waits_for_is_409(admin, start_case):
    case = start_case(admin)
    response = admin.post(
        f"/api/v1/cases/{case['id']}/messages", json={"name": "bim_model_accepted", "data": {}}
    )
    assert response.status_code == 409


def test_calendar_years_import_and_list(admin, fire_officer):
    year = {"year": 2027, "holidays": ["2027-01-01"], "workdays": [], "source": "测试"}
    assert fire_officer.post("/api/v1/calendar/years", json=year).status_code == 403
    bad = admin.post("/api/v1/calendar/years", json={**year, "workdays": ["2027-01-04"]})
    assert bad.status_code == 422 and "file" in bad.get_json()["errors"]
    created = admin.post("/api/v1/calendar/years", json=year)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["holidays"] == ["2027-01-01"]
    years = {y["year"]: y for y in fire_officer.get("/api/v1/calendar/years").get_json()["items"]}
    assert years[2027]["source"] == "测试" and years[2026]["source"] == "chinese_calendar"
    assert "2026-10-10" in years[2026]["workdays"]


def test_stage_stats_and_prometheus_metrics(
    admin, anonymous, fire_officer, start_case, enterprise_a
):
    start_case(admin)
    stats = fire_officer.get("/api/v1/stats/stages").get_json()
    by_department = {row["department"]: row for row in stats["items"]}
    assert by_department["fire"]["open"] == 1 and by_department["fire"]["sla_breaches"] == 0
    assert stats["worker_lag_seconds"] >= 0
    assert enterprise_a.get("/api/v1/stats/stages").status_code == 403

    metrics = anonymous.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.content_type.startswith("text/plain")
    text = metrics.get_data(as_text=True)
    assert 'pazhou_open_tasks{department="fire"} 1.0' in text
    assert "pazhou_worker_lag_seconds" in text and "pazhou_sla_breaches 0.0" in text
