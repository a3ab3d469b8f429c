"""The instants of a day at which a sweep's answer may change with the clock alone (the quiet
record trusts nothing across them: toolkit.quiet.boundaries), against a reference that
enumerates every period of four years by its own calendar arithmetic."""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.periods import VN_TZ, Deadline
from toolkit.quiet import moments_on

MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}


def reference_deadlines(deadline: Deadline, years: range) -> list[datetime]:
    """Every period's deadline in ``years``, from the template's words: a day's at its time; a
    month's, quarter's or year's on its day of the last month (the month's last day when there
    is none, or when the month is shorter), ``months_after`` months later."""
    if deadline.period == "once":
        return [deadline.once_due.astimezone(VN_TZ)]
    if deadline.period == "daily":
        first, last = date(years.start, 1, 1), date(years.stop, 1, 1)
        return [datetime.combine(first + timedelta(days=n), deadline.at, VN_TZ)
                for n in range((last - first).days)]
    found = []
    span = MONTHS[deadline.period]
    for year in years:
        for first_month in range(1, 13, span):
            index = year * 12 + first_month - 1 + span - 1 + deadline.months_after
            due_year, due_month = index // 12, index % 12 + 1
            days = calendar.monthrange(due_year, due_month)[1]
            day = min(deadline.day_of_month or days, days)
            found.append(datetime.combine(date(due_year, due_month, day), deadline.at, VN_TZ))
    return found


def reference_moments(day: date, deadlines, grace: timedelta, settle: timedelta) -> list:
    start = datetime.combine(day, time(0), VN_TZ)
    found = set()
    for deadline in deadlines:
        for due in reference_deadlines(deadline, range(day.year - 2, day.year + 2)):
            for moment in (due - settle, due, due + grace, due + grace + settle):
                if start <= moment < start + timedelta(days=1):
                    found.add(moment)
    return sorted(found)


AT = st.builds(time, st.integers(0, 23), st.sampled_from([0, 1, 5, 30, 50, 59]))
DEADLINES = st.one_of(
    st.builds(Deadline, st.just("daily"), AT),
    st.builds(Deadline, st.sampled_from(["monthly", "quarterly", "yearly"]), AT,
              day_of_month=st.none() | st.integers(1, 31), months_after=st.integers(0, 12)),
    st.builds(lambda moment: Deadline("once", time(0), once_due=moment),
              st.datetimes(datetime(2025, 6, 1), datetime(2028, 6, 1), timezones=st.just(VN_TZ))),
)


@settings(max_examples=300, deadline=None)
@given(day=st.dates(date(2026, 1, 1), date(2027, 12, 31)),
       deadlines=st.lists(DEADLINES, min_size=1, max_size=4),
       grace=st.integers(0, 180).map(lambda m: timedelta(minutes=m)),
       settle=st.integers(0, 90).map(lambda m: timedelta(minutes=m)))
def test_a_days_moments_are_those_of_every_period_due_around_it(day, deadlines, grace, settle):
    assert moments_on(day, deadlines, grace, settle) == \
        reference_moments(day, deadlines, grace, settle)


def test_the_last_day_of_a_month_due_at_midnight_gives_the_day_before_its_settle_span():
    """A month due at 00:05 on its 1st, 10 minutes of settle: 23:55 the day before is a
    boundary of that day."""
    due = Deadline("monthly", time(0, 5), day_of_month=1, months_after=1)
    assert moments_on(date(2026, 11, 30), [due], timedelta(0), timedelta(minutes=10)) == [
        datetime(2026, 11, 30, 23, 55, tzinfo=VN_TZ)]
