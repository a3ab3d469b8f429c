"""Campaign phases (issue 14, item 3): a commune reports from its own start, up to its own end.

Phase 1 of the campaign reached five districts; phase 2 everyone two months later. Before its
start (or after its end) a commune is "Không phải báo cáo": never missing, never chased, outside
every rate — on both backends, its workbook provisioned all the same.
"""

from __future__ import annotations

import json
from datetime import date

from openpyxl import load_workbook

from conftest import commune_rows, set_phases
from desks import desk  # noqa: F401  (the pytest fixture: each backend in turn)

DAILY = "Báo cáo ngày"
SHOPS = "Số cửa hàng số mở mới"
ACCOUNTS = "Số tài khoản thanh toán điện tử mở mới"
# Ba Sơn joins in phase 2, the day after the campaign starts; Tân Tiến leaves after day one.
PHASES = (("06202", date(2026, 11, 21), None), ("06019", None, date(2026, 11, 20)))


def statuses(desk, day: str, now: str):  # noqa: F811
    result = desk.run("status", "--date", day, "--template", "kts_daily", "--format", "json",
                      now=now)
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.stdout)
    return report, {c["code"]: c["status"] for c in report["communes"]}


def test_a_commune_outside_its_phase_is_not_expected(desk):  # noqa: F811
    set_phases(desk.config.parent / "registry.xlsx", PHASES)
    provisioned = desk.run("provision", now="2026-11-20 08:00")
    assert provisioned.exit_code == 0, provisioned.output
    assert desk.title("06202", DAILY)               # Ba Sơn's workbook is there already
    desk.type_row("06040", DAILY, date(2026, 11, 20), {SHOPS: 3, ACCOUNTS: 4},
                  at="2026-11-20 16:00")
    assert desk.run("collect", now="2026-11-20 16:30").exit_code == 0   # Google: proven then
    assert desk.run("collect", now="2026-11-20 20:00").exit_code == 0

    report, status = statuses(desk, "2026-11-20", now="2026-11-20 20:00")
    assert status == {"06040": "on_time", "06001": "missing", "06019": "missing",
                      "06202": "not_expected"}
    province = report["summary"][-1]
    assert (province["expected"], province["reporting_rate"]) == (3, 1 / 3)
    _, next_day = statuses(desk, "2026-11-21", now="2026-11-21 20:00")
    assert next_day == {"06040": "missing", "06001": "missing", "06019": "not_expected",
                        "06202": "missing"}

    reminded = desk.run("remind", "--date", "2026-11-20", now="2026-11-20 20:05")
    assert "remind: 2 xã cần nhắc" in reminded.output, reminded.output
    assert "Ba Sơn" not in reminded.output.split("Chưa báo cáo hoặc chưa đủ")[1]

    checked = desk.run("validate", "--date", "2026-11-20", now="2026-11-20 20:10")
    assert checked.exit_code == 0, checked.output
    feedback = [r for r in desk.tab_rows("06202", "Kiểm tra", first_row=3) if r and r[0]]
    assert not [r for r in feedback if "Chưa báo cáo" in str(r)], feedback
    assert "Chưa báo cáo" in str(desk.tab_rows("06019", "Kiểm tra", first_row=3))

    rolled = desk.run("rollup", "--date", "2026-11-20", "--template", "kts_daily",
                      now="2026-11-20 20:15")
    assert rolled.exit_code == 0, rolled.output
    book = load_workbook(desk.config.parent / "archive/kts_daily/2026/kts_daily_2026-11-20.xlsx")
    rows = commune_rows(book["Tổng hợp"])
    assert rows["06202"]["Tình trạng báo cáo"] == "Không phải báo cáo"
    missing = [r[1] for r in book["Chưa báo cáo"].iter_rows(min_row=2, values_only=True)]
    assert sorted(missing) == ["Xã Tân Tiến", "Xã Đoàn Kết"]
    rates = list(book["Tỷ lệ báo cáo"].iter_rows(min_row=2, values_only=True))
    assert rates[-1][0] == "Toàn tỉnh" and rates[-1][-2:] == (1 / 3, 1 / 3)
