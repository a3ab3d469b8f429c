"""The Google Sheets store: one spreadsheet per commune in a Shared Drive folder.

Requests are the scarce resource (60 reads and 60 writes a minute per account), so each verb
costs a fixed, small number of them: provisioning a commune is files.create, one
spreadsheets.get and ONE batchUpdate, plus one permissions.create per editor; collecting is ONE
Drive files.list for the whole folder plus ONE values.batchGet per changed workbook, bounded
by each report's template (see ``read``).

Drive's ``modifiedTime`` for spreadsheets lags by minutes, so it only ever lets collect *skip*
a workbook, never proves when rows existed (``modified_time_is_proof = False``); a workbook
modified within ``settle_minutes`` of now gets a stamp that matches nothing stored, so it is read
again until Drive's time has settled. Sheets offers no lock, so ``write_feedback`` cannot check
``expected_stamp``: it writes anyway, which is safe because it rewrites only what the toolkit
owns — the Kiểm tra tab (protected so that only the province account can edit it), the banner
row and the notes on the report tabs' data cells — never a value staff typed.

Calls and error wording live in api.py, Drive in drive.py, request bodies in
bodies.py (feedback ones in feedback.py), the province rollup spreadsheet in
rollup.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from gspread.exceptions import APIError

from toolkit.backends.base import (
    LOCALE,
    Action,
    AddFeedbackTab,
    AddHelpTab,
    AddTab,
    AppendPeriods,
    CreateWorkbook,
    Formula,
    Grant,
    MakeEditor,
    RenameTab,
    Restyle,
    Revoke,
    SetVillages,
    ShareWith,
    SharingAction,
    Snapshot,
    Window,
    WorkbookState,
    tab_key,
    vietnamese,
)
from toolkit.backends.google import bodies as gr
from toolkit.backends.google import feedback as gf
from toolkit.backends.google.api import PROPERTIES, GoogleApi
from toolkit.backends.google.bodies import SheetInfo, quote_tab, sheet_id_for
from toolkit.backends.google.drive import Drive, rfc3339
from toolkit.backends.google.http import Account, connect
from toolkit.errors import SharingRefused, WorkbookError
from toolkit.layout import (
    FEEDBACK_TAB,
    FIRST_DATA_ROW,
    HELP_TAB,
    LISTS_TAB,
    STYLE,
    Banner,
    cell_marks,
    column_letter,
    period_key_of,
    row_keys_of,
)
from toolkit.sharing import canonical_email

OWNED_TABS = (FEEDBACK_TAB, HELP_TAB, LISTS_TAB)


@dataclass
class _Meta:
    sheets: dict[str, SheetInfo]
    last_rows: dict[str, int] = field(default_factory=dict)
    localized: bool = False        # locale and time zone already Vietnamese
    style: str | None = None       # the look recorded on the spreadsheet (None: none)


class GSheetsStore:
    kind = "gsheets"
    shares_with_editors = True
    modified_time_is_proof = False

    def __init__(self, accounts: list[Account], google, *,
                 now: Callable[[], datetime] | None = None):
        self.api = GoogleApi(accounts)
        self.drive = Drive(self.api, google.folder_id, google.template_spreadsheet_id,
                           google.notify_editors)
        self.settle = timedelta(minutes=google.settle_minutes)
        self._now = now
        self._stamps: dict[str, tuple[str, datetime | None]] = {}
        self._listed_at: datetime | None = None      # the server's clock at the last listing
        self._aliases: dict[str, str] = {}
        self._meta: dict[str, _Meta] = {}
        self._locales: dict[str, str] = {}

    @property
    def where(self) -> str:
        if self.drive.folder_id:
            return ("thư mục Google Drive "
                    f"https://drive.google.com/drive/folders/{self.drive.folder_id}")
        return f"Google Drive của {self.api.accounts[0].email or 'tài khoản đã đăng nhập'}"

    @property
    def protection_editors(self) -> tuple[str, ...]:
        return self.api.emails

    # -- provisioning ---------------------------------------------------------------------

    def find(self, commune_code: str, known_locator: str | None) -> str | None:
        names = self.drive.names()
        if known_locator and (known_locator in names or self.drive.modified_time(known_locator)):
            return known_locator
        prefix = f"{commune_code} "
        matches = sorted((name, fid) for fid, name in names.items() if name.startswith(prefix))
        return matches[0][1] if matches else None

    def inspect(self, locator: str) -> WorkbookState:
        sheets, data = self.api.metadata(
            locator, f"properties(locale,timeZone),{gr.STYLE_FIELDS},{PROPERTIES},"
                     "sheets.protectedRanges.description")
        props = data.get("properties", {})
        data_tabs = [t for t in sheets if t not in (HELP_TAB, FEEDBACK_TAB)]
        ranges = [f"{quote_tab(t)}!A2:A" if t == LISTS_TAB else quote_tab(t) for t in data_tabs]
        grids = self.api.batch_get(locator, ranges) if ranges else []
        tabs: dict[str, tuple[str, ...]] = {t: () for t in sheets}
        last_rows: dict[str, int] = {}
        row_keys: dict[str, tuple[str, ...]] = {}
        villages: tuple[str, ...] = ()
        for title, values in zip(data_tabs, grids, strict=True):
            if title == LISTS_TAB:
                villages = tuple(str(r[0]) for r in values if r and r[0] not in (None, ""))
                continue
            keys = (period_key_of(r[0]) for r in values[FIRST_DATA_ROW - 1:] if r)
            tabs[title] = tuple(k for k in keys if k)
            row_keys[title] = row_keys_of((r + [None, None])[:2]
                                          for r in values[FIRST_DATA_ROW - 1:] if r)
            last_rows[title] = len(values)
        localized = vietnamese(props.get("locale"), props.get("timeZone"))
        style = gr.style_of(data)
        self._meta[locator] = _Meta(sheets, last_rows, localized, style)
        if props.get("locale"):
            self._locales[locator] = props["locale"]
        return WorkbookState(tabs=tabs, row_keys=row_keys, villages=villages,
                             grants=self.grants(locator),
                             locale=props.get("locale"), time_zone=props.get("timeZone"),
                             renamed=_recased(data),
                             # made before the look was recorded: the first look
                             style=style or "1")

    # -- sharing --------------------------------------------------------------------------

    def grants(self, locator: str) -> tuple[Grant, ...]:
        """Who has access to the workbook: ONE permissions.list."""
        return self.drive.permissions(locator)

    def own_accounts(self) -> frozenset[str]:
        """The toolkit's accounts: never revoked, whatever the registry says."""
        return self.drive.own_emails()

    def change_sharing(self, locator: str, action: SharingAction) -> None:
        """One sharing change, one request per person (permissions.create/delete/update).

        A person Google refuses (a sharing policy, an address without a Google account) does
        not keep the others from being shared with: every refusal is reported together."""
        if isinstance(action, ShareWith):
            refused = []
            for email in action.emails:
                try:
                    answer = self.drive.share(locator, email)
                except WorkbookError as exc:
                    refused.append(str(exc))
                    continue
                account = canonical_email(answer.get("emailAddress") or email)
                if account != canonical_email(email):
                    self._aliases[canonical_email(email)] = account
            if refused:
                raise SharingRefused("; ".join(refused), locator)
        elif isinstance(action, Revoke):
            self.drive.revoke(locator, action.permission_id, action.who)
        elif isinstance(action, MakeEditor):
            self.drive.make_editor(locator, action.permission_id, action.email)

    def learned_aliases(self) -> dict[str, str]:
        return dict(self._aliases)

    def locale(self, locator: str) -> str | None:
        return self._locales.get(locator)

    def apply(self, locator: str | None, commune_code: str, actions: list[Action],
              now: datetime) -> str:
        create = next((a for a in actions if isinstance(a, CreateWorkbook)), None)
        if create is not None:
            locator = self.drive.create(f"{commune_code} {create.title}")
            sheets, data = self.api.metadata(locator, f"{gr.STYLE_FIELDS},{PROPERTIES}")
            meta = _Meta(sheets, style=gr.style_of(data))   # a template may carry a look
        else:
            if locator not in self._meta:
                self.inspect(locator)
            meta = self._meta[locator]
        blank = create is not None and not self.drive.template_id
        requests = self._requests(meta, actions, settings=not meta.localized, blank=blank)
        if requests:
            self.api.batch_update(locator, requests)
            if not meta.localized:
                self._locales[locator] = LOCALE
        self._meta.pop(locator, None)
        refused: SharingRefused | None = None
        for action in actions:
            if isinstance(action, ShareWith | Revoke | MakeEditor):
                try:
                    self.change_sharing(locator, action)
                except SharingRefused as exc:
                    refused = exc           # the other changes are still made
        if refused is not None:
            raise refused
        return locator

    def _requests(self, meta: _Meta, actions: list[Action], *, settings: bool,
                  blank: bool) -> list[dict]:
        """The whole plan of one workbook as the requests of ONE batchUpdate."""
        sheets = dict(meta.sheets)
        last_rows = dict(meta.last_rows)
        taken = {s.sheet_id for s in sheets.values()}
        editors = self.protection_editors
        default = [s for s in sheets.values() if s.title not in OWNED_TABS and (
            blank or (gr.DEFAULT_TAB.match(s.title) and not last_rows.get(s.title)))]
        out = [gr.spreadsheet_settings()] if settings else []
        added: list[str] = []

        def new(title: str, rows: int, columns: int, hidden: bool = False) -> SheetInfo:
            info = SheetInfo(sheet_id_for(title, taken), title, len(sheets), rows, columns,
                             hidden)
            taken.add(info.sheet_id)
            sheets[title] = info
            added.append(title)
            return info

        needs_list = any(isinstance(a, AddTab | AppendPeriods) and any(
            c.uses_village_list for c in a.layout.columns) for a in actions)
        if needs_list and LISTS_TAB not in sheets and not any(
                isinstance(a, SetVillages) for a in actions):
            actions = [SetVillages(()), *actions]
        for action in actions:
            if isinstance(action, RenameTab):
                info = sheets[action.to] = replace(sheets.pop(action.title), title=action.to)
                if action.title in last_rows:
                    last_rows[action.to] = last_rows.pop(action.title)
                out.append(gr.rename_sheet(info.sheet_id, action.to))
            elif isinstance(action, AddTab):
                layout = action.layout      # a template's tab of that name is filled in
                exists = layout.tab in sheets
                info = sheets[layout.tab] if exists else new(layout.tab, *gr.tab_size(layout))
                out += gr.add_tab_requests(layout, info, editors, exists=exists)
            elif isinstance(action, AppendPeriods):
                info = sheets[action.layout.tab]
                last = last_rows.get(action.layout.tab, gr.HEADER_ROWS)
                out += gr.append_periods_requests(action.layout, info, last, action.keys)
                # A second append to this tab (a newly served commune's days) goes below.
                last_rows[action.layout.tab] = max(last + 1, FIRST_DATA_ROW) - 1 + len(
                    action.layout.rows_of(action.keys))
            elif isinstance(action, SetVillages):
                if LISTS_TAB in sheets:
                    out += gr.villages_requests(action.villages, sheets[LISTS_TAB].sheet_id)
                else:
                    info = new(LISTS_TAB, gr.VILLAGE_LIST_ROWS, 1, hidden=True)
                    out += gr.owned_tab_requests(LISTS_TAB, info, editors,
                                                 villages=action.villages)
            elif isinstance(action, Restyle) and action.layout.tab in sheets:
                out += gr.restyle_requests(action.layout, sheets[action.layout.tab])
            elif isinstance(action, AddHelpTab) and HELP_TAB in sheets:
                out += gr.help_rewrite(action.lines, sheets[HELP_TAB])
            elif isinstance(action, AddHelpTab):
                info = new(HELP_TAB, max(len(action.lines), 1), 1)
                out += gr.owned_tab_requests(HELP_TAB, info, editors, lines=action.lines)
            elif isinstance(action, AddFeedbackTab) and FEEDBACK_TAB not in sheets:
                out += gr.owned_tab_requests(FEEDBACK_TAB, new(FEEDBACK_TAB, 50, 7), editors)
        if out and meta.style != STYLE:
            out.append(gr.record_style(STYLE, recorded=meta.style is not None))
        if added and default:
            out += [gr.delete_sheet(s.sheet_id) for s in default]
            for s in default:
                del sheets[s.title]
        if added:
            tail = [t for t in OWNED_TABS if t in sheets]
            order = sorted((s for s in sheets.values() if s.title not in tail),
                           key=lambda s: (s.title in added, s.index))
            order += [sheets[t] for t in tail]
            out += [gr.move_sheet(s.sheet_id, i) for i, s in enumerate(order)]
        return out

    # -- collecting -----------------------------------------------------------------------

    def modified_stamps(self, locators: list[str]) -> dict[str, str | None]:
        files, server_now = self.drive.folder_files("id,modifiedTime")
        now = self._now() if self._now else (server_now or datetime.now(UTC))
        self._listed_at = now
        listed = {f["id"]: f.get("modifiedTime") for f in files}
        stamps: dict[str, str | None] = {}
        for locator in locators:
            modified = listed[locator] if locator in listed else self.drive.modified_time(locator)
            stamps[locator] = None if modified is None else self._stamp(locator, modified, now)
        return stamps

    def current_stamps(self, locators: list[str]) -> dict[str, str | None]:
        """ONE files.get each: Drive's files.list can show a workbook's previous modifiedTime
        for minutes after an edit, files.get catches up within a second or so."""
        now = self._now() if self._now else (self._listed_at or datetime.now(UTC))
        stamps: dict[str, str | None] = {}
        for locator in locators:
            modified = self.drive.modified_time(locator)
            stamps[locator] = None if modified is None else self._stamp(locator, modified, now)
        return stamps

    def not_found(self, locator: str) -> str:
        return (f"không thấy bảng tính {locator} trong {self.where} (đã bị xoá, chuyển ra khỏi "
                "thư mục, hoặc tài khoản của tỉnh mất quyền) — hãy đưa bảng tính về thư mục đó; "
                "nếu chạy `toolkit provision` trước, một bảng tính mới trống sẽ được tạo")

    def doubles(self, located: dict[str, str]) -> dict[str, list[str]]:
        return {}       # a spreadsheet is one file wherever it is opened: Drive makes no copies

    def tidy(self, everything: bool = False) -> list[str]:
        return []       # a write into a spreadsheet leaves nothing behind

    def _stamp(self, locator: str, modified: str, now: datetime) -> str:
        """Drive's time, or — while it may still move — a stamp equal to nothing stored."""
        moment = rfc3339(modified)
        stamp = modified
        if moment is None or (self.settle and now - moment < self.settle):
            stamp = f"{modified}~unsettled@{now:%Y-%m-%dT%H:%M:%S.%fZ}"
        self._stamps[locator] = (stamp, moment)
        return stamp

    def read(self, locator: str, windows: dict[str, Window]) -> Snapshot:
        """Each report tab's window in ONE values.batchGet, whatever a commune pasted below.

        Read with valueRenderOption FORMULA: a formula cell comes back as its text (kept as
        Formula, never evaluated), every other cell as with UNFORMATTED_VALUE — numbers as
        numbers, dates as serial numbers. Text typed with a leading apostrophe that starts with
        "=" looks the same as a formula here; it is kept as text either way.
        """
        tabs = list(windows)
        present, titles = tabs, ()
        try:
            grids = self.api.batch_get(locator, _ranges(windows, tabs), tolerate=(400,),
                                       render="FORMULA")
        except APIError as exc:
            if "Unable to parse range" not in str(exc.error.get("message", "")):
                raise self.api.error(exc, locator) from exc
            titles, data = self.api.metadata(locator, "properties.locale,sheets.properties.title")
            if data.get("properties", {}).get("locale"):
                self._locales[locator] = data["properties"]["locale"]
            present = [t for t in tabs if t in titles]
            grids = self.api.batch_get(locator, _ranges(windows, present),
                                       render="FORMULA") if present else []
        fallback = (f"unread~{datetime.now(UTC).isoformat()}", None)
        stamp, modified = self._stamps.get(locator, fallback)
        return Snapshot(grids={t: _formulas(g) for t, g in zip(present, grids, strict=True)},
                        missing_tabs=tuple(t for t in tabs if t not in present),
                        modified_stamp=stamp, modified_at=modified,
                        locale=self._locales.get(locator),
                        other_tabs=tuple(t for t in titles if t not in tabs))

    def write_feedback(self, locator: str, rows: list[list[str]], summary: str,
                       expected_stamp: str, now: datetime,
                       banners: dict[str, Banner] | None = None,
                       report_tabs: tuple[str, ...] = (),
                       noted: dict[str, list] | None = None) -> str | None:
        """Rewrite Kiểm tra, the banner rows and the notes on offending cells in ONE request.

        Values are never written outside Kiểm tra and the banner cells, and notes only on the
        cells the toolkit marks now or marked last time (``noted``): so nothing a commune
        types or notes while this runs is touched, and a fixed cell loses its mark in the same
        request. Returns ``expected_stamp``: our own write moves Drive's modifiedTime, so the
        next collect reads the workbook once more — it never skips an edit made while we
        wrote.
        """
        banners = banners or {}
        notes = cell_marks(rows)
        marked: dict[str, set | None] = {
            t: {tuple(c) for c in cells} for t, cells in (noted or {}).items()}
        if noted is None:       # marks of an earlier version: unknown cells, whole data rows
            marked = dict.fromkeys(report_tabs)
        tabs = dict.fromkeys([*report_tabs, *banners, *notes, *marked])
        ids = {t: sheet_id_for(t) for t in (FEEDBACK_TAB, *tabs)}  # as provision made them
        try:
            self.api.batch(locator, _feedback_batch(ids, summary, rows, banners, notes, marked))
        except APIError as exc:
            sheets = self.api.sheets(locator)
            if FEEDBACK_TAB not in sheets:
                raise WorkbookError(f"không thấy trang '{FEEDBACK_TAB}'; hãy chạy `toolkit "
                                    "provision` để tạo lại trang đó") from exc
            found = {t: sheets[t].sheet_id for t in ids if t in sheets}
            if found == ids:
                raise self.api.error(exc, locator) from exc
            self.api.batch(locator, _feedback_batch(found, summary, rows, banners, notes,
                                                    marked))
        return expected_stamp or f"written~{now.isoformat()}"


def _recased(data: dict) -> dict[str, str]:
    """Tabs of ours a person re-cased: their protected ranges still name the toolkit's title."""
    out: dict[str, str] = {}
    for sheet in data.get("sheets", []):
        title = sheet.get("properties", {}).get("title", "")
        for protected in sheet.get("protectedRanges", []):
            ours = gr.protected_tab(protected.get("description", ""))
            if ours and ours != title and tab_key(ours) == tab_key(title):
                out[title] = ours
    return out


def _ranges(windows: dict[str, Window], tabs: list[str]) -> list[str]:
    return [f"{quote_tab(t)}!A1:{column_letter(windows[t].width)}{windows[t].rows}"
            for t in tabs]


def _formulas(rows: list[list]) -> list[list]:
    """Rendered with FORMULA, a formula cell is its text: marked as Formula, never a value."""
    return [[Formula(v) if isinstance(v, str) and v.startswith("=") and len(v) > 1 else v
             for v in row] for row in rows]


def _feedback_batch(ids: dict[str, int], summary: str, rows: list[list[str]],
                    banners: dict[str, Banner], notes: dict[str, dict],
                    marked: dict[str, set | None]) -> list[dict]:
    requests = gf.feedback_write_requests(ids[FEEDBACK_TAB], summary, rows)
    requests += [gf.banner_request(ids[t], banner) for t, banner in banners.items() if t in ids]
    for tab, sid in ids.items():
        if tab == FEEDBACK_TAB:
            continue
        if tab in marked and marked[tab] is None:
            requests.append(gf.notes_request(
                sid, {where: text for where, (_level, text) in notes.get(tab, {}).items()}))
        else:
            requests += gf.note_requests(sid, notes.get(tab, {}), marked.get(tab) or set())
    return requests


def open_gsheets(google, *, adapter=None, pacer_factory=None, policy=None, rng=None,
                 now: Callable[[], datetime] | None = None) -> GSheetsStore:
    """The store for ``[google]``; ``adapter`` (a requests transport) and ``pacer_factory``
    let tests and benchmarks route traffic to a fake and run the pacer on a virtual clock."""
    accounts = connect(google, adapter=adapter, pacer_factory=pacer_factory, policy=policy,
                       rng=rng)
    return GSheetsStore(accounts, google, now=now)
