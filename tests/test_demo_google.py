"""`toolkit demo --backend gsheets`: the whole demo on the fake Google, with no Google account.

One run of each backend for the same seed (Lai Châu, the smallest province, one day, to keep
the suite quick). The Google run must count its requests as the fake counted them, and its
archive must hold the Excel run's figures — except where Google's validation refused a slip
that Excel keeps (text in a number cell), and the person typed the number instead.
"""

from __future__ import annotations

import re
import socket

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from conftest import commune_rows, run
from toolkit.cli import main

NOW = "2026-11-23 21:00"
ARGS = ("--province", "Lai Châu", "--days", "1", "--seed", "7")
ARCHIVE = "archive/kts_daily/2026/kts_daily_2026-11-22.xlsx"
SHOPS = "Số cửa hàng số mở mới (lũy kế)"
ACCOUNTS = "Số tài khoản thanh toán điện tử mở mới (lũy kế)"
#: Under `pytest -n auto --dist loadgroup` the module's tests share one worker, so each demo
#: (a module fixture) runs once rather than once per worker.
pytestmark = pytest.mark.xdist_group("demo_google")
STEP = re.compile(r"^  (tạo sổ|thu thập|kiểm tra|đăng tổng hợp) +(\d+) yêu cầu Google = (\d+) "
                  r"đọc \+ (\d+) ghi \+ (\d+) Drive; sàn hạn mức (.+)$")


def demo(folder, *extra: str):
    """The demo command in-process; with standalone_mode=False click hands back what the
    command returned (the figures, and on gsheets the fake with its request log)."""
    result = CliRunner().invoke(main, ["demo", str(folder), *ARGS, *extra, "--now", NOW],
                                standalone_mode=False, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def google(tmp_path_factory):
    folder = tmp_path_factory.mktemp("google") / "demo"
    return folder, demo(folder, "--backend", "gsheets")


@pytest.fixture(scope="module")
def excel(tmp_path_factory):
    folder = tmp_path_factory.mktemp("excel") / "demo"
    return folder, demo(folder)


def test_the_google_demo_runs_end_to_end_on_the_local_fake(google):
    folder, result = google
    out = result.output.splitlines()
    assert out[0] == f"Tỉnh Lai Châu: 38 xã, phường tại {folder}"
    assert out[1].startswith("Google Sheets giả lập tại 127.0.0.1:")
    assert out[2].startswith("Đã tạo 40 bảng tính Google Sheets trong thư mục "
                             "https://drive.google.com/drive/folders/")
    sweeps = [line for line in out if " daily: đọc " in line]
    assert [s[:11] for s in sweeps] == ["22/11 15:00", "22/11 17:00", "22/11 20:00"]
    assert "KHÔNG KHỚP" not in result.output and result.output.count("✓") == 3
    assert any(line.endswith("✓ khớp tệp lưu trữ") for line in out)
    assert "Drive, 0 lần vượt hạn mức (429)" in result.output
    assert (folder / ARCHIVE).is_file()
    port = int(re.search(r"127\.0\.0\.1:(\d+)", out[1]).group(1))
    with pytest.raises(ConnectionRefusedError):      # the local Google is gone with the run
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    # The rollup spreadsheet a person opens shows the archive's figures.
    assert result.return_value["published"] == result.return_value["archived"]
    # What the demo prints last works afterwards, from the ledger, with the fake gone.
    status = run("status", "--date", "2026-11-22", "--template", "kts_daily",
                 config=folder / "toolkit.toml", now="2026-11-22 20:00")
    assert status.exit_code == 0, status.output
    # 31 of the 38 report: every fifth joins in phase 2, the day after this one-day demo.
    assert "5 chưa báo cáo · 2 trễ hạn · 1 đúng hạn, sửa sau hạn · 23 đúng hạn — đã báo cáo " \
        "84%, đúng hạn 77%" in status.output
    # Reminders name each commune's Zalo group after the postal enterprise serving it.
    remind = run("remind", "--date", "2026-11-22", "--template", "kts_daily",
                 config=folder / "toolkit.toml", now="2026-11-22 20:00")
    assert remind.exit_code == 0, remind.output
    assert re.search(r"^--- KTS_\w+_Viettel \(", remind.output, re.MULTILINE)
    assert re.search(r"^--- KTS_\w+_Buudien \(", remind.output, re.MULTILINE)
    # The enterprises typed their rows in their own sheets, on time; the postal archive
    # flags the commune Viettel Post counts more shops in than the commune itself.
    assert "Đối chiếu bưu chính: " in result.output and "— 1 xã chênh lệch lớn" in result.output
    assert len(result.return_value["flagged"]) == 1
    status = run("status", "--date", "2026-11-22", "--template", "buu_chinh_daily",
                 config=folder / "toolkit.toml", now="2026-11-22 20:00")
    assert status.exit_code == 0, status.output
    assert "2 đúng hạn — đã báo cáo 100%" in status.output


def test_the_printed_request_counts_are_the_fakes_own(google):
    _, result = google
    fake = result.return_value["fake"]
    lines = result.output.splitlines()
    steps = [STEP.match(line).groups() for line in lines if STEP.match(line)]
    assert [s[0] for s in steps] == ["tạo sổ"] + ["thu thập", "kiểm tra", "đăng tổng hợp"] * 3
    total, reads, writes, drive = (sum(int(s[i]) for s in steps) for i in (1, 2, 3, 4))
    assert total == reads + writes + drive == fake.count()
    assert (reads, writes, drive) == tuple(fake.count(lambda r, k=k: r.kind == k)
                                           for k in ("read", "write", "drive"))
    assert f"Google: {total} yêu cầu = {reads} đọc + {writes} ghi + {drive} Drive" in \
        result.output
    assert fake.count(lambda r: r.status == 429) == 0
    # Publishing touches only the rollup spreadsheet, and all of it is in that step.
    rollup = next(f for f in fake.files.values() if f.name == "Tổng hợp tỉnh Lai Châu").id
    assert sum(int(s[1]) for s in steps if s[0] == "đăng tổng hợp") == \
        fake.count(lambda r: rollup in r.path)
    # Each sweep read one Sheets request per workbook it says it read.
    read = [int(re.search(r"daily: đọc (\d+) sổ", line).group(1)) for line in lines
            if " daily: đọc " in line]
    assert read == [int(s[2]) for s in steps if s[0] == "thu thập"]
    # The floor is requests ÷ Google's 60 a minute (Drive: the pacer's 600).
    provision = steps[0]
    seconds = 60 * max(int(provision[2]) / 60, int(provision[3]) / 60, int(provision[4]) / 600)
    assert provision[5] == (f"{round(seconds)} giây" if seconds < 60
                            else f"{round(seconds / 60, 1)} phút".replace(".", ","))


def test_the_google_archive_has_the_excel_figures_but_for_refused_slips(google, excel):
    google_folder, google_result = google
    excel_folder, excel_result = excel
    sheets = commune_rows(load_workbook(google_folder / ARCHIVE)["Tổng hợp"])
    files = commune_rows(load_workbook(excel_folder / ARCHIVE)["Tổng hợp"])
    assert sheets.keys() == files.keys() and len(sheets) == 38
    refused = google_result.return_value["refused"]
    assert refused, "seed 7 types at least one slip Google refuses"
    retyped = {r.code: r.retyped for r in refused if r.header == "Số cửa hàng số mở mới"}
    # Excel keeps "12a" as an issue and counts nothing; Sheets refused it, 12 was typed.
    for code, row in sheets.items():
        expected = (files[code][SHOPS] or 0) + retyped.get(code, 0)
        assert (row[SHOPS] or 0, row[ACCOUNTS]) == (expected, files[code][ACCOUNTS]), code
        if not any(r.code == code for r in refused):
            assert row["Tình trạng báo cáo"] == files[code]["Tình trạng báo cáo"], code
    typed, archived = google_result.return_value["typed"], excel_result.return_value["typed"]
    assert typed["new_shops"] == archived["new_shops"] + sum(retyped.values())
    assert typed["new_accounts"] == archived["new_accounts"]


def test_demo_help_shows_the_google_backend():
    result = run("demo", "--help")
    assert result.exit_code == 0
    assert "--backend [xlsx|gsheets]" in result.output
    assert "toolkit demo --backend gsheets" in result.output
