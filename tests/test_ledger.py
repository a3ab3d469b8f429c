from datetime import datetime

import pandas as pd
import pytest

from toolkit.ledger import Ledger, RowVersion, WorkbookRecord
from toolkit.periods import VN_TZ


def vn(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=VN_TZ)


def daily_row(day: str, shops=None, accounts=None, *, sheet_row: int = 3) -> RowVersion:
    values = {"new_shops": shops, "new_accounts": accounts, "note": None}
    complete = shops is not None and accounts is not None
    return RowVersion("kts_daily", day, day, sheet_row, values, {}, complete)


def fetch(ledger: Ledger, rows, at: str = "2026-11-23 16:00", code: str = "06001",
          stamp: str | None = "stamp-1") -> int:
    return ledger.record_fetch(code, fetched_at=vn(at), modified_stamp=stamp,
                               modified_at=vn(at), proven_at=vn(at), rows=rows)


@pytest.fixture
def ledger(tmp_path):
    with Ledger(tmp_path / "data" / "ledger.sqlite") as opened:
        opened.remember_workbook("06001", "workbooks/06001.xlsx", "xlsx", vn("2026-11-01 08:00"))
        yield opened


def test_a_fetch_stores_one_version_per_row(ledger):
    rows = [daily_row("2026-11-23", 2, 5), daily_row("2026-11-24", 1, None, sheet_row=4)]
    assert fetch(ledger, rows) == 2
    versions = ledger.versions("kts_daily")
    assert list(versions["period"]) == ["2026-11-23", "2026-11-24"]
    assert list(versions["row_key"]) == ["2026-11-23", "2026-11-24"]
    assert list(versions["sheet_row"]) == [3, 4]
    assert list(versions["commune_code"]) == ["06001", "06001"]
    assert versions["values"][0] == {"new_shops": 2, "new_accounts": 5, "note": None}
    assert list(versions["complete"]) == [True, False]
    assert list(versions["blank"]) == [False, False]


def test_versions_are_tidy_python_values(ledger):
    fetch(ledger, [daily_row("2026-11-23", 2, 5)], at="2026-11-23 06:30")
    versions = ledger.versions("kts_daily")
    assert str(versions["proven_at"].dt.tz) == "Asia/Ho_Chi_Minh"
    assert versions["proven_at"][0] == vn("2026-11-23 06:30")
    assert versions["complete"].dtype == bool
    assert isinstance(versions["values"][0], dict)
    assert versions["problems"][0] == {}


def test_recording_the_same_rows_again_adds_nothing(ledger):
    rows = [daily_row("2026-11-23", 2, 5), daily_row("2026-11-24", 1, 1, sheet_row=4)]
    assert fetch(ledger, rows, at="2026-11-23 16:00") == 2
    assert fetch(ledger, rows, at="2026-11-23 16:45") == 0
    assert len(ledger.versions("kts_daily")) == 2
    assert ledger.fetch_count() == 2


def test_a_changed_row_adds_exactly_one_version(ledger):
    fetch(ledger, [daily_row("2026-11-23", 2, None), daily_row("2026-11-24", 1, 1, sheet_row=4)])
    changed = [daily_row("2026-11-23", 2, 5), daily_row("2026-11-24", 1, 1, sheet_row=4)]
    assert fetch(ledger, changed, at="2026-11-23 16:45") == 1
    versions = ledger.versions("kts_daily", periods=["2026-11-23"])
    assert list(versions["complete"]) == [False, True]
    assert list(versions["proven_at"]) == [vn("2026-11-23 16:00"), vn("2026-11-23 16:45")]


def test_a_problem_in_a_cell_is_a_change(ledger):
    fetch(ledger, [daily_row("2026-11-23", 2, 5)])
    typo = RowVersion("kts_daily", "2026-11-23", "2026-11-23", 3,
                      {"new_shops": None, "new_accounts": 5, "note": None},
                      {"new_shops": ["2a", "Ô này cần một số nguyên"]}, False)
    assert fetch(ledger, [typo], at="2026-11-23 16:45") == 1
    assert ledger.versions("kts_daily")["problems"][1] == {
        "new_shops": ["2a", "Ô này cần một số nguyên"]}


def test_a_blank_row_never_filled_is_not_stored(ledger):
    assert fetch(ledger, [daily_row("2026-11-23"), daily_row("2026-11-24", sheet_row=4)]) == 0
    assert ledger.versions("kts_daily").empty
    assert ledger.fetch_count() == 1


def test_clearing_a_filled_row_stores_a_blank_version(ledger):
    fetch(ledger, [daily_row("2026-11-23", 2, 5)])
    assert fetch(ledger, [daily_row("2026-11-23")], at="2026-11-23 16:45") == 1
    assert fetch(ledger, [daily_row("2026-11-23")], at="2026-11-23 17:00") == 0
    versions = ledger.versions("kts_daily")
    assert list(versions["blank"]) == [False, True]
    assert versions["values"][1] == {"new_shops": None, "new_accounts": None, "note": None}


def test_versions_are_kept_per_report_and_commune(ledger):
    ledger.remember_workbook("06004", "workbooks/06004.xlsx", "xlsx", vn("2026-11-01 08:00"))
    roster = RowVersion("team_roster", "once", "row3", 3, {"full_name": "Hoàng Văn Minh"}, {},
                        False)
    fetch(ledger, [daily_row("2026-11-23", 2, 5), roster])
    assert fetch(ledger, [daily_row("2026-11-23", 2, 5)], code="06004") == 1
    assert list(ledger.versions("kts_daily")["commune_code"]) == ["06001", "06004"]
    assert list(ledger.versions("team_roster")["values"]) == [{"full_name": "Hoàng Văn Minh"}]
    assert ledger.versions("kts_daily", periods=["2026-11-24"]).empty


def test_a_fetch_that_fails_midway_leaves_nothing(ledger):
    def rows():
        yield daily_row("2026-11-23", 2, 5)
        raise OSError("workbook vanished")

    with pytest.raises(OSError, match="vanished"):
        fetch(ledger, rows())
    assert ledger.versions("kts_daily").empty
    assert ledger.fetch_count() == 0
    assert ledger.workbooks()["06001"].last_fetched_at is None


def test_transaction_rolls_back_on_exception(ledger):
    with pytest.raises(RuntimeError):
        with ledger.transaction():
            ledger.remember_workbook("06004", "workbooks/06004.xlsx", "xlsx", vn("2026-11-01"))
            ledger.mark_modified("06001", "stamp-9")
            raise RuntimeError("killed")
    assert list(ledger.workbooks()) == ["06001"]
    assert ledger.workbooks()["06001"].last_modified is None


def test_transaction_commits(ledger):
    with ledger.transaction():
        ledger.remember_workbook("06004", "workbooks/06004.xlsx", "xlsx", vn("2026-11-01"))
    assert sorted(ledger.workbooks()) == ["06001", "06004"]


def test_workbooks_remember_where_each_commune_lives(ledger):
    assert ledger.workbooks() == {
        "06001": WorkbookRecord("06001", "workbooks/06001.xlsx", "xlsx", None, None)}
    ledger.mark_modified("06001", "stamp-0")
    fetch(ledger, [daily_row("2026-11-23", 2, 5)], at="2026-11-23 06:30", stamp="stamp-1")
    assert ledger.workbooks()["06001"] == WorkbookRecord(
        "06001", "workbooks/06001.xlsx", "xlsx", "stamp-1", "2026-11-22T23:30:00+00:00")
    ledger.mark_modified("06001", "stamp-2")
    assert ledger.workbooks()["06001"].last_modified == "stamp-2"


def test_remembering_a_workbook_again_moves_it_and_keeps_its_stamps(ledger):
    fetch(ledger, [], stamp="stamp-1")
    ledger.remember_workbook("06001", "sheet-id-abc", "gsheets", vn("2026-11-20 08:00"))
    assert ledger.workbooks()["06001"] == WorkbookRecord(
        "06001", "sheet-id-abc", "gsheets", "stamp-1", "2026-11-23T09:00:00+00:00")


def test_failures_are_not_counted_as_fetches(ledger):
    fetch(ledger, [daily_row("2026-11-23", 2, 5)], at="2026-11-23 16:00")
    ledger.record_failure("06001", vn("2026-11-23 16:45"), "Permission denied: 06001.xlsx")
    fetch(ledger, [], at="2026-11-23 17:00")
    assert ledger.fetch_count() == 2
    assert ledger.fetch_count(since=vn("2026-11-23 16:30")) == 1
    failures = ledger.db.execute(
        "SELECT commune_code, outcome, error FROM fetches WHERE outcome='error'").fetchall()
    assert failures == [("06001", "error", "Permission denied: 06001.xlsx")]


def test_two_ledgers_on_one_file_see_each_others_commits(tmp_path):
    path = tmp_path / "ledger.sqlite"
    with Ledger(path) as collector, Ledger(path) as reporter:
        collector.remember_workbook("06001", "workbooks/06001.xlsx", "xlsx", vn("2026-11-01"))
        assert fetch(collector, [daily_row("2026-11-23", 2, 5)]) == 1
        assert list(reporter.workbooks()) == ["06001"]
        assert len(reporter.versions("kts_daily")) == 1
        assert fetch(reporter, [daily_row("2026-11-23", 2, 5)], at="2026-11-23 16:45") == 0
        assert fetch(reporter, [daily_row("2026-11-23", 3, 5)], at="2026-11-23 16:50") == 1
        assert len(collector.versions("kts_daily")) == 2
        assert collector.fetch_count() == 3


def test_reopening_the_file_keeps_the_history(tmp_path):
    path = tmp_path / "ledger.sqlite"
    with Ledger(path) as first:
        first.remember_workbook("06001", "workbooks/06001.xlsx", "xlsx", vn("2026-11-01"))
        fetch(first, [daily_row("2026-11-23", 2, 5)])
    with Ledger(path) as again:
        assert fetch(again, [daily_row("2026-11-23", 2, 5)], at="2026-11-23 16:45") == 0
        assert again.versions("kts_daily")["values"][0]["new_shops"] == 2


def test_feedback_hashes(ledger):
    assert ledger.feedback_hashes() == {}
    ledger.record_feedback("06001", "abc", "stamp-7", vn("2026-11-23 17:10"))
    ledger.record_feedback("06001", "def", "stamp-8", vn("2026-11-23 17:20"))
    assert ledger.feedback_hashes() == {"06001": "def"}
    assert ledger.workbooks()["06001"].last_modified == "stamp-8"


def test_the_cells_feedback_noted_are_kept_and_an_older_ledger_gains_the_column(tmp_path):
    """Google notes only the cells it marks and clears only those it marked (P6); a ledger
    written before that knows no cells (None), so its next write clears as it used to."""
    import sqlite3

    path = tmp_path / "ledger.sqlite"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE feedback (commune_code TEXT PRIMARY KEY, "
                "content_hash TEXT NOT NULL, written_at TEXT NOT NULL)")
    old.execute("INSERT INTO feedback VALUES ('06001', 'abc', '2026-11-23T10:00:00Z')")
    old.commit()
    old.close()
    with Ledger(path) as ledger:
        assert ledger.feedback_notes() == {"06001": None}
        ledger.record_feedback("06001", "def", "stamp-8", vn("2026-11-23 17:20"),
                               noted={"Báo cáo ngày": [[3, 1], [4, 2]]})
        assert ledger.feedback_notes() == {"06001": {"Báo cáo ngày": [[3, 1], [4, 2]]}}


def test_values_decoded_per_field_read_back_as_the_dicts_do(ledger):
    from toolkit.config import PACKAGED_TEMPLATES
    from toolkit.frames import latest_rows, spec_versions
    from toolkit.templates import load_template

    spec = load_template(PACKAGED_TEMPLATES / "kts_daily.toml")

    def row(day, sheet_row, problems=None, **values):   # every field, as collect stores them
        values = {f.key: values.get(f.key) for f in spec.fields}
        complete = all(values[k] is not None for k in spec.required_keys)
        return RowVersion("kts_daily", day, day, sheet_row, values, problems or {}, complete)

    fetch(ledger, [row("2026-11-23", 3, new_shops=2),
                   row("2026-11-24", 4, new_shops=1, new_accounts=1, volume_kg=2.5)])
    typo = row("2026-11-23", 3, {"new_shops": ["2a", "Ô này cần một số nguyên"]},
               new_accounts=5, note="đã sửa")
    fetch(ledger, [typo], at="2026-11-23 16:45")
    by_field = spec_versions(ledger, spec)
    assert "values" not in by_field
    assert by_field["value:new_accounts"].isna().tolist() == [True, False, False]
    assert by_field["value:new_accounts"].tolist()[1:] == [1.0, 5.0]
    assert by_field["value:volume_kg:integer"].tolist() == [False, False, False]
    assert by_field["value:new_shops:integer"].tolist() == [True, True, False]
    assert list(by_field["value:note"]) == [None, None, "đã sửa"]
    assert by_field["problems"][2] == {"new_shops": ["2a", "Ô này cần một số nguyên"]}
    for as_of in (vn("2026-11-23 16:00"), vn("2026-11-23 17:00")):
        expected = latest_rows(ledger.versions("kts_daily"), spec, as_of)
        pd.testing.assert_frame_equal(latest_rows(by_field, spec, as_of), expected)


def test_only_the_rows_fetched_are_compared_with_what_is_stored(ledger):
    fetch(ledger, [daily_row("2026-11-23", 2, 5), daily_row("2026-11-24", 1, 1, sheet_row=4)])
    roster = RowVersion("team_roster", "once", "2026-11-23", 3, {"name": "An"}, {}, True)
    # Another report using the same row key is another row; a fetch may bring only some rows.
    assert fetch(ledger, [roster], at="2026-11-23 16:45") == 1
    assert fetch(ledger, [daily_row("2026-11-24", 1, 1, sheet_row=4)], at="2026-11-23 17:00") == 0
    assert fetch(ledger, [daily_row("2026-11-24", 1, 2, sheet_row=4), roster],
                 at="2026-11-23 17:15") == 1
    assert len(ledger.versions("kts_daily")) == 3


def test_an_empty_report_reads_back_as_an_empty_frame(ledger):
    assert ledger.versions("kts_daily").empty
    assert ledger.versions("kts_daily", fields=["new_shops"]).empty


def test_text_stored_in_a_numeric_field_reads_back_as_the_dicts_do(ledger):
    from toolkit.config import PACKAGED_TEMPLATES
    from toolkit.frames import latest_rows, spec_versions
    from toolkit.templates import load_template

    spec = load_template(PACKAGED_TEMPLATES / "kts_daily.toml")
    keys = [f.key for f in spec.fields]
    # Written when orders was a text column; the template has changed since.
    older = RowVersion("kts_daily", "2026-11-23", "2026-11-23", 3,
                       dict.fromkeys(keys) | {"orders": "12", "volume_kg": 3}, {}, False)
    newer = RowVersion("kts_daily", "2026-11-24", "2026-11-24", 4,
                       dict.fromkeys(keys) | {"orders": 7, "volume_kg": 2.5}, {}, False)
    fetch(ledger, [older, newer])
    by_field = spec_versions(ledger, spec)
    assert "value:orders:integer" not in by_field and "value:volume_kg:integer" in by_field
    as_of = vn("2026-11-23 17:00")
    expected = latest_rows(ledger.versions("kts_daily"), spec, as_of)
    pd.testing.assert_frame_equal(latest_rows(by_field, spec, as_of), expected)
    assert expected["orders"].tolist() == [12, 7]
