"""The workbook store protocol and the backend-neutral provisioning actions."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from toolkit.layout import Banner, TabLayout

#: What a commune workbook should be set to, so "1.234,5" and "23/11/2026" parse as staff mean.
LOCALE = "vi_VN"
TIME_ZONE = "Asia/Ho_Chi_Minh"
#: Vietnam's time under either name: tz's Asia/Ho_Chi_Minh, or CLDR's canonical Asia/Saigon,
#: which Google Sheets may answer for it.
TIME_ZONES = (TIME_ZONE, "Asia/Saigon")


def vietnamese(locale: str | None, time_zone: str | None) -> bool:
    """A workbook already set to Vietnam's locale and time, whichever name its zone has."""
    return locale == LOCALE and time_zone in TIME_ZONES


def tab_key(title: str) -> str:
    """A tab title as Google Sheets (and Excel) tell titles apart: ignoring case, so
    "Báo cáo ngày" and "báo cáo ngày" cannot both exist; composed (NFC), so a title typed
    with combining accents is the same title."""
    return unicodedata.normalize("NFC", title).lower()


def clashing(titles, title: str) -> str | None:
    """The one of ``titles`` that keeps a tab ``title`` from being added: the same title
    ignoring case, but not it."""
    return next((t for t in titles if t != title and tab_key(t) == tab_key(title)), None)


#: Drive's roles, weakest first; writer and above may type into a workbook.
ROLES = ("reader", "commenter", "writer", "fileOrganizer", "organizer", "owner")


def role_rank(role: str | None) -> int:
    return ROLES.index(role) + 1 if role in ROLES else 0


@dataclass(frozen=True)
class Grant:
    """One entry of a workbook's sharing list, whatever the store: who (a person or group by
    e-mail, a whole domain, anyone), with what role, and where the access comes from.

    Drive gathers every source of one grantee's access into one entry; ``direct_role`` is the
    part given on the workbook itself (the only part that can be removed there) and
    ``inherited_role`` the part that comes from a folder above or from Shared Drive
    membership (``member``), which can only be changed where it comes from.
    """

    id: str
    type: str                         # user, group, domain, anyone
    role: str                         # the highest of all parts
    email: str = ""                   # lower-case, for user and group
    domain: str = ""
    discoverable: bool = False        # anyone/domain: found by search, not only by link
    published: bool = False           # "publish to the web": a read-only published view
    deleted: bool = False             # the account behind it was deleted
    expires: str = ""                 # RFC 3339, when access runs out
    direct_role: str | None = None
    inherited_role: str | None = None
    inherited_from: str = ""          # the folder or Shared Drive id it comes from
    member: bool = False              # inherited from Shared Drive membership


@dataclass(frozen=True)
class WorkbookState:
    """What already exists in a commune workbook: tabs, their period rows, the village list."""

    tabs: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: Each tab's rows as (day, column B) keys (``layout.row_keys_of``): on an enterprise's
    #: tab, which communes have a row on which day.
    row_keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    villages: tuple[str, ...] = ()
    grants: tuple[Grant, ...] = ()         # who the workbook is shared with, where the store shares
    locale: str | None = None              # the spreadsheet's locale, where the store has one
    time_zone: str | None = None
    #: The look (layout.STYLE) the workbook was provisioned with, where the store records one
    #: (.xlsx: a document property); None when it does not.
    style: str | None = None
    #: Tabs of the toolkit's whose title a person changed only in case (or accent encoding):
    #: title now → the toolkit's title, where the store can tell (Google Sheets: the tab's
    #: protected ranges name it). Any other tab whose title clashes with one of ours is theirs.
    renamed: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CreateWorkbook:
    title: str

    def describe(self) -> str:
        return f"tạo sổ '{self.title}'"


@dataclass(frozen=True)
class RenameTab:
    """Give a tab of ours back its title, which a person changed only in case: collect reads
    tabs by their title, and Google would refuse adding the tab again."""

    title: str
    to: str

    def describe(self) -> str:
        return f"đặt lại tên trang '{self.title}' thành '{self.to}'"


@dataclass(frozen=True)
class AddTab:
    layout: TabLayout

    def describe(self) -> str:
        rows = len(self.layout.rows_of(self.layout.period_keys)) or self.layout.free_rows
        return f"thêm trang '{self.layout.tab}' ({rows} dòng)"


@dataclass(frozen=True)
class AppendPeriods:
    """Rows for ``keys`` after the tab's last used row: one per period, or on an enterprise's
    tab one per period and commune of ``layout.served``."""

    layout: TabLayout
    keys: tuple[str, ...]

    def describe(self) -> str:
        rows = len(self.layout.rows_of(self.keys))
        return (f"thêm {rows} dòng kỳ báo cáo vào trang '{self.layout.tab}' "
                f"(từ {self.keys[0]})")


@dataclass(frozen=True)
class SetVillages:
    villages: tuple[str, ...]

    def describe(self) -> str:
        return f"cập nhật danh sách thôn/bản ({len(self.villages)} thôn/bản)"


@dataclass(frozen=True)
class Restyle:
    """Bring an existing report tab's look up to date — header style and height, number
    formats, fonts, input hints and validation — without touching a value."""

    layout: TabLayout

    def describe(self) -> str:
        return (f"cập nhật định dạng, gợi ý nhập và kiểm tra dữ liệu của trang "
                f"'{self.layout.tab}' (giữ nguyên số liệu đã nhập)")


@dataclass(frozen=True)
class AddHelpTab:
    lines: tuple[str, ...]

    def describe(self) -> str:
        return "thêm trang Hướng dẫn"


@dataclass(frozen=True)
class AddFeedbackTab:
    def describe(self) -> str:
        return "thêm trang Kiểm tra"


@dataclass(frozen=True)
class Localize:
    """Set the workbook's locale and time zone back to Vietnam's (someone changed them)."""

    locale: str

    def describe(self) -> str:
        return (f"đặt lại ngôn ngữ {LOCALE} và múi giờ {TIME_ZONE} (đang là "
                f"{self.locale})")


@dataclass(frozen=True)
class ShareWith:
    """Give these editors write access (never 'anyone with the link')."""

    emails: tuple[str, ...]

    def describe(self) -> str:
        return f"chia sẻ quyền sửa cho {', '.join(self.emails)}"


@dataclass(frozen=True)
class Revoke:
    """Remove one permission given on the workbook itself — never an inherited one, the
    owner's, or one of the toolkit's own accounts."""

    permission_id: str
    who: str
    why: str

    def describe(self) -> str:
        return f"gỡ quyền của {self.who} ({self.why})"


@dataclass(frozen=True)
class MakeEditor:
    """Raise a registry editor's own permission on the workbook to writer, without expiry."""

    permission_id: str
    email: str
    was: str

    def describe(self) -> str:
        return f"cho {self.email} quyền sửa (trước là {self.was})"


SharingAction = ShareWith | Revoke | MakeEditor
Action = (CreateWorkbook | RenameTab | AddTab | AppendPeriods | Restyle | SetVillages | AddHelpTab
          | AddFeedbackTab | ShareWith | Revoke | MakeEditor | Localize)


#: Rows below a report tab's template region that a read looks at, to notice what was pasted
#: there without reading all of it.
SCAN_ROWS = 1000
#: Columns right of a template that a read looks at (inserted or added columns).
EXTRA_COLUMNS = 20


@dataclass(frozen=True)
class Window:
    """The part of a report tab one read covers, bounded by the template, not by what a
    commune pasted: the title and header rows, the template's rows and columns, a margin."""

    last_row: int        # the template region's last row
    columns: int         # the template's columns

    @property
    def rows(self) -> int:
        return self.last_row + SCAN_ROWS

    @property
    def width(self) -> int:
        return self.columns + EXTRA_COLUMNS


@dataclass(frozen=True)
class Formula:
    """A cell holding a formula: its text and, where the store has one, the value it last
    computed (an .xlsx file saved by Excel keeps one; openpyxl-saved files and the Google read
    do not)."""

    text: str
    cached: object = None
    has_cached: bool = False


@dataclass(frozen=True)
class Snapshot:
    """One read of a workbook's report tabs, with what the store can prove about time."""

    #: tab → rows of raw cell values, row 1 first, within the tab's Window; formula cells
    #: are Formula.
    grids: dict[str, list[list]]
    missing_tabs: tuple[str, ...]
    modified_stamp: str               # opaque; equal stamps mean an unchanged workbook
    modified_at: datetime | None      # when it last changed, if the store knows
    locale: str | None = None         # the workbook's locale, when this read learnt it
    #: When tabs are missing: the workbook's other tabs (a renamed report tab is among them).
    other_tabs: tuple[str, ...] = ()
    #: tab → the last row the tab says it uses, where the store knows it without reading it
    #: (an .xlsx sheet's dimension): beyond the window, more may be there than was read.
    last_rows: dict[str, int] = field(default_factory=dict)


class WorkbookStore(Protocol):
    kind: str
    #: True when workbooks are shared with the registry's editors (Google), False for files.
    shares_with_editors: bool
    #: True when ``modified_at`` is exact, so it proves when rows existed (xlsx files).
    #: False when it lags (Google Drive): then only the fetch time proves it.
    modified_time_is_proof: bool
    #: Where the workbooks live, in words a province officer can follow.
    where: str

    def find(self, commune_code: str, known_locator: str | None) -> str | None:
        """The locator of the commune's existing workbook, or None."""

    def inspect(self, locator: str) -> WorkbookState: ...

    def locale(self, locator: str) -> str | None:
        """The workbook's locale as last seen or set in this run; None when unknown."""

    def apply(self, locator: str | None, commune_code: str, actions: list[Action],
              now: datetime) -> str:
        """Carry out provisioning actions; returns the (possibly new) locator."""

    def modified_stamps(self, locators: list[str]) -> dict[str, str | None]:
        """Cheap change detection for many workbooks at once (None: workbook gone)."""

    def learned_aliases(self) -> dict[str, str]:
        """Registry addresses this run shared with whose permission came back under another
        address (an alias's account): canonical address → canonical account address."""

    def current_stamps(self, locators: list[str]) -> dict[str, str | None]:
        """The same stamps as of now, for the few a lagging listing must not decide (one
        request each on Google; the same as ``modified_stamps`` where stamps are exact)."""

    def not_found(self, locator: str) -> str:
        """What to tell a person when a workbook the ledger knows is not where it was: where
        it was expected, where it may be, and that provisioning would make a new empty one."""

    def doubles(self, located: dict[str, str]) -> dict[str, list[str]]:
        """commune code → other workbooks of the commune beside the one ``located`` names
        (copies a sync tool made); they are not read."""

    def tidy(self, everything: bool = False) -> list[str]:
        """Put right what interrupted writes left behind (``everything``: the caller holds the
        province's lock, so no other run is writing); one line per thing done."""

    def read(self, locator: str, windows: dict[str, Window]) -> Snapshot:
        """All report tabs of one workbook (tab → the window to read) in one read."""

    def write_feedback(self, locator: str, rows: list[list[str]], summary: str,
                       expected_stamp: str, now: datetime,
                       banners: dict[str, Banner] | None = None,
                       report_tabs: tuple[str, ...] = (),
                       noted: dict[str, list] | None = None) -> str | None:
        """Replace the Kiểm tra tab if the workbook is unchanged since ``expected_stamp``.

        ``banners`` maps report tabs to their first row (a red "not reported yet" warning, an
        amber "cells to fix" one, or the tab's title). ``report_tabs`` are every report's tab and
        ``noted`` the cells (tab → [row, column], 0-based) the last write marked, so a store
        that marks offending cells (Google: a note) clears marks on fixed ones and touches no
        other cell — a note a person put there is theirs; ``noted`` None: not known (written
        by an earlier version), every mark on the report tabs' data rows goes.
        Returns the new stamp, or None when the workbook changed since it was read or a
        person saved it while the toolkit wrote (deferred; the next collect reads their save).
        Raises WorkbookBusy when someone has it open (deferred too).

        The stamp returned is recorded as the toolkit's own, so a store returns one only for
        a workbook that holds nothing but what was read and what the toolkit wrote."""
