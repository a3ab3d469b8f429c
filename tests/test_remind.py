"""Reminders: who to chase, with the contact and a ready-to-paste Vietnamese message."""

from __future__ import annotations

from datetime import date

from openpyxl import load_workbook

from conftest import run, set_postal, type_row, use_smtp
from toolkit.registry import Commune
from toolkit.remind import zalo_group

DAY = date(2026, 11, 20)
SHOPS = "Số cửa hàng số mở mới"
ACCOUNTS = "Số tài khoản thanh toán điện tử mở mới"


def test_zalo_group_names_follow_the_province_convention():
    commune = Commune(code="06040", name="Thất Khê", kind="Xã", province="Lạng Sơn",
                      district="Tràng Định", households=None, villages=(), editors=(),
                      contact_name=None, contact_phone=None)
    assert zalo_group(commune) == "KTS_ThatKhe_TrangDinh"


def test_zalo_groups_end_with_the_postal_enterprise_serving_the_commune(province):
    """Guidance 1966: KTS_KienMoc_DinhLap_Viettel or _Buudien, by the enterprise serving it."""
    set_postal(province.parent / "registry.xlsx",
               [("VTP", "Chi nhánh Bưu chính Viettel Lạng Sơn", "Viettel Post", "v@example.vn"),
                ("BDLS", "Bưu điện tỉnh Lạng Sơn", "Bưu điện tỉnh", "b@example.vn")],
               {"06202": "VTP", "06019": "BDLS"})
    run("provision", config=province, now="2026-11-20 08:00")

    result = run("remind", "--date", "2026-11-20", config=province, now="2026-11-20 16:00")
    assert result.exit_code == 0, result.output
    assert "--- KTS_BaSon_Viettel (Xã Ba Sơn" in result.output
    assert "--- KTS_TanTien_Buudien (Xã Tân Tiến" in result.output
    assert "--- KTS_ThatKhe (Xã Thất Khê" in result.output     # served by neither


def test_remind_lists_missing_incomplete_and_wrong_communes_with_contacts(province):
    book = load_workbook(province.parent / "registry.xlsx")
    sheet = book.worksheets[0]
    sheet["I2"], sheet["J2"] = "Vi Văn Tú", "0986848884"   # the first row: Xã Ba Sơn
    book.save(province.parent / "registry.xlsx")
    run("provision", config=province, now="2026-11-20 08:00")
    type_row(province, "06040", "Báo cáo ngày", DAY, {SHOPS: 2, ACCOUNTS: 3},
             at="2026-11-20 09:00")
    type_row(province, "06019", "Báo cáo ngày", DAY, {SHOPS: "hai"}, at="2026-11-20 09:30")
    run("collect", config=province, now="2026-11-20 16:00")

    result = run("remind", "--date", "2026-11-20", config=province, now="2026-11-20 16:00")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "--- KTS_BaSon (Xã Ba Sơn; Vi Văn Tú, 0986848884)" in out
    assert ("Kính gửi UBND xã Ba Sơn: đến 16:00 ngày 20/11/2026, Sở chưa nhận được báo cáo "
            "ngày phát triển kinh tế số kỳ 20/11/2026 của xã. Đề nghị xã nhập số liệu trong sổ "
            "báo cáo của xã, trang \"Báo cáo ngày\", trước 17:00 ngày 20/11/2026.") in out
    assert "còn thiếu hoặc sai ở các ô bắt buộc" in out            # Tân Tiến typed "hai"
    # … and the message names the cell, as the commune officer finds it in the workbook.
    assert ("- trang \"Báo cáo ngày\", dòng ngày 20/11/2026, cột \"Số cửa hàng số mở mới\" "
            "(ô B3): ") in out
    assert "\"hai\"" in out
    assert "KTS_ThatKhe" not in out                                 # reported, nothing to chase
    assert "1/4 xã đã báo cáo kỳ 20/11/2026" in out
    assert "UBND Xã" not in out and "của Xã" not in out
    assert "remind: 3 xã cần nhắc" in out
    saved = province.parent / "reminders" / "kts_daily_2026-11-20_1600.txt"
    assert saved.read_text(encoding="utf-8").startswith("--- KTS_")

    late = run("remind", "--date", "2026-11-20", config=province, now="2026-11-20 18:00")
    assert "ngay hôm nay (đã quá hạn)" in late.output


def test_a_banner_on_the_report_tab_until_the_commune_reports(province):
    from conftest import workbook_of

    run("provision", config=province, now="2026-11-20 08:00")
    assert run("daily", config=province, now="2026-11-20 15:00").exit_code == 0
    daily = load_workbook(workbook_of(province, "06040"))["Báo cáo ngày"]
    assert daily["A1"].value == "⚠ Chưa báo cáo ngày 20/11/2026 — hạn 17:00"
    assert daily["A1"].font.color.rgb.endswith("C00000")
    monthly = load_workbook(workbook_of(province, "06040"))["Báo cáo tháng"]
    assert monthly["A1"].value == "⚠ Chưa báo cáo tháng 11/2026 — hạn 17:00 ngày 26/11"

    type_row(province, "06040", "Báo cáo ngày", DAY, {SHOPS: 1, ACCOUNTS: 1},
             at="2026-11-20 15:30")
    run("daily", config=province, now="2026-11-20 17:05")
    book = load_workbook(workbook_of(province, "06040"))
    assert book["Báo cáo ngày"]["A1"].value.startswith("Báo cáo ngày phát triển kinh tế số — Xã")
    assert book["Báo cáo ngày"]["B3"].value == 1          # what staff typed is untouched
    other = load_workbook(workbook_of(province, "06001"))["Báo cáo ngày"]
    assert other["A1"].value == ("⚠ Chưa báo cáo ngày 20/11/2026 — đã quá hạn 17:00, "
                                 "đề nghị nhập ngay")


def test_remind_emails_each_commune_its_reminder(province, smtp_server):
    from email import message_from_bytes
    from email.policy import default

    inbox = smtp_server
    use_smtp(province, inbox)
    run("provision", config=province, now="2026-11-20 08:00")
    type_row(province, "06040", "Báo cáo ngày", DAY, {SHOPS: 2, ACCOUNTS: 3},
             at="2026-11-20 09:00")
    run("collect", config=province, now="2026-11-20 16:00")
    result = run("remind", "--email", "--date", "2026-11-20", config=province,
                 now="2026-11-20 16:00")
    assert result.exit_code == 0, result.output
    assert "email: đã gửi 3, bỏ qua 0" in result.output
    recipients = sorted(r for m in inbox.messages for r in m.rcpt_tos)
    assert recipients == ["xa06001@example.gov.vn", "xa06019@example.gov.vn",
                          "xa06202@example.gov.vn"]
    mail = next(message_from_bytes(m.content, policy=default) for m in inbox.messages
                if m.rcpt_tos == ["xa06202@example.gov.vn"])
    assert mail["Subject"] == ("Nhắc báo cáo: Báo cáo ngày phát triển kinh tế số kỳ 20/11/2026 "
                               "— Xã Ba Sơn")
    assert "Kính gửi UBND xã Ba Sơn" in mail.get_content()


def test_remind_email_without_smtp_settings_says_what_to_add(provisioned):
    result = run("remind", "--email", config=provisioned, now="2026-11-20 16:00")
    assert result.exit_code == 2
    assert "--email cần mục [smtp]" in result.output
