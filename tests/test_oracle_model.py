"""The oracle itself, on hand-made timelines whose answers are worked out by hand.

If one of these fails, the reference model is wrong, not the toolkit.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from oracle import VN, Oracle, Report, Unreadable, expected, parse

DAILY = Report("kts_daily", "daily", (("shops", "int"), ("accounts", "int"), ("orders", "int"),
                                      ("note", "text")), ("shops", "accounts"))
MONTHLY = Report("cds_monthly", "monthly", (("guided", "int"), ("vneid", "int")),
                 ("guided", "vneid"), due_day=26)
DAY = "2026-11-20"
FULL = {"shops": 3, "accounts": 5}


def at(text: str) -> datetime:
    return datetime.fromisoformat(f"2026-11-{text}" if len(text) < 12 else text).replace(tzinfo=VN)


def oracle(backend: str = "xlsx", communes=("A", "B", "C", "D"), **campaign) -> Oracle:
    start = campaign.get("start", date(2026, 11, 20))
    end = campaign.get("end", date(2026, 11, 30))
    grace = timedelta(minutes=5 if backend == "gsheets" else 0)
    reports = campaign.get("reports", [DAILY, MONTHLY])
    return Oracle(reports, list(communes), start=start, end=end, grace=grace, backend=backend)


def simulated_day(backend: str) -> Oracle:
    """tests/test_simulated_day.py's day: A in the morning, B half at 16:30 and the rest at
    19:00, C at 16:58, D at 17:02; sweeps at 14:00, 16:45, 17:00, 17:03 and 20:00."""
    model = oracle(backend)
    typed = [("A", "20 09:15", FULL), ("B", "20 16:30", {"shops": 1}),
             ("C", "20 16:58", {"shops": 2, "accounts": 2}), ("D", "20 17:02", FULL),
             ("B", "20 19:00", {"accounts": 2})]
    sweeps = ["20 14:00", "20 16:45", "20 17:00", "20 17:03", "20 20:00"]
    events = sorted([(at(t), "type", c, v) for c, t, v in typed] +
                    [(at(s), "sweep", None, None) for s in sweeps], key=lambda e: e[0])
    for moment, what, commune, values in events:
        if what == "type":
            model.type(commune, moment, "kts_daily", DAY, values)
        else:
            model.sweep(moment, {"A", "B", "C", "D"} if backend == "gsheets" else None)
    return model


def test_the_simulated_day_on_the_xlsx_folder():
    model = simulated_day("xlsx")
    assert model.statuses("kts_daily", DAY, at("20 16:45")) == {
        "A": "on_time", "B": "incomplete", "C": "pending", "D": "pending"}
    # At the deadline itself (A = C) a commune that never typed is missing, not pending.
    assert model.statuses("kts_daily", DAY, at("20 17:00")) == {
        "A": "on_time", "B": "incomplete", "C": "on_time", "D": "missing"}
    # The file's time proves 17:02 exactly: late, though the 17:03 sweep saw it.
    assert model.statuses("kts_daily", DAY, at("20 20:00")) == {
        "A": "on_time", "B": "late", "C": "on_time", "D": "late"}
    assert model.chased("kts_daily", date(2026, 11, 20), at("20 16:45")) == {"B", "C", "D"}
    assert model.chased("kts_daily", date(2026, 11, 20), at("20 20:00")) == set()


def test_the_simulated_day_on_google():
    model = simulated_day("gsheets")
    # Google proves a row when a sweep reads it: D's 17:02 entry is proven by the 17:03 sweep,
    # inside the 5 minutes of grace.
    assert model.statuses("kts_daily", DAY, at("20 20:00")) == {
        "A": "on_time", "B": "late", "C": "on_time", "D": "on_time"}
    # As of the deadline the picture is frozen at 17:05, known by 20:00.
    assert model.statuses("kts_daily", DAY, at("20 17:05"), known_by=at("20 20:00")) == {
        "A": "on_time", "B": "incomplete", "C": "on_time", "D": "on_time"}


def test_complete_then_cleared_before_the_deadline_is_not_on_time():
    model = oracle(communes=("A",))
    model.type("A", at("20 10:00"), "kts_daily", DAY, FULL)
    model.sweep(at("20 12:00"))
    model.type("A", at("20 16:00"), "kts_daily", DAY, {"shops": None, "accounts": None})
    model.sweep(at("20 16:30"))
    assert model.status("A", "kts_daily", DAY, at("20 12:00")) == "on_time"
    assert model.status("A", "kts_daily", DAY, at("20 16:30")) == "pending"
    assert model.status("A", "kts_daily", DAY, at("20 20:00")) == "missing"
    assert model.chased("kts_daily", date(2026, 11, 20), at("20 20:00")) == {"A"}


def test_a_change_after_the_deadline_is_an_amendment_even_when_changed_back():
    model = oracle(communes=("A",))
    model.type("A", at("20 10:00"), "kts_daily", DAY, FULL)
    model.sweep(at("20 12:00"))
    model.type("A", at("20 17:30"), "kts_daily", DAY, {"shops": 4})
    model.sweep(at("20 18:00"))
    model.type("A", at("20 18:30"), "kts_daily", DAY, {"shops": "3"})   # "3" is 3
    model.sweep(at("20 19:00"))
    assert model.status("A", "kts_daily", DAY, at("20 20:00")) == "amended"
    assert model.status("A", "kts_daily", DAY, at("20 17:00"), known_by=at("20 20:00")) == \
        "on_time"
    assert model.status("A", "kts_daily", DAY, at("20 17:45")) == "on_time"  # not seen yet


def test_the_same_values_typed_again_are_no_amendment():
    model = oracle(communes=("A",))
    model.type("A", at("20 10:00"), "kts_daily", DAY, FULL)
    model.sweep(at("20 12:00"))
    model.type("A", at("20 18:00"), "kts_daily", DAY, {"shops": "3", "note": ""})
    model.sweep(at("20 19:00"))
    assert model.status("A", "kts_daily", DAY, at("20 20:00")) == "on_time"


def test_a_version_no_sweep_saw_is_unknown():
    for backend in ("xlsx", "gsheets"):
        model = oracle(backend, communes=("A",))
        model.type("A", at("20 16:50"), "kts_daily", DAY, FULL)
        model.type("A", at("20 17:10"), "kts_daily", DAY, {"shops": 4})
        model.sweep(at("20 17:30"), {"A"})
        assert model.status("A", "kts_daily", DAY, at("20 20:00")) == "late", backend


def test_google_proves_a_row_only_when_a_sweep_reads_it():
    model = oracle("gsheets", communes=("A",))
    model.type("A", at("20 16:00"), "kts_daily", DAY, FULL)
    assert model.must_fetch(at("20 16:30")) == set()          # earlier than 16:50
    model.sweep(at("20 16:30"), set())                         # Drive's lag hid the change
    assert model.must_fetch(at("20 16:55")) == {"A"}           # still pending as far as known
    model.sweep(at("20 17:20"), {"A"})
    assert model.status("A", "kts_daily", DAY, at("20 20:00")) == "late"


def test_google_grace_counts_the_sweep_xlsx_the_file():
    for backend, answer in (("gsheets", "on_time"), ("xlsx", "late")):
        model = oracle(backend, communes=("A",))
        model.type("A", at("20 17:02"), "kts_daily", DAY, FULL)
        model.sweep(at("20 17:04"), {"A"})
        assert model.status("A", "kts_daily", DAY, at("20 17:04")) == (
            "on_time" if backend == "gsheets" else "late"), backend
        assert model.status("A", "kts_daily", DAY, at("20 20:00")) == answer, backend


def test_unreadable_cells():
    model = oracle(communes=("A", "B"))
    model.type("A", at("20 10:00"), "kts_daily", DAY, {**FULL, "orders": "12a"})
    model.type("B", at("20 10:00"), "kts_daily", DAY, {"shops": "12a", "accounts": 1})
    model.sweep(at("20 12:00"))
    assert model.statuses("kts_daily", DAY, at("20 12:00")) == {"A": "on_time",
                                                                "B": "incomplete"}
    # A is complete, but its row holds an error: it is chased all the same.
    assert model.chased("kts_daily", date(2026, 11, 20), at("20 12:00")) == {"A", "B"}
    assert [parse("int", v) for v in (12, "12", " 12 ", "", None, "12a", 1.0)] == [
        12, 12, 12, None, None, Unreadable("12a"), 1]


def test_which_periods_are_expected():
    working = replace(DAILY, calendar="working_days")
    start, end = date(2026, 11, 20), date(2026, 11, 30)
    assert [d.day for d in (start + timedelta(days=n) for n in range(-1, 12))
            if expected(working, f"{d}", start, end)] == [20, 23, 25, 26, 27, 30]
    assert [d.day for d in (start + timedelta(days=n) for n in range(-1, 12))
            if expected(DAILY, f"{d}", start, end)] == list(range(20, 31))
    assert not expected(working, "2027-01-01", date(2026, 12, 30), date(2027, 1, 4))
    # Monthly: the month overlaps the campaign and its deadline is not before the start.
    assert expected(MONTHLY, "2026-11", date(2026, 11, 26), end)       # 17:00 on the 26th
    assert not expected(MONTHLY, "2026-11", date(2026, 11, 27), date(2026, 12, 3))
    assert expected(MONTHLY, "2026-12", date(2026, 11, 27), date(2026, 12, 3))
    assert not expected(MONTHLY, "2027-01", date(2026, 11, 27), date(2026, 12, 31))


def test_not_expected_periods_are_never_missing_nor_chased():
    model = oracle(communes=("A",), start=date(2026, 11, 27), end=date(2026, 12, 3),
                   reports=[replace(DAILY, calendar="working_days"), MONTHLY])
    model.sweep(at("2026-11-30 20:00"))
    for period in ("2026-11-26", "2026-11-28", "2026-12-04"):       # before, Saturday, after
        assert model.status("A", "kts_daily", period, at("2026-12-05 09:00")) == "not_expected"
    assert model.status("A", "cds_monthly", "2026-11", at("2026-12-05 09:00")) == "not_expected"
    assert model.chased("cds_monthly", date(2026, 11, 30), at("2026-11-30 20:00")) == set()
    assert model.chased("kts_daily", date(2026, 11, 28), at("2026-11-30 20:00")) == set()
    assert model.status("A", "kts_daily", "2026-11-27", at("2026-12-05 09:00")) == "missing"


def test_remind_chases_a_report_amended_into_an_empty_required_field_not_one_cleared():
    """Reported on time, then after the deadline one commune empties a required cell (its row
    now has an error to fix) and another clears its whole row (amended, nothing to fix)."""
    model = oracle(communes=("A", "B"))
    for commune in ("A", "B"):
        model.type(commune, at("20 09:00"), "kts_daily", DAY, FULL)
    model.sweep(at("20 10:00"))
    model.type("A", at("20 19:00"), "kts_daily", DAY, {"accounts": None})
    model.type("B", at("20 19:00"), "kts_daily", DAY, {"shops": None, "accounts": None})
    model.sweep(at("20 20:00"))
    assert model.statuses("kts_daily", DAY, at("20 20:00")) == {"A": "amended", "B": "amended"}
    assert model.chased("kts_daily", date(2026, 11, 20), at("20 20:00")) == {"A"}


QUARTERLY = Report("bcd_quarterly", "quarterly", (("members", "int"),), ("members",), due_day=5,
                   months_after=1)


def test_a_quarter_is_due_on_the_fifth_of_the_month_after_it():
    assert QUARTERLY.period_of(date(2026, 12, 31)) == "2026-Q4"
    assert QUARTERLY.deadline("2026-Q4") == datetime(2027, 1, 5, 17, 0, tzinfo=VN)
    yearly = replace(QUARTERLY, period="yearly", due_day=31, months_after=2)
    assert yearly.deadline("2026") == datetime(2027, 2, 28, 17, 0, tzinfo=VN)
    # A campaign from 10/1/2027 owes nothing for the fourth quarter, due on 5/1.
    assert expected(QUARTERLY, "2026-Q4", date(2026, 12, 1), date(2027, 3, 1))
    assert not expected(QUARTERLY, "2026-Q4", date(2027, 1, 10), date(2027, 3, 1))
    assert expected(QUARTERLY, "2027-Q1", date(2027, 1, 10), date(2027, 3, 1))


def test_an_enterprise_reports_a_day_once_every_commune_served_has_its_row():
    postal = Report("buu_chinh_daily", "daily", (("shops", "int"), ("accounts", "int")),
                    ("shops", "accounts"), keyed=True)
    model = Oracle([postal], ["VTP", "BDT"], start=date(2026, 11, 20), end=date(2026, 11, 30),
                   grace=timedelta(0), backend="xlsx",
                   serves={"VTP": ("Xã A", "Xã B"), "BDT": ("Xã C",)})
    model.type("VTP", at("20 10:00"), "buu_chinh_daily", DAY, FULL, served="Xã A")
    model.type("BDT", at("20 10:00"), "buu_chinh_daily", DAY, {"shops": 1}, served="Xã C")
    model.sweep(at("20 12:00"))
    assert model.statuses("buu_chinh_daily", DAY, at("20 12:00")) == {
        "VTP": "incomplete", "BDT": "incomplete"}
    assert model.chased("buu_chinh_daily", date(2026, 11, 20), at("20 12:00")) == {"VTP", "BDT"}
    model.type("VTP", at("20 18:00"), "buu_chinh_daily", DAY, {"shops": 0, "accounts": 0},
               served="Xã B")
    model.type("BDT", at("20 16:00"), "buu_chinh_daily", DAY, {"accounts": 4}, served="Xã C")
    model.sweep(at("20 18:30"))
    assert model.statuses("buu_chinh_daily", DAY, at("20 18:30")) == {
        "VTP": "late", "BDT": "on_time"}
    # All of a day's rows cleared is nothing at all, as a commune's blank row.
    model.type("BDT", at("21 09:00"), "buu_chinh_daily", "2026-11-21", {"shops": None},
               served="Xã C")
    model.sweep(at("21 18:00"))
    assert model.status("BDT", "buu_chinh_daily", "2026-11-21", at("21 18:00")) == "missing"
