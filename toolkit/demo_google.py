"""The demo on Google Sheets without a Google account: the fake Google on 127.0.0.1 for the run.

The province signs in as a person (an ``authorized_user`` token, as `toolkit auth login` saves
it), its workbooks in a folder of that person's Drive. Everything the toolkit sends goes
through the real gspread, google-auth and the toolkit's own pacer over HTTP to the fake, which
answers as Google does and enforces Google's default quota (60 reads and 60 writes a minute)
with 429s. The pacer runs on the fake's clock, so a run that would take minutes against Google
takes seconds here, and the minutes it would take are measured, not guessed.

Commune staff type into their sheets as in the Sheets UI: a sheet's validation refuses text in a
number cell ("12a", "1.200 tài khoản"), and the person then types the number they meant — the
figures differ from the Excel demo only there, where Excel keeps the slip and the toolkit
reports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from toolkit.backends.google.fake.province import connect_province, type_row, vietnamese_google
from toolkit.backends.google.fake.traffic import Tally
from toolkit.backends.google.http import DRIVE_PER_MINUTE
from toolkit.demo import COUNTED, DAILY_TAB, Entry, Shown, province_totals
from toolkit.parse import format_vn_number

#: The province officer who signs in; the workbooks are theirs.
OFFICER = "van-thu@so-khcn.langson.gov.vn"
#: Google's default quota per account for Sheets reads and for writes, per minute.
GOOGLE_PER_MINUTE = 60
STEP_NAMES = {"provision": "tạo sổ", "collect": "thu thập", "validate": "kiểm tra",
              "rollup": "đăng tổng hợp"}


@dataclass(frozen=True)
class Step:
    """One step's cost: its requests and the seconds the pacer made it take (fake clock)."""

    name: str
    tally: Tally
    paced: float


@dataclass(frozen=True)
class Refusal:
    """A cell the sheet refused, and what the person typed instead."""

    code: str
    header: str
    typed: object
    retyped: object


class GoogleOffice:
    """The gsheets side of ``run_demo``: the fake, the typing, and what each step cost."""

    def __init__(self, config_path: Path, start: datetime, seed: int):
        self.config_path = config_path
        self.fake = vietnamese_google(start, seed)
        self.fake.quota(reads=GOOGLE_PER_MINUTE, writes=GOOGLE_PER_MINUTE)
        self.made = connect_province(self.fake, config_path,
                                     self.fake.authorized_user_info(OFFICER),
                                     per_minute=GOOGLE_PER_MINUTE)
        self.steps: list[Step] = []
        self.refused: list[Refusal] = []
        self._open: tuple[str, int, float] | None = None
        self._shown = 0

    def open(self):
        from toolkit.backends.google.http import Pacer
        from toolkit.backends.google.store import open_gsheets
        from toolkit.workspace import open_workspace

        clock = self.fake.clock

        def store_for(config):
            google = config.google
            return open_gsheets(google, adapter=self.fake.adapter, pacer_factory=lambda: Pacer(
                google.reads_per_minute, google.writes_per_minute, clock=clock.seconds,
                sleep=clock.advance))

        return open_workspace(self.config_path, store_for=store_for)

    def provisioned(self, ws, count: int) -> list[str]:
        return [f"Google Sheets giả lập tại 127.0.0.1:{self.fake.port} cho lần chạy này (không "
                f"cần tài khoản Google), đăng nhập {self.made.account}",
                f"Đã tạo {count} bảng tính Google Sheets trong thư mục "
                f"https://drive.google.com/drive/folders/{self.made.folder_id}"]

    # -- people and time ------------------------------------------------------------------

    def type(self, ws, locator: str, entry: Entry) -> dict[str, int]:
        """Type the entry into the commune's sheet as its editor; what the sheet refuses is
        typed again as the number meant. Returns the row's counted figures."""
        self.at(entry.at)
        editor = next(c.editors[0] for c in (*ws.registry.communes, *ws.registry.enterprises)
                      if c.code == entry.code)
        refused = type_row(self.fake, locator, entry.tab, entry.day, entry.cells,
                           as_user=editor, served=entry.served)
        counted = dict(entry.counted)
        if refused:
            again = {h: entry.meant[h] for h in refused}
            still = type_row(self.fake, locator, entry.tab, entry.day, again, as_user=editor,
                             served=entry.served)
            if still:
                raise RuntimeError(f"{entry.code}: the sheet refused {still} twice")
            self.refused += [Refusal(entry.code, h, entry.cells[h], v) for h, v in again.items()]
            counted.update({COUNTED[h]: int(v) for h, v in again.items() if h in COUNTED})
        return counted

    def at(self, moment: datetime) -> None:
        """Google's clock goes forward to ``moment`` (never back: the pacer may have moved it
        past, as a real sweep takes its minutes)."""
        if self.fake.clock.now() < moment:
            self.fake.clock.set(moment)

    # -- what it cost ---------------------------------------------------------------------

    def step(self, name: str) -> None:
        """A step begins (``run_daily`` says which): the previous one ends here."""
        self._close()
        self._open = (name, len(self.fake.requests), self.fake.clock.seconds())

    def _close(self) -> None:
        if self._open is None:
            return
        name, first, began = self._open
        self.steps.append(Step(name, Tally.of(self.fake.requests[first:]),
                               self.fake.clock.seconds() - began))
        self._open = None

    def floor(self, tally: Tally) -> float:
        return tally.floor(GOOGLE_PER_MINUTE, GOOGLE_PER_MINUTE, DRIVE_PER_MINUTE)

    def cost(self) -> list[str]:
        """One line per step since the last call: its requests and its quota floor."""
        self._close()
        lines = [f"  {STEP_NAMES[s.name]:<14} {s.tally.total:4d} yêu cầu Google = "
                 f"{s.tally.reads} đọc + {s.tally.writes} ghi + {s.tally.drive} Drive; "
                 f"sàn hạn mức {_duration(self.floor(s.tally))}"
                 for s in self.steps[self._shown:]]
        self._shown = len(self.steps)
        return lines

    def summary(self, archived: dict[str, int]) -> Shown:
        """The rollup spreadsheet as a person opening it sees it, and the run's whole cost."""
        from toolkit.backends.google.rollup import tab_title, url_of

        self._close()
        rollup = self.made.rollup_id
        tabs = [s.props["title"] for s in self.fake.spreadsheet(rollup).sheets]
        summary_tab = tab_title(DAILY_TAB, "Tổng hợp")
        published = province_totals(self.fake.values(rollup, f"'{summary_tab}'!A1:ZZ5000"),
                                    f"bảng tổng hợp Google Sheets, trang {summary_tab}")
        ok = published == archived
        total = Tally.of(self.fake.requests)
        paced = sum(s.paced for s in self.steps)
        floor = sum(self.floor(s.tally) for s in self.steps)
        lines = [
            f"Bảng tổng hợp Google Sheets: {url_of(rollup)} ({len(tabs)} trang tính)",
            f"  {summary_tab}, dòng Toàn tỉnh: cửa hàng số "
            f"{format_vn_number(published['new_shops'])}, tài khoản thanh toán điện tử "
            f"{format_vn_number(published['new_accounts'])} "
            f"{'✓ khớp tệp lưu trữ' if ok else '✗ KHÔNG KHỚP tệp lưu trữ'}",
            f"Google: {format_vn_number(total.total)} yêu cầu = {format_vn_number(total.reads)} "
            f"đọc + {format_vn_number(total.writes)} ghi + {format_vn_number(total.drive)} "
            f"Drive, {total.throttled} lần vượt hạn mức (429)",
            f"  sàn hạn mức {_duration(floor)} với {GOOGLE_PER_MINUTE} đọc và "
            f"{GOOGLE_PER_MINUTE} ghi mỗi phút; theo nhịp đã chạy {_duration(paced)} trên "
            "đồng hồ của Google giả lập, không phải chờ thật",
        ]
        if self.refused:
            lines.append(f"Google Sheets từ chối {len(self.refused)} ô nhập chữ vào ô số "
                         "(ví dụ " + ", ".join(f"\"{r.typed}\"" for r in self.refused[:3]) +
                         "); cán bộ xã đã nhập lại đúng con số")
        return Shown(lines, ok, {"fake": self.fake, "steps": list(self.steps),
                                 "refused": list(self.refused), "published": published,
                                 "rollup_tabs": tabs})

    def close(self) -> None:
        self.fake.stop()


def _duration(seconds: float) -> str:
    """"45 giây" under a minute, else "3,2 phút"."""
    if seconds < 60:
        return f"{round(seconds)} giây"
    return f"{format_vn_number(round(seconds / 60, 1))} phút"
