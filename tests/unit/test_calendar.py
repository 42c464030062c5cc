"""Working days (``protocol.workdays``) and deadlines against real Chinese calendars.

Pinned calendars, as the package has them:
- Spring Festival 2025: off Tue 01-28 .. Tue 02-04; working Sun 01-26 and Sat 02-08.
- National Day 2025: off Wed 10-01 .. Wed 10-08 (10-06 Mid-autumn); working Sun 09-28, Sat 10-11.
- New Year 2026: off Thu 01-01 .. Sat 01-03; working Sun 01-04.
- Spring Festival 2026: off Sun 02-15 .. Mon 02-23; working Sat 02-14 and Sat 02-28.
- Mid-autumn 2026: off Fri 09-25 .. Sun 09-27. National Day 2026: off Thu 10-01 .. Wed 10-07;
  working Sun 09-20 and Sat 10-10.
- Years after the last one chinese-calendar covers (tests/pins.py): Mon-Fri, provisional.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from protocol.v1.content import RequestKind
from protocol.workdays import add_working_days, is_covered, is_working_day, working_days_between
from services.desk.domain.calendar import DEFAULT_LIMITS, Deadline, due_date, extend
from tests.pins import FIRST_YEAR, LAST_YEAR

D = dt.date


def test_the_pinned_calendars_are_what_the_package_says() -> None:
    off = [D(2025, 1, 28), D(2025, 2, 4), D(2025, 10, 1), D(2025, 10, 8), D(2026, 1, 1),
           D(2026, 2, 15), D(2026, 2, 16), D(2026, 2, 23), D(2026, 9, 25), D(2026, 10, 1),
           D(2026, 10, 7)]
    adjusted_on = [D(2025, 1, 26), D(2025, 2, 8), D(2025, 9, 28), D(2025, 10, 11), D(2026, 1, 4),
                   D(2026, 2, 14), D(2026, 2, 28), D(2026, 9, 20), D(2026, 10, 10)]
    for day in off:
        assert not is_working_day(day) and not chinese_calendar.is_workday(day), day
    for day in adjusted_on:
        assert day.weekday() >= 5, day
        assert is_working_day(day) and chinese_calendar.is_workday(day), day
    assert is_working_day(D(2026, 10, 8))  # National Day 2026 ends on the 7th


def test_default_limits_cover_every_kind_and_are_read_only() -> None:
    assert set(DEFAULT_LIMITS) == {k.value for k in RequestKind}
    assert DEFAULT_LIMITS["merchant_registration"] == 5
    assert DEFAULT_LIMITS[RequestKind.EVIDENCE_COLLECTION] == 15
    assert DEFAULT_LIMITS["case_lead_transfer"] == DEFAULT_LIMITS["document_service"] == 10
    with pytest.raises(TypeError):
        DEFAULT_LIMITS["document_service"] = 3  # type: ignore[index]


@pytest.mark.parametrize(
    ("created", "limit", "due"),
    [
        # Spring Festival 2026
        (D(2026, 2, 13), 5, D(2026, 2, 27)),  # Sat 02-14 counts, then 02-24..02-27
        (D(2026, 2, 14), 5, D(2026, 2, 28)),  # created on the 调休 Saturday; due on the next one
        (D(2026, 2, 13), 10, D(2026, 3, 5)),  # Sat 02-28 counts too
        (D(2026, 2, 16), 1, D(2026, 2, 24)),  # created during the holiday
        # Mid-autumn + National Day 2026
        (D(2026, 9, 18), 5, D(2026, 9, 24)),  # Sun 09-20 counts
        (D(2026, 9, 30), 5, D(2026, 10, 13)),  # 10-08, 10-09, Sat 10-10, 10-12, 10-13
        (D(2026, 9, 30), 10, D(2026, 10, 20)),
        (D(2026, 9, 24), 15, D(2026, 10, 22)),
        # Spring Festival 2025: Sun 01-26 counts, 01-27, then 02-05..02-07
        (D(2025, 1, 24), 5, D(2025, 2, 7)),
        (D(2025, 1, 24), 6, D(2025, 2, 8)),  # Sat 02-08 counts
        # National Day 2025: Sun 09-28, 09-29, 09-30, then 10-09, 10-10
        (D(2025, 9, 26), 5, D(2025, 10, 10)),
        (D(2025, 9, 26), 6, D(2025, 10, 11)),  # Sat 10-11 counts
        # New Year 2026
        (D(2025, 12, 31), 1, D(2026, 1, 4)),  # Sun 01-04 is a working day
    ],
)
def test_due_dates_around_official_holidays(created: dt.date, limit: int, due: dt.date) -> None:
    assert due_date(created, limit) == Deadline(due, provisional=False)
    assert working_days_between(created, due) == limit


def test_zero_limit_is_the_day_itself_or_the_next_working_day() -> None:
    assert add_working_days(D(2026, 2, 14), 0) == D(2026, 2, 14)  # 调休 Saturday
    assert add_working_days(D(2026, 2, 15), 0) == D(2026, 2, 24)
    assert add_working_days(D(2026, 11, 28), 0) == D(2026, 11, 30)  # ordinary Saturday
    with pytest.raises(ValueError, match="n must be >= 0"):
        add_working_days(D(2026, 11, 27), -1)


def test_clock_stop_moves_the_due_date_by_the_working_days_stopped() -> None:
    due = due_date(D(2026, 9, 30), 5).due
    assert due == D(2026, 10, 13)
    # waiting 09-30 .. 10-09 stops 2 working days (10-08, 10-09): due 10-13 -> 10-15
    assert working_days_between(D(2026, 9, 30), D(2026, 10, 9)) == 2
    assert extend(due, D(2026, 9, 30), D(2026, 10, 9)) == D(2026, 10, 15)
    # a stop over the whole National Day holiday only costs nothing
    assert working_days_between(D(2026, 9, 30), D(2026, 10, 7)) == 0
    assert extend(due, D(2026, 9, 30), D(2026, 10, 7)) == due
    assert working_days_between(D(2026, 10, 9), D(2026, 10, 9)) == 0
    assert working_days_between(D(2026, 10, 9), D(2026, 10, 1)) == 0


def test_coverage_boundary() -> None:
    assert is_covered(D(FIRST_YEAR, 1, 1)) and is_covered(D(LAST_YEAR, 12, 31))
    assert not is_covered(D(FIRST_YEAR - 1, 12, 31)) and not is_covered(D(LAST_YEAR + 1, 1, 1))
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(D(LAST_YEAR + 1, 1, 1))


def test_deadline_into_the_first_unknown_year_is_provisional_monday_to_friday() -> None:
    # the official working days left in the last covered year, from mid-December
    start = D(LAST_YEAR, 12, 15)
    official = [start + dt.timedelta(days=i) for i in range(1, 17)]
    official = [d for d in official if chinese_calendar.is_workday(d)]
    assert due_date(start, len(official)) == Deadline(official[-1], provisional=False)
    # one more and the due date lies in the next year, on its first Monday-to-Friday day
    unknown = [D(LAST_YEAR + 1, 1, 1) + dt.timedelta(days=i) for i in range(31)]
    first = next(d for d in unknown if d.weekday() < 5)
    assert due_date(start, len(official) + 1) == Deadline(first, provisional=True)
    # known limitation: its holidays are unknown, so its New Year's Day may count
    assert [is_working_day(d) for d in unknown] == [d.weekday() < 5 for d in unknown]
    assert due_date(D(LAST_YEAR + 1, 3, 1), 0).provisional
    assert extend(official[-1], official[-2], first) == add_working_days(official[-1], 2)


dates = st.dates(min_value=D(2020, 1, 1), max_value=D(LAST_YEAR, 12, 31))
counts = st.integers(min_value=1, max_value=60)


@given(dates, counts)
def test_result_is_a_working_day_and_strictly_increasing(day: dt.date, n: int) -> None:
    due = add_working_days(day, n)
    assert is_working_day(due)
    assert day < due < add_working_days(day, n + 1)
    assert add_working_days(day, 0) <= add_working_days(day, 1)


@given(dates, st.integers(min_value=0, max_value=60))
def test_between_inverts_add_from_a_working_day(day: dt.date, n: int) -> None:
    assume(is_working_day(day))
    assert working_days_between(day, add_working_days(day, n)) == n


@given(dates, counts)
def test_provisional_exactly_when_due_leaves_the_covered_years(day: dt.date, n: int) -> None:
    deadline = due_date(day, n)
    assert deadline.provisional == (deadline.due.year > LAST_YEAR)


@given(st.dates(min_value=D(FIRST_YEAR, 1, 1), max_value=D(LAST_YEAR, 12, 31)))
def test_a_covered_day_is_the_packages_word(day: dt.date) -> None:
    assert is_working_day(day) == chinese_calendar.is_workday(day)


@given(st.dates(min_value=D(2019, 1, 1), max_value=D(LAST_YEAR + 2, 12, 31)),
       st.integers(min_value=-3, max_value=800))
def test_counting_by_running_totals_is_counting_day_by_day(a: dt.date, span: int) -> None:
    # the count the hub makes per reply, against the definition (into uncovered years too)
    b = a + dt.timedelta(days=span)
    by_day = sum(is_working_day(a + dt.timedelta(days=k)) for k in range(1, span + 1))
    assert working_days_between(a, b) == by_day


@given(dates, dates, dates)
def test_between_is_additive(a: dt.date, b: dt.date, c: dt.date) -> None:
    a, b, c = sorted((a, b, c))
    assert working_days_between(a, b) + working_days_between(b, c) == working_days_between(a, c)


@given(dates, dates, dates)
def test_zero_length_stop_changes_nothing(due: dt.date, stopped: dt.date, other: dt.date) -> None:
    assert extend(due, stopped, stopped) == due
    assume(other < stopped)
    assert extend(due, stopped, other) == due
