"""Outbound webhooks end to end: outbox rows from engine steps, a real HTTP receiver on
127.0.0.1 that fails at first, retries with backoff, signatures, ordering, dead letters."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

import webhooks
from engine.errors import Conflict, Forbidden, InvalidInput
from engine.models import WebhookDelivery
from engine.services import cases, subscriptions
from engine.services.actors import SYSTEM
from engine.worker import WorkerOptions, run_due_jobs
from tests.factories import (
    complete,
    delivery_being_sent,
    deploy,
    officer,
    start,
    task_by_element,
)

FAST_RETRIES = WorkerOptions(
    policy=webhooks.RetryPolicy(max_attempts=6, base_seconds=1, cap_seconds=8, jitter=0.2)
)


class Receiver:
    """A webhook receiver on 127.0.0.1 answering ``fail_first`` requests with an error."""

    def __init__(self, fail_first: int = 0, fail_status: int = 503):
        self.requests: list[tuple[dict, bytes, int]] = []
        self.fail_first = fail_first
        self.fail_status = fail_status
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server API
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver.lock:
                    failing = len(receiver.requests) < receiver.fail_first
                    status = receiver.fail_status if failing else 204
                    receiver.requests.append((dict(self.headers.items()), body, status))
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/pazhou"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def accepted(self) -> list[tuple[dict, bytes]]:
        return [(h, b) for h, b, status in self.requests if status < 300]


def drain(db, now: datetime, options=FAST_RETRIES, rounds: int = 40) -> datetime:
    """Run the worker, jumping the clock over retry delays, until nothing is pending."""
    for _ in range(rounds):
        run_due_jobs(db, now, 50, options=options)
        with db.read() as session:
            pending = session.scalars(
                select(WebhookDelivery).where(WebhookDelivery.status == "pending")
            ).all()
        if not pending:
            return now
        now = max(now, min(d.next_attempt_at for d in pending)) + timedelta(seconds=1)
    raise AssertionError("deliveries still pending")


def deliveries(db) -> list[WebhookDelivery]:
    with db.read() as session:
        return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def test_every_event_arrives_signed_in_case_order_despite_early_failures(db, now):
    deploy(db, now, "parallel_review.bpmn")
    with Receiver(fail_first=3) as receiver:
        with db.write() as session:
            _, secret = subscriptions.create_subscription(
                session, SYSTEM, receiver.url, list(webhooks.EVENT_TYPES), now
            )
        first = start(db, now, "parallel_review", project_name="一号项目")
        second = start(db, now, "parallel_review", project_name="二号项目")
        complete(db, task_by_element(db, first, "Task_fire_review").id, now, officer("fire"))
        with pytest.raises(RuntimeError), db.write() as session:
            cases.start_case(session, SYSTEM, "parallel_review", "回滚项目", {}, now)
            raise RuntimeError("the step fails after the outbox rows were added")

        drain(db, now)

    outbox = deliveries(db)
    assert {d.case_id for d in outbox} == {first, second}
    assert all(d.status == "delivered" and d.last_status_code == 204 for d in outbox)
    assert all(d.last_latency_ms is not None and d.last_latency_ms > 0 for d in outbox)
    assert sum(d.attempts for d in outbox) == len(outbox) + 3

    received = {}
    for headers, body in receiver.accepted():
        event = webhooks.verify(secret, headers, body)
        received.setdefault(headers["webhook-id"], event)
        assert "回滚项目" not in body.decode()
    assert set(received) == {d.msg_id for d in outbox}
    for headers, body, _ in receiver.requests:
        with pytest.raises(webhooks.InvalidSignature):
            webhooks.verify(webhooks.generate_secret(), headers, body)

    types = [received[d.msg_id]["type"] for d in outbox if d.case_id == first]
    assert types[0] == "case.started" and "task.completed" in types
    for case_id in (first, second):
        sent = [d.msg_id for d in outbox if d.case_id == case_id]
        arrival = list(
            dict.fromkeys(
                h["webhook-id"] for h, _ in receiver.accepted() if h["webhook-id"] in set(sent)
            )
        )
        assert arrival == sent  # per-case order kept across retries


def test_failing_receiver_goes_dead_and_redeliver_sends_again(db, now):
    deploy(db, now, "parallel_review.bpmn")
    options = WorkerOptions(policy=webhooks.RetryPolicy(max_attempts=3, base_seconds=1))
    with Receiver(fail_first=3, fail_status=500) as receiver:
        with db.write() as session:
            sub, secret = subscriptions.create_subscription(
                session, SYSTEM, receiver.url, ["case.started"], now
            )
        start(db, now, "parallel_review")
        later = drain(db, now, options)
        (dead,) = deliveries(db)
        assert (dead.status, dead.attempts, dead.last_status_code) == ("dead", 3, 500)

        with db.read() as session:
            listed, _ = subscriptions.list_deliveries(session, SYSTEM, sub.id, status="dead")
        assert [d.id for d in listed] == [dead.id]
        with db.write() as session:
            subscriptions.redeliver(session, SYSTEM, dead.id, later)
        drain(db, later, options)
    (delivered,) = deliveries(db)
    assert (delivered.status, delivered.attempts) == ("delivered", 1)
    ids = [h["webhook-id"] for h, _, _ in receiver.requests]
    assert len(ids) == 4 and len(set(ids)) == 1  # same webhook-id, receivers can deduplicate
    assert webhooks.verify(secret, *receiver.accepted()[0])["type"] == "case.started"


def test_a_delivery_a_worker_is_sending_is_not_redelivered_under_it(db, now):
    """Redelivery resets the lease; while a worker holds it, a second worker would send the
    same message at the same moment. The admin is told to wait; afterwards it works."""
    delivery_id = delivery_being_sent(db, now, lease_seconds=60)
    with db.write() as session, pytest.raises(Conflict):
        subscriptions.redeliver(session, SYSTEM, delivery_id, now + timedelta(seconds=5))
    (row,) = deliveries(db)
    assert row.locked_until is not None  # the worker's lease is untouched
    with db.write() as session:  # the lease has run out: the worker is gone
        subscriptions.redeliver(session, SYSTEM, delivery_id, now + timedelta(seconds=61))
    (row,) = deliveries(db)
    assert (row.status, row.attempts, row.locked_until) == ("pending", 0, None)


def test_client_errors_are_not_retried(db, now):
    deploy(db, now, "parallel_review.bpmn")
    with Receiver(fail_first=1, fail_status=410) as receiver:
        with db.write() as session:
            subscriptions.create_subscription(session, SYSTEM, receiver.url, ["case.started"], now)
        start(db, now, "parallel_review")
        drain(db, now)
    (row,) = deliveries(db)
    assert (row.status, row.attempts, row.last_status_code) == ("dead", 1, 410)


def test_deleted_subscription_stops_delivering_and_only_admins_manage(db, now):
    deploy(db, now, "parallel_review.bpmn")
    with db.write() as session, pytest.raises(Forbidden):
        subscriptions.create_subscription(
            session, officer("fire"), "http://x.test/", ["case.started"], now
        )
    with db.write() as session, pytest.raises(InvalidInput) as invalid:
        subscriptions.create_subscription(session, SYSTEM, "ftp://x.test/", ["case.bogus"], now)
    assert set(invalid.value.errors) == {"url", "events"}
    with db.write() as session:
        sub, secret = subscriptions.create_subscription(
            session, SYSTEM, "http://127.0.0.1:9/", ["case.started"], now, secret=None
        )
        assert secret.startswith("whsec_")
    start(db, now, "parallel_review")
    with db.write() as session:
        subscriptions.delete_subscription(session, SYSTEM, sub.id)
    start(db, now, "parallel_review")
    (row,) = deliveries(db)
    assert row.status == "dead"
    with db.read() as session:
        assert subscriptions.list_subscriptions(session, SYSTEM) == []


def test_webhook_body_is_the_standard_envelope(db, now):
    deploy(db, now, "parallel_review.bpmn")
    with Receiver() as receiver:
        with db.write() as session:
            _, secret = subscriptions.create_subscription(
                session, SYSTEM, receiver.url, ["task.created"], now
            )
        case_id = start(db, now, "parallel_review")
        drain(db, now)
    bodies = [webhooks.verify(secret, h, b) for h, b in receiver.accepted()]
    assert {b["type"] for b in bodies} == {"task.created"}
    assert {b["data"]["case_id"] for b in bodies} == {case_id}
    assert {b["data"]["department"] for b in bodies} == {"fire", "civil_defense"}
    assert all(json.loads(json.dumps(b))["timestamp"].endswith("Z") for b in bodies)
    assert datetime.fromisoformat(bodies[0]["timestamp"].replace("Z", "+00:00")) == now.astimezone(
        UTC
    )
