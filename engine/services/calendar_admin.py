"""The working calendar kept in the database: yearly schedules an admin imports, merged over
the years the ``chinese_calendar`` package knows, and the recomputation of provisional due
dates once a year becomes known."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import delete, event, func, select
from sqlalchemy.orm import Session

from .. import calendar
from ..db import serialize, share
from ..errors import Forbidden, InvalidInput
from ..models import CalendarDay, CalendarYear
from . import deadlines
from .actors import Actor


def load_calendar(session: Session) -> calendar.WorkingCalendar:
    """``chinese_calendar``'s years, with every imported year replacing its schedule."""
    cal = calendar.from_chinese_calendar()
    years = list(session.scalars(select(CalendarYear.year).order_by(CalendarYear.year)))
    if not years:
        return cal
    by_year: dict[int, dict[date, bool]] = {year: {} for year in years}
    for day, is_workday in session.execute(select(CalendarDay.day, CalendarDay.is_workday)):
        if day.year in by_year:
            by_year[day.year][day] = is_workday
    for year in years:
        cal = cal.with_year(year, by_year[year])
    return cal


# An import commits in one process; every other process (gunicorn workers, the job worker)
# must compute due dates with it too. A step compares the imported years with those its
# process loaded before it computes due dates (one aggregate over a table of a few rows);
# the job worker's idle loop looks every CHECK_SECONDS.
CHECK_SECONDS = 5.0
_loaded: tuple = (None, None)  # (fingerprint, the calendar loaded with it)
_checked_at = float("-inf")
# A request thread's import and the embedded worker's reload must not interleave: a reload
# that read the database before the import committed would install the older calendar last.
_lock = threading.Lock()


def refresh_default_calendar(session: Session) -> calendar.WorkingCalendar:
    """Make the process-wide calendar (used for new due dates) match the database."""
    global _loaded
    with _lock:
        fingerprint = _fingerprint(session)
        cal = load_calendar(session)
        calendar.set_default_calendar(cal)
        _loaded = (fingerprint, cal)
    return cal


# An import adds its year or moves the year's imported_at. Built once: every step runs it.
_FINGERPRINT = select(func.count(), func.max(CalendarYear.imported_at))


def _fingerprint(session: Session) -> tuple:
    return tuple(session.execute(_FINGERPRINT).one())


def check_due() -> bool:
    return time.monotonic() - _checked_at >= CHECK_SECONDS


def keep_current(session: Session) -> None:
    """Reload the process-wide calendar if the imported years changed since it was loaded
    (by this process or another), or if something else replaced it since.

    Until COMMIT no import can change what this check saw: the session holds the import lock
    shared (on PostgreSQL; a SQLite writer holds the database). An import in progress is
    waited for; one that comes later waits, and then recomputes what this step wrote."""
    global _checked_at
    share(session, calendar.IMPORT_LOCK)
    transaction = session.get_transaction()
    if transaction is not None and session.info.get("calendar_checked") is transaction:
        return  # once per transaction: what it saw cannot change before COMMIT
    _checked_at = time.monotonic()
    fingerprint, loaded = _loaded
    if _fingerprint(session) != fingerprint or calendar.get_default_calendar() is not loaded:
        refresh_default_calendar(session)
    session.info["calendar_checked"] = session.get_transaction()


def _installed(after: calendar.WorkingCalendar) -> None:
    """After an import commits: its calendar for this process at once, and a reload from the
    database at the next check (the fingerprint this process holds is from before it)."""
    global _loaded
    with _lock:
        calendar.set_default_calendar(after)
        _loaded = (None, None)


@dataclass
class YearInfo:
    year: int
    source: str
    imported_at: datetime | None
    holidays: list[date] = field(default_factory=list)
    workdays: list[date] = field(default_factory=list)
    recomputed_tasks: list[dict] = field(default_factory=list)


def list_years(session: Session) -> list[YearInfo]:
    """Every known year: imported ones (with their days) and the package's built-in ones."""
    imported = {row.year: row for row in session.scalars(select(CalendarYear))}
    cal = load_calendar(session)
    overrides = cal.overrides
    result = []
    for year in sorted(cal.known_years):
        row = imported.get(year)
        days = sorted(d for d in overrides if d.year == year)
        result.append(
            YearInfo(
                year=year,
                source=row.source if row else "chinese_calendar",
                imported_at=row.imported_at if row else None,
                holidays=[d for d in days if not overrides[d]],
                workdays=[d for d in days if overrides[d]],
            )
        )
    return result


def import_year(session: Session, actor: Actor, text: str | bytes, now: datetime) -> YearInfo:
    """Store one year's holidays and adjusted workdays (admin), recompute open provisional
    due dates, and refresh the process-wide calendar once the transaction commits."""
    if actor.role != "admin":
        raise Forbidden("只有管理员可以导入工作日历 (admins only)")
    try:
        year, overrides = calendar.parse_year_file(text)
    except ValueError as exc:
        raise InvalidInput(
            f"日历文件无效 (invalid calendar file): {exc}", {"file": [str(exc)]}
        ) from None
    source = json.loads(text).get("source")
    source = str(source).strip()[:60] if source else "import"

    serialize(session, calendar.IMPORT_LOCK)  # before: every import committed so far
    before = load_calendar(session)
    session.execute(
        delete(CalendarDay).where(CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31)))
    )
    session.add_all(CalendarDay(day=day, is_workday=work) for day, work in overrides.items())
    row = session.get(CalendarYear, year)
    if row is None:
        session.add(CalendarYear(year=year, source=source, imported_at=now))
    else:
        row.source, row.imported_at = source, now
    session.flush()
    after = before.with_year(year, overrides)
    changed = deadlines.recompute_provisional(session, before, after, actor.username, now)

    # Only a committed import may change the calendar other requests compute with.
    event.listen(session, "after_commit", lambda _s: _installed(after), once=True)
    return YearInfo(
        year=year,
        source=source,
        imported_at=now,
        holidays=sorted(d for d, work in overrides.items() if not work),
        workdays=sorted(d for d, work in overrides.items() if work),
        recomputed_tasks=[
            {"task_id": task_id, "previous_due_at": old, "due_at": new}
            for task_id, old, new in changed
        ],
    )
