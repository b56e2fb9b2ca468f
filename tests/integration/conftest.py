"""API fixtures: an app on the `db` fixture's database, clients logged in per role, factories."""

from __future__ import annotations

import io
import secrets
from itertools import count

import pytest
from argon2 import PasswordHasher

import forms
from engine import create_app
from engine.clock import FixedClock
from engine.services import users
from tests.conftest import fixture_bytes

PASSWORD = "correct-horse-battery"
_serial = count(1)


def valid_uscc() -> str:
    first17 = "9144010" + "".join(
        secrets.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(10)
    )
    return first17 + forms.uscc_check_char(first17)


class ApiClient:
    """The Flask test client with a bearer token on every request."""

    def __init__(self, client, token: str | None, username: str = ""):
        self.client = client
        self.token = token
        self.username = username

    def open(self, method: str, path: str, **kwargs):
        headers = dict(kwargs.pop("headers", {}) or {})
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path, **kwargs):
        return self.open("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.open("POST", path, **kwargs)


class Factory:
    """Test data made through the services, logged in through the API."""

    def __init__(self, app, client):
        self.app = app
        self.client = client
        self.db = app.extensions["pazhou"]["db"]
        self.now = app.extensions["pazhou"]["clock"].now()

    def enterprise(self, name: str | None = None) -> int:
        with self.db.write() as session:
            row = users.create_enterprise(
                session, name or f"测试企业{next(_serial)}有限公司", valid_uscc(), now=self.now
            )
            return row.id

    def user(
        self,
        role: str,
        department: str | None = None,
        enterprise_id: int | None = None,
        username=None,
    ) -> str:
        username = username or f"{role}.{department or ''}{next(_serial)}".replace("..", ".")
        with self.db.write() as session:
            users.create_user(
                session, username, PASSWORD, role, department, enterprise_id, now=self.now
            )
        return username

    def login(self, username: str) -> ApiClient:
        response = self.client.post(
            "/api/v1/auth/token", json={"username": username, "password": PASSWORD}
        )
        assert response.status_code == 201, response.get_json()
        return ApiClient(self.client, response.get_json()["token"], username)

    def web_login(self, username: str):
        """A browser-like test client logged in through the login form; returns (client, csrf)."""
        client = self.app.test_client()
        client.get("/login")
        with client.session_transaction() as web_session:
            csrf = web_session["csrf"]
        response = client.post(
            "/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf}
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        client.get("/cases")  # any page issues the session's form token
        with client.session_transaction() as web_session:
            return client, web_session["csrf"]

    def logged_in(
        self, role: str, department: str | None = None, enterprise_id: int | None = None
    ) -> ApiClient:
        return self.login(self.user(role, department, enterprise_id))


@pytest.fixture(params=["services", "api"])
def flow_cls(request):
    """A process walk driven through the service layer, then again through the HTTP API."""
    from .process_helpers import ApiFlow, Flow

    return Flow if request.param == "services" else ApiFlow


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch):
    """Argon2 with production cost takes ~0.4 s a hash here; tests only need it to be argon2."""
    monkeypatch.setattr(
        users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture
def app(db, now, request):
    """The app on the test database; `@pytest.mark.app_config(MAX_UPLOAD_BYTES=…)` adds config."""
    marker = request.node.get_closest_marker("app_config")
    extra = marker.kwargs if marker else {}
    app = create_app({"DATABASE_URL": db.url, "TESTING": True, "CLOCK": FixedClock(now), **extra})
    with app.extensions["pazhou"]["db"].write() as session:
        users.seed_departments(session)
    yield app
    app.extensions["pazhou"]["db"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def anonymous(client):
    return ApiClient(client, None)


@pytest.fixture
def factory(app, client):
    return Factory(app, client)


@pytest.fixture
def admin(factory):
    return factory.logged_in("admin")


@pytest.fixture
def analyst(factory):
    return factory.logged_in("analyst")


@pytest.fixture
def fire_officer(factory):
    return factory.logged_in("officer", "fire")


@pytest.fixture
def civil_defense_officer(factory):
    return factory.logged_in("officer", "civil_defense")


@pytest.fixture
def enterprise_a_id(factory):
    return factory.enterprise("广州琶洲数字科技有限公司")


@pytest.fixture
def enterprise_b_id(factory):
    return factory.enterprise("海珠建设发展有限公司")


@pytest.fixture
def enterprise_a(factory, enterprise_a_id):
    return factory.logged_in("enterprise", enterprise_id=enterprise_a_id)


@pytest.fixture
def enterprise_b(factory, enterprise_b_id):
    return factory.logged_in("enterprise", enterprise_id=enterprise_b_id)


def upload(*names: str, field: str = "files[]", contents: dict[str, bytes] | None = None) -> dict:
    contents = contents or {}
    return {
        field: [(io.BytesIO(contents.get(name) or fixture_bytes(name)), name) for name in names]
    }


def post_bpmn(client, content: bytes, path: str = "/api/v1/definitions", name="web_review.bpmn"):
    """Upload one BPMN file as the modeler does: to deploy it, or to ``.../validate`` it."""
    return client.post(path, data=upload(name, contents={name: content}))


def assert_deploy_refused(client, content: bytes, element_id: str, text: str) -> None:
    """Deploying ``content`` is refused with problem+json naming ``element_id`` and saying
    ``text``; nothing is deployed."""
    response = post_bpmn(client, content)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    body = response.get_json()
    assert [p["element_id"] for p in body["problems"]] == [element_id]
    [message] = body["errors"]["web_review.bpmn"]
    assert text in message and element_id in message
    assert client.get("/api/v1/definitions").get_json()["items"] == []


@pytest.fixture
def parallel_review(analyst):
    """parallel_review.bpmn deployed through the API (lanes fire, civil_defense, enterprise)."""
    response = analyst.post("/api/v1/definitions", data=upload("parallel_review.bpmn"))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.fixture
def start_case(parallel_review):
    def start(client: ApiClient, project_name: str = "琶洲测试项目", **extra):
        body = {
            "definition_key": "parallel_review",
            "project_name": project_name,
            "data": {},
            **extra,
        }
        response = client.post("/api/v1/cases", json=body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return start


def task_of(case: dict, department: str) -> dict:
    return next(task for task in case["open_tasks"] if task["department"] == department)
