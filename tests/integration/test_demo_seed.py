"""`pazhou demo`: seeds an empty database once, and the demo accounts work over the API."""

from __future__ import annotations

from engine.services import demo


def test_demo_seeds_once_and_officers_find_work(app, client, now):
    database = app.extensions["pazhou"]["db"]
    with database.write() as session:
        summary = demo.seed(session, now)
    assert summary["seeded"] is True
    assert {"admin", "analyst", "fire.officer", "enterprise.a", "enterprise.b"} <= set(
        summary["users"]
    )
    with database.write() as session:
        assert demo.seed(session, now) == {"seeded": False}

    login = client.post(
        "/api/v1/auth/token", json={"username": "enterprise.a", "password": demo.DEMO_PASSWORD}
    )
    assert login.status_code == 201
    me = login.get_json()["user"]
    assert me["enterprise"]["name"] == "广州琶洲数字科技有限公司"
    if summary["cases"]:  # only when the shipped processes validate
        headers = {"Authorization": f"Bearer {login.get_json()['token']}"}
        cases = client.get("/api/v1/cases", headers=headers).get_json()["items"]
        assert cases and all(case["enterprise"]["id"] == me["enterprise"]["id"] for case in cases)


def test_example_data_fills_a_conditional_form():
    schema = {
        "type": "object",
        "required": ["kind", "site_address"],
        "properties": {
            "kind": {"type": "string", "oneOf": [{"const": "special"}, {"const": "none"}]},
            "site_address": {"type": "string", "pattern": "海珠区"},
            "report": {"type": "string", "format": "attachment"},
        },
        "if": {"properties": {"kind": {"const": "special"}}},
        "then": {"required": ["report"]},
    }
    data = demo._form_data({"key": "x", "schema": schema}, {"attachment_id": "a1"})
    assert data == {
        "kind": "special",
        "site_address": demo.DEMO_VALUES["site_address"],
        "report": "a1",
    }
