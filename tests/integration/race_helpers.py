"""Proving check-then-act races: one session holds a row (or key) uncommitted, another one
decides on a stale read and blocks on it, then the first commits."""

from __future__ import annotations

import threading
import time


def wait_until_blocked(db, seconds: float = 10.0) -> None:
    """Until another connection waits on a lock. pg_stat_activity is a snapshot taken once
    per transaction: each look is its own transaction, or a late waiter is never seen."""
    if db.is_sqlite:
        time.sleep(0.2)
        return
    deadline = time.monotonic() + seconds
    with db.engine.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            ).scalar()
            conn.rollback()
            if waiting:
                return
            time.sleep(0.02)
    raise AssertionError("the other session never waited on a lock")


def race(db, hold, other):
    """``hold(session)`` runs uncommitted; ``other(session)`` runs in a thread and must block;
    then ``hold`` commits. Returns what ``other`` returned (after its commit) or raised."""
    holding = db._write()
    hold(holding)
    outcome: list[object] = []

    def run():
        with db._write() as session:
            try:
                value = other(session)
                session.commit()
                outcome.append(value)
            except Exception as exc:  # noqa: BLE001
                session.rollback()
                outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        wait_until_blocked(db)
    finally:
        holding.commit()
        holding.close()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert len(outcome) == 1
    return outcome[0]
