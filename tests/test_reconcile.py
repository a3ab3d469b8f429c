"""The monthly report's restated totals against the sum of the daily entries."""

from __future__ import annotations

from datetime import date

from conftest import run, type_row
from toolkit.periods import parse_now
from toolkit.validate import validate
from toolkit.workspace import open_workspace

SHOPS = "Số cửa hàng số mở mới"
ACCOUNTS = "Số tài khoản thanh toán điện tử mở mới"
MONTH_SHOPS = "Số cửa hàng số mở mới trong tháng"
MONTH_ACCOUNTS = "Số tài khoản thanh toán điện tử mở mới trong tháng"


def test_a_monthly_total_that_differs_from_the_daily_sum_is_a_warning_on_its_cell(provisioned):
    for day, shops in ((20, 5), (21, 3)):
        type_row(provisioned, "06040", "Báo cáo ngày", date(2026, 11, day),
                 {SHOPS: shops, ACCOUNTS: 1}, at=f"2026-11-{day} 10:00")
    type_row(provisioned, "06040", "Báo cáo tháng", "11/2026",
             {"Số người được hướng dẫn dùng dịch vụ công trực tuyến": 10,
              "Số tài khoản VNeID được kích hoạt": 4, MONTH_SHOPS: 9, MONTH_ACCOUNTS: 2},
             at="2026-11-21 11:00")
    run("collect", config=provisioned, now="2026-11-21 12:00")
    result = run("validate", "--date", "2026-11-21", config=provisioned, now="2026-11-21 12:00")
    assert result.exit_code == 0, result.output

    with open_workspace(provisioned) as ws:
        issues = validate(ws.specs, ws.registry, ws.store, ws.ledger, day=date(2026, 11, 21),
                          now=parse_now("2026-11-21 12:00"), campaign=ws.campaign).issues
    found = issues[issues["check"].str.startswith("reconcile:")]
    assert list(zip(found["check"], found["cell"], found["value"], strict=True)) == [
        ("reconcile:new_shops_month", "J3", "9")]
    assert found["message"].iloc[0] == (
        "\"Số cửa hàng số mở mới trong tháng\" tháng 11/2026 là 9, nhưng tổng \"Số cửa hàng số "
        "mở mới\" các báo cáo ngày trong tháng (đến 21/11/2026) là 8.")
    assert set(found["level"]) == {"warning"}
