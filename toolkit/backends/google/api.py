"""Calls to the Sheets and Drive APIs for one or more Google accounts, errors in plain words.

Everything the Google store, the Drive helpers and the rollup publisher send goes through
:class:`GoogleApi`: it picks the account (workbooks are spread over accounts by id, so each
account's quota adds up), sends through the paced, retrying client, and turns Google's errors
into :class:`~toolkit.errors.WorkbookError` messages that say what to do.
"""

from __future__ import annotations

import zlib

from gspread.exceptions import APIError

from toolkit.backends.google.bodies import SheetInfo
from toolkit.backends.google.http import Account, AmbiguousWriteError, PacedHTTPClient
from toolkit.errors import ConfigError, WorkbookError

SHEETS_URL = "https://sheets.googleapis.com/v4/spreadsheets"
PROPERTIES = "sheets.properties(sheetId,title,index,hidden,gridProperties(rowCount,columnCount))"


#: batchUpdate requests that add something: sent twice, they add it twice (or fail as a
#: duplicate), so a batch holding one is never resent blindly.
UNREPEATABLE = ("addSheet", "appendDimension", "insertDimension", "addChart",
                "addProtectedRange", "duplicateSheet", "addNamedRange")

class GoogleApi:
    def __init__(self, accounts: list[Account]):
        if not accounts:
            raise ConfigError("[google] chưa có tài khoản nào để kết nối")
        self.accounts = accounts

    @property
    def main(self) -> PacedHTTPClient:
        return self.accounts[0].http

    def http_for(self, locator: str) -> PacedHTTPClient:
        """Workbooks are spread over the accounts by id, so each account's quota adds up."""
        return self.accounts[zlib.crc32(locator.encode()) % len(self.accounts)].http

    @property
    def requests_sent(self) -> int:
        """API calls this run sent (retries included), all accounts together."""
        return sum(sum(a.http.pacer.counts.values()) for a in self.accounts)

    @property
    def emails(self) -> tuple[str, ...]:
        return tuple(a.email for a in self.accounts if a.email)

    # -- sending --------------------------------------------------------------------------

    def call(self, http: PacedHTTPClient, method: str, url: str, locator: str | None, *,
             params: dict | None = None, json: dict | None = None, safe: bool = True,
             tolerate: tuple[int, ...] = ()) -> dict:
        """One API call; its JSON answer. Errors become WorkbookError except ``tolerate``d."""
        response = self.send(http, method, url, locator, params=params, json=json, safe=safe,
                             tolerate=tolerate)
        return response.json() if response.content else {}

    def send(self, http, method, url, locator, *, params=None, json=None, safe=True,
             tolerate=()):
        try:
            return http.request(method, url, params=params, json=json, safe_to_repeat=safe)
        except APIError as exc:
            if exc.code in tolerate:
                raise
            raise self.error(exc, locator, http) from exc

    def email_of(self, http: PacedHTTPClient | None) -> str:
        """Who sent a call: the account to share a file with when Google says no."""
        found = next((a.email for a in self.accounts if a.http is http and a.email), None)
        return found or (self.emails[0] if self.emails else "tài khoản đã đăng nhập")

    def error(self, exc: APIError, locator: str | None,
              http: PacedHTTPClient | None = None) -> WorkbookError:
        what = f"bảng tính {locator}" if locator else "Google Drive"
        message = str(exc.error.get("message", "")) or f"HTTP {exc.code}"
        account = self.email_of(http if http is not None else
                                self.http_for(locator) if locator else self.main)
        if exc.code == 404:
            return WorkbookError(f"{what}: không tìm thấy, hoặc chưa chia sẻ với {account}; "
                                 "hãy chạy `toolkit provision` để tạo lại")
        if "storageQuota" in message or "storage quota" in message.lower():
            return WorkbookError(f"{what}: tài khoản dịch vụ không sở hữu được tệp ({message}); "
                                 "hãy đặt [google] folder_id là một thư mục trong Shared Drive "
                                 "mà tài khoản này là Content manager")
        if exc.code in (401, 403):
            return WorkbookError(f"{what}: bị từ chối truy cập ({message}); hãy chia sẻ với "
                                 f"{account} quyền Người chỉnh sửa (Editor), hoặc chạy "
                                 "`toolkit doctor`")
        return WorkbookError(f"{what}: Google trả lời {exc.code} ({message})")

    # -- Sheets ---------------------------------------------------------------------------

    def metadata(self, locator: str, fields: str = PROPERTIES) -> tuple[dict[str, SheetInfo],
                                                                        dict]:
        """One spreadsheets.get: the tabs (by title) and the rest of the answer."""
        data = self.call(self.http_for(locator), "get", f"{SHEETS_URL}/{locator}", locator,
                         params={"fields": fields})
        sheets = [SheetInfo.from_properties({"sheetId": 0, **s["properties"]})
                  for s in data.get("sheets", []) if "properties" in s]
        return {s.title: s for s in sheets}, data

    def sheets(self, locator: str, fields: str = PROPERTIES) -> dict[str, SheetInfo]:
        return self.metadata(locator, fields)[0]

    def batch_get(self, locator: str, ranges: list[str], tolerate: tuple[int, ...] = (),
                  render: str = "UNFORMATTED_VALUE") -> list[list[list]]:
        """ONE values.batchGet: raw values (numbers, serial dates) of every range; with
        ``render="FORMULA"`` formula cells come back as their text instead of their result."""
        params = {"ranges": ranges, "valueRenderOption": render,
                  "dateTimeRenderOption": "SERIAL_NUMBER", "majorDimension": "ROWS"}
        data = self.call(self.http_for(locator), "get",
                         f"{SHEETS_URL}/{locator}/values:batchGet", locator, params=params,
                         tolerate=tolerate)
        return [v.get("values", []) for v in data.get("valueRanges", [])]

    def batch_update(self, locator: str, requests: list[dict], *,
                     what: str = "khi đang thiết lập bảng tính; hãy chạy lại `toolkit provision`"
                     ) -> None:
        """One atomic batchUpdate; a lost answer is settled by looking, not by resending.

        Rewrites (cells, formats, rules) may be sent twice; a batch that adds something (a tab,
        rows, a chart, a protected range) may not. When its answer is lost, added tabs are
        looked for; anything else is left to the next run, which plans from what is there.
        """
        adds = {r["addSheet"]["properties"]["sheetId"] for r in requests if "addSheet" in r}
        unrepeatable = any(kind in r for r in requests for kind in UNREPEATABLE)
        url = f"{SHEETS_URL}/{locator}:batchUpdate"
        for _ in range(3):
            try:
                self.call(self.http_for(locator), "post", url, locator,
                          json={"requests": requests}, safe=not unrepeatable)
                return
            except AmbiguousWriteError:
                if not adds:
                    break
                ids = {s.sheet_id for s in self.sheets(locator).values()}
                if adds <= ids:
                    return
        raise WorkbookError(f"bảng tính {locator}: Google liên tục ngắt kết nối {what}")

    def batch(self, locator: str, requests: list[dict]) -> None:
        """A batchUpdate whose 400 (e.g. a tab gone) the caller handles itself."""
        self.call(self.http_for(locator), "post", f"{SHEETS_URL}/{locator}:batchUpdate",
                  locator, json={"requests": requests}, tolerate=(400,))
