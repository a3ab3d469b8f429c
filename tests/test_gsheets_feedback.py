"""Feedback on fake Google through the real validate: Kiểm tra, banners, notes on bad cells."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from test_gsheets_store import DAILY, office  # noqa: F401  (fixture)

from toolkit.validate import validate

MORNING = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)          # 08:00 in Vietnam, 20/11/2026
STAFF = "xa06040@example.gov.vn"


@pytest.fixture
def ready(office):  # noqa: F811
    office.fake.clock.set(MORNING)
    office.provision()
    return office


def check(office):  # noqa: F811
    office.later()
    office.collect()
    return validate(office.specs, office.registry, office.store, office.ledger,
                    day=office.now().date(), now=office.now(),
                    campaign=(office.config.campaign_start, office.config.campaign_end))


def notes(fake, sid: str, tab: str = DAILY) -> dict[str, str]:
    from toolkit.backends.google.fake.a1 import cell_name

    sheet = fake.spreadsheet(sid).by_title(tab)
    return {cell_name(r, c): cell.note for (r, c), cell in sheet.cells.items() if cell.note}


def test_a_bad_cell_gets_a_note_that_goes_when_it_is_fixed(ready):
    fake = ready.fake
    sid = ready.locator("06040")
    # More digital shops than the commune has households (1,200): an error on the cell. (Text
    # in a number cell never gets this far on Google: the sheet refuses it.)
    fake.type(sid, f"'{DAILY}'!B3", "1500", as_user=STAFF)
    fake.type(sid, f"'{DAILY}'!C3", "4", as_user=STAFF)
    fake.reset_log()
    first = check(ready)
    assert len(first.written) == 4
    assert fake.count("sheets.spreadsheets.batchUpdate") == 4          # one write per commune
    marked = notes(fake, sid)
    assert list(marked) == ["B3"]
    assert marked["B3"].startswith("⚠ Lỗi (20/11/2026): ")
    assert "Cách sửa: " in marked["B3"] and "xem trang Kiểm tra" in marked["B3"]
    kiem_tra = fake.values(sid, "'Kiểm tra'!A3:G3")[0]
    assert kiem_tra[:3] == ["20/11/2026", DAILY, "B3"] and kiem_tra[6] == "Lỗi"
    daily = fake.spreadsheet(sid).by_title(DAILY)
    light_red = {"red": 1.0, "green": round(0xC7 / 255, 3), "blue": round(0xCE / 255, 3)}
    assert (daily.user_format(2, 1) or {}).get("backgroundColor") == light_red
    assert not (daily.user_format(2, 2) or {}).get("backgroundColor")       # C3: not marked
    check_sheet = fake.spreadsheet(sid).by_title("Kiểm tra")
    level = check_sheet.user_format(2, 6)
    assert level["backgroundColor"] == light_red and level["wrapStrategy"] == "WRAP"
    assert check_sheet.user_format(2, 4)["wrapStrategy"] == "WRAP"         # the message

    fake.type(sid, f"'{DAILY}'!B3", "2", as_user=STAFF)
    fake.reset_log()
    second = check(ready)
    assert second.written == (ready.registry.by_code()["06040"].display_name,)
    assert fake.count("sheets.spreadsheets.batchUpdate") == 1           # only what changed
    assert notes(fake, sid) == {}
    daily = fake.spreadsheet(sid).by_title(DAILY)       # a batch swaps in a new copy
    assert not (daily.user_format(2, 1) or {}).get("backgroundColor")       # mark cleared
    assert daily.user_format(2, 1)["numberFormat"] == {"type": "NUMBER", "pattern": "#,##0"}
    assert fake.values(sid, f"'{DAILY}'!B3:C3") == [[2, 4]]             # typed values untouched

    fake.reset_log()
    check(ready)
    assert fake.count("sheets.spreadsheets.batchUpdate") == 0           # nothing new to say


def test_the_not_reported_banner_is_written_and_cleared_as_on_xlsx(ready):
    """P4.4: the same banner_texts → write_feedback path as the xlsx store (test_remind)."""
    fake = ready.fake
    sid, other = ready.locator("06040"), ready.locator("06001")
    ready.fake.clock.set(MORNING + timedelta(hours=7))                 # 15:00 in Vietnam
    check(ready)
    assert fake.values(sid, f"'{DAILY}'!A1") == [["⚠ Chưa báo cáo ngày 20/11/2026 — hạn 17:00"]]
    banner = fake.cell(sid, f"'{DAILY}'!A1").fmt["textFormat"]
    assert banner["bold"] and banner["foregroundColor"]["red"] == 0.753   # C00000, red
    assert fake.values(sid, "'Báo cáo tháng'!A1") == [
        ["⚠ Chưa báo cáo tháng 11/2026 — hạn 17:00 ngày 26/11"]]

    fake.type(sid, f"'{DAILY}'!B3", "1", as_user=STAFF)
    fake.type(sid, f"'{DAILY}'!C3", "1", as_user=STAFF)
    ready.fake.clock.set(MORNING + timedelta(hours=9, minutes=5))      # 17:05
    check(ready)
    title = fake.values(sid, f"'{DAILY}'!A1")[0][0]
    assert title.startswith("Báo cáo ngày phát triển kinh tế số — Xã")
    assert fake.values(other, f"'{DAILY}'!A1") == [
        ["⚠ Chưa báo cáo ngày 20/11/2026 — đã quá hạn 17:00, đề nghị nhập ngay"]]
    assert fake.values(sid, f"'{DAILY}'!B3:C3") == [[1, 1]]


def test_tabs_that_came_with_a_template_are_found_by_title_once(office):  # noqa: F811
    """A template's tabs have Google's sheet ids, not ours: one lookup, then the same write."""
    fake = office.fake
    fake.clock.set(MORNING)
    template = fake.create_spreadsheet("Mẫu sổ báo cáo", parent=office.google.folder_id,
                                       tabs=("Giới thiệu", DAILY))
    office.store = office.fresh_store(template_spreadsheet_id=template)
    office.provision()
    sid = office.locator("06040")
    fake.type(sid, f"'{DAILY}'!B3", "1500", as_user=STAFF)
    fake.reset_log()
    result = check(office)
    assert not result.failures
    writes = [r.status for r in fake.requests if sid in r.path and r.kind == "write"]
    assert writes == [400, 200]
    assert sorted(notes(fake, sid)) == ["B3", "C3"]   # more shops than households; C3 empty


def test_a_commune_typing_and_noting_while_feedback_is_written_loses_nothing(ready):
    """P6: feedback writes touch only Kiểm tra, the banner cell and the cells the toolkit
    marks. A commune officer types into data cells and adds notes of their own while validate
    writes feedback sweep after sweep: every value and every note of theirs is still there,
    and the next collect reads every value."""
    import random
    import threading

    from toolkit.layout import FIRST_DATA_ROW

    fake, sid = ready.fake, ready.locator("06040")
    fake.clock.set(datetime(2027, 1, 19, 3, 0, tzinfo=UTC))  # every campaign day is due
    assert len(check(ready).written) == 4        # empty required cells: notes on the sheet
    typed: dict[tuple[str, int], int] = {}
    noted: dict[str, str] = {}
    done = threading.Event()

    def officer() -> None:
        rng = random.Random(6)
        try:
            for i in range(300):
                row = FIRST_DATA_ROW + rng.randrange(60)
                column = rng.choice("BCE")
                fake.type(sid, f"'{DAILY}'!{column}{row}", i, as_user=STAFF)
                typed[(column, row)] = i
                if i % 10 == 0:
                    cell = f"I{row}"
                    noted[cell] = f"Số liệu ngày này do thôn báo muộn ({i})"
                    fake.note(sid, f"'{DAILY}'!{cell}", noted[cell], as_user=STAFF)
                time.sleep(0.002)
        finally:
            done.set()

    typist = threading.Thread(target=officer)
    typist.start()
    sweeps = written = 0
    while not done.is_set() and sweeps < 200:
        written += len(check(ready).written)
        sweeps += 1
    typist.join(timeout=60)
    assert not typist.is_alive()
    check(ready)                                   # the next sweep reads everything typed
    assert sweeps >= 3 and written >= 3, (sweeps, written)
    grid = fake.values(sid, f"'{DAILY}'!A1:I70")
    for (column, row), value in typed.items():
        assert grid[row - 1][" ABCDEFGHI".index(column) - 1] == value, (column, row)
    mine = notes(fake, sid)
    for cell, text in noted.items():
        assert mine.get(cell) == text, cell
    latest = ready.ledger.versions("kts_daily")
    latest = latest[latest["commune_code"] == "06040"].sort_values("id").groupby("row_key").tail(1)
    held = {int(r.sheet_row): r.values for r in latest.itertuples()}
    keys = {"B": "new_shops", "C": "new_accounts", "E": "orders"}
    for (column, row), value in typed.items():
        assert held[row][keys[column]] == value, (column, row)
