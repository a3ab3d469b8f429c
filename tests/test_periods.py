from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.periods import (
    VN_TZ,
    Deadline,
    Proof,
    Status,
    campaign_days,
    campaign_months,
    from_utc_text,
    key_for,
    parse_now,
    period_label,
    timeliness,
    to_utc_text,
)

FIVE_MINUTES = timedelta(minutes=5)
DAILY = Deadline("daily", time(17, 0))
DEADLINE = DAILY.for_key("2026-11-23")  # 2026-11-23 17:00 in Vietnam


def vn(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=VN_TZ)


def proof(at: str, complete: bool = True, content: str = "a", blank: bool = False) -> Proof:
    return Proof(vn(at), complete, content, blank)


# deadlines -----------------------------------------------------------------------------------

def test_daily_deadline_is_five_pm_vietnam_time_of_that_day():
    assert DAILY.for_key("2026-11-23") == vn("2026-11-23 17:00")
    assert DAILY.for_key("2026-11-23").utcoffset() == timedelta(hours=7)


def test_monthly_deadline_falls_on_its_due_day():
    deadline = Deadline("monthly", time(17, 0), day_of_month=26)
    assert deadline.for_key("2026-11") == vn("2026-11-26 17:00")
    assert deadline.for_key("2026-12") == vn("2026-12-26 17:00")


@pytest.mark.parametrize("key, expected", [
    ("2028-02", "2028-02-29 17:00"),  # leap year
    ("2027-02", "2027-02-28 17:00"),
    ("2026-04", "2026-04-30 17:00"),
    ("2026-12", "2026-12-31 17:00"),
])
def test_monthly_due_day_past_the_end_of_the_month_is_its_last_day(key, expected):
    assert Deadline("monthly", time(17, 0), day_of_month=31).for_key(key) == vn(expected)


def test_once_deadline_is_the_fixed_moment_in_vietnam_time():
    due = datetime(2026, 12, 15, 17, 0)  # as tomllib reads `deadline = 2026-12-15T17:00:00`
    deadline = Deadline("once", due.time(), once_due=due)
    assert deadline.for_key("once") == vn("2026-12-15 17:00")


def test_once_deadline_without_a_due_date_says_so():
    with pytest.raises(ValueError, match="needs a due date"):
        Deadline("once", time(17, 0)).for_key("once")


# clock and stored instants -------------------------------------------------------------------

def test_parse_now_takes_naive_text_as_vietnam_time():
    now = parse_now("2026-11-23 17:00")
    assert now == vn("2026-11-23 17:00")
    assert now.tzinfo == VN_TZ


def test_parse_now_accepts_slashes_in_the_date():
    assert parse_now("2026/11/23 17:00") == vn("2026-11-23 17:00")


def test_parse_now_converts_an_aware_time_to_vietnam_time():
    now = parse_now("2026-11-23T10:00:00+00:00")
    assert now == vn("2026-11-23 17:00")
    assert now.tzinfo == VN_TZ
    assert now.hour == 17


def test_parse_now_without_text_is_the_real_time_in_vietnam():
    before = datetime.now(UTC)
    now = parse_now(None)
    assert now.tzinfo == VN_TZ
    assert before <= now <= datetime.now(UTC)


def test_stored_instants_are_utc_text_even_across_midnight():
    moment = vn("2026-11-23 06:30")
    assert to_utc_text(moment) == "2026-11-22T23:30:00+00:00"
    assert from_utc_text("2026-11-22T23:30:00+00:00") == moment
    assert from_utc_text("2026-11-22T23:30:00+00:00").tzinfo == VN_TZ


def test_naive_instants_are_stored_as_vietnam_time():
    assert to_utc_text(datetime(2026, 11, 23, 6, 30)) == "2026-11-22T23:30:00+00:00"


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
def test_utc_text_round_trips_to_the_second(naive):
    moment = naive.replace(microsecond=0, tzinfo=VN_TZ)
    assert from_utc_text(to_utc_text(moment)) == moment


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
       st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
def test_utc_text_sorts_like_the_instants(a, b):
    a, b = a.replace(microsecond=0, tzinfo=VN_TZ), b.replace(microsecond=0, tzinfo=VN_TZ)
    assert (to_utc_text(a) < to_utc_text(b)) == (a < b)


# period keys and campaigns ---------------------------------------------------------------------

@pytest.mark.parametrize("period, key", [
    ("daily", "2026-11-23"),
    ("monthly", "2026-11"),
    ("once", "once"),
])
def test_key_for(period, key):
    assert key_for(period, date(2026, 11, 23)) == key


def test_campaign_days_include_both_ends_across_the_year_end():
    days = campaign_days(date(2026, 12, 30), date(2027, 1, 2))
    assert days == [date(2026, 12, 30), date(2026, 12, 31), date(2027, 1, 1), date(2027, 1, 2)]


def test_campaign_of_one_day():
    assert campaign_days(date(2026, 11, 23), date(2026, 11, 23)) == [date(2026, 11, 23)]


def test_campaign_months_across_the_year_end():
    assert campaign_months(date(2026, 11, 15), date(2027, 2, 3)) == [
        "2026-11", "2026-12", "2027-01", "2027-02"]


def test_campaign_months_within_one_month():
    assert campaign_months(date(2026, 11, 1), date(2026, 11, 30)) == ["2026-11"]


# timeliness ------------------------------------------------------------------------------------

def classify(versions, as_of="2026-11-30 00:00"):
    return timeliness(versions, DEADLINE, grace=FIVE_MINUTES, as_of=vn(as_of))


def test_no_versions_after_the_cutoff_is_missing():
    assert classify([]) == (Status.MISSING, None)
    assert classify([], as_of="2026-11-23 17:06") == (Status.MISSING, None)


def test_no_versions_until_the_cutoff_is_pending():
    assert classify([], as_of="2026-11-23 09:00") == (Status.PENDING, None)
    assert classify([], as_of="2026-11-23 17:04:59") == (Status.PENDING, None)


def test_at_the_cutoff_itself_nothing_received_is_missing():
    """The as-of-deadline archive is the picture at the cutoff: who had nothing is missing,
    not "still within the deadline"."""
    assert classify([], as_of="2026-11-23 17:05") == (Status.MISSING, None)


def test_complete_then_cleared_before_the_deadline_is_not_on_time():
    versions = [proof("2026-11-23 09:00", content="a"),
                proof("2026-11-23 12:00", complete=False, content="", blank=True)]
    assert classify(versions, as_of="2026-11-23 13:00") == (Status.PENDING, None)
    assert classify(versions) == (Status.MISSING, None)
    versions.append(proof("2026-11-23 18:00", content="b"))
    assert classify(versions) == (Status.LATE, vn("2026-11-23 18:00"))


def test_a_required_field_cleared_before_the_deadline_is_incomplete_then_late():
    versions = [proof("2026-11-23 09:00", content="a"),
                proof("2026-11-23 16:00", complete=False, content="b")]
    assert classify(versions, as_of="2026-11-23 17:30") == (Status.INCOMPLETE, None)
    versions.append(proof("2026-11-23 18:00", content="c"))
    assert classify(versions) == (Status.LATE, vn("2026-11-23 18:00"))


def test_complete_on_time_then_cleared_after_the_cutoff_is_amended():
    versions = [proof("2026-11-23 09:00", content="a"),
                proof("2026-11-23 19:00", complete=False, content="", blank=True)]
    assert classify(versions) == (Status.AMENDED, vn("2026-11-23 09:00"))


def test_only_incomplete_versions_is_incomplete():
    versions = [proof("2026-11-23 09:00", complete=False, content="a"),
                proof("2026-11-24 09:00", complete=False, content="b")]
    assert classify(versions) == (Status.INCOMPLETE, None)


def test_complete_before_the_deadline_is_on_time():
    versions = [proof("2026-11-23 09:00", complete=False, content="a"),
                proof("2026-11-23 16:59", content="b")]
    assert classify(versions) == (Status.ON_TIME, vn("2026-11-23 16:59"))


def test_complete_within_the_grace_minutes_is_on_time():
    assert classify([proof("2026-11-23 17:05")]) == (Status.ON_TIME, vn("2026-11-23 17:05"))


def test_first_complete_after_deadline_and_grace_is_late():
    versions = [proof("2026-11-23 12:00", complete=False, content="a"),
                proof("2026-11-23 17:06", content="b")]
    assert classify(versions) == (Status.LATE, vn("2026-11-23 17:06"))


def test_complete_on_time_then_changed_after_the_cutoff_is_amended():
    versions = [proof("2026-11-23 16:00", content="a"), proof("2026-11-24 08:00", content="b")]
    assert classify(versions) == (Status.AMENDED, vn("2026-11-23 16:00"))


def test_changes_before_the_cutoff_are_not_amendments():
    versions = [proof("2026-11-23 15:00", content="a"), proof("2026-11-23 17:04", content="b")]
    assert classify(versions) == (Status.ON_TIME, vn("2026-11-23 15:00"))


def test_a_later_version_with_the_on_time_content_is_not_an_amendment():
    versions = [proof("2026-11-23 16:00", content="a"), proof("2026-11-24 08:00", content="a")]
    assert classify(versions) == (Status.ON_TIME, vn("2026-11-23 16:00"))


def test_as_of_before_a_late_version_does_not_know_it_yet():
    versions = [proof("2026-11-23 12:00", complete=False, content="a"),
                proof("2026-11-24 09:00", content="b")]
    assert classify(versions, as_of="2026-11-23 17:05") == (Status.INCOMPLETE, None)
    assert classify(versions[1:], as_of="2026-11-23 17:04") == (Status.PENDING, None)
    assert classify(versions[1:], as_of="2026-11-23 17:05") == (Status.MISSING, None)
    assert classify(versions[1:], as_of="2026-11-23 20:00") == (Status.MISSING, None)
    assert classify(versions, as_of="2026-11-24 09:00") == (Status.LATE, vn("2026-11-24 09:00"))


def test_an_amendment_proven_after_as_of_is_ignored():
    versions = [proof("2026-11-23 16:00", content="a"), proof("2026-11-24 08:00", content="b")]
    assert classify(versions, as_of="2026-11-23 23:59") == (Status.ON_TIME, vn("2026-11-23 16:00"))


# status vocabulary -----------------------------------------------------------------------------

@pytest.mark.parametrize("status, reported, timely, label", [
    (Status.ON_TIME, True, True, "Đúng hạn"),
    (Status.LATE, True, False, "Trễ hạn"),
    (Status.AMENDED, True, True, "Đúng hạn, sửa sau hạn"),
    (Status.INCOMPLETE, False, False, "Chưa đủ"),
    (Status.MISSING, False, False, "Chưa báo cáo"),
    (Status.PENDING, False, False, "Chưa nhập (còn hạn)"),
    (Status.NOT_EXPECTED, False, False, "Không phải báo cáo"),
])
def test_status_meaning(status, reported, timely, label):
    assert status.reported is reported
    assert status.timely is timely
    assert status.label == label


def test_every_status_has_a_vietnamese_label():
    assert all(status.label for status in Status)


def test_status_values_are_the_stored_text():
    assert Status("on_time") is Status.ON_TIME
    assert f"{Status.LATE}" == "late"


# quarterly and yearly periods, against the independent model ------------------------------

@pytest.mark.parametrize(("period", "key", "label"), [
    ("quarterly", "2026-Q4", "Quý IV/2026"), ("quarterly", "2027-Q1", "Quý I/2027"),
    ("yearly", "2026", "Năm 2026"), ("monthly", "2026-11", "11/2026")])
def test_a_period_row_is_labelled_as_officers_write_it_and_read_back(period, key, label):
    from toolkit.layout import period_key_of

    assert period_label(period, key) == label
    assert period_key_of(label) == key
    assert period_key_of(label.replace("Quý IV", "quy 4")) == key


@given(period=st.sampled_from(["monthly", "quarterly", "yearly"]),
       due_day=st.integers(1, 31), months_after=st.integers(0, 12),
       start=st.dates(date(2025, 1, 1), date(2027, 12, 31)), length=st.integers(0, 800))
@settings(max_examples=300, deadline=None)
def test_deadlines_and_expected_periods_agree_with_the_oracle(period, due_day, months_after,
                                                             start, length):
    from oracle import Report
    from oracle import expected as oracle_expected
    from toolkit.layout import period_keys
    from toolkit.templates import ReportSpec

    end = start + timedelta(days=length)
    deadline = Deadline(period, time(17), due_day, months_after=months_after)
    spec = ReportSpec("r", "R", "R", period, deadline, ())
    model = Report("r", period, (), (), due_day=due_day, months_after=months_after)
    keys = period_keys(spec, start, end)
    for key in keys:
        assert deadline.for_key(key) == model.deadline(key), key
    near = {model.period_of(start + timedelta(days=n)) for n in range(-400, length + 400, 10)}
    assert set(keys) == {k for k in near if oracle_expected(model, k, start, end)}
    for n in range(0, length + 1, 7):
        day = start + timedelta(days=n)
        assert key_for(period, day) == model.period_of(day)


def test_a_day_works_on_the_period_due_until_its_deadline_passes():
    quarterly = Deadline("quarterly", time(17), 5, months_after=1)
    assert quarterly.key_on(date(2027, 1, 5)) == "2026-Q4"
    assert quarterly.key_on(date(2027, 1, 6)) == "2027-Q1"
    assert quarterly.key_on(date(2026, 12, 31)) == "2026-Q4"
    monthly = Deadline("monthly", time(17), 26)
    assert monthly.key_on(date(2026, 11, 27)) == "2026-11"      # unchanged: due in its month
