"""Inbox badges follow the engine's SLA rule in working days, not wall-clock fractions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine import create_app
from engine.clock import FixedClock
from engine.models import Task
from engine.web import display

CREATED = datetime(2026, 9, 28, 1, 0, tzinfo=UTC)  # Monday 09:00 in Guangzhou
# 10 working days later: Sep 29, 30, (Oct 1-7 National Day), Oct 8, 9, Sat 10 (adjusted
# workday), 12, 13, 14, 15, 16.
DUE = datetime(2026, 10, 16, 1, 0, tzinfo=UTC)


def badge_at(tmp_path, when, **task_fields):
    app = create_app(
        {"DATABASE_URL": f"sqlite:///{tmp_path / 'b.sqlite3'}", "CLOCK": FixedClock(when)}
    )
    fields = {"created_at": CREATED, "due_at": DUE, "sla_working_days": 10, "status": "ready"}
    fields.update(task_fields)
    with app.test_request_context("/"):
        return display.sla(Task(**fields))


@pytest.mark.parametrize(
    ("when", "level", "text"),
    [
        # Oct 9: 4 of 10 working days used although 11 calendar days have passed.
        (datetime(2026, 10, 9, 1, 0, tzinfo=UTC), "green", "剩余 6 个工作日"),
        (datetime(2026, 10, 13, 1, 0, tzinfo=UTC), "yellow", "剩余 3 个工作日"),
        # The 80 % warning falls on the 8th working day, Oct 14.
        (datetime(2026, 10, 15, 1, 0, tzinfo=UTC), "orange", "剩余 1 个工作日"),
        (datetime(2026, 10, 16, 2, 0, tzinfo=UTC), "red", "已超期"),
    ],
)
def test_badge_counts_working_days(tmp_path, when, level, text):
    badge = badge_at(tmp_path, when)
    assert (badge["level"], badge["text"]) == (level, text)


def test_paused_clock_is_shown_as_paused(tmp_path):
    when = datetime(2026, 10, 15, 1, 0, tzinfo=UTC)
    badge = badge_at(tmp_path, when, paused_since=datetime(2026, 10, 12, 1, 0, tzinfo=UTC))
    assert badge["level"] == "paused"
