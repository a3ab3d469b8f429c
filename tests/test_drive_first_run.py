"""Drive as a province meets it on its first real run, through the CLI on the fake Google.

Each behaviour of the fake here is Google's (see tests/test_fake_drive_index.py): files.list
trails an edit by minutes while files.get does not; Drive's default corpus leaves out Shared
Drive files the listing account did not make; a create's lost answer is settled by id.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

from openpyxl import load_workbook

from conftest import run, summary_table
from desks import PROVINCE_ACCOUNT, GoogleDesk

DAY = date(2026, 11, 20)
DAILY = "Báo cáo ngày"
SHOPS = "Số cửa hàng số mở mới"
ACCOUNTS = "Số tài khoản thanh toán điện tử mở mới"
COLUMN = "Số cửa hàng số mở mới trong ngày"


def statuses(config, now: str) -> dict[str, str]:
    result = run("status", "--date", "2026-11-20", "--template", "kts_daily", "--format",
                 "json", config=config, now=now)
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.stdout)
    return {c["code"]: c["status"] for c in report["communes"]}


def at_deadline(config, code: str):
    path = config.parent / "archive/kts_daily/2026/kts_daily_2026-11-20_theo-han.xlsx"
    header, rows = summary_table(load_workbook(path)["Tổng hợp"].iter_rows(values_only=True))
    return {r[0]: dict(zip(header, r, strict=True)) for r in rows}[code][COLUMN]


def daily(google: GoogleDesk, now: str):
    result = google.run("daily", now=f"2026-11-20 {now}")
    assert result.exit_code == 0, result.output
    return result


def test_a_first_entry_at_1658_is_on_time_though_the_listing_lags_ten_minutes(province):
    google = GoogleDesk(province)
    try:
        google.fake.list_lag = timedelta(minutes=10)
        assert google.run("provision", now="2026-11-20 08:00").exit_code == 0
        daily(google, "16:00")
        google.type_row("06040", DAILY, DAY, {SHOPS: 3, ACCOUNTS: 4}, at="2026-11-20 16:58")
        daily(google, "17:00")
        daily(google, "17:05")
        assert statuses(province, "2026-11-20 17:05")["06040"] == "on_time"
        assert at_deadline(province, "06040") == 3
    finally:
        google.close()


def test_a_figure_corrected_at_1658_is_the_deadline_figure_though_the_listing_lags(province):
    """A commune that had reported is not waited on, so a lagging listing used to hide its
    correction past the cutoff: the as-of-deadline archive kept the old figure, and the
    correction counted as an amendment after the deadline."""
    google = GoogleDesk(province)
    try:
        google.fake.list_lag = timedelta(minutes=10)
        assert google.run("provision", now="2026-11-20 08:00").exit_code == 0
        google.type_row("06040", DAILY, DAY, {SHOPS: 3, ACCOUNTS: 4}, at="2026-11-20 09:15")
        daily(google, "16:00")
        daily(google, "16:40")     # sees Kiểm tra written at 16:00: listed, now settled
        google.type_row("06040", DAILY, DAY, {SHOPS: 5}, at="2026-11-20 16:58")
        google.fake.reset_log()
        daily(google, "17:00")
        confirmed = google.fake.count("drive.files.get")
        daily(google, "17:06")
        assert at_deadline(province, "06040") == 5
        # Around the deadline an unchanged listed stamp of a commune that reported is checked
        # with files.get (the three still waiting are read anyway); beside it, the folder's.
        assert confirmed == 1 + 1
        assert statuses(province, "2026-11-20 20:00")["06040"] == "on_time"
        google.fake.reset_log()
        daily(google, "20:00")
        assert google.fake.count("drive.files.get") < 4         # no confirming far from it
    finally:
        google.close()


def test_a_workbook_another_account_made_in_the_shared_drive_is_used_not_made_again(province):
    """Drive's default corpus has only the Shared Drive files the listing account made or was
    given itself: a workbook an officer made by hand (or the office's second account) was
    missed, and provision made a second one beside it."""
    google = GoogleDesk(province)
    try:
        fake = google.fake
        folder = fake.file(google.rollup_id).parents[0]
        by_hand = fake.create_spreadsheet("06040 Xã Thất Khê", parent=folder,
                                          owner="van-thu@so-tt.gov.vn")
        result = google.run("provision", now="2026-11-20 08:00")
        assert result.exit_code == 0, result.output
        assert google.spreadsheet_id("06040") == by_hand
        assert [f.id for f in fake.files.values() if f.name.startswith("06040")] == [by_hand]
    finally:
        google.close()


def test_a_lost_answer_to_a_create_makes_no_second_workbook_though_the_index_lags(province):
    google = GoogleDesk(province)
    try:
        fake = google.fake
        fake.list_lag = timedelta(minutes=10)      # a new file is not listed for minutes
        fake.fail_next(1, "reset", match="drive.files.create", applied=True)
        result = google.run("provision", now="2026-11-20 08:00")
        assert result.exit_code == 0, result.output
        made = [f.name for f in fake.files.values() if f.mime.endswith("spreadsheet")
                and f.name[:5].isdigit()]
        assert sorted(made) == sorted(set(made)) and len(made) == 4
        ids = [r for r in fake.requests if r.method_id == "drive.files.create"]
        assert len(ids) == 4 and all(r.json.get("id") for r in ids)   # the lost one: files.get
    finally:
        google.close()


def test_a_shared_drive_for_members_only_refuses_one_commune_and_says_which_setting(province):
    google = GoogleDesk(province)
    try:
        fake = google.fake
        folder = fake.file(google.rollup_id).parents[0]
        fake.set_drive_members(folder, {PROVINCE_ACCOUNT: "organizer", **{
            f"xa{code}@example.gov.vn": "writer" for code in ("06001", "06019", "06202")}})
        fake.drives[fake.file(folder).drive_id].members_only = True
        result = google.run("provision", now="2026-11-20 08:00")
        assert result.exit_code == 1
        (line,) = [x for x in result.output.splitlines() if x.startswith("LỖI")]
        assert line.startswith("LỖI Xã Thất Khê: Google không cho chia sẻ bảng tính ")
        assert "xa06040@example.gov.vn" in line and "\"Chỉ thành viên\"" in line
        assert "Cài đặt bộ nhớ dùng chung" in line
        shared = {email for _, _, _, email, _ in fake.sharing_log}
        assert shared >= {"xa06001@example.gov.vn", "xa06019@example.gov.vn",
                          "xa06202@example.gov.vn"}
        # The workbook is made and remembered: the next run shares it, it does not make one.
        fake.drives[fake.file(folder).drive_id].members_only = False
        again = google.run("provision", now="2026-11-20 08:05")
        assert again.exit_code == 0, again.output
        assert len([f for f in fake.files.values() if f.name.startswith("06040")]) == 1
    finally:
        google.close()


def test_a_domain_that_keeps_files_inside_is_named_with_the_admin_console_setting(province):
    google = GoogleDesk(province)
    try:
        fake = google.fake
        folder = fake.file(google.rollup_id).parents[0]
        fake.drives[fake.file(folder).drive_id].domain = "lang-son.gov.vn"
        fake.internal_only.add("lang-son.gov.vn")
        result = google.run("provision", now="2026-11-20 08:00")
        assert result.exit_code == 1
        lines = [x for x in result.output.splitlines() if x.startswith("LỖI")]
        assert len(lines) == 4
        assert "shareOutNotPermitted" in lines[0] and "notify_editors" not in lines[0]
        assert ("Admin console → Ứng dụng → Google Workspace → Drive và Tài liệu → Cài đặt "
                "chia sẻ") in lines[0]
    finally:
        google.close()


def test_an_editor_known_to_drive_by_another_address_is_shared_with_once(province):
    """Drive stores a permission under the account's primary address: the registry's alias
    never matched it, so every provision shared again (and revoked the 'extra' primary)."""
    google = GoogleDesk(province)
    try:
        fake = google.fake
        fake.aliases["xa06040@example.gov.vn"] = "ubnd.thatkhe@example.gov.vn"
        assert google.run("provision", now="2026-11-20 08:00").exit_code == 0
        fake.sharing_log.clear()
        again = google.run("provision", now="2026-11-20 09:00")
        assert again.exit_code == 0, again.output
        assert fake.sharing_log == []
        assert "0 sổ đã thay đổi" in again.output
        audit = google.run("audit", now="2026-11-20 09:05")
        assert "ubnd.thatkhe@example.gov.vn" not in audit.output, audit.output
    finally:
        google.close()
