"""Hostile and malformed input gets a clear 4xx problem, and the server keeps serving."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

from engine import create_app
from engine.clock import FixedClock
from engine.services import users
from tests.conftest import fixture_bytes

pytestmark = pytest.mark.timeout(60)
PASSWORD = "correct-horse-battery"
PROBLEM = "application/problem+json"

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D" '
    'targetNamespace="t">\n'
)


def _script_process(key: str, script: str) -> bytes:
    return (
        HEAD
        + f"""  <bpmn:process id="{key}" isExecutable="true">
    <bpmn:laneSet id="LS"><bpmn:lane id="L" name="fire">
      <bpmn:flowNodeRef>S</bpmn:flowNodeRef><bpmn:flowNodeRef>T</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>U</bpmn:flowNodeRef><bpmn:flowNodeRef>E</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="S"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="T"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
    <bpmn:userTask id="U"><bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="E"><bpmn:incoming>F3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="T" />
    <bpmn:sequenceFlow id="F2" sourceRef="T" targetRef="U" />
    <bpmn:sequenceFlow id="F3" sourceRef="U" targetRef="E" />
  </bpmn:process>
</bpmn:definitions>"""
    ).encode()


@pytest.fixture
def server(tmp_path, now):
    app = create_app(
        {"DATABASE_URL": f"sqlite:///{tmp_path / 'bad.sqlite3'}", "CLOCK": FixedClock(now)}
    )
    database = app.extensions["pazhou"]["db"]
    with database.write() as session:
        users.seed_departments(session)
        users.create_user(session, "admin.bad", PASSWORD, "admin", now=now)
    client = app.test_client()
    token = client.post(
        "/api/v1/auth/token", json={"username": "admin.bad", "password": PASSWORD}
    ).get_json()["token"]
    yield app, client, {"Authorization": f"Bearer {token}"}
    database.dispose()


def _problem(response, *statuses: int) -> dict:
    assert response.status_code in statuses, (response.status_code, response.get_data()[:300])
    assert response.mimetype == PROBLEM
    text = response.get_data(as_text=True)
    assert "Traceback" not in text
    return response.get_json()


def _still_serving(client, headers) -> None:
    assert client.get("/api/v1/health").status_code == 200
    assert client.get("/api/v1/cases", headers=headers).status_code == 200


def _deploy(client, headers, name: str, content: bytes):
    return client.post(
        "/api/v1/definitions",
        data={"files[]": [(io.BytesIO(content), name)]},
        headers=headers,
    )


def test_xxe_and_billion_laughs_are_rejected_without_expanding(server):
    _, client, headers = server
    xxe = (
        b'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        + fixture_bytes("parallel_review.bpmn")
        .split(b"?>", 1)[1]
        .replace(b'name="\xe6\xb6\x88\xe9\x98\xb2\xe5\xae\xa1\xe6\x9f\xa5"', b'name="&xxe;"')
    )
    body = _problem(_deploy(client, headers, "xxe.bpmn", xxe), 400, 422)
    assert "root:" not in str(body)
    laughs = b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    for i in range(1, 10):
        prev = b"&lol;" if i == 1 else f"&lol{i - 1};".encode()
        laughs += f'<!ENTITY lol{i} "'.encode() + prev * 10 + b'">'
    laughs += b']>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol9;</bpmn:definitions>'
    started = time.monotonic()
    _problem(_deploy(client, headers, "lol.bpmn", laughs), 400, 422)
    assert time.monotonic() - started < 5
    _still_serving(client, headers)


def test_a_50_mb_upload_is_refused_with_413(server):
    _, client, headers = server
    huge = b"<!-- " + b"x" * (50 * 1024 * 1024) + b" -->"
    _problem(_deploy(client, headers, "huge.bpmn", huge), 413)
    _still_serving(client, headers)


@pytest.mark.parametrize(
    "script",
    [
        "__import__('os').system('touch /tmp/pazhou_pwned')",
        "x = ().__class__.__bases__[0].__subclasses__()",
        "x = open('/etc/passwd').read()",
        "import os",
        "x = [c for c in ().__class__.__mro__[1].__subclasses__() if c.__name__ == 'Popen']",
        "x = getattr(__builtins__, 'eval')('1')",
    ],
)
def test_script_sandbox_escapes_are_refused(server, script):
    _, client, headers = server
    marker = Path("/tmp/pazhou_pwned")
    marker.unlink(missing_ok=True)
    response = _deploy(client, headers, "escape.bpmn", _script_process("escape", script))
    if response.status_code == 201:  # accepted at deploy time: must fail when it runs
        started = client.post(
            "/api/v1/cases",
            json={"definition_key": "escape", "project_name": "逃逸", "data": {}},
            headers=headers,
        )
        _problem(started, 409, 422)
    else:
        _problem(response, 422)
    assert not marker.exists()
    _still_serving(client, headers)


def test_an_endless_script_is_stopped_with_a_4xx(server):
    _, client, headers = server
    assert _deploy(
        client, headers, "endless.bpmn", fixture_bytes("endless_script.bpmn")
    ).status_code in (201, 422)
    loop = _script_process("spin", "n = 0\nwhile True:\n    n = n + 1")
    response = _deploy(client, headers, "spin.bpmn", loop)
    if response.status_code == 201:
        started = time.monotonic()
        response = client.post(
            "/api/v1/cases",
            json={"definition_key": "spin", "project_name": "死循环", "data": {}},
            headers=headers,
        )
        assert time.monotonic() - started < 10
    _problem(response, 409, 422)
    _still_serving(client, headers)


@pytest.mark.parametrize(
    "data, content_type, statuses",
    [
        ("{not json", "application/json", (400,)),
        ('{"definition_key": ', "application/json", (400,)),
        ("[1, 2, 3]", "application/json", (400, 422)),
        ('"just a string"', "application/json", (400, 422)),
        ("definition_key=x", "text/plain", (415, 422)),
        ("<xml/>", "application/xml", (415, 422)),
        (b"\xff\xfe\x00garbage", "application/json", (400,)),
    ],
)
def test_malformed_bodies_and_wrong_content_types(server, data, content_type, statuses):
    _, client, headers = server
    response = client.post("/api/v1/cases", data=data, content_type=content_type, headers=headers)
    _problem(response, *statuses)
    _still_serving(client, headers)


def test_oversized_json_body_is_413(server):
    app, client, headers = server
    body = '{"definition_key": "x", "project_name": "' + "长" * (8 * 1024 * 1024) + '", "data": {}}'
    response = client.post(
        "/api/v1/cases", data=body, content_type="application/json", headers=headers
    )
    _problem(response, 413, 422)
    deep = "[" * 100_000 + "]" * 100_000
    response = client.post(
        "/api/v1/tasks/1/complete",
        data='{"data": ' + deep + "}",
        content_type="application/json",
        headers=headers,
    )
    _problem(response, 400, 404, 422)
    _still_serving(client, headers)
