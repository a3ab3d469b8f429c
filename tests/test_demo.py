"""The demo is the product's first impression: it must finish and its archive must add up."""

from __future__ import annotations

import re

from openpyxl import load_workbook

from conftest import commune_rows, run


def test_demo_runs_the_workflow_and_the_archive_matches_what_was_typed(tmp_path):
    folder = tmp_path / "demo"
    result = run("demo", str(folder), "--days", "2", now="2026-11-23 21:00")
    assert result.exit_code == 0, result.output
    assert "Tỉnh Lạng Sơn: 65 xã, phường" in result.output
    assert "21/11 20:00 daily: đọc" in result.output
    assert "KHÔNG KHỚP" not in result.output and result.output.count("✓") == 2
    archive = folder / "archive/kts_daily/2026/kts_daily_2026-11-22.xlsx"
    assert archive.is_file()
    communes = commune_rows(load_workbook(archive)["Tổng hợp"])
    assert len(communes) == 65
    statuses = {r["Tình trạng báo cáo"] for r in communes.values()}
    assert {"Đúng hạn", "Trễ hạn", "Chưa báo cáo"} <= statuses
    # Every fifth commune joins in phase 2, on the second day: not expected on the first.
    first = commune_rows(load_workbook(archive.with_name("kts_daily_2026-11-21.xlsx"))
                         ["Tổng hợp"])
    waiting = {c for c, r in first.items() if r["Tình trạng báo cáo"] == "Không phải báo cáo"}
    assert len(waiting) == 13 and "Không phải báo cáo" not in statuses
    # Each commune's Zalo group ends with the postal enterprise serving it, in turn.
    remind = run("remind", "--date", "2026-11-22", "--template", "kts_daily",
                 config=folder / "toolkit.toml",
                 now="2026-11-22 20:00")
    assert remind.exit_code == 0, remind.output
    groups = re.findall(r"^--- (KTS_\S+) ", remind.output, re.MULTILINE)
    assert groups and all(g.endswith(("_Viettel", "_Buudien")) for g in groups)
    assert {g.rsplit("_", 1)[1] for g in groups} == {"Viettel", "Buudien"}
    # Running it again in the same folder starts afresh instead of refusing.
    again = run("demo", str(folder), "--days", "1", now="2026-11-23 21:00")
    assert again.exit_code == 0, again.output


def test_demo_refuses_a_folder_that_is_not_a_demo(tmp_path):
    (tmp_path / "notes.txt").write_text("keep me", encoding="utf-8")
    result = run("demo", str(tmp_path), now="2026-11-23 21:00")
    assert result.exit_code == 2
    assert "không trống và không phải thư mục demo trước đó" in result.output
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "keep me"
