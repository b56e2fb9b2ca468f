"""Crash safety of a real server killed with SIGKILL, and concurrent claims/completions on PostgreSQL."""

from __future__ import annotations

import http.client
import os
import random
import signal
import threading
import time
from collections import Counter, defaultdict

import pytest
from sqlalchemy import select

from benchmarks import setup_data
from engine.db import Database
from engine.errors import Conflict, TaskNotReady
from engine.models import Case, Event, Task
from engine.services import cases, tasks
from engine.services.actors import SYSTEM, Actor

pytestmark = pytest.mark.timeout(150)

CRASH_CASES = 8
TARGET_ACKS = 200


def _kill(server: setup_data.Server) -> None:
    os.killpg(server.proc.pid, signal.SIGKILL)
    server.proc.wait(timeout=10)


def test_sigkill_during_200_completions_loses_no_acknowledged_one(tmp_path):
    url = f"sqlite:///{tmp_path / 'crash.sqlite3'}"
    seed = setup_data.seed(url, fixtures=("rectification_loop.bpmn",))
    db = Database(url)
    with db.write() as session:
        case_ids = [
            cases.start_case(
                session, SYSTEM, "rectification_loop", f"崩溃{i}", {}, setup_data.NOW
            ).id
            for i in range(CRASH_CASES)
        ]
    rng = random.Random(20260302)
    acked: dict[int, int] = {}  # task id -> nonce of the acknowledged completion
    attempted: dict[int, set[int]] = defaultdict(set)  # task id -> nonces sent
    nonce = iter(range(1, 10**9))
    lock = threading.Lock()
    kills = 0
    problems: list[BaseException] = []
    deadline = time.monotonic() + 100

    def drive(client: setup_data.Client, my_cases: list[int], stop: threading.Event):
        while not stop.is_set():
            for case_id in my_cases:
                if stop.is_set() or len(acked) >= TARGET_ACKS:
                    return
                try:
                    status, body = client.get(f"/api/v1/cases/{case_id}")
                    assert status == 200, body
                    task_id = body["open_tasks"][0]["id"]
                    with lock:
                        n = next(nonce)
                        attempted[task_id].add(n)
                    status, body = client.post(
                        f"/api/v1/tasks/{task_id}/complete", {"data": {"passed": False, "nonce": n}}
                    )
                except (OSError, http.client.HTTPException):
                    return  # the server died under us: outcome unknown, which is allowed
                except BaseException as exc:
                    problems.append(exc)
                    return
                with lock:
                    if status == 200:
                        if task_id in acked:
                            problems.append(AssertionError(f"task {task_id} acknowledged twice"))
                        acked[task_id] = n
                    elif status != 409:  # 409: lost a race with the other client thread
                        problems.append(AssertionError(f"complete -> {status} {body}"))

    while len(acked) < TARGET_ACKS:
        assert not problems, problems[:3]
        assert time.monotonic() < deadline, f"only {len(acked)} completions acknowledged in time"
        with setup_data.Server(url, workers=2, instance=str(tmp_path)) as server:
            client = setup_data.login(server.port, seed.users["quality_safety"])
            stop = threading.Event()
            threads = [
                threading.Thread(target=drive, args=(client, case_ids[i::2], stop))
                for i in range(2)
            ]
            for thread in threads:
                thread.start()
            # Let a random number of completions through, then kill at a random instant
            # (mid-request, mid-commit or between requests: whatever the clock hits).
            threshold = len(acked) + rng.randint(15, 45)
            while (
                len(acked) < min(threshold, TARGET_ACKS)
                and not problems
                and any(t.is_alive() for t in threads)
                and time.monotonic() < deadline
            ):
                time.sleep(0.005)
            time.sleep(rng.uniform(0, 0.03))
            if len(acked) < TARGET_ACKS:
                _kill(server)
                kills += 1
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
    assert not problems, problems[:3]
    assert kills >= 3

    # After a restart every acknowledged completion is there, once, and no case is stuck.
    with setup_data.Server(url, workers=1, instance=str(tmp_path)) as server:
        client = setup_data.login(server.port, seed.users["quality_safety"])
        for case_id in case_ids:
            status, body = client.get(f"/api/v1/cases/{case_id}")
            assert status == 200 and body["status"] == "running" and len(body["open_tasks"]) == 1
            task_id = body["open_tasks"][0]["id"]
            status, body = client.post(
                f"/api/v1/tasks/{task_id}/complete", {"data": {"passed": False}}
            )
            assert status == 200, body
    db.dispose()
    db = Database(url)
    with db.read() as session:
        for task_id, n in acked.items():
            row = session.get(Task, task_id)
            assert row.status == "completed" and row.data["nonce"] == n, (task_id, row.data)
        for case_id in case_ids:
            case = session.get(Case, case_id)
            rows = list(session.scalars(select(Task).where(Task.case_id == case_id)))
            done = [row for row in rows if row.status == "completed"]
            events = list(session.scalars(select(Event).where(Event.case_id == case_id)))
            per_task = Counter(e.payload["task_id"] for e in events if e.type == "task.completed")
            assert all(count == 1 for count in per_task.values())
            assert set(per_task) == {row.id for row in done}
            assert [row.status for row in rows].count("ready") == 1
            # The workflow counted exactly the completions the database holds.
            assert cases.case_data(session, case)["rounds"] == len(done)
            assert cases.verify_audit(session, case_id) == (len(events), None)
            assert case.event_count == len(events)
        for task_id, sent in attempted.items():
            row = session.get(Task, task_id)
            if row.status == "completed" and row.data and "nonce" in row.data:
                assert row.data["nonce"] in sent
    db.dispose()


# -- concurrency on PostgreSQL -------------------------------------------------------------------

THREADS = 20
CONCURRENT_CASES = 12


def test_twenty_threads_claim_and_complete_overlapping_tasks(tmp_path):
    from tests.conftest import create_pg_database

    url, drop = create_pg_database()
    try:
        _concurrency(url)
    finally:
        drop()


def _concurrency(url: str) -> None:
    setup_data.seed(url, fixtures=("parallel_review.bpmn",))
    db = Database(url, pool_size=THREADS)
    with db.write() as session:
        case_ids = [
            cases.start_case(session, SYSTEM, "parallel_review", f"并发{i}", {}, setup_data.NOW).id
            for i in range(CONCURRENT_CASES)
        ]
    with db.read() as session:
        work = [
            (row.id, row.department)
            for row in session.scalars(select(Task).where(Task.case_id.in_(case_ids)))
        ]
    assert len(work) == 2 * CONCURRENT_CASES
    actors = [
        Actor(f"officer{i}", "officer", "fire" if i % 2 == 0 else "civil_defense")
        for i in range(THREADS)
    ]
    barrier = threading.Barrier(THREADS)
    claims: dict[int, list[str]] = defaultdict(list)
    completions: dict[int, list[str]] = defaultdict(list)
    failures: list[BaseException] = []
    record_lock = threading.Lock()

    def worker(index: int):
        actor = actors[index]
        rng = random.Random(index)
        mine = [task_id for task_id, department in work if department == actor.department]
        rng.shuffle(mine)
        barrier.wait()
        for task_id in mine:
            try:
                if rng.random() < 0.5:
                    with db.write() as session:
                        tasks.claim(session, actor, task_id)
                    with record_lock:
                        claims[task_id].append(actor.username)
                with db.write() as session:
                    tasks.complete(session, actor, task_id, {}, setup_data.NOW)
                with record_lock:
                    completions[task_id].append(actor.username)
            except (Conflict, TaskNotReady):
                pass
            except BaseException as exc:  # deadlock, serialization failure, anything else
                failures.append(exc)
                return

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not any(thread.is_alive() for thread in threads), "threads hung (deadlock?)"
    assert not failures, failures[:3]
    assert time.monotonic() - started < 90

    # Exactly one winner per task; a claim holds against everyone else.
    assert {task_id for task_id, _ in work} == set(completions)
    for task_id, winners in completions.items():
        assert len(winners) == 1, (task_id, winners)
        assert len(set(claims[task_id])) <= 1
        if claims[task_id]:
            assert winners == claims[task_id][:1]
    # No lost update: both parallel branches of every case reached the join exactly once.
    with db.read() as session:
        for case_id in case_ids:
            rows = list(session.scalars(select(Task).where(Task.case_id == case_id)))
            by_department = Counter((row.department, row.status) for row in rows)
            assert by_department == {
                ("fire", "completed"): 1,
                ("civil_defense", "completed"): 1,
                ("enterprise", "ready"): 1,
            }, by_department
            for row in rows:
                if row.status == "completed":
                    assert row.completed_by == completions[row.id][0]
            events = list(session.scalars(select(Event).where(Event.case_id == case_id)))
            assert cases.verify_audit(session, case_id) == (len(events), None)
            assert Counter(e.type for e in events)["task.completed"] == 2
    db.dispose()
