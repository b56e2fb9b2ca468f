"""Unit tests for the `webhooks` package against a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import random
import socket
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from standardwebhooks import Webhook

# until the project is installed (pip install -e .) or a root conftest adds it
import webhooks  # noqa: E402
from webhooks import (  # noqa: E402
    EVENT_TYPES,
    DeliveryOutcome,
    InvalidPayload,
    InvalidSignature,
    RetryPolicy,
    build_body,
    deliver,
    generate_secret,
    sign,
    validate_url,
    verify,
)

EVENT_TS = datetime(2026, 3, 2, 9, 30, 0, 123456, tzinfo=timezone(timedelta(hours=8)))
DATA = {
    "case_id": 42,
    "case_number": "HZ-2026-000123",
    "stage": "联合验收",
    "project": "琶洲某项目",
}


class Receiver:
    """Records every request; answers with scripted statuses per path."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.flaky_failures = 2
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with receiver.lock:
                    receiver.requests.append(
                        {"path": self.path, "headers": dict(self.headers.items()), "body": body}
                    )
                    n_path = sum(1 for r in receiver.requests if r["path"] == self.path)
                if self.path == "/flaky":
                    status = 503 if n_path <= receiver.flaky_failures else 204
                    self._reply(status, b"" if status == 204 else b"try later")
                elif self.path == "/bad":
                    self._reply(400, b'{"error":"bad request"}')
                elif self.path == "/redirect":
                    self.send_response(302)
                    self.send_header("Location", "http://127.0.0.1:1/elsewhere")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif self.path == "/big":
                    self._reply(500, ("错" * 5000).encode("utf-8"), "text/plain; charset=utf-8")
                elif self.path == "/slow":
                    time.sleep(1.0)
                    self._reply(204, b"")
                else:
                    self._reply(404, b"not found")

            def _reply(self, status, payload, ctype="application/json"):
                self.send_response(status)
                if status != 204:
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if status != 204:
                    self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def for_path(self, path: str) -> list[dict]:
        with self.lock:
            return [r for r in self.requests if r["path"] == path]


@pytest.fixture
def receiver():
    r = Receiver()
    r.thread.start()
    try:
        yield r
    finally:
        r.server.shutdown()
        r.server.server_close()
        r.thread.join(timeout=5)


@pytest.fixture
def closed_port() -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# --- delivery + retry loop ---------------------------------------------------------------


def test_retry_loop_until_ok_and_signature_verifies_independently(receiver):
    secret = generate_secret()
    policy = RetryPolicy()
    rng = random.Random(7)
    url = receiver.base + "/flaky"
    outcomes: list[DeliveryOutcome] = []
    delays: list[float] = []
    attempt = 1
    with httpx.Client() as client:
        while True:
            outcome = deliver(
                url, secret, "msg_01", "case.stage_changed", EVENT_TS, DATA, client=client
            )
            outcomes.append(outcome)
            if outcome.ok:
                break
            assert policy.should_retry(outcome, attempt)
            delays.append(policy.next_delay(attempt, rng))  # not slept: tests stay fast
            attempt += 1

    assert [o.status_code for o in outcomes] == [503, 503, 204]
    assert [o.retryable for o in outcomes] == [True, True, False]
    assert outcomes[0].error == "HTTP 503" and outcomes[0].response_excerpt == "try later"
    assert outcomes[-1].error is None and outcomes[-1].latency_ms > 0
    assert not policy.is_retryable(outcomes[-1])
    assert len(delays) == 2 and delays[0] < delays[1]

    got = receiver.for_path("/flaky")
    assert len(got) == 3  # the receiver saw every attempt
    assert {r["headers"]["webhook-id"] for r in got} == {"msg_01"}
    assert len({r["body"] for r in got}) == 1  # byte-identical body on every retry

    final = got[-1]
    # independent check with the reference library, not our verify()
    payload = Webhook(secret).verify(final["body"], final["headers"])
    assert payload == {
        "type": "case.stage_changed",
        "timestamp": "2026-03-02T01:30:00.123456Z",
        "data": DATA,
    }
    assert {k.lower(): v for k, v in final["headers"].items()}["content-type"] == "application/json"
    assert verify(secret, final["headers"], final["body"]) == payload

    tampered = final["body"].replace("联合验收".encode(), "竣工验收".encode())
    assert tampered != final["body"]
    with pytest.raises(InvalidSignature):
        verify(secret, final["headers"], tampered)
    with pytest.raises(InvalidSignature):
        verify(generate_secret(), final["headers"], final["body"])


def test_connection_refused_is_retryable_outcome(closed_port):
    outcome = deliver(
        f"http://127.0.0.1:{closed_port}/hook",
        generate_secret(),
        "msg_02",
        "task.created",
        EVENT_TS,
        {"task_id": 1},
        timeout=2.0,
    )
    assert outcome.ok is False
    assert outcome.status_code is None
    assert outcome.retryable is True
    assert outcome.error and "Connect" in outcome.error
    assert RetryPolicy().is_retryable(outcome)


def test_timeout_is_retryable_outcome(receiver):
    outcome = deliver(
        receiver.base + "/slow", generate_secret(), "m", "task.created", EVENT_TS, {}, timeout=0.2
    )
    assert not outcome.ok and outcome.status_code is None and outcome.retryable
    assert "Timeout" in outcome.error


def test_400_is_final_failure(receiver):
    outcome = deliver(
        receiver.base + "/bad", generate_secret(), "m", "case.completed", EVENT_TS, {}
    )
    assert outcome == DeliveryOutcome(
        ok=False,
        status_code=400,
        error="HTTP 400",
        latency_ms=outcome.latency_ms,
        retryable=False,
        response_excerpt='{"error":"bad request"}',
    )
    policy = RetryPolicy()
    assert not policy.is_retryable(outcome)
    assert not policy.should_retry(outcome, 1)


def test_redirect_not_followed_and_final(receiver):
    outcome = deliver(
        receiver.base + "/redirect", generate_secret(), "m", "case.started", EVENT_TS, {}
    )
    assert outcome.status_code == 302 and not outcome.ok and not outcome.retryable
    assert len(receiver.for_path("/redirect")) == 1


def test_response_excerpt_is_truncated_to_500_chars(receiver):
    outcome = deliver(receiver.base + "/big", generate_secret(), "m", "case.started", EVENT_TS, {})
    assert outcome.status_code == 500 and outcome.retryable
    assert outcome.response_excerpt == "错" * 500


@pytest.mark.parametrize(
    "status,retryable",
    [
        (500, True),
        (502, True),
        (503, True),
        (408, True),
        (429, True),
        (400, False),
        (401, False),
        (404, False),
        (410, False),
        (422, False),
        (301, False),
    ],
)
def test_status_classification(status, retryable):
    o = DeliveryOutcome(
        ok=False, status_code=status, error=f"HTTP {status}", latency_ms=1.0, retryable=retryable
    )
    assert RetryPolicy().is_retryable(o) is retryable
    assert webhooks.is_retryable_status(status) is retryable


def test_should_retry_respects_max_attempts():
    policy = RetryPolicy(max_attempts=3)
    o = DeliveryOutcome(ok=False, status_code=503, error="HTTP 503", latency_ms=1.0, retryable=True)
    assert policy.should_retry(o, 1) and policy.should_retry(o, 2)
    assert not policy.should_retry(o, 3)


# --- backoff -------------------------------------------------------------------------------


class FixedRng:
    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


def test_backoff_grows_capped_and_jitter_in_range():
    policy = RetryPolicy(max_attempts=8, base_seconds=10, cap_seconds=3600, jitter=0.2)
    # without jitter (rng -> 0): 10, 20, 40, ... capped at 3600
    exact = [policy.next_delay(n, FixedRng(0.0)) for n in range(1, 12)]
    assert exact[:9] == [10, 20, 40, 80, 160, 320, 640, 1280, 2560]
    assert exact[9:] == [3600, 3600]
    # maximum jitter (rng -> 1): reduced by up to 20 %
    assert policy.next_delay(1, FixedRng(0.999999)) == pytest.approx(8.0, abs=1e-4)

    rng = random.Random(12345)
    for _ in range(200):
        delays = [policy.next_delay(n, rng) for n in range(1, policy.max_attempts + 1)]
        assert all(a < b for a, b in zip(delays, delays[1:], strict=False))  # grows
        for n, d in enumerate(delays, start=1):
            raw = min(3600, 10 * 2 ** (n - 1))
            assert raw * 0.8 <= d <= raw <= 3600
    # far beyond the budget it still stays under the cap (no overflow)
    assert 3600 * 0.8 <= policy.next_delay(10_000, rng) <= 3600


def test_retry_policy_validates():
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(jitter=1.5)
    with pytest.raises(ValueError):
        RetryPolicy().next_delay(0, FixedRng(0))


# --- signing / verification ----------------------------------------------------------------


def test_generate_secret_format_and_uniqueness():
    s1, s2 = generate_secret(), generate_secret()
    assert s1 != s2 and s1.startswith("whsec_")
    assert len(base64.b64decode(s1.removeprefix("whsec_"))) == 32
    Webhook(s1)  # accepted by the reference implementation


def test_sign_headers_and_timezone_handling():
    secret = generate_secret()
    body = build_body("task.completed", EVENT_TS, {"task_id": 7})
    now_cst = datetime.now(timezone(timedelta(hours=8)))  # Asia/Shanghai offset
    headers = sign(secret, "msg_x", now_cst, body)
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature", "content-type"}
    assert headers["content-type"] == "application/json"
    assert headers["webhook-timestamp"] == str(int(now_cst.timestamp()))
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(body, headers)["data"] == {"task_id": 7}
    # naive datetimes are UTC
    naive = datetime.now(UTC).replace(tzinfo=None)
    assert sign(secret, "m", naive, body)["webhook-timestamp"] == str(
        int(naive.replace(tzinfo=UTC).timestamp())
    )


def test_verify_rejects_old_missing_and_malformed():
    secret = generate_secret()
    body = build_body("case.started", EVENT_TS, {"case_id": 1})
    old = sign(secret, "m", datetime.now(UTC) - timedelta(minutes=10), body)
    with pytest.raises(InvalidSignature, match="too old"):
        verify(secret, old, body)
    good = sign(secret, "m", datetime.now(UTC), body)
    assert verify(secret, good, body)["type"] == "case.started"
    for missing in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        with pytest.raises(InvalidSignature):
            verify(secret, {k: v for k, v in good.items() if k != missing}, body)
    for bad_sig in ("v1", "v1,@@@notbase64", "v2,abc", "", "v1,a,b"):
        with pytest.raises(InvalidSignature):
            verify(secret, {**good, "webhook-signature": bad_sig}, body)
    with pytest.raises(InvalidSignature):
        verify(secret, {**good, "webhook-timestamp": "nan"}, body)
    with pytest.raises(InvalidSignature):
        verify(secret, good, b"\xff\xfe")
    # header names are case-insensitive
    assert verify(secret, {k.title(): v for k, v in good.items()}, body)["data"] == {"case_id": 1}


def test_verify_valid_signature_but_not_an_object():
    secret = generate_secret()
    for body in (b"[1,2]", b"not json"):
        headers = sign(secret, "m", datetime.now(UTC), body)
        with pytest.raises(InvalidPayload):
            verify(secret, headers, body)


def test_bad_secret_is_value_error():
    with pytest.raises(ValueError):
        sign("", "m", datetime.now(UTC), b"{}")
    with pytest.raises(ValueError):
        sign("whsec_", "m", datetime.now(UTC), b"{}")


# --- payload -------------------------------------------------------------------------------


def test_build_body_is_compact_utf8_and_stable():
    body = build_body("rectification.issued", EVENT_TS, {"z": 1, "a": {"y": "整改", "b": 2}})
    assert (
        body
        == (
            '{"data":{"a":{"b":2,"y":"整改"},"z":1},'
            '"timestamp":"2026-03-02T01:30:00.123456Z","type":"rectification.issued"}'
        ).encode()
    )
    assert (
        build_body("rectification.issued", EVENT_TS, {"a": {"b": 2, "y": "整改"}, "z": 1}) == body
    )
    assert json.loads(body)["type"] == "rectification.issued"


def test_build_body_rejects_unknown_event_and_bad_data():
    assert len(EVENT_TYPES) == 8 and "task.sla_breached" in EVENT_TYPES
    with pytest.raises(ValueError):
        build_body("case.exploded", EVENT_TS, {})
    with pytest.raises(TypeError):
        build_body("case.started", EVENT_TS, [1, 2])
    with pytest.raises(ValueError):
        build_body("case.started", EVENT_TS, {"x": float("nan")})


# --- URL validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/x",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "127.0.0.1:8080/hook",
        "http://",
        "https://user:pw@127.0.0.1/hook",
        "http://user@127.0.0.1/hook",
        "http://127.0.0.1:99999/hook",
        "http://127.0.0.1/ho ok",
        "",
    ],
)
def test_validate_url_rejects(url):
    with pytest.raises(ValueError):
        validate_url(url)
    with pytest.raises(ValueError):
        deliver(url, generate_secret(), "m", "case.started", EVENT_TS, {})


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "HTTPS://127.0.0.1/hook?x=1"])
def test_validate_url_accepts(url):
    assert validate_url(url) == url


def test_package_does_not_import_engine():
    import pathlib

    for path in pathlib.Path(webhooks.__file__).parent.glob("*.py"):
        src = path.read_text(encoding="utf-8")
        assert "import engine" not in src and "from engine" not in src, path
