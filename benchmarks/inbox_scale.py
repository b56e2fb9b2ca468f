"""Figure 3: inbox scale.

p95 of the department inbox query (engine.services.tasks.list_tasks as an officer of `fire`:
open tasks of its department, first page of 20 sorted by due date) with 1,000,000 open tasks in
the table divided by the p95 with 10,000, on SQLite and on PostgreSQL.

Rows are generated with bulk inserts (Core executemany on SQLite, COPY on PostgreSQL), spread
over the 12 departments and the enterprise lane, ~10% without a due date, ~20% claimed, and
referencing a few bulk-inserted cases. The two sizes live in two databases, both ANALYZEd,
and are queried in alternating blocks so that the machine's drift hits both alike.
"""

from __future__ import annotations

import random
import time
from datetime import timedelta

from sqlalchemy import insert, text

from . import setup_data

NAME = "inbox_scale"
SMALL = 10_000
LARGE = 1_000_000
CASES = 50
CHUNK = 50_000
BLOCK = 20
BLOCK_WARMUP = 5


def _departments() -> list[str]:
    from engine.departments import DEPARTMENTS, ENTERPRISE

    return [*DEPARTMENTS, ENTERPRISE]


def _make_cases(db) -> list[int]:
    from engine.models import Case
    from engine.services import cases
    from engine.services.actors import SYSTEM

    with db.write() as session:
        first = cases.start_case(session, SYSTEM, "rectification_loop", "基准", {}, setup_data.NOW)
        rows = [
            {
                "case_number": f"BENCH-{i:06d}",
                "definition_id": first.definition_id,
                "spec_refs": {},
                "project_name": f"基准项目{i}",
                "status": "running",
                "started_by": "bench",
                "started_at": setup_data.NOW,
                "lock_version": 0,
                "last_event_hash": "",
                "event_count": 0,
                "summary": {},
            }
            for i in range(CASES)
        ]
        session.execute(insert(Case), rows)
        session.flush()
        return list(session.scalars(text("SELECT id FROM case_instance ORDER BY id")))


def _rows(start: int, stop: int, case_ids: list[int], rng: random.Random):
    departments = _departments()
    base = setup_data.NOW
    for i in range(start, stop):
        due = None if rng.random() < 0.1 else base + timedelta(minutes=rng.randrange(525_600))
        claimed = rng.random() < 0.2
        yield {
            "case_id": case_ids[i % len(case_ids)],
            "spiff_task_id": f"bench-{i:09d}",
            "element_id": "Task_bench",
            "process_key": "bench",
            "title": "基准待办",
            "department": departments[i % len(departments)],
            "assignee": "bench.fire" if claimed else None,
            "status": "claimed" if claimed else "ready",
            "created_at": base,
            "due_at": due,
            "due_provisional": False,
        }


def _insert_sqlite(db, start, stop, case_ids, rng) -> None:
    from engine.models import Task

    table = Task.__table__
    rows = _rows(start, stop, case_ids, rng)
    with db.engine.begin() as conn:
        while True:
            chunk = [row for _, row in zip(range(CHUNK), rows, strict=False)]
            if not chunk:
                break
            conn.execute(table.insert(), chunk)


def _insert_postgres(db, start, stop, case_ids, rng) -> None:
    columns = list(next(_rows(0, 1, case_ids, rng)).keys())
    raw = db.engine.raw_connection()
    try:
        with raw.cursor() as cursor:
            copy_sql = f"COPY task ({', '.join(columns)}) FROM STDIN"
            with cursor.copy(copy_sql) as copy:
                for row in _rows(start, stop, case_ids, rng):
                    copy.write_row([row[c] for c in columns])
        raw.commit()
    finally:
        raw.close()


def _analyze(db) -> None:
    if db.is_sqlite:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        raw = db.engine.raw_connection()
        try:
            raw.driver_connection.autocommit = True
            with raw.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE task")
        finally:
            raw.driver_connection.autocommit = False
            raw.close()


def _first_page_timer(db):
    """A function that times one first-page inbox query (a fresh read session each time)."""
    from engine.services import tasks
    from engine.services.actors import Actor

    officer = Actor("bench.fire", "officer", "fire")

    def one_query() -> float:
        started = time.perf_counter()
        with db.read() as session:
            rows, _ = tasks.list_tasks(session, officer, page_size=20)
            assert len(rows) == 20
        return time.perf_counter() - started

    return one_query


def _interleaved_times(small_db, large_db, samples: int) -> tuple[list[float], list[float]]:
    """Query both databases in alternating blocks, each block after a few untimed queries.

    The machine's speed drifts within a minute; timing the small table first and the large
    one a minute later made the ratio swing by a third between runs.
    """
    timers = {"small": _first_page_timer(small_db), "large": _first_page_timer(large_db)}
    times: dict[str, list[float]] = {"small": [], "large": []}
    while len(times["large"]) < samples:
        for name, one_query in timers.items():
            for _ in range(BLOCK_WARMUP):
                one_query()
            times[name] += [one_query() for _ in range(BLOCK)]
    return times["small"], times["large"]


def _plan(db) -> str:
    """The query plan of the inbox query, for the README."""
    from engine.services import tasks
    from engine.services.actors import Actor

    captured: list[str] = []
    officer = Actor("bench.fire", "officer", "fire")
    with db.read() as session:
        conn = session.connection()

        def capture(conn_, cursor, statement, params, context, executemany):
            captured.append((statement, params))

        from sqlalchemy import event

        event.listen(conn, "before_cursor_execute", capture)
        tasks.list_tasks(session, officer, page_size=20)
        event.remove(conn, "before_cursor_execute", capture)
        statement, params = captured[-1]
        prefix = "EXPLAIN QUERY PLAN " if db.is_sqlite else "EXPLAIN "
        plan = conn.exec_driver_sql(prefix + statement, params).fetchall()
    return "\n".join(" ".join(str(v) for v in row) for row in plan)


def _filled(url: str, rows: int):
    """A migrated, seeded database with ``rows`` open tasks, analyzed; and its load time."""
    from engine import migrate
    from engine.db import Database

    setup_data.seed(url, fixtures=("rectification_loop.bpmn",))
    db = Database(url)
    migrate.upgrade(db)
    case_ids = _make_cases(db)
    insert_rows = _insert_sqlite if db.is_sqlite else _insert_postgres
    started = time.perf_counter()
    insert_rows(db, 0, rows, case_ids, random.Random(7))
    _analyze(db)
    return db, time.perf_counter() - started


def measure(backend: str, quick: bool = False) -> dict:
    large = 100_000 if quick else LARGE
    samples = 60 if quick else 200
    size = "100k" if quick else "1m"
    with (
        setup_data.database_url(backend, "inbox_small") as small_url,
        setup_data.database_url(backend, "inbox_large") as large_url,
    ):
        small_db, _ = _filled(small_url, SMALL)
        large_db, load_seconds = _filled(large_url, large)
        try:
            small, big = _interleaved_times(small_db, large_db, samples)
            plan = _plan(large_db)
        finally:
            small_db.dispose()
            large_db.dispose()
    small_p95 = setup_data.percentile(small, 95)
    big_p95 = setup_data.percentile(big, 95)
    return {
        f"inbox_scale_ratio_{backend}": big_p95 / small_p95,
        f"inbox_{backend}_p95_ms_10k": small_p95 * 1000,
        f"inbox_{backend}_p95_ms_{size}": big_p95 * 1000,
        f"inbox_{backend}_median_ms_10k": setup_data.median(small) * 1000,
        f"inbox_{backend}_median_ms_{size}": setup_data.median(big) * 1000,
        f"inbox_{backend}_bulk_load_seconds": load_seconds,
        f"inbox_{backend}_plan": plan,
    }


def run(quick: bool = False) -> dict:
    results = measure("sqlite", quick)
    if setup_data.postgres_available():
        results.update(measure("postgres", quick))
    else:
        results["inbox_scale_ratio_postgres"] = None
    return results


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
