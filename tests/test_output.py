"""What officers read (issue P7 items 6–7): status problem-first and folded, valid JSON, one CSV
table with a BOM, Excel output read back, any console encoding, reminders worded per unit."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import date

import pytest
from openpyxl import load_workbook

from conftest import KEEP, run, type_row
from toolkit.registry import HEADERS, Commune
from toolkit.wording import in_sentence

DAY = date(2026, 11, 20)
SHOPS = "Số cửa hàng số mở mới"
ACCOUNTS = "Số tài khoản thanh toán điện tử mở mới"
NOW = "2026-11-20 18:00"


def strict_json(text: str):
    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")
    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def day_typed(provisioned):
    """06040 on time, 06019 incomplete, 06202 late, 06001 missing, at 18:00."""
    type_row(provisioned, "06040", "Báo cáo ngày", DAY,
             {SHOPS: 2, ACCOUNTS: 3}, at="2026-11-20 09:00")
    type_row(provisioned, "06019", "Báo cáo ngày", DAY, {SHOPS: "hai"}, at="2026-11-20 09:30")
    type_row(provisioned, "06202", "Báo cáo ngày", DAY,
             {SHOPS: 1, ACCOUNTS: 1}, at="2026-11-20 17:40")
    assert run("collect", config=provisioned, now=NOW).exit_code == 0
    return provisioned


def test_status_shows_the_day_problem_communes_first_and_folds_the_rest(day_typed):
    result = run("status", "--date", "20/11/2026", config=day_typed, now=NOW)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Tình hình báo cáo đến 18:00 ngày 20/11/2026"
    # the xlsx backend proves time by the file's mtime: no grace, and toolkit.toml's 5 said
    assert "Gia hạn sau giờ hạn: 0 phút. toolkit.toml đặt grace_minutes = 5" in lines[1]
    rows = [line for line in lines if line[:5] in ("06040", "06019", "06202", "06001")]
    assert [r[:5] for r in rows] == ["06001", "06019", "06202", "06040"]   # missing, incomplete,
    assert ["Chưa báo cáo" in rows[0], "Chưa đủ" in rows[1], "Trễ hạn" in rows[2],  # late,
            "Đúng hạn" in rows[3]] == [True] * 4                                 # on time
    expected = {"chưa báo cáo": 1, "chưa đủ": 1, "trễ hạn": 1, "đúng hạn": 1}
    summary = " · ".join(f"{n} {label}" for label, n in expected.items())
    assert (f"Toàn tỉnh (4 xã phải báo cáo): {summary} — đã báo cáo {2 / 4:.0%}, đúng hạn "
            f"{1 / 4:.0%}") in lines
    # monthly (due 26/11), quarterly and the once-only rosters are one line each, not 4 rows
    folded = [line for line in lines if "chưa đến hạn" in line]
    assert len(folded) == 4, result.stdout
    assert any(line.startswith("Báo cáo nhanh chuyển đổi số hằng tháng (cds_monthly) — tháng "
                               "11/2026: chưa đến hạn (hạn 17:00 26/11/2026); 0/4 xã đã nhập đủ")
               for line in folded)
    assert any("(bcd_quarterly) — quý IV/2026: chưa đến hạn (hạn 17:00 05/01/2027)" in line
               for line in folded)
    assert all("— —" not in line and " of " not in line for line in lines)
    assert len(lines) < 20


def test_status_json_is_strict_json_with_nulls_and_integers(day_typed):
    result = run("status", "--date", "2026-11-20", "--format", "json", config=day_typed, now=NOW)
    reports = strict_json(result.stdout)
    assert [r["report"] for r in reports] == ["kts_daily", "cds_monthly", "bcd_quarterly",
                                              "committee_roster", "team_roster"]
    daily = reports[0]
    communes = {c["code"]: c for c in daily["communes"]}
    assert communes["06019"]["households"] is None          # no households in the registry
    assert communes["06040"]["households"] == KEEP["06040"]["households"]
    assert isinstance(communes["06040"]["households"], int)
    assert communes["06001"]["first_complete_at"] is None
    assert reports[1]["summary"][-1]["on_time_rate"] is not None


def test_status_csv_is_one_table_with_a_report_column_and_a_bom(day_typed):
    result = run("status", "--date", "2026-11-20", "--format", "csv", config=day_typed, now=NOW)
    raw = result.stdout_bytes
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert sum(r == header for r in rows) == 1               # one header for every report
    assert header[:2] == ["Mã báo cáo", "Báo cáo"] and "Mã xã" in header
    assert {r[0] for r in body} == {"kts_daily", "cds_monthly", "bcd_quarterly",
                                    "committee_roster", "team_roster"}
    assert len(body) == 5 * 4
    code, households = header.index("Mã xã"), header.index("Số hộ")
    daily = {r[code]: r for r in body if r[0] == "kts_daily"}
    assert daily["06202"][households] == "1500"                    # not 1500.0
    assert daily["06019"][households] == ""
    assert '"06202"' in raw.decode("utf-8-sig")                    # quoted: text, zero kept


def test_status_and_remind_write_xlsx_with_codes_as_text(day_typed, tmp_path):
    out = tmp_path / "tinh-hinh.xlsx"
    result = run("status", "--date", "2026-11-20", "--output", str(out), config=day_typed,
                 now=NOW)
    assert result.exit_code == 0, result.output
    sheet = load_workbook(out)["Tình hình"]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, (c.value for c in r), strict=True)) for r in sheet.iter_rows(2)]
    daily = [r for r in rows if r["Mã báo cáo"] == "kts_daily"]
    assert [r["Mã xã"] for r in daily] == ["06001", "06019", "06202", "06040"]
    assert sheet.cell(2, header.index("Mã xã") + 1).data_type == "s"
    assert daily[3]["Số hộ"] == 1200 and daily[3]["Tình trạng"] == "Đúng hạn"

    reminders = tmp_path / "nhac.xlsx"
    result = run("remind", "--date", "2026-11-20", "--output", str(reminders), config=day_typed,
                 now=NOW)
    assert result.exit_code == 0, result.output
    book = load_workbook(reminders)
    header = [c.value for c in book["Nhắc báo cáo"][1]]
    codes = [r[header.index("Mã xã")].value for r in book["Nhắc báo cáo"].iter_rows(2)]
    assert sorted(codes) == ["06001", "06019"]
    assert "Kính gửi UBND xã" in book["Nhắc báo cáo"].cell(2, header.index("Tin nhắn") + 1).value
    assert book["Nhóm Zalo của tỉnh"]["A2"].value.startswith("[Báo cáo ngày")

    wrong = run("status", "--output", str(tmp_path / "x.csv"), config=day_typed, now=NOW)
    assert wrong.exit_code == 2 and ".xlsx" in wrong.output


def test_now_reads_the_same_dates_as_date(day_typed):
    for day, now in [("01/12/2026", "01/12/2026 17:00"), ("2026-12-01", "2026-12-01 17:00"),
                     ("1/12/2026", "1/12/2026 17h00")]:
        result = run("status", "--date", day, "--template", "kts_daily", config=day_typed,
                     now=now)
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith("Tình hình báo cáo đến 17:00 ngày 01/12/2026")


def _cli(config, *args, env_encoding=None, wrap=None):
    env = dict(os.environ)
    env.pop("PYTHONIOENCODING", None)
    env["PYTHONUTF8"] = "0"
    if env_encoding:
        env["PYTHONIOENCODING"] = env_encoding
    code = "from toolkit.cli import main; main()"
    if wrap:        # a Windows console's code page on a redirected stdout, as Python sets it
        code = ("import io, sys; sys.stdout = io.TextIOWrapper(sys.stdout.buffer, "
                f"encoding={wrap!r}, line_buffering=True); " + code)
    return subprocess.run([sys.executable, "-c", code, *args, "--config", str(config),
                           "--now", NOW], capture_output=True, env=env, timeout=120)


@pytest.mark.parametrize("encoding", ["cp1252", "cp1258"])
def test_an_explicit_legacy_encoding_never_crashes_and_stays_readable(day_typed, encoding):
    done = _cli(day_typed, "status", "--date", "20/11/2026", env_encoding=encoding)
    assert done.returncode == 0, done.stderr.decode(encoding, "replace")
    text = done.stdout.decode(encoding)
    assert "Traceback" not in done.stderr.decode(encoding, "replace")
    if encoding == "cp1258":    # Vietnamese code page: every letter, with combining marks
        import unicodedata
        assert "Tình hình báo cáo đến 18:00" in unicodedata.normalize("NFC", text)
    else:                       # Western code page: letters without the marks it lacks
        assert text.splitlines()[0] == "Tình hình báo cáo dên 18:00 ngày 20/11/2026"
        assert "06001  Xã Doàn Kêt" in text


def test_a_redirected_legacy_stdout_gets_utf8_with_a_bom(day_typed):
    done = _cli(day_typed, "status", "--date", "20/11/2026", wrap="cp1252")
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    assert done.stdout.startswith(b"\xef\xbb\xbf")
    assert done.stdout.decode("utf-8-sig").startswith("Tình hình báo cáo đến 18:00")


def test_reminders_are_worded_for_wards(tmp_path):
    folder = tmp_path / "lang-son"
    assert run("init", str(folder), "--province", "Lạng Sơn", now="2026-11-20 08:00") \
        .exit_code == 0
    book = load_workbook(folder / "registry.xlsx")
    sheet = book.worksheets[0]
    columns = {c.value: c.column for c in sheet[1]}
    for row in range(sheet.max_row, 1, -1):       # keep a ward and a commune
        if sheet.cell(row, columns[HEADERS["code"]]).value not in ("05977", "06040"):
            sheet.delete_rows(row)
        else:
            sheet.cell(row, columns[HEADERS["households"]]).value = 900
    book.save(folder / "registry.xlsx")
    config = folder / "toolkit.toml"
    run("provision", config=config, now="2026-11-20 08:00")
    result = run("remind", "--date", "20/11/2026", config=config, now="2026-11-20 16:00")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert ("Kính gửi UBND phường Đông Kinh: đến 16:00 ngày 20/11/2026, Sở chưa nhận được "
            "báo cáo ngày phát triển kinh tế số kỳ 20/11/2026 của phường. Đề nghị phường nhập "
            "số liệu trong sổ báo cáo của phường") in out
    assert "Kính gửi UBND xã Thất Khê" in out
    assert "0/2 xã, phường đã báo cáo" in out
    for wrong in ("UBND Phường", "UBND Xã", "của xã, trang", "phường… của xã"):
        assert wrong not in out.split("Kính gửi UBND xã Thất Khê")[0]


def test_special_zones_are_named_as_dac_khu():
    zone = Commune(code="22345", name="Cô Tô", kind="Đặc khu", province="Quảng Ninh",
                   district=None, households=None, villages=(), editors=(), contact_name=None,
                   contact_phone=None)
    assert in_sentence(zone) == "đặc khu Cô Tô"
