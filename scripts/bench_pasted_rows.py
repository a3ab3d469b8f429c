"""A commune pastes 50,000 junk rows below its daily report: what one sweep costs.

Builds the test province (four communes of Lạng Sơn) on each backend — the .xlsx folder and
the loopback fake Google (toolkit/backends/google/fake) — provisions it, has every commune
report the first day, then pastes ROWS rows of junk (text where numbers go; from column B, as
the date column is protected on Google) right below one commune's report rows, and times one
`toolkit daily` sweep. Prints the seconds and what validate found.

    python scripts/bench_pasted_rows.py                    # 50,000 rows, both backends
    python scripts/bench_pasted_rows.py --rows 5000 --backend xlsx
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from openpyxl import load_workbook  # noqa: E402

from conftest import make_province, workbook_of  # noqa: E402
from desks import make_desk  # noqa: E402
from toolkit.periods import VN_TZ  # noqa: E402

TAB = "Báo cáo ngày"
DAY = date(2026, 11, 20)
VICTIM = "06040"
CAMPAIGN_DAYS = 61                     # `toolkit init`'s default campaign
FIRST_JUNK_ROW = 3 + CAMPAIGN_DAYS     # right below the last report row


def junk(rows: int) -> list[list]:
    return [[f"ghi chú {i}", "xem file đính kèm", "chưa rõ"] for i in range(rows)]  # B, C, D


def paste(desk, rows: list[list], at: str) -> None:
    if desk.kind == "xlsx":
        path = workbook_of(desk.config, VICTIM)
        book = load_workbook(path)
        sheet = book[TAB]
        for r, values in enumerate(rows, start=FIRST_JUNK_ROW):
            for c, value in enumerate(values, start=2):
                sheet.cell(r, c).value = value
        book.save(path)
        moment = datetime.fromisoformat(at).replace(tzinfo=VN_TZ).timestamp()
        os.utime(path, (moment, moment))
    else:
        desk.fake.clock.set(datetime.fromisoformat(at).replace(tzinfo=VN_TZ))
        desk.fake.paste(desk.spreadsheet_id(VICTIM), f"'{TAB}'!B{FIRST_JUNK_ROW}", rows,
                        as_user=f"xa{VICTIM}@example.gov.vn")


def bench(kind: str, rows: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = make_province(Path(tmp))
        desk = make_desk(kind, config)
        try:
            assert desk.run("provision", now="2026-11-20 08:00").exit_code == 0
            for code in ("06040", "06001", "06019", "06202"):
                desk.type_row(code, TAB, DAY, {"Số cửa hàng số mở mới": 2,
                                               "Số tài khoản thanh toán điện tử mở mới": 3},
                              at="2026-11-20 09:00")
            paste(desk, junk(rows), at="2026-11-20 10:00")
            start = time.perf_counter()
            result = desk.run("daily", now="2026-11-20 16:00")
            seconds = time.perf_counter() - start
        finally:
            desk.close()
    found = re.search(r"validate: (\d+) error\(s\), (\d+) warning\(s\)", result.output)
    print(f"{kind:8} {rows:>7,} pasted rows: toolkit daily {seconds:7.1f} s, exit "
          f"{result.exit_code}, {found[1] if found else '?'} error(s), "
          f"{found[2] if found else '?'} warning(s)")
    for line in result.output.splitlines():
        if line.startswith("FAILED"):
            print(f"         {line[:200]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--backend", choices=["xlsx", "gsheets", "both"], default="both")
    args = parser.parse_args()
    for kind in (["xlsx", "gsheets"] if args.backend == "both" else [args.backend]):
        bench(kind, args.rows)


if __name__ == "__main__":
    main()
