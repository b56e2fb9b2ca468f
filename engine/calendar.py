"""Working-day arithmetic on the Chinese statutory calendar (法定节假日与调休).

Pure Python, no database. A :class:`WorkingCalendar` holds

* ``overrides``: ``{date: is_workday}``; ``False`` marks a holiday, ``True`` an adjusted
  working day (调休, a Saturday or Sunday that is worked);
* ``known_years``: the years whose official schedule has been loaded.

In a known year a day is a working day if ``overrides`` says so, otherwise Monday–Friday.
In an unknown year only Monday–Friday counts, and any result that depends on such a year is
marked ``provisional`` (the State Council publishes the next year's schedule around
November; an admin imports it with :func:`parse_year_file` + :meth:`WorkingCalendar.with_year`).

Counting convention: "n working days after ``start``" counts the working days strictly after
``start``'s date; the start day itself never counts, even if it is a working day and even if
it is a holiday. So 1 working day after Wed 2026-09-30 is Thu 2026-10-08 (National Day
holiday Oct 1–7), and 1 working day after Sat 2026-10-10 (an adjusted workday) is Mon
2026-10-12. ``n == 0`` returns ``start`` unchanged; negative ``n`` counts backwards.

Time of day: a ``datetime`` start keeps its time of day and tzinfo (10:30 on day 0 → 10:30
on the due day). An aware datetime is counted on Beijing time (``BUREAU_TZ``): the day it
falls on in Guangzhou is the day that counts, whatever zone it is given in. If a caller wants "end of the due working day", it can replace the time
itself: ``due.date.replace(hour=23, minute=59, second=59)``.

The ``chinese_calendar`` package (PyPI ``chinesecalendar``, 1.11.0 here) covers 2004–2026.
Its 2026 schedule: 元旦 Jan 1–3 (work Sun Jan 4); 春节 Feb 15–23 (work Sat Feb 14, Sat
Feb 28); 清明 Apr 4–6; 劳动节 May 1–5 (work Sat May 9); 端午 Jun 19–21; 中秋 Sep 25–27;
国庆 Oct 1–7 (work Sun Sep 20, Sat Oct 10). Note 2026 Mid-Autumn is *not* merged with
National Day.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

__all__ = [
    "DueDate",
    "WorkingCalendar",
    "add_working_days",
    "from_chinese_calendar",
    "get_default_calendar",
    "is_workday",
    "parse_year_file",
    "set_default_calendar",
    "working_days_between",
]

D = TypeVar("D", dt.date, dt.datetime)

_ONE_DAY = dt.timedelta(days=1)
# A sanity bound so a bad n (e.g. a timestamp passed as n) fails fast instead of looping.
MAX_WORKING_DAYS = 100_000
# Imports of a year serialize on this lock name; a step computing due dates holds it shared,
# so it uses one calendar from its check to its COMMIT (engine.db.serialize / share).
IMPORT_LOCK = "calendar import"


# Working days are the bureau's days: an aware datetime is read on Beijing time, so a task
# created at 07:30 on a Saturday in Guangzhou (23:30 Friday UTC) does not count from Friday.
BUREAU_TZ = ZoneInfo("Asia/Shanghai")


def _as_date(d: dt.date | dt.datetime) -> dt.date:
    if isinstance(d, dt.datetime):
        return (d.astimezone(BUREAU_TZ) if d.tzinfo else d).date()
    if isinstance(d, dt.date):
        return d
    raise TypeError(f"expected date or datetime, got {type(d).__name__}")


def _replace_date(start: D, day: dt.date) -> D:
    if isinstance(start, dt.datetime):
        if start.tzinfo:
            local = start.astimezone(BUREAU_TZ)
            local = local.replace(year=day.year, month=day.month, day=day.day)
            return local.astimezone(start.tzinfo)
        return start.replace(year=day.year, month=day.month, day=day.day)
    return day


@dataclass(frozen=True)
class DueDate:
    """A computed deadline. ``date`` has the type of the start value (date or datetime).

    ``provisional`` is True when the computation crossed a year whose official holiday
    schedule is not loaded (only Monday–Friday was assumed there).
    """

    date: dt.date
    provisional: bool


class WorkingCalendar:
    """Chinese statutory working-day calendar. Immutable: use :meth:`with_year` to add a year."""

    def __init__(self, overrides: Mapping[dt.date, bool], known_years: Iterable[int]):
        self._overrides: dict[dt.date, bool] = {}
        for day, is_work in overrides.items():
            self._overrides[_as_date(day)] = bool(is_work)
        self._known_years: frozenset[int] = frozenset(known_years)

    # ----------------------------------------------------------------- introspection
    @property
    def known_years(self) -> frozenset[int]:
        return self._known_years

    @property
    def overrides(self) -> dict[dt.date, bool]:
        return dict(self._overrides)

    def is_known_year(self, year: int) -> bool:
        return year in self._known_years

    def __repr__(self) -> str:
        years = sorted(self._known_years)
        span = f"{years[0]}..{years[-1]}" if years else "none"
        return f"<WorkingCalendar known_years={span} overrides={len(self._overrides)}>"

    # -------------------------------------------------------------------- updating
    def with_year(self, year: int, overrides: Mapping[dt.date, bool]) -> WorkingCalendar:
        """A new calendar where ``year``'s schedule is replaced by ``overrides`` and known."""
        for day in overrides:
            if _as_date(day).year != year:
                raise ValueError(f"{day} is outside year {year}")
        merged = {d: w for d, w in self._overrides.items() if d.year != year}
        merged.update({_as_date(d): bool(w) for d, w in overrides.items()})
        return WorkingCalendar(merged, self._known_years | {year})

    # ------------------------------------------------------------------- arithmetic
    def is_workday(self, d: dt.date | dt.datetime) -> bool:
        day = _as_date(d)
        if day.year in self._known_years and day in self._overrides:
            return self._overrides[day]
        return day.weekday() < 5

    def add_working_days(self, start: D, n: int) -> DueDate:
        """The date ``n`` working days after ``start`` (see module doc for the convention)."""
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"n must be an int, got {type(n).__name__}")
        if abs(n) > MAX_WORKING_DAYS:
            raise ValueError(f"n={n} is out of range")
        day = _as_date(start)
        provisional = False
        step = _ONE_DAY if n > 0 else -_ONE_DAY
        remaining = abs(n)
        while remaining:
            day += step
            if not self.is_known_year(day.year):
                provisional = True
            if self.is_workday(day):
                remaining -= 1
        return DueDate(_replace_date(start, day), provisional)

    def working_days_between(self, a: dt.date | dt.datetime, b: dt.date | dt.datetime) -> int:
        """Working days in the half-open interval ``(a, b]`` (negative if ``b < a``).

        Consistent with :meth:`add_working_days`: if ``b`` is a working day then
        ``add_working_days(a, working_days_between(a, b)).date == b`` (for dates).
        Time of day is ignored.
        """
        start, end = _as_date(a), _as_date(b)
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        day = start
        while day < end:
            day += _ONE_DAY
            if self.is_workday(day):
                count += 1
        return count

    def is_provisional(self, a: dt.date | dt.datetime, b: dt.date | dt.datetime) -> bool:
        """True if any year between ``a`` and ``b`` (inclusive) is not known."""
        y1, y2 = sorted((_as_date(a).year, _as_date(b).year))
        return any(y not in self._known_years for y in range(y1, y2 + 1))


# --------------------------------------------------------------------------- sources
def from_chinese_calendar(years: Iterable[int] | None = None) -> WorkingCalendar:
    """A calendar seeded from the ``chinese_calendar`` package.

    ``years=None`` loads every year the package covers (2004–2026 in 1.11.0); otherwise
    only the given years, each of which must be covered (ValueError if not).
    """
    import chinese_calendar

    holidays: Mapping[dt.date, Any] = chinese_calendar.holidays
    workdays: Mapping[dt.date, Any] = chinese_calendar.workdays
    first = min(holidays).year
    last = max(holidays).year
    covered = set(range(first, last + 1))
    if years is None:
        wanted = covered
    else:
        wanted = set(years)
        missing = sorted(wanted - covered)
        if missing:
            raise ValueError(
                f"chinese_calendar {getattr(chinese_calendar, '__version__', '?')} covers "
                f"{first}-{last}; no data for {missing}"
            )
    overrides: dict[dt.date, bool] = {}
    for day in holidays:
        if day.year in wanted:
            overrides[day] = False
    for day in workdays:
        if day.year in wanted:
            overrides[day] = True
    return WorkingCalendar(overrides, wanted)


_YEAR_FILE_KEYS = {"year", "holidays", "workdays", "source"}


def parse_year_file(text: str | bytes) -> tuple[int, dict[dt.date, bool]]:
    """Parse an admin's yearly schedule file.

    Format (JSON)::

        {"year": 2027,
         "holidays": ["2027-01-01", ...],   # days off, weekend days of a holiday allowed
         "workdays": ["2027-02-07", ...],   # adjusted working days: Saturdays/Sundays only
         "source": "国办发明电〔2026〕N号"}    # optional, free text

    Returns ``(year, overrides)`` for :meth:`WorkingCalendar.with_year`. Raises ValueError
    with a specific message for bad JSON, unknown keys, bad dates, dates outside the year,
    duplicates, a date in both lists, or a "workday" that is already Monday–Friday.
    """
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"year file is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError("year file must be a JSON object with keys year, holidays, workdays")
    unknown = sorted(set(data) - _YEAR_FILE_KEYS)
    if unknown:
        raise ValueError(f"unknown key(s) {unknown}; allowed: {sorted(_YEAR_FILE_KEYS)}")
    year = data.get("year")
    if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 2999:
        raise ValueError(f"'year' must be an integer year, got {year!r}")

    def parse_list(name: str) -> list[dt.date]:
        raw = data.get(name, [])
        if not isinstance(raw, list):
            raise ValueError(f"'{name}' must be a list of YYYY-MM-DD strings")
        days: list[dt.date] = []
        seen: set[dt.date] = set()
        for item in raw:
            if not isinstance(item, str) or len(item) != 10:
                raise ValueError(f"'{name}': {item!r} is not a YYYY-MM-DD date")
            try:
                day = dt.date.fromisoformat(item)
            except ValueError:
                raise ValueError(f"'{name}': {item!r} is not a valid YYYY-MM-DD date") from None
            if day.year != year:
                raise ValueError(f"'{name}': {item} is outside year {year}")
            if day in seen:
                raise ValueError(f"'{name}': {item} is listed twice")
            seen.add(day)
            days.append(day)
        return days

    holidays = parse_list("holidays")
    workdays = parse_list("workdays")
    both = sorted(set(holidays) & set(workdays))
    if both:
        raise ValueError(
            "date(s) in both 'holidays' and 'workdays': " + ", ".join(d.isoformat() for d in both)
        )
    weekday_workdays = [d for d in workdays if d.weekday() < 5]
    if weekday_workdays:
        raise ValueError(
            "'workdays' must list only adjusted Saturdays/Sundays (调休); already Mon–Fri: "
            + ", ".join(f"{d.isoformat()} ({d:%a})" for d in weekday_workdays)
        )
    overrides = {d: False for d in holidays}
    overrides.update({d: True for d in workdays})
    return year, overrides


# -------------------------------------------------------------- default calendar
_default: WorkingCalendar | None = None
_default_lock = threading.Lock()


def get_default_calendar() -> WorkingCalendar:
    """The process-wide calendar, built lazily from ``chinese_calendar`` on first use."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = from_chinese_calendar()
    return _default


def set_default_calendar(calendar: WorkingCalendar | None) -> None:
    """Replace the process-wide calendar (e.g. after importing a year file from the DB);
    ``None`` resets it to the lazily built ``chinese_calendar`` one."""
    global _default
    with _default_lock:
        _default = calendar


def add_working_days(start: D, n: int) -> D:
    """``n`` working days after ``start`` on the default calendar, same type as ``start``.

    For BPMN timer expressions and scripts; returns a plain value (no provisional flag).
    """
    return get_default_calendar().add_working_days(start, n).date  # type: ignore[return-value]


def working_days_between(a: dt.date | dt.datetime, b: dt.date | dt.datetime) -> int:
    """Working days in ``(a, b]`` on the default calendar."""
    return get_default_calendar().working_days_between(a, b)


def is_workday(d: dt.date | dt.datetime) -> bool:
    """Whether ``d`` is a working day on the default calendar."""
    return get_default_calendar().is_workday(d)
