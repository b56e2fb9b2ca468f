"""Unit tests for engine.calendar (working days on the Chinese statutory calendar).

2026 schedule as published (国办发明电〔2025〕, mirrored by chinesecalendar 1.11.0):
元旦 Jan 1–3 (work Sun Jan 4); 春节 Feb 15–23 (work Sat Feb 14, Sat Feb 28); 清明 Apr 4–6;
劳动节 May 1–5 (work Sat May 9); 端午 Jun 19–21; 中秋 Sep 25–27; 国庆 Oct 1–7
(work Sun Sep 20, Sat Oct 10). Mid-Autumn 2026 is separate from National Day.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import chinese_calendar
import pytest

# until the project is installed (pip install -e .) or a root conftest adds it
from engine import calendar as wc  # noqa: E402
from engine.calendar import (  # noqa: E402
    DueDate,
    WorkingCalendar,
    from_chinese_calendar,
    parse_year_file,
)


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return from_chinese_calendar()


YEAR_2027 = {
    "year": 2027,
    # a plausible (not official) schedule, for the import mechanics only
    "holidays": ["2027-01-01", "2027-02-05", "2027-02-08", "2027-02-09", "2027-02-10"],
    "workdays": ["2027-02-07", "2027-02-20"],
}


def test_package_agrees_on_2026_national_day():
    # guards the assumptions of the tests below against a package upgrade
    for d in range(1, 8):
        assert not chinese_calendar.is_workday(date(2026, 10, d))
    assert chinese_calendar.is_workday(date(2026, 10, 10))  # Saturday, adjusted workday
    assert chinese_calendar.is_workday(date(2026, 9, 20))  # Sunday, adjusted workday
    assert not chinese_calendar.is_workday(date(2026, 9, 25))  # Mid-Autumn (Friday)


def test_known_years(cal):
    assert 2026 in cal.known_years
    assert 2004 in cal.known_years
    assert 2027 not in cal.known_years


def test_national_day_2026(cal):
    assert cal.add_working_days(date(2026, 9, 30), 1) == DueDate(date(2026, 10, 8), False)


def test_adjusted_saturday_counts(cal):
    assert date(2026, 10, 10).weekday() == 5
    assert cal.is_workday(date(2026, 10, 10))
    assert cal.add_working_days(date(2026, 10, 9), 1).date == date(2026, 10, 10)
    assert cal.add_working_days(date(2026, 10, 10), 1).date == date(2026, 10, 12)
    # Sunday Sep 20 is worked too; Mid-Autumn Fri Sep 25 is not
    assert cal.add_working_days(date(2026, 9, 18), 1).date == date(2026, 9, 20)
    assert cal.add_working_days(date(2026, 9, 24), 1).date == date(2026, 9, 28)


def test_seven_working_day_permit_over_national_day(cal):
    # application accepted Tue 2026-09-29: Sep 30, Oct 8, 9, 10 (Sat), 12, 13, 14
    assert cal.add_working_days(date(2026, 9, 29), 7).date == date(2026, 10, 14)


def test_spring_festival_2026(cal):
    # Feb 15–23 off; Sat Feb 14 and Sat Feb 28 worked
    assert cal.is_workday(date(2026, 2, 14))
    assert not any(cal.is_workday(date(2026, 2, d)) for d in range(15, 24))
    assert cal.is_workday(date(2026, 2, 28))
    assert cal.add_working_days(date(2026, 2, 13), 1).date == date(2026, 2, 14)
    assert cal.add_working_days(date(2026, 2, 14), 1).date == date(2026, 2, 24)
    # 15 working days (fire design review) from Fri 2026-02-06
    assert cal.add_working_days(date(2026, 2, 6), 15).date == date(2026, 3, 5)
    assert cal.working_days_between(date(2026, 2, 13), date(2026, 2, 28)) == 6


def test_datetime_keeps_time_of_day_and_tz(cal):
    tz = timezone(timedelta(hours=8))
    start = datetime(2026, 9, 30, 16, 45, tzinfo=tz)
    due = cal.add_working_days(start, 1)
    assert due.date == datetime(2026, 10, 8, 16, 45, tzinfo=tz)
    assert isinstance(due.date, datetime)


def test_zero_and_negative(cal):
    assert cal.add_working_days(date(2026, 10, 3), 0).date == date(2026, 10, 3)
    assert cal.add_working_days(date(2026, 10, 8), -1).date == date(2026, 9, 30)
    with pytest.raises(TypeError):
        cal.add_working_days(date(2026, 10, 8), 1.5)


def test_working_days_between(cal):
    assert cal.working_days_between(date(2026, 9, 30), date(2026, 10, 8)) == 1
    assert cal.working_days_between(date(2026, 9, 30), date(2026, 10, 7)) == 0
    assert cal.working_days_between(date(2026, 9, 30), date(2026, 10, 12)) == 4
    assert cal.working_days_between(date(2026, 10, 12), date(2026, 9, 30)) == -4
    assert cal.working_days_between(date(2026, 5, 6), date(2026, 5, 6)) == 0
    # consistency with add_working_days
    start = date(2026, 1, 1)
    for n in range(0, 260, 13):
        due = cal.add_working_days(start, n).date
        assert cal.working_days_between(start, due) == n


def test_2027_provisional_until_year_file_imported(cal):
    due = cal.add_working_days(date(2027, 2, 4), 1)
    assert due == DueDate(date(2027, 2, 5), True)  # only Mon–Fri assumed
    # crossing from a known into an unknown year is provisional as well
    assert cal.add_working_days(date(2026, 12, 30), 3).provisional
    assert not cal.add_working_days(date(2026, 12, 1), 3).provisional

    year, overrides = parse_year_file(json.dumps(YEAR_2027))
    cal2027 = cal.with_year(year, overrides)
    assert 2027 not in cal.known_years  # calendars are immutable
    due = cal2027.add_working_days(date(2027, 2, 4), 1)
    assert due == DueDate(date(2027, 2, 7), False)  # Sunday Feb 7 is an adjusted workday
    assert cal2027.add_working_days(date(2027, 2, 7), 1).date == date(2027, 2, 11)
    assert not cal2027.add_working_days(date(2026, 12, 30), 3).provisional


def test_unknown_year_is_plain_weekdays():
    empty = WorkingCalendar({date(2030, 1, 1): False}, known_years=set())
    # overrides of an unknown year are ignored
    assert empty.is_workday(date(2030, 1, 1))
    assert empty.add_working_days(date(2030, 1, 4), 1) == DueDate(date(2030, 1, 7), True)


def test_from_chinese_calendar_years():
    only = from_chinese_calendar(years=[2026])
    assert only.known_years == {2026}
    assert not only.is_workday(date(2026, 10, 1))
    with pytest.raises(ValueError, match="no data"):
        from_chinese_calendar(years=[2099])


@pytest.mark.parametrize(
    "patch,message",
    [
        ({"holidays": ["2026-12-31"]}, "outside year 2027"),
        ({"workdays": ["2028-01-01"]}, "outside year 2027"),
        ({"holidays": ["2027-01-01", "2027-02-07"]}, "both 'holidays' and 'workdays'"),
        ({"workdays": ["2027-02-11"]}, "already Mon–Fri"),
        ({"holidays": ["2027-01-01", "2027-01-01"]}, "listed twice"),
        ({"holidays": ["2027-02-30"]}, "not a valid"),
        ({"holidays": ["2027-2-1"]}, "not a YYYY-MM-DD"),
        ({"year": "2027"}, "'year' must be"),
        ({"holiday": []}, "unknown key"),
    ],
)
def test_parse_year_file_errors(patch, message):
    with pytest.raises(ValueError, match=message):
        parse_year_file(json.dumps({**YEAR_2027, **patch}))


def test_parse_year_file_ok():
    year, overrides = parse_year_file(json.dumps({**YEAR_2027, "source": "国办发明电"}))
    assert year == 2027
    assert overrides[date(2027, 2, 7)] is True
    assert overrides[date(2027, 1, 1)] is False
    with pytest.raises(ValueError, match="not valid JSON"):
        parse_year_file("{")
    with pytest.raises(ValueError, match="outside year"):
        WorkingCalendar({}, set()).with_year(2027, {date(2026, 1, 1): False})


def test_module_level_helpers():
    wc.set_default_calendar(None)
    try:
        assert wc.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
        start = datetime(2026, 9, 30, 9, 0)
        assert wc.add_working_days(start, 1) == datetime(2026, 10, 8, 9, 0)
        assert wc.is_workday(date(2026, 10, 10))
        assert wc.working_days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3
        year, overrides = parse_year_file(json.dumps(YEAR_2027))
        wc.set_default_calendar(wc.get_default_calendar().with_year(year, overrides))
        assert wc.add_working_days(date(2027, 2, 4), 1) == date(2027, 2, 7)
    finally:
        wc.set_default_calendar(None)


def test_aware_times_count_on_beijing_days_not_utc_days():
    from datetime import UTC, datetime

    from engine.calendar import BUREAU_TZ, from_chinese_calendar

    cal = from_chinese_calendar()
    # Saturday 2026-03-07 07:30 in Guangzhou is still Friday 23:30 UTC.
    created = datetime(2026, 3, 6, 23, 30, tzinfo=UTC)
    due = cal.add_working_days(created, 1).date
    assert due.tzinfo is UTC
    assert due.astimezone(BUREAU_TZ).replace(tzinfo=None) == datetime(2026, 3, 9, 7, 30)
    assert cal.working_days_between(created, due) == 1
    assert not cal.is_workday(created)
