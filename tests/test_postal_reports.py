"""Postal enterprises report too (issue 14, item 1): each enterprise of the registry gets its own
workbook with the buu_chinh_daily tab — one pre-filled row per day and commune it serves — and
is collected, chased and counted on time or late like a commune, on both backends."""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from conftest import set_postal
from desks import desk  # noqa: F401  (the pytest fixture: each backend in turn)
from toolkit.config import PACKAGED_TEMPLATES
from toolkit.layout import period_key_of
from toolkit.postal import differs
from toolkit.templates import load_template

TAB = "Báo cáo bưu chính"
SHOPS, ACCOUNTS = "Số cửa hàng số mở mới", "Số tài khoản thanh toán điện tử mở mới"
VIETTEL, POST = "Chi nhánh Bưu chính Viettel Lạng Sơn", "Bưu điện tỉnh Lạng Sơn"


@pytest.fixture
def shipped_postal():
    return load_template(PACKAGED_TEMPLATES / "buu_chinh_daily.toml")


def with_enterprises(on) -> None:
    """Viettel Post serves Ba Sơn and Tân Tiến, the post office Thất Khê; Hồng Phong none."""
    set_postal(on.config.parent / "registry.xlsx",
               [("VTP", VIETTEL, "Viettel Post", "xaVTP@example.gov.vn"),
                ("BDLS", POST, "Bưu điện", "xaBDLS@example.gov.vn")],
               {"06202": "VTP", "06019": "VTP", "06040": "BDLS"})


def statuses(on, now: str) -> dict[str, str]:
    result = on.run("status", "--date", "2026-11-20", "--template", "buu_chinh_daily",
                      "--format", "json", now=now)
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.stdout)
    return {c["code"]: c["status"] for c in report["communes"]}


def test_each_enterprise_reports_per_commune_served_in_its_own_workbook(desk):  # noqa: F811
    with_enterprises(desk)
    result = desk.run("provision", now="2026-11-20 08:00")
    assert result.exit_code == 0, result.output

    header, *rows = desk.tab_rows("VTP", TAB, first_row=2)
    assert header[:4] == ("Ngày", "Xã, phường", SHOPS, ACCOUNTS)
    assert [r[1] for r in rows[:4]] == ["Xã Ba Sơn", "Xã Tân Tiến"] * 2
    assert rows[0][0] == rows[1][0] != rows[2][0]          # one day, both communes
    assert {r[1] for r in desk.tab_rows("BDLS", TAB, first_row=3)} == {"Xã Thất Khê"}
    assert VIETTEL in desk.title("VTP", TAB)
    assert TAB not in desk.tabs("06202") and "Báo cáo ngày" not in desk.tabs("VTP")

    # Viettel Post types both communes of the 20th before 17:00; the post office nothing.
    desk.paste("VTP", TAB, "C3", [[2, 5, 14], [0, 3, 6]], at="2026-11-20 16:00")
    assert desk.run("collect", now="2026-11-20 16:30").exit_code == 0
    assert statuses(desk, "2026-11-20 16:30") == {"VTP": "on_time", "BDLS": "pending"}

    reminded = desk.run("remind", "--date", "2026-11-20", "--template", "buu_chinh_daily",
                        now="2026-11-20 17:30")
    assert reminded.exit_code == 0, reminded.output
    assert f"Kính gửi {POST}:" in reminded.output
    assert "remind: 1 doanh nghiệp cần nhắc" in reminded.output
    assert "UBND" not in reminded.output and VIETTEL not in reminded.output.split("---")[-1]
    # headed by its name, not a made-up commune Zalo group; its sheet heads it as an enterprise
    assert f"--- {POST} (" in reminded.output and "KTS_" not in reminded.output
    sheet = desk.config.parent / "nhac.xlsx"
    assert desk.run("remind", "--date", "2026-11-20", "--template", "buu_chinh_daily",
                    "--output", str(sheet), now="2026-11-20 17:30").exit_code == 0
    header, first = list(load_workbook(sheet)["Nhắc báo cáo"].iter_rows(values_only=True))[:2]
    assert header[:2] == ("Mã doanh nghiệp", "Doanh nghiệp") and first[:2] == ("BDLS", POST)

    desk.paste("BDLS", TAB, "C3", [[1, 1]], at="2026-11-20 19:00")
    assert desk.run("collect", now="2026-11-20 19:30").exit_code == 0
    assert statuses(desk, "2026-11-20 19:30") == {"VTP": "on_time", "BDLS": "late"}

    # The rollup sets each commune's own figures beside its enterprise's, flagging Ba Sơn:
    # 40 shops by its own count, 2 by Viettel Post's (Tân Tiến's 3 and 0 differ too little).
    desk.type_row("06202", "Báo cáo ngày", date(2026, 11, 20), {SHOPS: 40, ACCOUNTS: 6},
                  at="2026-11-20 16:10")
    desk.type_row("06019", "Báo cáo ngày", date(2026, 11, 20), {SHOPS: 3, ACCOUNTS: 7},
                  at="2026-11-20 16:10")
    assert desk.run("collect", now="2026-11-20 19:40").exit_code == 0
    rolled = desk.run("rollup", "--date", "2026-11-20", "--template", "buu_chinh_daily",
                      now="2026-11-20 19:45")
    assert rolled.exit_code == 0, rolled.output
    (archive,) = (desk.config.parent / "archive").rglob("*buu_chinh_daily*2026-11-20*.xlsx")
    book = load_workbook(archive)
    assert book.sheetnames[:2] == ["Tổng hợp", "Đối chiếu bưu chính"]
    header, *rows = [r for r in book["Đối chiếu bưu chính"].iter_rows(values_only=True)
                     if any(v is not None for v in r)][-4:]
    found = {r[0]: dict(zip(header, r, strict=True)) for r in rows}
    assert set(found) == {"06202", "06019", "06040"}
    assert [r[0] for r in rows][0] == "06202"                    # the flagged one first
    assert found["06202"]["Doanh nghiệp"] == VIETTEL
    assert found["06202"][f"{SHOPS} — xã, kỳ này"] == 40
    assert found["06202"][f"{SHOPS} — doanh nghiệp, kỳ này"] == 2
    assert found["06202"]["Chênh lệch lớn (lũy kế)"] == (
        f"{SHOPS}: xã 40, doanh nghiệp 2")
    assert not found["06019"]["Chênh lệch lớn (lũy kế)"]
    assert found["06040"]["Doanh nghiệp"] == POST
    # The flagged difference is coloured as a warning; the others are not.
    sheet = book["Đối chiếu bưu chính"]
    flag = header.index("Chênh lệch lớn (lũy kế)") + 1
    colour = {sheet.cell(r, 1).value: sheet.cell(r, flag).fill.fgColor.rgb
              for r in range(1, sheet.max_row + 1) if sheet.cell(r, 1).value in found}
    assert colour["06202"].endswith("FFE699")
    assert not colour["06019"].endswith("FFE699") and not colour["06040"].endswith("FFE699")


def test_a_large_difference_is_more_than_a_fifth_and_more_than_five():
    assert differs(40, 2) and differs(100, 79)
    assert not differs(3, 0) and not differs(100, 81) and not differs(9, 4)


def test_the_enterprise_help_tab_says_a_row_waits_for_each_commune_served(shipped_postal):
    from toolkit.layout import help_lines

    lines = help_lines([shipped_postal], "Bưu điện tỉnh Lạng Sơn")
    assert lines[0] == "Sổ báo cáo của Bưu điện tỉnh Lạng Sơn"
    assert ('  Mỗi ngày có sẵn một dòng cho mỗi xã doanh nghiệp phục vụ (cột "Xã, phường"): '
            "nhập số liệu của doanh nghiệp tại xã đó vào đúng dòng; xã nào không có thì nhập 0."
            ) in lines
    assert ('  Báo cáo ngày chỉ đủ khi dòng của mọi xã đều có số liệu; còn xã nào để trống là '
            '"Chưa đủ".') in lines


def test_a_day_is_complete_only_when_every_commune_served_has_its_row(desk):  # noqa: F811
    """Viettel Post serves Ba Sơn and Tân Tiến: typing Ba Sơn's row alone is not the day's
    report — it is "Chưa đủ", chased with Tân Tiến named, until Tân Tiến's row comes in."""
    with_enterprises(desk)
    assert desk.run("provision", now="2026-11-20 08:00").exit_code == 0
    desk.paste("VTP", TAB, "C3", [[2, 5]], at="2026-11-20 16:00")         # Ba Sơn only
    desk.paste("BDLS", TAB, "C3", [[1, 1]], at="2026-11-20 16:00")        # its one commune
    assert desk.run("collect", now="2026-11-20 16:30").exit_code == 0
    assert statuses(desk, "2026-11-20 16:30") == {"VTP": "incomplete", "BDLS": "on_time"}

    reminded = desk.run("remind", "--date", "2026-11-20", "--template", "buu_chinh_daily",
                        now="2026-11-20 16:40")
    assert reminded.exit_code == 0, reminded.output
    message = reminded.output.split("=== Nhóm Zalo")[0]
    assert f"Kính gửi {VIETTEL}:" in message and "còn thiếu" in message
    assert "Chưa nhập số liệu của Xã Tân Tiến" in message and "(ô C4)" in message
    assert "Xã Ba Sơn" not in message.split("Kính gửi")[1]
    assert POST not in message.split("Kính gửi")[1]
    checked = desk.run("validate", "--date", "2026-11-20", now="2026-11-20 16:45")
    assert checked.exit_code in (0, 1), checked.output
    flat = " ".join(str(v) for row in desk.tab_rows("VTP", "Kiểm tra") for v in row if v)
    assert "Chưa nhập số liệu của Xã Tân Tiến" in flat

    # Tân Tiến's row at 19:00: the day is complete then, after the deadline — late.
    desk.paste("VTP", TAB, "C4", [[0, 3]], at="2026-11-20 19:00")
    assert desk.run("collect", now="2026-11-20 19:30").exit_code == 0
    assert statuses(desk, "2026-11-20 19:30") == {"VTP": "late", "BDLS": "on_time"}


# -- the status of an enterprise's day against the independent reference model ----------------

GENERATED_DAY = date(2026, 11, 20)
SERVES = {"VTP": ("Xã A", "Xã B"), "BDT": ("Xã C",)}
ROWS = [(code, served) for code, names in SERVES.items() for served in names]
# What one save types in a row: both required figures, one of them, a clearing, an unreadable.
ENTRIES = [{"new_shops": 2, "new_accounts": 1}, {"new_shops": 3}, {"new_accounts": 0},
           {"new_shops": None, "new_accounts": None}, {"new_shops": "2a"}]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(ROWS), st.integers(-300, 300),
                          st.sampled_from(range(len(ENTRIES)))), max_size=7,
                unique_by=lambda s: s[1]),
       st.integers(-330, 400), st.sampled_from([0, 5]))
def test_an_enterprise_status_agrees_with_the_reference_model(saves, as_of_minutes, grace_minutes):
    """Saves into the enterprises' workbooks (each read at once, as the xlsx folder proves
    them by the file's time): the cells parsed as a sweep parses them, stored in a real
    ledger, judged by ``status_table`` — and by tests/oracle.py from the typing alone."""
    import tempfile
    from datetime import datetime, timedelta
    from pathlib import Path

    from oracle import VN, Oracle, Report
    from toolkit.frames import spec_versions
    from toolkit.ledger import Ledger
    from toolkit.registry import ENTERPRISE_KIND, Commune, Registry
    from toolkit.sheet_reading import rows_from_grid
    from toolkit.status import status_table

    spec = load_template(PACKAGED_TEMPLATES / "buu_chinh_daily.toml")
    period = GENERATED_DAY.isoformat()
    deadline = datetime(2026, 11, 20, 17, 0, tzinfo=VN)
    grace = timedelta(minutes=grace_minutes)
    reference = Report(spec.key, "daily", tuple((f.key, "text" if f.type == "text" else "int")
                                                for f in spec.fields),
                       tuple(spec.required_keys), keyed=True)
    model = Oracle([reference], list(SERVES), start=GENERATED_DAY, end=GENERATED_DAY,
                   grace=grace, backend="xlsx", serves=SERVES)
    registry = Registry(Path("registry.xlsx"), tuple(
        Commune(code, code, ENTERPRISE_KIND, "Lạng Sơn", None, None, names, (), None, None)
        for code, names in SERVES.items()), ())
    sheets = {code: {name: {} for name in names} for code, names in SERVES.items()}
    with tempfile.TemporaryDirectory() as folder:
        ledger = Ledger(Path(folder) / "ledger.sqlite")
        for (code, served), minutes, entry in sorted(saves, key=lambda s: s[1]):
            moment = deadline + timedelta(minutes=minutes)
            sheets[code][served].update(ENTRIES[entry])
            model.type(code, moment, spec.key, period, ENTRIES[entry], served=served)
            model.sweep(moment)
            grid = [[spec.title], list(spec.headers)] + [
                [GENERATED_DAY, name] + [sheets[code][name].get(f.key) for f in spec.fields]
                for name in SERVES[code]]
            ledger.record_fetch(code, fetched_at=moment, modified_stamp=None,
                                modified_at=moment, proven_at=moment,
                                rows=rows_from_grid(spec, grid, SERVES[code], (period,)))
        versions = spec_versions(ledger, spec, [period])
        ledger.db.close()
    as_of = deadline + timedelta(minutes=as_of_minutes)
    table = status_table(spec, registry, versions, [period], as_of=as_of, grace=grace,
                         campaign=(GENERATED_DAY, GENERATED_DAY))
    assert dict(zip(table["commune_code"], table["status"], strict=True)) == \
        model.statuses(spec.key, period, as_of)


def test_an_enterprise_rollup_heads_its_reporters_as_enterprises(desk):  # noqa: F811
    """Tổng hợp of buu_chinh_daily lists enterprises, so it heads them "Mã doanh nghiệp",
    "Doanh nghiệp" and counts them as such — in the archive and on the Google rollup."""
    with_enterprises(desk)
    assert desk.run("provision", now="2026-11-20 08:00").exit_code == 0
    desk.paste("VTP", TAB, "C3", [[2, 5], [0, 3]], at="2026-11-20 16:00")
    assert desk.run("collect", now="2026-11-20 16:30").exit_code == 0
    rolled = desk.run("rollup", "--date", "2026-11-20", "--template", "buu_chinh_daily",
                      now="2026-11-20 18:00")
    assert rolled.exit_code == 0, rolled.output
    (archive,) = (desk.config.parent / "archive").rglob("*buu_chinh_daily*2026-11-20*.xlsx")
    book = load_workbook(archive)
    shown = [[v for v in r if v is not None] for r in book["Tổng hợp"].iter_rows(values_only=True)]
    heads = [r for r in shown if r and r[0] == "Mã doanh nghiệp"]
    assert heads and heads[0][1] == "Doanh nghiệp"
    assert not any("Mã xã" in r for r in shown)
    assert any("Đã báo cáo 1/2 doanh nghiệp" in str(v) for r in shown for v in r)
    # the Toàn tỉnh row counts enterprises too, and an enterprise has no households
    assert "Đã báo cáo 1/2 doanh nghiệp" in [v for r in shown for v in r]
    assert not any(str(v).endswith("/2 xã") for r in shown for v in r)
    assert "Số hộ" not in heads[0]
    missing = [[v for v in r if v is not None] for r in book["Chưa báo cáo"].iter_rows(
        values_only=True)]
    assert ["Mã doanh nghiệp", "Doanh nghiệp", "Tình trạng"] in [r[:3] for r in missing]
    if desk.kind == "gsheets":
        from toolkit.backends.google.rollup import tab_title

        rows = desk.fake.values(desk.rollup_id, f"'{tab_title(TAB, 'Tổng hợp')}'!A1:Z60")
        assert any(r and r[0] == "Mã doanh nghiệp" for r in rows)
        assert not any(r and r[0] == "Mã xã" for r in rows)


def test_an_enterprise_tab_is_read_by_each_rows_day_and_commune(shipped_postal):
    """The communes an enterprise serves change mid-campaign (the province moved Tân Tiến to
    another enterprise): its tab still holds the rows provisioned for the old list. Every row
    is read by the day and commune its cells say, not by where the current list would put it,
    so a served commune's later row is not taken for data pasted below the report."""
    from toolkit.layout import FIRST_DATA_ROW
    from toolkit.sheet_reading import TAB_ROW, rows_from_grid

    days = ("2026-11-20", "2026-11-23")
    blank = [None] * len(shipped_postal.fields)
    grid = [["title"], list(shipped_postal.headers)] + [None] * (FIRST_DATA_ROW - 3)
    grid += [[date.fromisoformat(d), name, *([2, 5, *blank[2:]] if name == "Xã Ba Sơn"
                                             else blank)]
             for d in days for name in ("Xã Ba Sơn", "Xã Tân Tiến")]
    rows = rows_from_grid(shipped_postal, grid, ("Xã Ba Sơn",), days)
    read = {r.row_key: (r.sheet_row, r.values["new_shops"]) for r in rows}
    assert read["2026-11-23|Xã Ba Sơn"] == (FIRST_DATA_ROW + 2, 2)
    assert read["2026-11-20|Xã Ba Sơn"] == (FIRST_DATA_ROW, 2)
    (tab,) = [r for r in rows if r.row_key == TAB_ROW]
    assert tab.problems == {}
    # The moved commune's blank pre-filled rows are nobody's report now: no problem on them.
    assert not any("Tân Tiến" in r.row_key for r in rows)


def day_statuses(on, day: str, now: str) -> dict[str, str]:
    result = on.run("status", "--date", day, "--template", "buu_chinh_daily", "--format",
                    "json", now=now)
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.stdout)
    return {c["code"]: c["status"] for c in report["communes"]}


def test_a_commune_moved_to_an_enterprise_mid_campaign_gets_rows_read_by_key(desk):  # noqa: F811
    """Viettel Post reports 20/11 for Ba Sơn and Tân Tiến; the province then moves Thất Khê to
    it. Provision adds Thất Khê's rows — its 20/11 row below the tab's rows — and every row is
    read by its own day and commune: 21/11 typed for all three is on time, nothing counts as
    pasted below the report, and 20/11 waits for Thất Khê's row, named by its own cell."""
    with_enterprises(desk)
    assert desk.run("provision", now="2026-11-20 08:00").exit_code == 0
    desk.paste("VTP", TAB, "C3", [[2, 5], [0, 3]], at="2026-11-20 16:00")
    assert desk.run("collect", now="2026-11-20 16:30").exit_code == 0
    assert day_statuses(desk, "2026-11-20", "2026-11-20 16:30")["VTP"] == "on_time"

    set_postal(desk.config.parent / "registry.xlsx", [], {"06040": "VTP"})
    provisioned = desk.run("provision", now="2026-11-21 08:00")
    assert provisioned.exit_code == 0, provisioned.output
    rows = desk.tab_rows("VTP", TAB, first_row=3)
    where = {(period_key_of(r[0]), r[1]): i + 3 for i, r in enumerate(rows) if r[0]}
    assert set(where) >= {(d, n) for d in ("2026-11-20", "2026-11-21")
                          for n in ("Xã Ba Sơn", "Xã Tân Tiến", "Xã Thất Khê")}, where
    assert len(where) == len([r for r in rows if r[0]])          # no day and commune twice
    for name in ("Xã Ba Sơn", "Xã Tân Tiến", "Xã Thất Khê"):
        desk.paste("VTP", TAB, f"C{where['2026-11-21', name]}", [[1, 1]],
                   at="2026-11-21 16:00")
    assert desk.run("collect", now="2026-11-21 16:30").exit_code == 0
    assert day_statuses(desk, "2026-11-21", "2026-11-21 16:30")["VTP"] == "on_time"
    assert day_statuses(desk, "2026-11-20", "2026-11-21 16:30")["VTP"] == "incomplete"

    checked = desk.run("validate", "--date", "2026-11-21", now="2026-11-21 16:45")
    assert checked.exit_code in (0, 1), checked.output
    flat = " ".join(str(v) for row in desk.tab_rows("VTP", "Kiểm tra") for v in row if v)
    assert "bên dưới vùng báo cáo" not in flat and "không được tính" not in flat
    assert "Chưa nhập số liệu của Xã Thất Khê" in flat
    assert f"C{where['2026-11-20', 'Xã Thất Khê']}" in flat, flat

    desk.paste("VTP", TAB, f"C{where['2026-11-20', 'Xã Thất Khê']}", [[0, 0]],
               at="2026-11-21 17:00")
    assert desk.run("collect", now="2026-11-21 17:30").exit_code == 0
    assert day_statuses(desk, "2026-11-20", "2026-11-21 17:30")["VTP"] == "late"
