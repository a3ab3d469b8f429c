"""The province rollup spreadsheet on fake Google: the archive's tabs, as values, with charts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook
from test_gsheets_store import DAILY, SHEETS_WRITE, office  # noqa: F401  (fixture)

from conftest import summary_table
from toolkit.archive import TABLE_NAMES
from toolkit.backends.google.rollup import SEPARATOR
from toolkit.daily import rollup_reports
from toolkit.workspace import Workspace

START = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)         # 09:00 in Vietnam, 21/11/2026
TYPED = {"B4": "12", "C4": "'=1+1", "E4": "'+84 912 345 678"}


def remove_validation(fake, sid: str, where: str) -> None:
    """What any editor can do (Dữ liệu → Xác thực dữ liệu → Xóa quy tắc): afterwards the
    sheet takes text in a number cell, as Excel does."""
    with fake.lock:
        spreadsheet = fake.spreadsheet(sid)
        sheet, r0, r1, c0, c1 = spreadsheet.resolve(where)
        sheet.rule_layers.append((spreadsheet.next_seq(), r0, r1, c0, c1, None))


def workspace(office, rollup_id: str | None) -> Workspace:  # noqa: F811
    google = replace(office.google, rollup_spreadsheet_id=rollup_id)
    return Workspace(replace(office.config, google=google), office.registry, office.specs,
                     office.store, office.ledger)


@pytest.fixture
def reported(office):  # noqa: F811
    """Four provisioned communes; Hoàng Văn Thụ typed a number, a formula and a phone number."""
    office.fake.clock.set(START)
    office.provision()
    sid = office.locator("06040")
    for cell, text in TYPED.items():
        where = f"'{DAILY}'!{cell}"
        remove_validation(office.fake, sid, where)
        office.fake.type(sid, where, text, as_user="xa06040@example.gov.vn")
    office.later()
    office.collect()
    return office


def tabs_of(fake, sid: str) -> list[str]:
    return [s.title for s in fake.spreadsheet(sid).ordered()]


def test_the_rollup_spreadsheet_gets_the_archive_tabs_in_two_requests(reported):
    """Two requests: a look and one batch; the first time, a third reads whether the tab the
    new spreadsheet started with is empty, and the batch removes it."""
    fake = reported.fake
    target = fake.create_spreadsheet("Tổng hợp báo cáo xã", parent=reported.google.folder_id)
    assert tabs_of(fake, target) == ["Sheet1"]
    fake.reset_log()
    rollup_reports(workspace(reported, target), START.date(), now=reported.now())
    assert fake.count() == 3
    assert fake.count("sheets.spreadsheets.values.batchGet") == 1
    assert "Sheet1" not in tabs_of(fake, target)
    reported.later()
    fake.reset_log()
    rollups, paths = rollup_reports(workspace(reported, target), START.date(),
                                    now=reported.now())
    assert fake.count() == 2
    assert fake.count("sheets.spreadsheets.get") == 1
    assert fake.count("sheets.spreadsheets.batchUpdate") == 1
    daily = next(r for r in rollups if r.spec.key == "kts_daily")
    assert daily.published.error == ""
    assert daily.published.url.startswith(f"https://docs.google.com/spreadsheets/d/{target}")
    assert "2 yêu cầu cho 5 báo cáo" in daily.published.summary

    archive = load_workbook(next(p for p in paths if "kts_daily" in p.name))
    titles = tabs_of(fake, target)
    mine = [t.split(SEPARATOR, 1)[1] for t in titles if t.startswith(DAILY + SEPARATOR)]
    assert mine == archive.sheetnames
    assert mine == [n for n in TABLE_NAMES          # no districts, no postal enterprises here
                    if n not in ("Theo huyện", "Xếp hạng thi đua (huyện)", "Đối chiếu bưu chính")]
    summary = archive["Tổng hợp"]
    width = summary.max_column
    expected = [[c.value for c in r] for r in summary.iter_rows(max_row=9)]
    got = fake.values(target, f"'{DAILY}{SEPARATOR}Tổng hợp'!A1:{chr(64 + width)}20",
                      render="FORMATTED_VALUE")
    assert [r[0] or None if r else None for r in got[:9]] == [r[0] for r in expected]
    assert got[4] == [c.value for c in summary[5]]                       # same headers
    assert got[5][1] == summary["B6"].value == "Toàn tỉnh"               # same total first
    assert got[7] == got[4]              # the header again over the communes, as in the archive
    # The filter starts on that second header, as the archive's does: sorting the communes
    # never moves the province total.
    sheet = next(t for t in fake.spreadsheet(target).sheets
                 if t.title == f"{DAILY}{SEPARATOR}Tổng hợp")
    assert sheet.basic_filter["range"]["startRowIndex"] == 7
    assert summary.auto_filter.ref.startswith("A8:")
    # The same communes in the same order.
    assert [r[0] for r in summary_table(got)[1]] == \
        [r[0] for r in summary_table(summary.iter_rows(values_only=True))[1]]
    assert fake.spreadsheet(target).props["locale"] == "vi_VN"


def test_the_empty_tab_a_new_spreadsheet_starts_with_goes_in_the_same_batch(reported):
    fake = reported.fake
    fake.time_zone_aliases["Asia/Ho_Chi_Minh"] = "Asia/Saigon"
    made_in_vietnamese = fake.create_spreadsheet("Tổng hợp", parent=reported.google.folder_id,
                                                 locale="vi_VN")
    assert tabs_of(fake, made_in_vietnamese) == ["Trang tính1"]
    fake.reset_log()
    rollup_reports(workspace(reported, made_in_vietnamese), START.date(), now=reported.now())
    assert fake.count("sheets.spreadsheets.batchUpdate") == 1           # no batch of its own
    titles = tabs_of(fake, made_in_vietnamese)
    assert "Trang tính1" not in titles and titles[0] == f"{DAILY}{SEPARATOR}Tổng hợp"
    # Vietnam's time answered as Asia/Saigon: not set again on the next publication
    reported.later()
    fake.reset_log()
    rollup_reports(workspace(reported, made_in_vietnamese), START.date(), now=reported.now())
    batches = [r for r in fake.requests if r.method_id == "sheets.spreadsheets.batchUpdate"]
    assert batches and not any("updateSpreadsheetProperties" in q
                               for b in batches for q in b.json["requests"])


def test_a_starting_tab_someone_typed_into_is_kept(reported):
    fake = reported.fake
    target = fake.create_spreadsheet("Tổng hợp", parent=reported.google.folder_id)
    fake.type(target, "Sheet1!B2", "Ghi chú của Sở", as_user="so@example.gov.vn")
    rollup_reports(workspace(reported, target), START.date(), now=reported.now())
    assert "Sheet1" in tabs_of(fake, target)
    assert fake.values(target, "Sheet1!B2") == [["Ghi chú của Sở"]]


def test_commune_text_is_never_a_formula_in_the_rollup_spreadsheet(reported):
    fake = reported.fake
    target = fake.create_spreadsheet("Tổng hợp báo cáo xã", parent=reported.google.folder_id)
    rollup_reports(workspace(reported, target), START.date(), now=reported.now())
    tab = f"'{DAILY}{SEPARATOR}Lỗi dữ liệu'"
    rows = fake.values(target, f"{tab}!A1:H40")
    values = [r[4] if len(r) > 4 else None for r in rows]
    assert "=1+1" in values and "+84 912 345 678" in values
    row = values.index("=1+1") + 1
    assert fake.formula(target, f"{tab}!E{row}") is None
    assert rows[row - 1][3] == "C4"                                        # the cell staff see


def test_charts_are_redrawn_not_added_on_every_run(reported):
    fake = reported.fake
    target = fake.create_spreadsheet("Tổng hợp báo cáo xã", parent=reported.google.folder_id)
    ws = workspace(reported, target)

    def charts() -> dict[str, list]:
        return {s.title: s.extras.get("charts", []) for s in fake.spreadsheet(target).ordered()
                if s.extras.get("charts")}

    rollup_reports(ws, START.date(), now=reported.now())
    first = charts()
    assert set(first) == {f"{DAILY}{SEPARATOR}Xếp hạng", f"{DAILY}{SEPARATOR}Diễn biến",
                          f"Báo cáo tháng{SEPARATOR}Diễn biến",
                          f"Báo cáo quý BCĐ{SEPARATOR}Diễn biến"}
    ranking = [c["spec"] for c in first[f"{DAILY}{SEPARATOR}Xếp hạng"]]
    assert [c["basicChart"]["chartType"] for c in ranking] == ["BAR"] * 3   # one per target
    assert ranking[0]["title"].startswith("Hộ có cửa hàng số: các xã")
    lines = [c["spec"] for c in first[f"{DAILY}{SEPARATOR}Diễn biến"]]
    assert [c["title"] for c in lines] == ["Tỷ lệ báo cáo và đúng hạn theo ngày",
                                           "Toàn tỉnh: tỷ lệ hộ đạt (lũy kế) so với mức chỉ tiêu"]
    # The target is a line of its own, beside the province's share.
    assert len(lines[1]["basicChart"]["series"]) == 3 + 2
    tabs = tabs_of(fake, target)
    reported.later()
    fake.reset_log()
    rollup_reports(ws, START.date(), now=reported.now())
    assert fake.count(SHEETS_WRITE) == 1
    assert {t: len(c) for t, c in charts().items()} == {t: len(c) for t, c in first.items()}
    assert tabs_of(fake, target) == tabs


def test_a_missing_rollup_spreadsheet_keeps_the_archive_and_says_what_to_do(reported):
    rollups, paths = rollup_reports(workspace(reported, "1NoSuchSpreadsheet000"),
                                    START.date(), now=reported.now())
    assert all(p.is_file() for p in paths) and len(paths) == len(rollups)
    published = rollups[0].published
    assert published.error and "rollup_spreadsheet_id" in published.error
    assert "chia sẻ bảng tính với tinh@lang-son.iam.gserviceaccount.com quyền Người chỉnh sửa" \
        in published.error
    assert "Tệp lưu trữ Excel vẫn đầy đủ" in published.summary


def test_the_xlsx_backend_and_an_unset_spreadsheet_publish_nothing(reported):
    fake = reported.fake
    fake.reset_log()
    rollups, _ = rollup_reports(workspace(reported, None), START.date(), now=reported.now())
    assert fake.count() == 0 and all(r.published is None for r in rollups)


def test_toolkit_rollup_prints_where_the_google_rollup_is(reported, province):
    from conftest import run

    fake = reported.fake
    target = fake.create_spreadsheet("Tổng hợp báo cáo xã", parent=reported.google.folder_id)
    text = province.read_text(encoding="utf-8").replace('kind = "xlsx"', 'kind = "gsheets"')
    text += (f'\n[google]\ncredentials = "{reported.google.credentials}"\n'
             f'folder_id = "{reported.google.folder_id}"\nrollup_spreadsheet_id = "{target}"\n'
             "reads_per_minute = 6000\nwrites_per_minute = 6000\n")
    province.write_text(text, encoding="utf-8")
    with fake.patch_google_auth():
        done = run("rollup", "--template", "kts_daily", config=province, now="2026-11-21 09:30")
    assert done.exit_code == 0, done.output
    assert (f"Bảng tổng hợp Google Sheets → https://docs.google.com/spreadsheets/d/{target}/edit#gid="
            in done.output)
    assert "(3 yêu cầu cho 1 báo cáo)" in done.output      # the first: Sheet1 read, removed
    assert f"{DAILY}{SEPARATOR}Tổng hợp" in tabs_of(fake, target)


def test_a_failed_publication_makes_the_scheduled_run_partial(reported):
    """`toolkit daily` exits 1 naming what failed, as it does for a commune that failed."""
    from toolkit.daily import run_daily

    ws = workspace(reported, "1NoSuchSpreadsheet000")
    result = run_daily(ws, now=reported.now())
    assert all(p.is_file() for p in result.archives)
    (failure,) = [f for f in result.failures if "rollup" in f]
    assert failure.startswith("Bảng tổng hợp Google Sheets 1NoSuchSpreadsheet000: đăng LỖI: ")
