"""The Google Sheets store: one spreadsheet per commune in a Shared Drive folder.

Requests are the scarce resource (60 reads and 60 writes a minute per account), so each verb
costs a fixed, small number of them: provisioning a commune is files.create, one
spreadsheets.get and ONE batchUpdate, plus one permissions.create per editor; collecting is ONE
Drive files.list for the whole folder plus ONE values.batchGet per changed workbook.

Drive's ``modifiedTime`` for spreadsheets lags by minutes, so it only ever lets collect *skip*
a workbook, never proves when rows existed (``modified_time_is_proof = False``); a workbook
modified within ``settle_minutes`` of now gets a stamp that matches nothing stored, so it is read
again until Drive's time has settled. Sheets offers no lock, so ``write_feedback`` cannot check
``expected_stamp``: it writes anyway, which is safe because it rewrites only the Kiểm tra tab —
protected so that only the province account can edit it — never a cell staff typed.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from gspread.exceptions import APIError

from toolkit.backends import google_requests as gr
from toolkit.backends.base import (
    Action,
    AddFeedbackTab,
    AddHelpTab,
    AddTab,
    AppendPeriods,
    CreateWorkbook,
    SetVillages,
    ShareWith,
    Snapshot,
    WorkbookState,
)
from toolkit.backends.google_http import Account, AmbiguousWriteError, PacedHTTPClient, connect
from toolkit.backends.google_requests import SheetInfo, quote_tab, sheet_id_for
from toolkit.errors import ConfigError, WorkbookError
from toolkit.layout import FEEDBACK_TAB, FIRST_DATA_ROW, HELP_TAB, LISTS_TAB, period_key_of

SHEETS_URL = "https://sheets.googleapis.com/v4/spreadsheets"
DRIVE_URL = "https://www.googleapis.com/drive/v3/files"
WRITER_ROLES = frozenset({"writer", "fileOrganizer", "organizer", "owner"})
OWNED_TABS = (FEEDBACK_TAB, HELP_TAB, LISTS_TAB)
_DEFAULT_TAB = re.compile(r"^(Sheet|Trang tính|Trang tính )1$")
_PROPERTIES = "sheets.properties(sheetId,title,index,hidden,gridProperties(rowCount,columnCount))"


@dataclass
class _Meta:
    sheets: dict[str, SheetInfo]
    last_rows: dict[str, int] = field(default_factory=dict)
    localized: bool = False        # locale and time zone already Vietnamese


class GSheetsStore:
    kind = "gsheets"
    shares_with_editors = True
    modified_time_is_proof = False

    def __init__(self, accounts: list[Account], google, *,
                 now: Callable[[], datetime] | None = None):
        if not accounts:
            raise ConfigError("[google] no account to connect with")
        self.accounts = accounts
        self.folder_id: str | None = google.folder_id
        self.template_id: str | None = google.template_spreadsheet_id
        self.notify: bool = google.notify_editors
        self.settle = timedelta(minutes=google.settle_minutes)
        self._now = now
        self._names: dict[str, str] | None = None
        self._stamps: dict[str, tuple[str, datetime | None]] = {}
        self._meta: dict[str, _Meta] = {}

    @property
    def where(self) -> str:
        if self.folder_id:
            return f"Google Drive folder https://drive.google.com/drive/folders/{self.folder_id}"
        return f"the Google Drive of {self.accounts[0].email or 'the signed-in user'}"

    @property
    def main(self) -> PacedHTTPClient:
        return self.accounts[0].http

    def http_for(self, locator: str) -> PacedHTTPClient:
        """Workbooks are spread over the accounts by id, so each account's quota adds up."""
        return self.accounts[zlib.crc32(locator.encode()) % len(self.accounts)].http

    @property
    def slept(self) -> float:
        """Seconds this run waited for Google's quota and for retries, all accounts together."""
        return sum(a.http.pacer.slept for a in self.accounts)

    @property
    def requests_sent(self) -> int:
        """API calls this run sent (retries included), all accounts together."""
        return sum(sum(a.http.pacer.counts.values()) for a in self.accounts)

    @property
    def protection_editors(self) -> tuple[str, ...]:
        return tuple(a.email for a in self.accounts if a.email)

    # -- provisioning ---------------------------------------------------------------------

    def find(self, commune_code: str, known_locator: str | None) -> str | None:
        names = self._folder_names()
        if known_locator and (known_locator in names or self._modified_time(known_locator)):
            return known_locator
        prefix = f"{commune_code} "
        matches = sorted((name, fid) for fid, name in names.items() if name.startswith(prefix))
        return matches[0][1] if matches else None

    def inspect(self, locator: str) -> WorkbookState:
        sheets, props = self._metadata(locator, f"properties(locale,timeZone),{_PROPERTIES}")
        data_tabs = [t for t in sheets if t not in (HELP_TAB, FEEDBACK_TAB)]
        ranges = [f"{quote_tab(t)}!A2:A" if t == LISTS_TAB else quote_tab(t) for t in data_tabs]
        grids = self._batch_get(locator, ranges) if ranges else []
        tabs: dict[str, tuple[str, ...]] = {t: () for t in sheets}
        last_rows: dict[str, int] = {}
        villages: tuple[str, ...] = ()
        for title, values in zip(data_tabs, grids, strict=True):
            if title == LISTS_TAB:
                villages = tuple(str(r[0]) for r in values if r and r[0] not in (None, ""))
                continue
            keys = (period_key_of(r[0]) for r in values[FIRST_DATA_ROW - 1:] if r)
            tabs[title] = tuple(k for k in keys if k)
            last_rows[title] = len(values)
        localized = (props.get("locale"), props.get("timeZone")) == (gr.LOCALE, gr.TIME_ZONE)
        self._meta[locator] = _Meta(sheets, last_rows, localized)
        return WorkbookState(tabs=tabs, villages=villages, editors=self._editors(locator))

    def apply(self, locator: str | None, commune_code: str, actions: list[Action],
              now: datetime) -> str:
        create = next((a for a in actions if isinstance(a, CreateWorkbook)), None)
        if create is not None:
            locator = self._create(f"{commune_code} {create.title}")
            meta = _Meta(self._sheets(locator))
        else:
            if locator not in self._meta:
                self.inspect(locator)
            meta = self._meta[locator]
        blank = create is not None and not self.template_id
        requests = self._requests(meta, actions, settings=not meta.localized, blank=blank)
        if requests:
            self._batch_update(locator, requests)
        for email in (e for a in actions if isinstance(a, ShareWith) for e in a.emails):
            self._share(locator, email)
        self._meta.pop(locator, None)
        return locator

    def _requests(self, meta: _Meta, actions: list[Action], *, settings: bool,
                  blank: bool) -> list[dict]:
        """The whole plan of one workbook as the requests of ONE batchUpdate."""
        sheets = dict(meta.sheets)
        taken = {s.sheet_id for s in sheets.values()}
        editors = self.protection_editors
        default = [s for s in sheets.values() if s.title not in OWNED_TABS and (
            blank or (_DEFAULT_TAB.match(s.title) and not meta.last_rows.get(s.title)))]
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
            if isinstance(action, AddTab):
                layout = action.layout      # a template's tab of that name is filled in
                exists = layout.tab in sheets
                info = sheets[layout.tab] if exists else new(layout.tab, *gr.tab_size(layout))
                out += gr.add_tab_requests(layout, info, editors, exists=exists)
            elif isinstance(action, AppendPeriods):
                info = sheets[action.layout.tab]
                last = meta.last_rows.get(action.layout.tab, gr.HEADER_ROWS)
                out += gr.append_periods_requests(action.layout, info, last, action.keys)
            elif isinstance(action, SetVillages):
                if LISTS_TAB in sheets:
                    out += gr.villages_requests(action.villages, sheets[LISTS_TAB].sheet_id)
                else:
                    info = new(LISTS_TAB, gr.VILLAGE_LIST_ROWS, 1, hidden=True)
                    out += gr.owned_tab_requests(LISTS_TAB, info, editors,
                                                 villages=action.villages)
            elif isinstance(action, AddHelpTab) and HELP_TAB not in sheets:
                info = new(HELP_TAB, max(len(action.lines), 1), 1)
                out += gr.owned_tab_requests(HELP_TAB, info, editors, lines=action.lines)
            elif isinstance(action, AddFeedbackTab) and FEEDBACK_TAB not in sheets:
                out += gr.owned_tab_requests(FEEDBACK_TAB, new(FEEDBACK_TAB, 50, 7), editors)
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

    def _create(self, name: str) -> str:
        """files.create (or files.copy of the template) into the folder, never twice."""
        if self.template_id:
            url = f"{DRIVE_URL}/{self.template_id}/copy"
            body = gr.copy_file_body(name, self.folder_id)
        else:
            url, body = DRIVE_URL, gr.create_file_body(name, self.folder_id)
        params = {"supportsAllDrives": True, "fields": "id,name"}
        for _ in range(3):
            try:
                file_id = self._call(self.main, "post", url, None, params=params, json=body,
                                     safe=False)["id"]
                break
            except AmbiguousWriteError:
                file_id = self._named(name)
                if file_id:
                    break
        else:
            raise WorkbookError(f"could not create '{name}': Google kept dropping the "
                                "connection; it will be tried again on the next run")
        if self._names is not None:
            self._names[file_id] = name
        return file_id

    def _share(self, locator: str, email: str) -> None:
        params = {"supportsAllDrives": True, "sendNotificationEmail": self.notify,
                  "fields": "id"}
        try:
            self._call(self.main, "post", f"{DRIVE_URL}/{locator}/permissions", locator,
                       params=params, json=gr.permission_body(email), tolerate=(400,))
        except APIError as exc:
            raise WorkbookError(
                f"spreadsheet {locator}: Google refused to share it with {email} "
                f"({exc.error.get('message', exc.code)}); check the address in the registry, "
                "or set [google] notify_editors = true for addresses without a Google account"
            ) from exc

    def _batch_update(self, locator: str, requests: list[dict]) -> None:
        """One atomic batchUpdate; a lost answer is settled by looking, not by resending."""
        adds = {r["addSheet"]["properties"]["sheetId"] for r in requests if "addSheet" in r}
        url = f"{SHEETS_URL}/{locator}:batchUpdate"
        for _ in range(3):
            try:
                self._call(self.http_for(locator), "post", url, locator,
                           json={"requests": requests}, safe=not adds)
                return
            except AmbiguousWriteError:
                ids = {s.sheet_id for s in self._sheets(locator).values()}
                if adds <= ids:
                    return
        raise WorkbookError(f"spreadsheet {locator}: Google kept dropping the connection "
                            "while it was being set up; run `toolkit provision` again")

    # -- collecting -----------------------------------------------------------------------

    def modified_stamps(self, locators: list[str]) -> dict[str, str | None]:
        files, server_now = self._list(gr.files_query(self.folder_id), "id,modifiedTime")
        now = self._now() if self._now else (server_now or datetime.now(UTC))
        listed = {f["id"]: f.get("modifiedTime") for f in files}
        stamps: dict[str, str | None] = {}
        for locator in locators:
            modified = listed[locator] if locator in listed else self._modified_time(locator)
            stamps[locator] = None if modified is None else self._stamp(locator, modified, now)
        return stamps

    def _stamp(self, locator: str, modified: str, now: datetime) -> str:
        """Drive's time, or — while it may still move — a stamp equal to nothing stored."""
        moment = _rfc3339(modified)
        stamp = modified
        if moment is None or (self.settle and now - moment < self.settle):
            stamp = f"{modified}~unsettled@{now:%Y-%m-%dT%H:%M:%S.%fZ}"
        self._stamps[locator] = (stamp, moment)
        return stamp

    def read(self, locator: str, tabs: list[str]) -> Snapshot:
        present = list(tabs)
        try:
            grids = self._batch_get(locator, [quote_tab(t) for t in tabs], tolerate=(400,))
        except APIError as exc:
            if "Unable to parse range" not in str(exc.error.get("message", "")):
                raise self._error(exc, locator) from exc
            titles = self._sheets(locator, fields="sheets.properties.title")
            present = [t for t in tabs if t in titles]
            grids = self._batch_get(locator, [quote_tab(t) for t in present]) if present else []
        fallback = (f"unread~{datetime.now(UTC).isoformat()}", None)
        stamp, modified = self._stamps.get(locator, fallback)
        return Snapshot(grids=dict(zip(present, grids, strict=True)),
                        missing_tabs=tuple(t for t in tabs if t not in present),
                        modified_stamp=stamp, modified_at=modified)

    def write_feedback(self, locator: str, rows: list[list[str]], summary: str,
                       expected_stamp: str, now: datetime,
                       banners: dict[str, str] | None = None) -> str | None:
        """Rewrite Kiểm tra and the report tabs' banner rows in ONE request.

        Returns ``expected_stamp``: our own write moves Drive's modifiedTime, so the next
        collect reads the workbook once more — it never skips an edit made while we wrote.
        """
        banners = banners or {}
        ids = {t: sheet_id_for(t) for t in (FEEDBACK_TAB, *banners)}  # as provision made them
        try:
            self._batch(locator, _feedback_batch(ids, summary, rows, banners))
        except APIError as exc:
            sheets = self._sheets(locator)
            if FEEDBACK_TAB not in sheets:
                raise WorkbookError(f"tab '{FEEDBACK_TAB}' not found; run `toolkit provision` "
                                    "to repair") from exc
            found = {t: sheets[t].sheet_id for t in ids if t in sheets}
            if found == ids:
                raise self._error(exc, locator) from exc
            self._batch(locator, _feedback_batch(found, summary, rows, banners))
        return expected_stamp or f"written~{now.isoformat()}"

    def _batch(self, locator: str, requests: list[dict]) -> None:
        self._call(self.http_for(locator), "post", f"{SHEETS_URL}/{locator}:batchUpdate",
                   locator, json={"requests": requests}, tolerate=(400,))

    # -- plumbing -------------------------------------------------------------------------

    def _call(self, http: PacedHTTPClient, method: str, url: str, locator: str | None, *,
              params: dict | None = None, json: dict | None = None, safe: bool = True,
              tolerate: tuple[int, ...] = ()) -> dict:
        response = self._send(http, method, url, locator, params=params, json=json, safe=safe,
                              tolerate=tolerate)
        return response.json() if response.content else {}

    def _send(self, http, method, url, locator, *, params=None, json=None, safe=True,
              tolerate=()):
        try:
            return http.request(method, url, params=params, json=json, safe_to_repeat=safe)
        except APIError as exc:
            if exc.code in tolerate:
                raise
            raise self._error(exc, locator) from exc

    def _error(self, exc: APIError, locator: str | None) -> WorkbookError:
        what = f"spreadsheet {locator}" if locator else "Google Drive"
        message = str(exc.error.get("message", "")) or f"HTTP {exc.code}"
        account = self.protection_editors[0] if self.protection_editors else "the account"
        if exc.code == 404:
            return WorkbookError(f"{what} not found, or not shared with {account}; run "
                                 "`toolkit provision` to create it again")
        if "storageQuota" in message or "storage quota" in message.lower():
            return WorkbookError(f"{what}: a service account cannot own files ({message}); set "
                                 "[google] folder_id to a Shared Drive folder where it is a "
                                 "Content manager")
        if exc.code in (401, 403):
            return WorkbookError(f"{what}: access denied ({message}); share it with {account} "
                                 "or run `toolkit doctor`")
        return WorkbookError(f"{what}: Google answered {exc.code} ({message})")

    def _sheets(self, locator: str, fields: str = _PROPERTIES) -> dict[str, SheetInfo]:
        return self._metadata(locator, fields)[0]

    def _metadata(self, locator: str, fields: str) -> tuple[dict[str, SheetInfo], dict]:
        """One spreadsheets.get: the tabs (by title) and the spreadsheet's properties."""
        data = self._call(self.http_for(locator), "get", f"{SHEETS_URL}/{locator}", locator,
                          params={"fields": fields})
        sheets = [SheetInfo.from_properties({"sheetId": 0, **s["properties"]})
                  for s in data.get("sheets", [])]
        return {s.title: s for s in sheets}, data.get("properties", {})

    def _batch_get(self, locator: str, ranges: list[str],
                   tolerate: tuple[int, ...] = ()) -> list[list[list]]:
        params = {"ranges": ranges, "valueRenderOption": "UNFORMATTED_VALUE",
                  "dateTimeRenderOption": "SERIAL_NUMBER", "majorDimension": "ROWS"}
        data = self._call(self.http_for(locator), "get",
                          f"{SHEETS_URL}/{locator}/values:batchGet", locator, params=params,
                          tolerate=tolerate)
        return [v.get("values", []) for v in data.get("valueRanges", [])]

    def _editors(self, locator: str) -> frozenset[str]:
        params = {"supportsAllDrives": True, "pageSize": 100,
                  "fields": "nextPageToken,permissions(emailAddress,role,type)"}
        emails: set[str] = set()
        while True:
            data = self._call(self.main, "get", f"{DRIVE_URL}/{locator}/permissions", locator,
                              params=params)
            emails |= {p["emailAddress"].lower() for p in data.get("permissions", [])
                       if p.get("emailAddress") and p.get("role") in WRITER_ROLES}
            if not data.get("nextPageToken"):
                return frozenset(emails)
            params = {**params, "pageToken": data["nextPageToken"]}

    def _list(self, query: str, fields: str) -> tuple[list[dict], datetime | None]:
        """Every file matching ``query``, 1,000 a request; with the server's clock."""
        params = {"q": query, "fields": f"nextPageToken,files({fields})", "pageSize": 1000,
                  "supportsAllDrives": True, "includeItemsFromAllDrives": True}
        files: list[dict] = []
        while True:
            response = self._send(self.main, "get", DRIVE_URL, None, params=params)
            data = response.json()
            files += data.get("files", [])
            if not data.get("nextPageToken"):
                return files, _http_date(response.headers.get("Date"))
            params = {**params, "pageToken": data["nextPageToken"]}

    def _folder_names(self) -> dict[str, str]:
        if self._names is None:
            files, _ = self._list(gr.files_query(self.folder_id), "id,name")
            self._names = {f["id"]: f.get("name", "") for f in files}
        return self._names

    def _named(self, name: str) -> str | None:
        query = f"{gr.files_query(self.folder_id)} and name = {gr.drive_literal(name)}"
        files, _ = self._list(query, "id")
        return files[0]["id"] if files else None

    def _modified_time(self, file_id: str) -> str | None:
        """modifiedTime of a file outside the folder listing; None when gone or in the bin."""
        params = {"supportsAllDrives": True, "fields": "id,modifiedTime,trashed"}
        try:
            data = self._call(self.main, "get", f"{DRIVE_URL}/{file_id}", file_id,
                              params=params, tolerate=(404,))
        except APIError:
            return None
        return None if data.get("trashed") else data.get("modifiedTime", "")


def _feedback_batch(ids: dict[str, int], summary: str, rows: list[list[str]],
                    banners: dict[str, str]) -> list[dict]:
    requests = gr.feedback_write_requests(ids[FEEDBACK_TAB], summary, rows)
    return requests + [gr.banner_request(ids[t], text) for t, text in banners.items() if t in ids]


def write_rollup_sheet(store: GSheetsStore, spreadsheet_id: str, tables: dict) -> int:
    """Write each DataFrame to its own tab of the rollup spreadsheet, as plain values.

    Two requests whatever the size: one spreadsheets.get for the tab ids, one batchUpdate that
    adds missing tabs and rewrites all of them. Returns the number of requests sent.
    """
    pacer = store.http_for(spreadsheet_id).pacer
    before = sum(pacer.counts.values())
    existing = store._sheets(spreadsheet_id)
    store._batch_update(spreadsheet_id, gr.rollup_requests(tables, existing))
    return sum(pacer.counts.values()) - before


def _rfc3339(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return None


def _http_date(text: str | None) -> datetime | None:
    try:
        return parsedate_to_datetime(text) if text else None
    except (TypeError, ValueError):
        return None


def open_gsheets(google, *, adapter=None, pacer_factory=None, policy=None, rng=None,
                 now: Callable[[], datetime] | None = None) -> GSheetsStore:
    """The store for ``[google]``; ``adapter`` (a requests transport) and ``pacer_factory``
    let tests and benchmarks route traffic to a fake and run the pacer on a virtual clock."""
    accounts = connect(google, adapter=adapter, pacer_factory=pacer_factory, policy=policy,
                       rng=rng)
    return GSheetsStore(accounts, google, now=now)
