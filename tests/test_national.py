"""toolkit merge: provinces built end to end, merged read-only into the national archive."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from conftest import commune_rows, make_province, run, table_rows, total_rows, trim_registry
from desks import desk  # noqa: F401  (the pytest fixture: each backend in turn)
from toolkit.ledger import Ledger
from toolkit.workspace import open_workspace

SHOPS = "Số cửa hàng số mở mới"
ACCOUNTS = "Số tài khoản thanh toán điện tử mở mới"
DAY = "2026-11-21"
NOW = "2026-11-21 20:00"
ARCHIVE = Path("kts_daily/2026/kts_daily_2026-11-21.xlsx")
CAO_BANG = {
    "01708": dict(households=900, villages="Thôn Nà Pò; Thôn Bản Hoàng"),
    "01321": dict(households=600, villages="Thôn Khuổi Khon"),
    "01290": dict(households=None, villages="Thôn Cốc Lùng"),
}
FIGURES = ["Số cửa hàng số mở mới trong ngày", "Số cửa hàng số mở mới (lũy kế)",
           "Số tài khoản thanh toán điện tử mở mới (lũy kế)", "Số hộ"]
PCT = "Hộ có cửa hàng số / số hộ (chỉ tiêu 50%)"


def _type(config: Path, code: str, day: date, shops: int, accounts: int, at: str) -> None:
    from conftest import type_row

    type_row(config, code, "Báo cáo ngày", day, {SHOPS: shops, ACCOUNTS: accounts}, at=at)


@pytest.fixture(scope="module")
def provinces_once(tmp_path_factory) -> list[Path]:
    """Lạng Sơn and Cao Bằng, a few communes each, two reporting days through the real CLI:
    made once a module (two provisions and two full sweeps), copied for each test."""
    tmp_path = tmp_path_factory.mktemp("provinces")
    lang_son = make_province(tmp_path)
    folder = tmp_path / "cao-bang"
    assert run("init", str(folder), "--province", "cao bang",
               now="2026-11-20 08:00").exit_code == 0
    trim_registry(folder / "registry.xlsx", CAO_BANG)
    cao_bang = folder / "toolkit.toml"
    for config in (lang_son, cao_bang):
        assert run("provision", config=config, now="2026-11-20 08:00").exit_code == 0
    _type(lang_son, "06040", date(2026, 11, 20), 10, 20, "2026-11-20 10:00")
    _type(lang_son, "06040", date(2026, 11, 21), 20, 0, "2026-11-21 11:00")
    _type(lang_son, "06001", date(2026, 11, 21), 4, 4, "2026-11-21 18:00")
    _type(cao_bang, "01708", date(2026, 11, 20), 7, 3, "2026-11-20 16:00")
    _type(cao_bang, "01708", date(2026, 11, 21), 5, 9, "2026-11-21 16:30")
    _type(cao_bang, "01321", date(2026, 11, 21), 2, 1, "2026-11-21 09:00")
    for config in (lang_son, cao_bang):
        result = run("daily", config=config, now=NOW)
        assert result.exit_code == 0, result.output
    return [lang_son.parent, cao_bang.parent]


@pytest.fixture
def provinces(provinces_once, tmp_path) -> list[Path]:
    """A test's own copy of both province folders (under their own names); copytree's copy2
    keeps the files' modification times."""
    for folder in provinces_once:
        shutil.copytree(folder, tmp_path / folder.name)
    return [tmp_path / folder.name for folder in provinces_once]


def merge(folders, out: Path, *extra: str):
    return run("merge", *map(str, folders), "--out", str(out), "--date", DAY, *extra, now=NOW)


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_national_totals_are_the_sum_of_the_provinces_archives(provinces, tmp_path):
    result = merge(provinces, tmp_path / "national")
    assert result.exit_code == 0, result.output
    national = load_workbook(tmp_path / "national" / ARCHIVE)
    assert national.sheetnames == ["Tổng hợp", "Theo tỉnh", "Tiến độ chỉ tiêu", "Xếp hạng",
                                   "Xếp hạng thi đua", "Xếp hạng thi đua (tỉnh)",
                                   "Tỷ lệ báo cáo", "Diễn biến", "Chưa báo cáo", "Lỗi dữ liệu",
                                   "Thông tin"]
    totals = {r["Xã/phường"]: r for r in total_rows(national["Tổng hợp"])}
    assert list(totals) == ["Toàn quốc", "Cộng Cao Bằng", "Cộng Lạng Sơn"]
    own = {}
    for folder in provinces:
        book = load_workbook(folder / "archive" / ARCHIVE)
        (own[folder],) = total_rows(book["Tổng hợp"])
        assert own[folder]["Xã/phường"] == "Toàn tỉnh"
        name = "Lạng Sơn" if folder.name == "lang-son" else "Cao Bằng"
        for column in FIGURES:
            assert totals[f"Cộng {name}"][column] == own[folder][column], (name, column)
        assert totals[f"Cộng {name}"]["Tình trạng báo cáo"] == \
            own[folder]["Tình trạng báo cáo"]
        # Every commune as its province's own archive shows it.
        mine = commune_rows(book["Tổng hợp"])
        theirs = commune_rows(national["Tổng hợp"])
        shown = [*FIGURES, "Tình trạng báo cáo", "Xã/phường", PCT]
        for code, row in mine.items():
            assert theirs[code]["Tỉnh"] == name
            assert [theirs[code][c] for c in shown] == [row[c] for c in shown], code
    for column in FIGURES:
        assert totals["Toàn quốc"][column] == sum(r[column] for r in own.values()), column
    assert totals["Toàn quốc"]["Số cửa hàng số mở mới (lũy kế)"] == 10 + 20 + 4 + 7 + 5 + 2
    assert totals["Toàn quốc"]["Tình trạng báo cáo"] == "Đã báo cáo 4/7 xã"
    # Reporting rates per province, as each province's own archive has them for the day.
    rates = {r["Tỉnh"]: r for r in table_rows(national["Theo tỉnh"])}
    assert rates["Lạng Sơn"]["Tỷ lệ báo cáo"] == pytest.approx(2 / 4)
    assert rates["Cao Bằng"]["Tỷ lệ báo cáo"] == pytest.approx(2 / 3)
    assert rates["Cao Bằng"]["Tỷ lệ đúng hạn"] == pytest.approx(2 / 3)
    assert rates["Lạng Sơn"]["Tỷ lệ đúng hạn"] == pytest.approx(1 / 4)
    by_window = [r for r in table_rows(national["Tỷ lệ báo cáo"])
                 if r["Khoảng thời gian"] == "Trong ngày"]
    assert [r["Địa bàn"] for r in by_window] == ["Cao Bằng", "Lạng Sơn", "Toàn quốc"]
    facts = dict(national["Thông tin"].iter_rows(values_only=True))
    assert facts["Phạm vi"] == "Toàn quốc: gộp 2 tỉnh (Lạng Sơn, Cao Bằng)"
    assert "Lần quét gần nhất" not in facts
    assert "Cao Bằng: đã báo cáo 67%, đúng hạn 67% (3 xã phải báo cáo)" in result.stdout
    assert f"Lạng Sơn: đọc sổ cái {provinces[0] / 'ledger.sqlite'}" in result.stderr


def test_a_province_folder_is_byte_identical_after_merge(provinces, tmp_path):
    before = {folder: _files(folder) for folder in provinces}
    for _ in range(2):                      # the second merge finds its own copies and caches
        result = merge(provinces, tmp_path / "national")
        assert result.exit_code == 0, result.output
    for folder in provinces:
        assert _files(folder) == before[folder], folder


def test_a_merge_while_a_province_daily_run_holds_its_lock(provinces, tmp_path):
    config = provinces[0] / "toolkit.toml"
    with open_workspace(config) as ws, ws.exclusive(0), Ledger(ws.config.ledger_path) as live:
        live.db.execute("SELECT COUNT(*) FROM row_versions").fetchone()   # the run's WAL
        result = merge(provinces, tmp_path / "national")
        assert result.exit_code == 0, result.output
        assert ws.lock_path.exists()
    (total, *_) = total_rows(load_workbook(tmp_path / "national" / ARCHIVE)["Tổng hợp"])
    assert total["Số cửa hàng số mở mới (lũy kế)"] == 48


def test_errors_name_the_folder(provinces, tmp_path):
    empty = tmp_path / "not-a-province"
    empty.mkdir()
    result = merge([provinces[0], empty], tmp_path / "national")
    assert result.exit_code == 2
    assert f"{empty}: không phải thư mục của một tỉnh (không có toolkit.toml)" in result.stderr

    fresh = tmp_path / "son-la"
    assert run("init", str(fresh), "--province", "son la", now="2026-11-20 08:00").exit_code == 0
    result = merge([provinces[0], fresh], tmp_path / "national")
    assert result.exit_code == 2
    assert f"{fresh}: chưa có sổ cái" in result.stderr

    broken = tmp_path / "broken"
    shutil.copytree(provinces[1], broken)
    (broken / "ledger.sqlite").write_bytes(b"not a ledger " * 500)
    result = merge([provinces[0], broken], tmp_path / "national")
    assert result.exit_code == 2
    assert f"{broken}: không đọc được sổ cái" in result.stderr

    config = broken / "toolkit.toml"
    shutil.copyfile(provinces[1] / "ledger.sqlite", broken / "ledger.sqlite")
    config.write_text(config.read_text(encoding="utf-8").replace(
        "end = 2027-01-19", "end = 2027-03-31"), encoding="utf-8")
    result = merge([provinces[0], broken], tmp_path / "national")
    assert result.exit_code == 2
    assert (f"{broken}: đợt chiến dịch [campaign] khác với ở {provinces[0]} (20/11/2026 – "
            "31/03/2027 so với 20/11/2026 – 19/01/2027)") in result.stderr

    result = merge([provinces[0], provinces[0]], tmp_path / "national")
    assert result.exit_code == 2
    assert "mỗi tỉnh chỉ được gộp một lần" in result.stderr
    assert not (tmp_path / "national" / ARCHIVE).exists()


@pytest.mark.provisioned
def test_one_province_merged_equals_its_own_archive(desk, tmp_path):  # noqa: F811
    """On either backend (its grace decides the statuses), the national view of one province
    shows its figures and statuses."""
    desk.type_row("06040", "Báo cáo ngày", date(2026, 11, 21), {SHOPS: 6, ACCOUNTS: 2},
                  at="2026-11-21 17:02")
    # Read at 17:04: on Google that proves the row within the 5 minutes' grace; a file's own
    # time (17:02) proves it late.
    for moment in ("2026-11-21 17:04", NOW):
        assert desk.run("daily", now=moment).exit_code == 0
    result = merge([desk.config.parent], tmp_path / "national")
    assert result.exit_code == 0, result.output
    national = commune_rows(load_workbook(tmp_path / "national" / ARCHIVE)["Tổng hợp"])
    own = commune_rows(load_workbook(desk.config.parent / "archive" / ARCHIVE)["Tổng hợp"])
    assert national["06040"]["Tình trạng báo cáo"] == own["06040"]["Tình trạng báo cáo"] == \
        ("Trễ hạn" if desk.kind == "xlsx" else "Đúng hạn")
    assert national["06040"]["Số cửa hàng số mở mới (lũy kế)"] == 6


def test_the_postal_report_stays_with_each_province_and_the_communes_merge(tmp_path):
    """Both provinces' Viettel Post branches are "VTP": their report is each province's own
    (checked against its communes on its own archive), so merge leaves it out, says so, and
    merges the communes' reports; asked for it alone, it says where to look."""
    from conftest import set_postal

    folders = []
    for name, code in (("lang-son", "06040"), ("cao-bang", "01708")):
        folder = tmp_path / name
        assert run("init", str(folder), "--province", name.replace("-", " "),
                   now="2026-11-20 08:00").exit_code == 0
        if name == "cao-bang":
            trim_registry(folder / "registry.xlsx", CAO_BANG)
        else:
            trim_registry(folder / "registry.xlsx", {"06040": dict(households=1200,
                                                                   villages="Thôn Nà Tâm")})
        set_postal(folder / "registry.xlsx",
                   [("VTP", "Bưu chính Viettel", "Viettel Post", f"vtp@{name}.example.vn")],
                   {code: "VTP"})
        config = folder / "toolkit.toml"
        assert run("provision", config=config, now="2026-11-20 08:00").exit_code == 0
        _type(config, code, date(2026, 11, 21), 3, 2, "2026-11-21 10:00")
        assert run("daily", config=config, now=NOW).exit_code == 0
        folders.append(folder)
    out = tmp_path / "national"
    result = merge(folders, out)
    assert result.exit_code == 0, result.output
    assert ("Báo cáo ngày của doanh nghiệp bưu chính: không gộp — báo cáo của doanh nghiệp bưu "
            "chính ở lại tệp lưu trữ của từng tỉnh") in result.output
    assert (out / ARCHIVE).is_file() and not list(out.rglob("buu_chinh_daily*.xlsx"))
    alone = merge(folders, tmp_path / "n2", "--template", "buu_chinh_daily")
    assert alone.exit_code != 0
    assert "toolkit merge chỉ gộp báo cáo của xã" in alone.output
