"""The demo is the product's first impression: it must finish and its archive must add up."""

from __future__ import annotations

import json
import re

from openpyxl import load_workbook

from conftest import commune_rows, run, table_rows, workbook_of

SHOPS = "Số cửa hàng số mở mới"


def test_demo_runs_the_workflow_and_the_archive_matches_what_was_typed(tmp_path):
    # Lai Châu, the smallest province (38 communes): the workflow is the same for any size,
    # and each commune costs a workbook per sweep.
    folder = tmp_path / "demo"
    result = run("demo", str(folder), "--province", "Lai Châu", "--days", "2",
                 now="2026-11-23 21:00")
    assert result.exit_code == 0, result.output
    assert "Tỉnh Lai Châu: 38 xã, phường" in result.output
    assert "21/11 20:00 daily: đọc" in result.output
    assert "KHÔNG KHỚP" not in result.output and result.output.count("✓") == 2
    archive = folder / "archive/kts_daily/2026/kts_daily_2026-11-22.xlsx"
    assert archive.is_file()
    communes = commune_rows(load_workbook(archive)["Tổng hợp"])
    assert len(communes) == 38
    statuses = {r["Tình trạng báo cáo"] for r in communes.values()}
    assert {"Đúng hạn", "Trễ hạn", "Chưa báo cáo"} <= statuses
    # Every fifth commune joins in phase 2, on the second day: not expected on the first.
    first = commune_rows(load_workbook(archive.with_name("kts_daily_2026-11-21.xlsx"))
                         ["Tổng hợp"])
    waiting = {c for c, r in first.items() if r["Tình trạng báo cáo"] == "Không phải báo cáo"}
    assert len(waiting) == 7 and "Không phải báo cáo" not in statuses
    # Some communes work to targets of their own: 40% of households, or 120 shops.
    book = load_workbook(archive)
    levels = {r["Mức chỉ tiêu"] for r in table_rows(book["Tiến độ chỉ tiêu"])
              if r["Chỉ tiêu"] == "Hộ có cửa hàng số"}
    assert {"50% số hộ", "40% số hộ (giao riêng)", "120 (giao riêng)"} <= levels
    thi_dua = table_rows(book["Xếp hạng thi đua"])
    assert [r["Hạng"] for r in thi_dua] == list(range(1, len(thi_dua) + 1))
    # Each commune's Zalo group ends with the postal enterprise serving it, in turn.
    remind = run("remind", "--date", "2026-11-22", "--template", "kts_daily",
                 config=folder / "toolkit.toml",
                 now="2026-11-22 20:00")
    assert remind.exit_code == 0, remind.output
    groups = re.findall(r"^--- (KTS_\S+) ", remind.output, re.MULTILINE)
    assert groups and all(g.endswith(("_Viettel", "_Buudien")) for g in groups)
    assert {g.rsplit("_", 1)[1] for g in groups} == {"Viettel", "Buudien"}
    # The postal enterprises type a row per commune they serve, every day before 17:00; the
    # first commune Viettel Post serves is counted 15 shops a day more than the commune says.
    postal = folder / "archive/buu_chinh_daily/2026/buu_chinh_daily_2026-11-22.xlsx"
    assert f"Đối chiếu bưu chính: {postal} — 1 xã chênh lệch lớn" in result.output
    status = run("status", "--date", "2026-11-22", "--template", "buu_chinh_daily",
                 "--format", "json", config=folder / "toolkit.toml", now="2026-11-22 20:00")
    assert status.exit_code == 0, status.output
    (report,) = json.loads(status.stdout)
    assert {c["code"]: c["status"] for c in report["communes"]} == {
        "VTP": "on_time", "BDT": "on_time"}
    compared = table_rows(load_workbook(postal)["Đối chiếu bưu chính"])
    assert len(compared) == 38
    flagged = [r for r in compared if r["Chênh lệch lớn (lũy kế)"]]
    assert [r["Doanh nghiệp"] for r in flagged] == ["Chi nhánh Bưu chính Viettel"]
    (row,) = flagged
    assert row[f"{SHOPS} — doanh nghiệp, lũy kế"] == row[f"{SHOPS} — xã, lũy kế"] + 30
    assert row["Xã, phường"] in result.output.split("Đối chiếu bưu chính:")[1]
    # Running it again in the same folder starts afresh instead of refusing.
    again = run("demo", str(folder), "--province", "Lai Châu", "--days", "1",
                now="2026-11-23 21:00")
    assert again.exit_code == 0, again.output


def test_demo_refuses_a_folder_that_is_not_a_demo(tmp_path):
    (tmp_path / "notes.txt").write_text("keep me", encoding="utf-8")
    result = run("demo", str(tmp_path), now="2026-11-23 21:00")
    assert result.exit_code == 2
    assert "không trống và không phải thư mục demo trước đó" in result.output
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_typing_writes_the_cells_as_openpyxl_would_and_keeps_their_look(province):
    """The demo types into the sheet's XML; the workbook must read as if openpyxl had typed."""
    import shutil
    from datetime import date, datetime

    from toolkit.backends import xlsx_patch
    from toolkit.demo import _typed_with_openpyxl, type_into
    from toolkit.periods import VN_TZ

    assert run("provision", config=province, now="2026-11-20 08:00").exit_code == 0
    path = workbook_of(province, "06040")
    copy = path.with_name("copy.xlsx")
    shutil.copy(path, copy)
    # The provisioned report cells are in the sheet's XML: typing takes the quick way.
    assert xlsx_patch.typed(path.read_bytes(), "Báo cáo ngày", {"B3": 1, "I3": "x"})
    cells = {"Số cửa hàng số mở mới": 12, "Sản lượng (kg)": 37.5, "Ghi chú": "ghi <chú> & đủ",
             "Số tài khoản thanh toán điện tử mở mới": "12a"}
    type_into(path, "Báo cáo ngày", date(2026, 11, 20), cells,
              datetime(2026, 11, 20, 9, tzinfo=VN_TZ))
    copy.write_bytes(_typed_with_openpyxl(copy, copy.read_bytes(), "Báo cáo ngày",
                                          date(2026, 11, 20), cells))
    fast, slow = (load_workbook(p)["Báo cáo ngày"] for p in (path, copy))
    typed = [[(c.value, c.data_type, c.style_id, c.protection.locked) for c in row]
             for row in fast.iter_rows(max_row=40)]
    assert typed == [[(c.value, c.data_type, c.style_id, c.protection.locked) for c in row]
                     for row in slow.iter_rows(max_row=40)]
    assert 12 in typed[2][1] and "ghi <chú> & đủ" in (c[0] for c in typed[2])
    assert path.stat().st_mtime == datetime(2026, 11, 20, 9, tzinfo=VN_TZ).timestamp()
