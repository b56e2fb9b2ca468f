"""Every error is problem+json, and nothing but /health and /auth/token works without a token."""

from __future__ import annotations

import pytest

PROBLEM = "application/problem+json"


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    assert "Traceback" not in response.get_data(as_text=True)
    return body


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/api/v1/cases"),
        ("GET", "/api/v1/tasks"),
        ("GET", "/api/v1/me"),
        ("POST", "/api/v1/cases"),
    ],
)
def test_calls_without_a_token_get_401(anonymous, method, path):
    assert_problem(anonymous.open(method, path, json={}), 401)


def test_an_unknown_or_garbled_token_gets_401(client):
    for header in ("Bearer not-a-token", "Basic YWRtaW46eA==", "Bearer "):
        assert_problem(client.get("/api/v1/cases", headers={"Authorization": header}), 401)


def test_wrong_password_gets_401_and_right_password_a_token(factory, anonymous):
    username = factory.user("analyst")
    body = {"username": username, "password": "wrong-password"}
    assert_problem(anonymous.post("/api/v1/auth/token", json=body), 401)
    assert_problem(anonymous.post("/api/v1/auth/token", json={**body, "username": "nobody"}), 401)
    analyst = factory.login(username)
    me = analyst.get("/api/v1/me")
    assert me.status_code == 200
    assert me.get_json()["role"] == "analyst" and me.get_json()["username"] == username


def test_me_names_department_and_enterprise(fire_officer, enterprise_a, enterprise_a_id):
    assert fire_officer.get("/api/v1/me").get_json()["department"] == "fire"
    me = enterprise_a.get("/api/v1/me").get_json()
    assert me["enterprise"]["id"] == enterprise_a_id and me["department"] is None


def test_health_and_openapi_need_no_token(anonymous):
    health = anonymous.get("/api/v1/health")
    assert health.status_code == 200 and health.get_json()["database"] == "ok"
    spec = anonymous.get("/api/v1/openapi.json")
    assert spec.status_code == 200 and spec.get_json()["openapi"].startswith("3.")


def test_unknown_route_and_wrong_method_are_problems(admin, anonymous):
    assert_problem(anonymous.get("/api/v1/no-such-thing"), 404)
    assert_problem(admin.get("/api/v1/no-such-thing"), 404)
    response = admin.open("DELETE", "/api/v1/cases")
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_invalid_json_is_a_400_problem(admin):
    response = admin.post("/api/v1/cases", data="{not json", content_type="application/json")
    assert_problem(response, 400)


def test_wrong_content_type_is_a_422_problem_naming_fields(admin):
    response = admin.post("/api/v1/cases", data="definition_key=x", content_type="text/plain")
    body = assert_problem(response, 422)
    assert "definition_key" in body["errors"]


def test_request_validation_errors_name_the_fields(admin):
    body = assert_problem(admin.post("/api/v1/cases", json={"project_name": 3, "extra": 1}), 422)
    assert {"definition_key", "project_name", "extra"} <= body["errors"].keys()
    body = assert_problem(admin.get("/api/v1/tasks?page_size=0&status=done"), 422)
    assert {"page_size", "status"} <= body["errors"].keys()


def test_forged_cursor_is_a_422_problem(admin):
    assert_problem(admin.get("/api/v1/cases?cursor=WyJ4Il0"), 422)  # ["x"]
    assert_problem(admin.get("/api/v1/tasks?cursor=WzFd"), 422)  # [1]


def test_oversized_body_is_a_413_problem(app, admin):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = admin.post(
        "/api/v1/definitions", data={"files[]": [(__import__("io").BytesIO(b"x" * 4096), "a.bpmn")]}
    )
    assert_problem(response, 413)


def test_a_nul_character_never_reaches_the_database(admin):
    assert_problem(admin.get("/api/v1/cases?q=%00"), 422)
    assert_problem(admin.get("/api/v1/cases/HZ%00"), 404)
    assert_problem(admin.get("/api/v1/cases/99999999999999999999999"), 404)
