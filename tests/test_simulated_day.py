"""A scheduler's day, driven by --now, on both backends: what each sweep decides, writes and sends.

Four communes, the daily report due at 17:00. The scheduler runs `daily` at 14:00, 16:45,
17:00, 17:03 and 20:00 and `remind --email` at 16:45. Staff type at realistic moments:
Thất Khê in the morning, Tân Tiến half a row at 16:30 and the rest at 19:00, Ba Sơn at 16:58,
Đoàn Kết at 17:02 — after the deadline, but inside Google's grace (DESIGN.md §5): a file's
modified time proves 17:02 exactly (late); on Google the 17:03 sweep is the proof (on time).
"""

from __future__ import annotations

import json
from datetime import date
from email import message_from_bytes
from email.policy import default

from openpyxl import load_workbook

from conftest import commune_rows, use_smtp
from desks import desk  # noqa: F401  (the pytest fixture: each backend in turn)

DAY = date(2026, 11, 20)
DAILY = "Báo cáo ngày"
SHOPS = "Số cửa hàng số mở mới"
ACCOUNTS = "Số tài khoản thanh toán điện tử mở mới"
WAITING = "⚠ Chưa báo cáo ngày 20/11/2026 — hạn 17:00"


def daily(desk, at: str):  # noqa: F811
    result = desk.run("daily", "--date", "2026-11-20", now=f"2026-11-20 {at}")
    assert result.exit_code == 0, result.output
    return result.output


def status(desk, at: str) -> dict[str, str]:  # noqa: F811
    result = desk.run("status", "--date", "2026-11-20", "--template", "kts_daily",
                      "--format", "json", now=f"2026-11-20 {at}")
    (report,) = json.loads(result.stdout)
    return {c["code"]: c["status"] for c in report["communes"]}


def test_a_scheduled_day_statuses_banners_emails_and_archives(desk, smtp_server):  # noqa: F811
    use_smtp(desk.config, smtp_server)
    archive = desk.config.parent / "archive/kts_daily/2026"
    frozen = archive / "kts_daily_2026-11-20_theo-han.xlsx"
    assert desk.run("provision", now="2026-11-20 07:30").exit_code == 0
    desk.type_row("06040", DAILY, DAY, {SHOPS: 3, ACCOUNTS: 5}, at="2026-11-20 09:15")

    out = daily(desk, "14:00")
    assert "Toàn tỉnh (4 xã phải báo cáo): 3 chưa nhập (còn hạn) · 1 đúng hạn" in out
    assert {code: desk.title(code, DAILY) for code in ("06001", "06019", "06202")} == dict.fromkeys(
        ("06001", "06019", "06202"), WAITING)
    assert desk.title("06040", DAILY).startswith("Báo cáo ngày phát triển kinh tế số — Xã")

    desk.type_row("06019", DAILY, DAY, {SHOPS: 1}, at="2026-11-20 16:30")
    out = daily(desk, "16:45")
    assert "sổ lỗi; 1 phiên bản dòng mới" in out
    assert status(desk, "16:45") == {"06040": "on_time", "06001": "pending",
                                     "06019": "incomplete", "06202": "pending"}
    reminded = desk.run("remind", "--email", "--date", "2026-11-20", now="2026-11-20 16:45")
    assert reminded.exit_code == 0, reminded.output
    assert "email: đã gửi 3, bỏ qua 0" in reminded.output
    assert sorted(r for m in smtp_server.messages for r in m.rcpt_tos) == [
        "xa06001@example.gov.vn", "xa06019@example.gov.vn", "xa06202@example.gov.vn"]
    mail = next(message_from_bytes(m.content, policy=default) for m in smtp_server.messages
                if m.rcpt_tos == ["xa06019@example.gov.vn"])
    assert mail["Subject"].endswith("kỳ 20/11/2026 — Xã Tân Tiến")
    assert "còn thiếu hoặc sai ở các ô bắt buộc" in mail.get_content()
    assert "trước 17:00 ngày 20/11/2026" in mail.get_content()

    desk.type_row("06202", DAILY, DAY, {SHOPS: 2, ACCOUNTS: 2}, at="2026-11-20 16:58")
    out = daily(desk, "17:00")
    assert "sổ lỗi; 1 phiên bản dòng mới" in out      # only Ba Sơn changed since 16:45
    cutoff_status = status(desk, "17:00")
    assert (cutoff_status["06202"], cutoff_status["06040"]) == ("on_time", "on_time")
    assert desk.title("06202", DAILY).startswith("Báo cáo ngày phát triển kinh tế số")
    # A file's time proves the deadline at once; Google's sweeps may still prove rows for
    # grace_minutes, so the as-of-deadline archive waits for the first sweep after 17:05.
    assert frozen.exists() == (desk.kind == "xlsx")

    desk.type_row("06001", DAILY, DAY, {SHOPS: 4, ACCOUNTS: 1}, at="2026-11-20 17:02")
    daily(desk, "17:03")
    assert status(desk, "17:03")["06001"] == ("late" if desk.kind == "xlsx" else "on_time")
    # Received without its accounts: amber, naming the cell to fill — not "not reported".
    assert desk.title("06019", DAILY) == ("⚠ Đã nhận báo cáo ngày 20/11/2026 nhưng còn 1 ô cần "
                                          "sửa: C3 — xem trang Kiểm tra")
    assert desk.title("06001", DAILY).startswith("Báo cáo ngày phát triển kinh tế số")

    desk.type_row("06019", DAILY, DAY, {ACCOUNTS: 2}, at="2026-11-20 19:00")
    out = daily(desk, "20:00")
    final = status(desk, "20:00")
    assert final == {"06040": "on_time", "06202": "on_time", "06019": "late",
                     "06001": "late" if desk.kind == "xlsx" else "on_time"}
    assert not any(desk.title(code, DAILY).startswith("⚠") for code in final)
    assert frozen.is_file()

    # What the archives say: the current picture has everyone; the deadline one does not.
    def shops(path):
        rows = commune_rows(load_workbook(path)["Tổng hợp"])
        return {code: r["Số cửa hàng số mở mới trong ngày"] for code, r in rows.items()}

    assert shops(archive / "kts_daily_2026-11-20.xlsx") == {
        "06040": 3, "06001": 4, "06019": 1, "06202": 2}
    at_deadline = shops(frozen)
    assert (at_deadline["06040"], at_deadline["06202"]) == (3, 2)
    assert at_deadline["06001"] == (None if desk.kind == "xlsx" else 4)   # blank: not typed
