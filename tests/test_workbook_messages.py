"""P6: what people really do to a commune workbook, each said in one line naming the commune,
the file and what to do (real files; the CLI as a province officer runs it)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from conftest import run, type_row, workbook_of
from toolkit.backends.xlsx import XlsxStore

DAILY = "Báo cáo ngày"
SHOPS = "Số cửa hàng số mở mới"
DAY = date(2026, 11, 20)
#: A workbook Excel would save after File → Info → Protect Workbook → Encrypt with Password
#: (an OLE2 file holding EncryptionInfo and EncryptedPackage; made with msoffcrypto-tool).
PROTECTED = Path(__file__).with_name("data") / "password-protected.xlsx"


def _typed_in_that_khe(provisioned):
    """Thất Khê types its first figure into its provisioned workbook; the workbook."""
    type_row(provisioned, "06040", DAILY, DAY, {SHOPS: 3}, at="2026-11-20 09:00")
    return workbook_of(provisioned, "06040")


def _failed_lines(result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("LỖI")]


def test_a_password_protected_workbook_says_how_to_remove_the_password(provisioned):
    path = _typed_in_that_khe(provisioned)
    shutil.copyfile(PROTECTED, path)         # Excel: File → Info → Encrypt with Password
    result = run("collect", config=provisioned, now="2026-11-20 10:00")
    assert result.exit_code == 1
    (line,) = _failed_lines(result)
    assert line == (f"LỖI Xã Thất Khê: {path.name}: sổ đặt mật khẩu: mở sổ, File → Info → "
                    "Protect Workbook → Encrypt with Password, xoá mật khẩu, lưu lại")


def test_a_workbook_synced_twice_by_onedrive_says_which_is_read(provisioned):
    path = _typed_in_that_khe(provisioned)
    assert run("collect", config=provisioned, now="2026-11-20 10:00").exit_code == 0
    copies = [path.with_name("06040 Xã Thất Khê (1).xlsx"),
              path.with_name("06040 Xã Thất Khê-DESKTOP-ABC.xlsx")]
    for copy in copies:
        shutil.copyfile(path, copy)
    result = run("collect", config=provisioned, now="2026-11-20 10:05")
    assert result.exit_code == 0, result.output
    warned = [line for line in result.output.splitlines() if line.startswith("Cảnh báo: Xã")]
    assert len(warned) == 2, result.output
    for line, copy in zip(sorted(warned), sorted(copies), strict=True):
        assert f"toolkit đọc '{path.name}', không đọc '{copy.name}'" in line
        assert f"chép sang '{path.name}' rồi xoá '{copy.name}'" in line
    # A provisioned setting up again (no ledger) finds the plain name, not a copy.
    assert XlsxStore(path.parent).find("06040", None) == path.name


def test_a_workbook_moved_to_another_folder_says_where_it_was_expected(provisioned):
    path = _typed_in_that_khe(provisioned)
    assert run("collect", config=provisioned, now="2026-11-20 10:00").exit_code == 0
    moved = path.parent / "cũ" / path.name
    moved.parent.mkdir()
    path.rename(moved)
    result = run("collect", config=provisioned, now="2026-11-20 10:05")
    assert result.exit_code == 1
    (line,) = _failed_lines(result)
    assert line.startswith(f"LỖI Xã Thất Khê: không thấy sổ '{path.name}' trong "
                           f"{path.parent} ")
    assert f"thấy một sổ của xã ở {moved}" in line
    assert "một sổ mới trống sẽ được tạo" in line
    moved.rename(path)                        # moved back: read again as before
    assert run("collect", config=provisioned, now="2026-11-20 10:10").exit_code == 0


def test_a_password_is_recognised_wherever_the_file_names_its_streams():
    """An OLE2 file's directory may lie after megabytes of encrypted data."""
    from toolkit.backends.xlsx import OLE2_MAGIC, unreadable

    late = OLE2_MAGIC + bytes(6 * 1024 * 1024) + "EncryptedPackage".encode("utf-16-le")
    assert unreadable(late, ValueError()).startswith("sổ đặt mật khẩu")
    assert unreadable(OLE2_MAGIC + bytes(512), ValueError()).startswith("sổ lưu theo dạng Excel 97")
