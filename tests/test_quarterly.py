"""The steering committee's quarterly report (bcd_quarterly) through every command, on both
backends: a quarter's row "Quý IV/2026", due 17:00 on the 5th of the month after the quarter."""

from __future__ import annotations

import json
from datetime import date

from openpyxl import load_workbook
from test_deadline_truth import set_campaign

from conftest import summary_table
from desks import desk  # noqa: F401  (the pytest fixture: each backend in turn)

TAB = "Báo cáo quý BCĐ"
Q4 = "Quý IV/2026"
HELD, MEMBERS, ATTENDEES = ("Ban chỉ đạo đã họp định kỳ trong quý", "Số thành viên Ban chỉ đạo",
                            "Số thành viên dự họp")
PROPOSALS = "Đề xuất, kiến nghị với Sở"


def quarter_statuses(on, now: str) -> dict[str, str]:
    result = on.run("status", "--date", "2026-12-31", "--template", "bcd_quarterly",
                      "--format", "json", now=now)
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.stdout)
    return {c["code"]: c["status"] for c in report["communes"]}


def test_a_quarterly_report_is_laid_out_collected_checked_chased_and_rolled_up(desk):  # noqa: F811
    set_campaign(desk.config, date(2026, 11, 20), date(2027, 2, 28))
    result = desk.run("provision", now="2026-11-20 08:00")
    assert result.exit_code == 0, result.output
    rows = desk.tab_rows("06040", TAB, first_row=2)
    assert [r[0] for r in rows if r and r[0]] == ["Quý", Q4, "Quý I/2027"]
    assert "hạn hằng quý 17:00 ngày 5 tháng đầu quý sau" in desk.title("06040", TAB)

    refused = desk.type_row("06040", TAB, Q4, {HELD: "Có", MEMBERS: 9, ATTENDEES: 12,
                                               PROPOSALS: "Hỗ trợ 20 điện thoại thông minh"},
                            at="2026-12-20 10:00")
    assert refused == []
    assert desk.run("collect", now="2027-01-05 16:00").exit_code == 0
    assert quarter_statuses(desk, "2027-01-05 16:00")["06019"] == "pending"

    assert desk.run("validate", "--date", "2026-12-31", now="2027-01-05 16:05").exit_code == 0
    (found,) = [r for r in desk.tab_rows("06040", "Kiểm tra") if TAB in r]
    assert found[:4] == (Q4, TAB, "E3", "12")
    assert found[4].startswith("Số thành viên dự họp lớn hơn số thành viên Ban chỉ đạo.")

    reminded = desk.run("remind", "--date", "2027-01-05", "--template", "bcd_quarterly",
                        now="2027-01-05 18:00")
    assert reminded.exit_code == 0, reminded.output
    assert "Quý IV/2026" in reminded.output         # on the 5th, the quarter that is due
    assert "Kính gửi UBND xã Tân Tiến" in reminded.output             # nothing sent
    assert 'dòng quý IV/2026, cột "Số thành viên dự họp" (ô E3)' in reminded.output

    desk.type_row("06001", TAB, Q4, {HELD: "Không", MEMBERS: 7}, at="2027-01-06 09:00")
    assert desk.run("collect", now="2027-01-06 10:00").exit_code == 0
    statuses = quarter_statuses(desk, "2027-01-06 10:00")
    assert (statuses["06040"], statuses["06001"], statuses["06019"]) == (
        "on_time", "late", "missing")

    rolled = desk.run("rollup", "--date", "2026-12-31", "--template", "bcd_quarterly",
                      now="2027-01-06 10:05")
    assert rolled.exit_code == 0, rolled.output
    (archive,) = (desk.config.parent / "archive").rglob("*bcd_quarterly*2026-Q4*.xlsx")
    header, table = summary_table(load_workbook(archive)["Tổng hợp"].iter_rows(values_only=True))
    members = {r[header.index("Mã xã")]: r[header.index(f"{MEMBERS} trong quý")]
               for r in table}
    assert (members["06040"], members["06001"]) == (9, 7)
