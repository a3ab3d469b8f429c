"""Merged communes (issue 14, item 5): an old registry becomes a 2025 one, and a series begun
under old codes is rolled up under the communes that now hold them.

The mapping fixture (tests/data/xa_sap_nhap.csv) is a small province table: Thị trấn Thất Khê
and Xã Chí Minh became Xã Thất Khê; Xã Tri Phương became Xã Đoàn Kết; Xã Đào Viên was split,
60% to Đoàn Kết and 40% to Ba Sơn; Xã Tân Tiến kept its code.
"""

from __future__ import annotations

import shutil
import tomllib
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from conftest import commune_rows, run, table_rows
from desks import desk  # noqa: F401  (the pytest fixture: each backend in turn)
from toolkit.registry import COLUMNS, HEADERS, load_registry

MAPPING = Path(__file__).parent / "data" / "xa_sap_nhap.csv"
DAILY = "Báo cáo ngày"
SHOPS = "Số cửa hàng số mở mới"
CUMULATIVE = "Số cửa hàng số mở mới (lũy kế)"
ACCOUNTS = "Số tài khoản thanh toán điện tử mở mới"
# code, name, kind, district, households, villages, editors
OLD = [
    ("06043", "Thất Khê", "Thị trấn", "Tràng Định", 700, "Khu 1; Khu 2",
     "xa06043@example.gov.vn; xa06040@example.gov.vn"),
    ("06046", "Chí Minh", "Xã", "Tràng Định", 500, "Thôn Nà Lầu; khu 2",
     "xa06046@example.gov.vn"),
    ("06013", "Tri Phương", "Xã", "Tràng Định", 800, "Thôn Đồng Tâm",
     "xa06013@example.gov.vn; xa06001@example.gov.vn"),
    ("06019", "Tân Tiến", "Xã", "Văn Lãng", None, "Thôn Bình An", "xa06019@example.gov.vn"),
]
SPLIT = ("06010", "Đào Viên", "Xã", "Tràng Định", 300, "Thôn Pò Mã",
         "xa06010@example.gov.vn; xa06202@example.gov.vn")


def old_registry(path: Path, rows) -> Path:
    """A pre-2025 registry with the toolkit's columns, as the province ran it before 2025."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Danh sách xã"
    sheet.append([header for _, header, _ in COLUMNS])
    for code, name, kind, district, households, villages, editors in rows:
        sheet.append([code, name, kind, "Lạng Sơn", district, households, villages, editors])
    book.save(path)
    return path


def test_init_maps_an_old_registry_to_the_2025_communes(tmp_path):
    old = old_registry(tmp_path / "ds_xa_2024.xlsx", OLD)
    folder = tmp_path / "lang-son"
    result = run("init", str(folder), "--province", "Lạng Sơn", "--old-registry", str(old),
                 "--merged", str(MAPPING), now="2026-11-20 08:00")
    assert result.exit_code == 0, result.output
    assert "Đã tạo" in result.output and "3 xã, phường của Lạng Sơn" in result.output
    lines = result.output.split("Các xã cũ đã chuyển sang xã mới:\n")[1].splitlines()[:-1]
    assert lines == [
        "  Xã Đoàn Kết (06001) — từ Xã Tri Phương (mã 06013, dòng 4); số hộ 800; "
        "1 thôn/bản, 2 người nhập liệu",
        "  Xã Tân Tiến (06019) — từ Xã Tân Tiến (mã 06019, dòng 5); chưa có số hộ vì Xã Tân "
        "Tiến chưa có — điền số hộ của xã mới; 1 thôn/bản, 1 người nhập liệu",
        "  Xã Thất Khê (06040) — gộp 2 xã cũ: Thị trấn Thất Khê (mã 06043, dòng 2), Xã Chí Minh "
        "(mã 06046, dòng 3); số hộ 1.200 (700 + 500); 3 thôn/bản, 3 người nhập liệu",
    ]
    guide = [r[0] for r in load_workbook(folder / "registry.xlsx")["Hướng dẫn"].iter_rows(
        values_only=True)]
    assert guide[-5] == "Các xã cũ đã chuyển sang xã mới:"
    assert "--old-registry" in guide[-4] and "Tỷ lệ (%)" in guide[-4]
    assert guide[-3:] == [line.strip() for line in lines]
    registry = load_registry(folder / "registry.xlsx")
    that_khe = registry.by_code()["06040"]
    assert (that_khe.kind, that_khe.name, that_khe.province) == ("Xã", "Thất Khê", "Lạng Sơn")
    assert that_khe.households == 1200 and that_khe.district == "Tràng Định"
    assert that_khe.villages == ("Khu 1", "Khu 2", "Thôn Nà Lầu")
    assert that_khe.editors == ("xa06043@example.gov.vn", "xa06040@example.gov.vn",
                                "xa06046@example.gov.vn")
    assert not [w for w in registry.warnings if "chính thức" in w]   # 2025 codes and names
    # The table stays with the province, for the rollup.
    config = tomllib.loads((folder / "toolkit.toml").read_text(encoding="utf-8"))
    assert config["paths"]["merged"] == "xa_sap_nhap.csv"
    assert (folder / "xa_sap_nhap.csv").read_bytes() == MAPPING.read_bytes()


def test_init_refuses_an_old_commune_it_cannot_place_naming_its_row(tmp_path):
    unknown = ("06099", "Bắc Ái", "Xã", "Tràng Định", 100, "", "")
    old = old_registry(tmp_path / "ds_xa_2024.xlsx", [*OLD[:2], SPLIT, unknown])
    folder = tmp_path / "lang-son"
    result = run("init", str(folder), "--province", "Lạng Sơn", "--old-registry", str(old),
                 "--merged", str(MAPPING), now="2026-11-20 08:00")
    assert result.exit_code == 2, result.output
    assert ("dòng 4: Xã Đào Viên (06010) được chia cho Xã Đoàn Kết (06001, 60%) và Xã Ba Sơn "
            "(06202, 40%) — không thể tự chia thôn/bản và người nhập liệu của xã; xoá dòng "
            "này") in result.output
    assert ("dòng 5: mã 06099 (Xã Bắc Ái) không có trong bảng xã sáp nhập xa_sap_nhap.csv — "
            "thêm dòng cho xã này vào bảng") in result.output
    assert not folder.exists()          # nothing written


def test_a_wrong_mapping_table_lists_every_problem_by_row(tmp_path):
    table = tmp_path / "bang.csv"
    table.write_text("Mã xã cũ,Tên xã cũ,Mã xã mới,Tên xã mới,Tỷ lệ (%)\n"
                     "06043,Thị trấn Thất Khê,6040,Xã Thất Khê,\n"
                     "0604x,Xã Chí Minh,06040,Xã Thất Khê,\n"
                     "06010,Xã Đào Viên,06001,Xã Đoàn Kết,60\n"
                     "06010,Xã Đào Viên,06202,Xã Ba Sơn,30\n", encoding="utf-8")
    old = old_registry(tmp_path / "ds_xa_2024.xlsx", OLD[:1])
    result = run("init", str(tmp_path / "ls"), "--province", "Lạng Sơn", "--old-registry",
                 str(old), "--merged", str(table), now="2026-11-20 08:00")
    assert result.exit_code == 2, result.output
    assert "2 lỗi trong bảng xã sáp nhập" in result.output
    assert 'dòng 3: "Mã xã cũ" là "0604x", không phải mã xã' in result.output
    assert ('dòng 4, 5: xã cũ Xã Đào Viên (06010) được chia cho 2 xã mới nhưng cột '
            '"Tỷ lệ (%)" cộng lại 90, không phải 100') in result.output


def test_the_rollup_shows_a_series_begun_under_old_codes_under_the_new_communes(
        desk, tmp_path):  # noqa: F811
    live = desk.config.parent
    # Before the merger the province ran its old communes, Đào Viên included (the town as a
    # "Xã": a running registry takes the 2025 kinds).
    ran = [(c, n, "Xã", *rest) for c, n, _, *rest in [*OLD, SPLIT]]
    old_registry(live / "registry.xlsx", ran)
    assert desk.run("provision", now="2026-11-20 08:00").exit_code == 0
    for code, shops in (("06043", 3), ("06046", 2), ("06013", 1), ("06010", 10), ("06019", 4)):
        assert desk.type_row(code, DAILY, date(2026, 11, 20), {SHOPS: shops},
                             at="2026-11-20 15:00") == []
    assert desk.run("collect", now="2026-11-20 16:00").exit_code == 0
    assert desk.run("collect", now="2026-11-20 20:00").exit_code == 0

    # The merger: the registry handed to init leaves out Đào Viên, as init said to.
    handed = old_registry(tmp_path / "ds_xa_2024.xlsx", OLD)
    made = run("init", str(tmp_path / "new"), "--province", "Lạng Sơn", "--old-registry",
               str(handed), "--merged", str(MAPPING), now="2026-11-21 08:00")
    assert made.exit_code == 0, made.output
    shutil.copyfile(tmp_path / "new" / "registry.xlsx", live / "registry.xlsx")
    shutil.copyfile(MAPPING, live / "xa_sap_nhap.csv")
    with (desk.config).open("a", encoding="utf-8") as toml:
        toml.write('merged = "xa_sap_nhap.csv"\n')
    # Ba Sơn (Đào Viên's other part) is a commune of the province too.
    book = load_workbook(live / "registry.xlsx")
    book.worksheets[0].append(["06202", "Ba Sơn", "Xã", "Lạng Sơn", "Bắc Sơn", 1500,
                               "Thôn Còn Nưa", "xa06202@example.gov.vn"])
    book.save(live / "registry.xlsx")
    provisioned = desk.run("provision", now="2026-11-21 08:00")
    assert provisioned.exit_code == 0, provisioned.output
    if desk.kind == "gsheets":        # Thất Khê's new workbook: both old communes' editors
        shared = {p.get("emailAddress"): p["role"]
                  for p in desk.fake.file(desk.spreadsheet_id("06040")).permissions}
        assert {e: shared.get(e) for e in ("xa06043@example.gov.vn", "xa06040@example.gov.vn",
                                            "xa06046@example.gov.vn")} == dict.fromkeys(
            ("xa06043@example.gov.vn", "xa06040@example.gov.vn", "xa06046@example.gov.vn"),
            "writer")
    assert desk.type_row("06040", DAILY, date(2026, 11, 21), {SHOPS: 5},
                         at="2026-11-21 15:00") == []
    assert desk.run("collect", now="2026-11-21 16:00").exit_code == 0
    rolled = desk.run("rollup", "--date", "2026-11-21", "--template", "kts_daily",
                      now="2026-11-21 20:00")
    assert rolled.exit_code == 0, rolled.output

    book = load_workbook(live / "archive/kts_daily/2026/kts_daily_2026-11-21.xlsx")
    rows = commune_rows(book["Tổng hợp"])
    assert set(rows) == {"06040", "06001", "06019", "06202"}
    assert rows["06040"][CUMULATIVE] == 3 + 2 + 5
    assert rows["06001"][CUMULATIVE] == pytest.approx(1 + 0.6 * 10)
    assert rows["06202"][CUMULATIVE] == pytest.approx(0.4 * 10)
    assert rows["06019"][CUMULATIVE] == 4
    series = table_rows(book["Diễn biến"])
    assert [r["Kỳ"] for r in series] == ["20/11/2026", "21/11/2026"]
    assert [r[SHOPS] for r in series] == [pytest.approx(20), 5]
    # The scheduler's sweep rolls up the same way (its checks read the ledger as it is).
    swept = desk.run("daily", now="2026-11-21 21:00")
    assert swept.exit_code == 0, swept.output
    book = load_workbook(live / "archive/kts_daily/2026/kts_daily_2026-11-21.xlsx")
    assert commune_rows(book["Tổng hợp"])["06040"][CUMULATIVE] == 10
    # The ledger still says what each old workbook said, under its own code.
    assert {"06043", "06046", "06013", "06010"} <= _ledger_codes(live)


def _ledger_codes(folder: Path) -> set[str]:
    import sqlite3

    db = sqlite3.connect(folder / "ledger.sqlite")
    try:
        return {code for (code,) in db.execute("SELECT DISTINCT commune_code FROM row_versions")}
    finally:
        db.close()


def test_a_split_commune_without_shares_is_refused_by_the_rollup(province, tmp_path):
    live = province.parent
    old_registry(live / "registry.xlsx", [SPLIT])
    assert run("provision", config=province, now="2026-11-20 08:00").exit_code == 0
    from conftest import type_row

    type_row(province, "06010", DAILY, date(2026, 11, 20), {SHOPS: 10}, at="2026-11-20 15:00")
    assert run("collect", config=province, now="2026-11-20 20:00").exit_code == 0
    table = live / "bang.csv"
    table.write_text(MAPPING.read_text(encoding="utf-8").replace(",60\n", ",\n")
                     .replace(",40\n", ",\n"), encoding="utf-8")
    book = Workbook()
    sheet = book.active
    sheet.append(list(HEADERS.values()))
    sheet.append(["06001", "Đoàn Kết", "Xã", "Lạng Sơn", None, 800, "", ""])
    book.save(live / "registry.xlsx")
    with province.open("a", encoding="utf-8") as toml:
        toml.write('merged = "bang.csv"\n')
    rolled = run("rollup", "--date", "2026-11-20", "--template", "kts_daily", config=province,
                 now="2026-11-20 20:30")
    assert rolled.exit_code == 2, rolled.output
    assert ('bang.csv: xã cũ đã báo cáo nhưng được chia cho nhiều xã mới mà chưa ghi "Tỷ lệ '
            '(%)": Xã Đào Viên (06010) → Xã Đoàn Kết (06001) và Xã Ba Sơn (06202), dòng 5, 6'
            ) in rolled.output


def _merged_province(province: Path, tmp_path: Path) -> Path:
    """The province fixture's folder run under the old communes on 20/11 (every one reporting,
    Thất Khê after the deadline), then given its 2025 registry and the table on 21/11."""
    from conftest import type_row

    live = province.parent
    old_registry(live / "registry.xlsx", [(c, n, "Xã", *rest) for c, n, _, *rest in
                                          [*OLD, SPLIT]])
    assert run("provision", config=province, now="2026-11-20 08:00").exit_code == 0
    for code, shops, at in (("06043", 3, "2026-11-20 18:00"), ("06046", 2, "2026-11-20 15:00"),
                            ("06013", 1, "2026-11-20 15:00"), ("06010", 10, "2026-11-20 15:00"),
                            ("06019", 4, "2026-11-20 15:00")):
        type_row(province, code, DAILY, date(2026, 11, 20), {SHOPS: shops, ACCOUNTS: 1},
                 at=at)
    assert run("collect", config=province, now="2026-11-20 20:00").exit_code == 0
    made = run("init", str(tmp_path / "new"), "--province", "Lạng Sơn", "--old-registry",
               str(old_registry(tmp_path / "ds_xa_2024.xlsx", OLD)), "--merged", str(MAPPING),
               now="2026-11-21 08:00")
    assert made.exit_code == 0, made.output
    book = load_workbook(tmp_path / "new" / "registry.xlsx")
    book.worksheets[0].append(["06202", "Ba Sơn", "Xã", "Lạng Sơn", "Bắc Sơn", 1500,
                               "Thôn Còn Nưa", "xa06202@example.gov.vn"])
    book.save(live / "registry.xlsx")
    shutil.copyfile(MAPPING, live / "xa_sap_nhap.csv")
    with province.open("a", encoding="utf-8") as toml:
        toml.write('merged = "xa_sap_nhap.csv"\n')
    return live


def test_status_before_the_merger_agrees_with_the_archive_commune_by_commune(
        province, tmp_path):
    import json

    live = _merged_province(province, tmp_path)
    rolled = run("rollup", "--date", "2026-11-20", "--template", "kts_daily", config=province,
                 now="2026-11-21 09:00")
    assert rolled.exit_code == 0, rolled.output
    shown = run("status", "--date", "2026-11-20", "--template", "kts_daily", "--format",
                "json", config=province, now="2026-11-21 09:00")
    assert shown.exit_code == 0, shown.output
    [report] = json.loads(shown.stdout)
    said = {c["code"]: c["status_label"] for c in report["communes"]}
    book = load_workbook(live / "archive/kts_daily/2026/kts_daily_2026-11-20.xlsx")
    archived = {code: row["Tình trạng báo cáo"]
                for code, row in commune_rows(book["Tổng hợp"]).items()}
    assert said == archived
    # Thất Khê's two old communes reported, Chí Minh on time and the town after the deadline:
    # the 2025 commune was complete on time and changed after it. The split Đào Viên reported
    # on time, so both its 2025 communes did.
    assert said == {"06040": "Đúng hạn, sửa sau hạn", "06001": "Đúng hạn", "06202": "Đúng hạn",
                    "06019": "Đúng hạn"}
    # Reminders read the same: nothing to chase on a day every old commune reported.
    reminded = run("remind", "--date", "2026-11-20", config=province, now="2026-11-21 09:00")
    assert reminded.exit_code == 0, reminded.output
    assert "4/4 xã đã báo cáo kỳ 20/11/2026" in reminded.output


def test_merge_maps_a_provinces_old_communes_by_its_own_table(province, tmp_path):
    _merged_province(province, tmp_path)
    result = run("merge", str(province.parent), "--out", str(tmp_path / "national"), "--date",
                 "2026-11-20", now="2026-11-21 09:00")
    assert result.exit_code == 0, result.output
    book = load_workbook(tmp_path / "national/kts_daily/2026/kts_daily_2026-11-20.xlsx")
    rows = commune_rows(book["Tổng hợp"])
    assert set(rows) == {"06040", "06001", "06019", "06202"}
    assert rows["06040"][CUMULATIVE] == 3 + 2
    assert rows["06001"][CUMULATIVE] == pytest.approx(1 + 0.6 * 10)
    assert rows["06202"][CUMULATIVE] == pytest.approx(0.4 * 10)
    assert rows["06019"][CUMULATIVE] == 4
