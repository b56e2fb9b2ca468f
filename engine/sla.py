"""SLA status of a task: on-time, warning (>= 80% of its working-day limit) or breached.

Pure: no database. Deadlines count whole working days (the statutory "N个工作日"), so the
warning threshold is a working day too: the ``ceil(0.8 * n)``-th working day of the limit,
i.e. ``n - ceil(0.8 * n)`` working days before ``due_at``. Pauses (the case waiting on the
enterprise) are already folded into ``due_at`` when the clock resumes; while a pause is in
progress the clock stands still at ``paused_since``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .calendar import WorkingCalendar, get_default_calendar

ON_TIME = "on_time"
WARNING = "warning"
BREACHED = "breached"
STATUSES = (ON_TIME, WARNING, BREACHED)

WARNING_SHARE = (4, 5)  # 80 %


def warning_day(limit_days: int) -> int:
    """The working day of the limit on which the warning is due: ceil(80 % of n)."""
    num, den = WARNING_SHARE
    return -(-limit_days * num // den)


def warning_at(due_at: datetime, limit_days: int, calendar: WorkingCalendar | None = None):
    """When 80 % of the limit has elapsed, counted back from the (pause-shifted) due date."""
    cal = calendar or get_default_calendar()
    return cal.add_working_days(due_at, warning_day(limit_days) - limit_days).date


@dataclass(frozen=True)
class SlaState:
    status: str
    warning_at: datetime
    due_at: datetime
    paused: bool


def sla_state(
    *,
    limit_days: int | None,
    due_at: datetime | None,
    now: datetime,
    paused_since: datetime | None = None,
    completed_at: datetime | None = None,
    calendar: WorkingCalendar | None = None,
) -> SlaState | None:
    """The SLA state at ``now``; None for a task without a legal limit."""
    if not limit_days or due_at is None:
        return None
    warn = warning_at(due_at, limit_days, calendar)
    # A finished task is judged at its completion; a paused one where its clock stopped.
    at = completed_at or paused_since or now
    if at >= due_at:
        status = BREACHED
    elif at >= warn:
        status = WARNING
    else:
        status = ON_TIME
    return SlaState(status, warn, due_at, paused_since is not None and completed_at is None)


def sla_status(task, now: datetime, calendar: WorkingCalendar | None = None) -> str | None:
    """``on_time`` / ``warning`` / ``breached`` for a task row (None without a limit)."""
    state = sla_state(
        limit_days=task.sla_working_days,
        due_at=task.due_at,
        now=now,
        paused_since=getattr(task, "paused_since", None),
        completed_at=task.completed_at,
        calendar=calendar,
    )
    return state.status if state else None
