"""`toolkit doctor` and `toolkit provision` through the CLI on the fake Google."""

from __future__ import annotations

import pytest

from desks import GoogleDesk


@pytest.fixture
def google(province):
    desk = GoogleDesk(province)
    yield desk
    desk.close()


def test_doctor_says_ok_for_each_step_when_everything_answers(google):
    result = google.run("doctor", now="2026-11-20 08:00")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split(":")[0] for line in lines[:8]] == [
        "ổn   credentials", "ổn   sign-in", "ổn   Sheets API", "ổn   folder",
        "ổn   Shared Drive", "ổn   rollup spreadsheet", "ổn   workbooks", "ổn   quota"]
    assert "bao-cao@lang-son.iam.gserviceaccount.com" in result.output
    assert '"private_key"' not in result.output and "BEGIN PRIVATE" not in result.output


def test_doctor_exits_1_and_says_what_to_fix_for_a_missing_folder(google):
    text = google.config.read_text(encoding="utf-8")
    folder = text.split('folder_id = "')[1].split('"')[0]
    google.config.write_text(text.replace(folder, "1NoSuchFolder000000000000000000000"),
                             encoding="utf-8")
    result = google.run("doctor", now="2026-11-20 08:00")
    assert result.exit_code == 1
    (line,) = [line for line in result.output.splitlines() if line.startswith("SỬA")]
    assert line.startswith("SỬA  folder:") and "1NoSuchFolder" in line


def test_provision_names_the_drive_folder_and_shares_only_with_editors(google):
    result = google.run("provision", now="2026-11-20 08:00")
    assert result.exit_code == 0, result.output
    assert "4 sổ đã thay đổi, 0 sổ đã đủ, tại thư mục Google Drive https://" \
        in result.output
    assert "chia sẻ quyền sửa cho xa06040@example.gov.vn" in result.output
    assert {(kind, role) for _, kind, role, _, _ in google.fake.sharing_log} == {
        ("user", "writer")}
    again = google.run("provision", now="2026-11-21 08:00")
    assert "0 sổ đã thay đổi, 4 sổ đã đủ" in again.output


def test_doctor_names_the_commune_whose_workbook_was_deleted(google):
    before = google.run("doctor", now="2026-11-20 08:00")
    assert "ổn   workbooks: chưa có sổ nào: `toolkit provision` tạo sổ cho từng xã trong 4 xã" \
        in before.output
    google.run("provision", now="2026-11-20 08:00")
    fine = google.run("doctor", now="2026-11-20 09:00")
    assert fine.exit_code == 0 and "ổn   workbooks: đủ sổ của cả 4 xã" in fine.output
    lost = google.spreadsheet_id("06040")
    google.fake.file(lost).trashed = True          # someone cleaned up the folder
    result = google.run("doctor", now="2026-11-20 10:00")
    assert result.exit_code == 1
    (line,) = [line for line in result.output.splitlines() if line.startswith("SỬA")]
    assert line.startswith("SỬA  workbooks: 1 sổ không còn trong thư mục")
    assert f"Xã Thất Khê ({lost})" in line and "toolkit provision" in line
