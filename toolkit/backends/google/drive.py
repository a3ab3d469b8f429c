"""Drive v3: the commune workbooks as files — listing, creating, sharing, modified times.

Request bodies and queries are pure functions (tested against Drive's discovery document);
:class:`Drive` sends them. Every call names ``supportsAllDrives`` so Shared Drive folders work.

Sharing is read with permissions.list only: files.get and files.list leave ``permissions`` and
``shared`` out for Shared Drive items, and ``permissionDetails`` (which part of an access is
inherited, and from where) comes only from permissions.list.
"""

from __future__ import annotations

from datetime import datetime

from gspread.exceptions import APIError

from toolkit.backends.base import Grant, role_rank
from toolkit.backends.google.api import GoogleApi
from toolkit.backends.google.http import AmbiguousWriteError, http_date
from toolkit.errors import WorkbookError

DRIVE_URL = "https://www.googleapis.com/drive/v3/files"
ABOUT_URL = "https://www.googleapis.com/drive/v3/about"
SPREADSHEET_MIME = "application/vnd.google-apps.spreadsheet"
FOLDER_MIME = "application/vnd.google-apps.folder"
#: Everything permissions.list can say about who has access and where it comes from.
PERMISSION_FIELDS = ("nextPageToken,permissions(id,type,role,emailAddress,domain,"
                     "allowFileDiscovery,deleted,expirationTime,view,"
                     "permissionDetails(permissionType,role,inherited,inheritedFrom))")
#: Drive's answer to removing inherited access on an item (renamed from the first, GAM 7.10.05).
INHERITED_REASONS = frozenset({"cannotModifyInheritedTeamDrivePermission",
                               "cannotModifyInheritedPermission"})
#: How many ids one files.generateIds asks for (at most 1,000); unused ones are let go.
GENERATED_IDS = 100
#: files.list's ``visibility``: link sharing for anyone or a domain, by link or by search.
LINK_VISIBILITY = ("anyoneCanFind", "anyoneWithLink", "domainCanFind", "domainWithLink")


# -- bodies and queries ---------------------------------------------------------------------


def create_file_body(title: str, folder_id: str | None, file_id: str) -> dict:
    """``file_id`` from files.generateIds: a lost answer is then settled by files.get."""
    body = {"id": file_id, "name": title, "mimeType": SPREADSHEET_MIME}
    if folder_id:
        body["parents"] = [folder_id]
    return body


def copy_file_body(title: str, folder_id: str | None, file_id: str) -> dict:
    """files.copy never copies comments, so a template's review notes stay behind; it takes
    a generated id like files.create (Drive v3 reference, files.generateIds: "IDs which can
    be provided in create or copy requests")."""
    body: dict = {"id": file_id, "name": title}
    if folder_id:
        body["parents"] = [folder_id]
    return body


def permission_body(email: str) -> dict:
    """Writer access for one person; 'anyone' (link sharing) is not expressible here on purpose."""
    address = email.strip().lower()
    if "@" not in address or any(ch.isspace() for ch in address):
        raise ValueError(f"{email!r} is not an e-mail address")
    return {"type": "user", "role": "writer", "emailAddress": address}


def drive_literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def files_query(folder_id: str | None) -> str:
    """Spreadsheets in the folder (or, without one, owned by the account), not in the bin."""
    terms = [f"mimeType = {drive_literal(SPREADSHEET_MIME)}", "trashed = false"]
    terms.append(f"{drive_literal(folder_id)} in parents" if folder_id else "'me' in owners")
    return " and ".join(terms)


def _reason(exc: APIError) -> str:
    errors = exc.error.get("errors") if isinstance(exc.error, dict) else None
    return str((errors or [{}])[0].get("reason", "")) if isinstance(errors, list) else ""


#: Drive's reasons for refusing to share with someone, and what the office can do about each.
SHARING_REFUSALS = {
    "shareOutNotPermitted": "tên miền của tỉnh chặn chia sẻ ra ngoài tổ chức: quản trị viên "
    "Google Workspace vào Admin console → Ứng dụng → Google Workspace → Drive và Tài liệu → "
    "Cài đặt chia sẻ, mục \"Tùy chọn chia sẻ\", cho phép chia sẻ ra ngoài tổ chức (hoặc chỉ "
    "với tên miền của xã trong danh sách cho phép); hoặc ghi cho xã một địa chỉ thuộc tên miền "
    "của tỉnh trong registry",
    "shareOutNotPermittedToUser": "tên miền của tỉnh không cho chia sẻ với địa chỉ này: quản "
    "trị viên vào Admin console → Ứng dụng → Google Workspace → Drive và Tài liệu → Cài đặt "
    "chia sẻ, thêm tên miền của địa chỉ vào danh sách được phép",
    "teamDriveTeamMembersOnlyRestriction": "bộ nhớ dùng chung (Shared Drive) chứa thư mục đang "
    "đặt \"Chỉ thành viên\" (members only): người quản lý bộ nhớ đó mở Cài đặt bộ nhớ dùng chung, "
    "bật \"Cho phép người không phải thành viên truy cập vào tệp\", hoặc thêm địa chỉ này làm "
    "thành viên của bộ nhớ dùng chung",
    "teamDriveDomainUsersOnlyRestriction": "bộ nhớ dùng chung (Shared Drive) chứa thư mục chỉ cho "
    "người trong tổ chức truy cập: người quản lý bộ nhớ đó mở Cài đặt bộ nhớ dùng chung, bật "
    "\"Cho phép người ngoài tổ chức truy cập vào tệp\" (Admin console → Ứng dụng → Google "
    "Workspace → Drive và Tài liệu → Cài đặt chia sẻ → Bộ nhớ dùng chung phải cho phép việc đó)",
    "cannotShareTeamDriveWithNonGoogleAccounts": "địa chỉ này không có tài khoản Google, và tệp "
    "trong bộ nhớ dùng chung (Shared Drive) không chia sẻ được với địa chỉ như vậy: xã hãy tạo "
    "tài khoản Google cho địa chỉ đó (accounts.google.com → Tạo tài khoản → dùng địa chỉ email "
    "hiện có), hoặc ghi một địa chỉ Gmail của xã vào registry",
    "invalidSharingRequest": "địa chỉ này không có tài khoản Google: đặt [google] "
    "notify_editors = true trong toolkit.toml để Google gửi thư mời, hoặc ghi một địa chỉ có "
    "tài khoản Google vào registry",
}


def share_refusal(locator: str, email: str, reason: str, exc: APIError) -> str:
    """What to tell the office when Drive refuses to share a workbook with an editor."""
    fix = SHARING_REFUSALS.get(reason) or (
        "hãy kiểm tra địa chỉ trong registry; nếu địa chỉ không có tài khoản Google, đặt "
        "[google] notify_editors = true trong toolkit.toml")
    return (f"Google không cho chia sẻ bảng tính {locator} với {email} "
            f"({reason or exc.code}: {exc.error.get('message', '')}) — {fix}")


def link_shared_query(folder_id: str | None) -> str:
    """The folder's spreadsheets that anyone, or a whole domain, can open by link or search
    (a folder's link sharing reaches the files in it, so they are found too)."""
    shared = " or ".join(f"visibility = {drive_literal(v)}" for v in LINK_VISIBILITY)
    return f"{files_query(folder_id)} and ({shared})"


def grant_of(permission: dict) -> Grant:
    """One permissions.list entry as a Grant. Without ``permissionDetails`` (items outside
    Shared Drives) the whole access counts as given on the file: removing it is then tried,
    and Drive's refusal, if the access is inherited after all, is reported."""
    details = permission.get("permissionDetails") or []
    role = permission.get("role", "")
    direct = [d.get("role", "") for d in details if not d.get("inherited")]
    inherited = [d for d in details if d.get("inherited")]
    if not details:
        direct = [role]
    source = next((d for d in inherited if d.get("permissionType") != "member"),
                  inherited[0] if inherited else {})
    kind = permission.get("type", "")
    return Grant(
        id=permission.get("id", ""), type=kind, role=role,
        email=(permission.get("emailAddress") or "").lower(),
        domain=(permission.get("domain") or "").lower(),
        discoverable=bool(permission.get("allowFileDiscovery")),
        published=permission.get("view") == "published",
        deleted=bool(permission.get("deleted")),
        expires=permission.get("expirationTime") or "",
        direct_role=max(direct, key=role_rank) if direct else None,
        inherited_role=max((d.get("role", "") for d in inherited), key=role_rank)
        if inherited else None,
        inherited_from=source.get("inheritedFrom", ""),
        member=any(d.get("permissionType") == "member" for d in inherited))


def rfc3339(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None


# -- calls ----------------------------------------------------------------------------------


class Drive:
    """The province folder's spreadsheets, as the main account sees them."""

    def __init__(self, api: GoogleApi, folder_id: str | None, template_id: str | None = None,
                 notify: bool = False):
        self.api = api
        self.folder_id = folder_id
        self.template_id = template_id
        self.notify = notify
        self._names: dict[str, str] | None = None
        self._own: frozenset[str] | None = None
        self._corpus: dict | None = None
        self._ids: list[str] = []

    def corpus(self) -> dict:
        """files.list's body of items for the folder: its Shared Drive (``corpora=drive``).

        Drive's default corpus (``user``) leaves out Shared Drive items the account neither
        made nor was given on the file itself — a workbook a second account created, one
        moved in by hand — so collect would call it gone and provision would make another.
        ONE files.get of the folder per run says which drive it is in."""
        if self._corpus is None:
            self._corpus = {}
            if self.folder_id:
                data = self.api.call(self.api.main, "get", f"{DRIVE_URL}/{self.folder_id}",
                                     None, params={"supportsAllDrives": True,
                                                   "fields": "id,driveId"})
                if data.get("driveId"):
                    self._corpus = {"corpora": "drive", "driveId": data["driveId"]}
        return self._corpus

    def list(self, query: str, fields: str) -> tuple[list[dict], datetime | None]:
        """Every file matching ``query``, 1,000 a request; with the server's clock."""
        params = {"q": query, "fields": f"nextPageToken,files({fields})", "pageSize": 1000,
                  "supportsAllDrives": True, "includeItemsFromAllDrives": True,
                  **self.corpus()}
        files: list[dict] = []
        while True:
            response = self.api.send(self.api.main, "get", DRIVE_URL, None, params=params)
            data = response.json()
            files += data.get("files", [])
            if not data.get("nextPageToken"):
                return files, http_date(response.headers.get("Date"))
            params = {**params, "pageToken": data["nextPageToken"]}

    def folder_files(self, fields: str) -> tuple[list[dict], datetime | None]:
        return self.list(files_query(self.folder_id), fields)

    def names(self) -> dict[str, str]:
        """File id → name of the folder's spreadsheets (one listing per run)."""
        if self._names is None:
            files, _ = self.folder_files("id,name")
            self._names = {f["id"]: f.get("name", "") for f in files}
        return self._names

    def modified_time(self, file_id: str) -> str | None:
        """modifiedTime of a file outside the folder listing; None when gone or in the bin."""
        params = {"supportsAllDrives": True, "fields": "id,modifiedTime,trashed"}
        try:
            data = self.api.call(self.api.main, "get", f"{DRIVE_URL}/{file_id}", file_id,
                                 params=params, tolerate=(404,))
        except APIError:
            return None
        return None if data.get("trashed") else data.get("modifiedTime", "")

    def new_id(self) -> str:
        """An id for files.create/copy, from ONE files.generateIds per hundred workbooks."""
        if not self._ids:
            data = self.api.call(self.api.main, "get", f"{DRIVE_URL}/generateIds", None,
                                 params={"count": GENERATED_IDS, "space": "drive",
                                         "type": "files"})
            self._ids = list(reversed(data.get("ids", [])))
            if not self._ids:
                raise WorkbookError("Google Drive không cấp mã tệp mới (files.generateIds "
                                    "trả lời rỗng); hãy chạy lại `toolkit provision`")
        return self._ids.pop()

    def create(self, name: str) -> str:
        """files.create (or files.copy of the template) into the folder, never twice.

        The file gets an id chosen beforehand (files.generateIds), so when the answer is
        lost, files.get of that id says whether it was made. Looking it up by name through
        files.list would not: the search index lags new files by minutes, and a second
        workbook of the same name would be made."""
        file_id = self.new_id()
        if self.template_id:
            url = f"{DRIVE_URL}/{self.template_id}/copy"
            body = copy_file_body(name, self.folder_id, file_id)
        else:
            url, body = DRIVE_URL, create_file_body(name, self.folder_id, file_id)
        params = {"supportsAllDrives": True, "fields": "id,name"}
        for _ in range(3):
            try:
                self.api.call(self.api.main, "post", url, None, params=params, json=body,
                              safe=False, tolerate=(409,))
                break
            except AmbiguousWriteError:
                if self.modified_time(file_id) is not None:
                    break
            except APIError as exc:     # 409: a create whose answer was lost made it after all
                if self.modified_time(file_id) is None:
                    raise self.api.error(exc, None) from exc
                break
        else:
            raise WorkbookError(f"không tạo được bảng tính '{name}': Google liên tục ngắt "
                                "kết nối; lần chạy `toolkit provision` sau sẽ thử lại")
        if self._names is not None:
            self._names[file_id] = name
        return file_id

    def share(self, locator: str, email: str) -> dict:
        """permissions.create for one editor; Drive's answer (its ``emailAddress`` is the
        account's primary address, which may differ from the one asked for)."""
        params = {"supportsAllDrives": True, "sendNotificationEmail": self.notify,
                  "fields": "id,emailAddress"}
        try:
            return self.api.call(self.api.main, "post", f"{DRIVE_URL}/{locator}/permissions",
                                 locator, params=params, json=permission_body(email),
                                 tolerate=(400, 403))
        except APIError as exc:
            reason = _reason(exc)
            if exc.code == 403 and reason not in SHARING_REFUSALS:
                raise self.api.error(exc, locator) from exc
            raise WorkbookError(share_refusal(locator, email, reason, exc)) from exc

    def permissions(self, locator: str) -> tuple[Grant, ...]:
        """Who has access and how: ONE permissions.list (100 a page; a commune workbook has
        far fewer), the published-to-the-web view included."""
        params = {"supportsAllDrives": True, "pageSize": 100, "fields": PERMISSION_FIELDS,
                  "includePermissionsForView": "published"}
        grants: list[Grant] = []
        while True:
            data = self.api.call(self.api.main, "get", f"{DRIVE_URL}/{locator}/permissions",
                                 locator, params=params)
            grants += [grant_of(p) for p in data.get("permissions", [])]
            if not data.get("nextPageToken"):
                return tuple(grants)
            params = {**params, "pageToken": data["nextPageToken"]}

    def revoke(self, locator: str, permission_id: str, who: str) -> None:
        """permissions.delete; a permission already gone (404) is what was wanted."""
        url = f"{DRIVE_URL}/{locator}/permissions/{permission_id}"
        try:
            self.api.call(self.api.main, "delete", url, locator,
                          params={"supportsAllDrives": True}, tolerate=(403, 404))
        except APIError as exc:
            if exc.code == 404:
                return
            if _reason(exc) in INHERITED_REASONS:
                raise WorkbookError(f"bảng tính {locator}: {who} có quyền qua một thư mục "
                                    "phía trên, Google không cho gỡ quyền đó trên bảng tính; "
                                    "hãy gỡ ở thư mục đó") from exc
            raise WorkbookError(f"bảng tính {locator}: Google không cho gỡ quyền của {who} "
                                f"({exc.error.get('message', exc.code)})") from exc

    def make_editor(self, locator: str, permission_id: str, email: str) -> None:
        """permissions.update to writer, dropping any expiry."""
        url = f"{DRIVE_URL}/{locator}/permissions/{permission_id}"
        params = {"supportsAllDrives": True, "removeExpiration": True, "fields": "id"}
        try:
            self.api.call(self.api.main, "patch", url, locator, params=params,
                          json={"role": "writer"}, tolerate=(403,))
        except APIError as exc:
            raise WorkbookError(f"bảng tính {locator}: Google không cho đặt {email} làm người "
                                f"chỉnh sửa ({exc.error.get('message', exc.code)})") from exc

    def own_emails(self) -> frozenset[str]:
        """The toolkit's own accounts; an OAuth user's address is asked of about.get once."""
        if self._own is None:
            emails = {a.email.lower() for a in self.api.accounts if a.email}
            for account in (a for a in self.api.accounts if not a.email):
                data = self.api.call(account.http, "get", ABOUT_URL, None,
                                     params={"fields": "user(emailAddress)"})
                emails.add((data.get("user", {}).get("emailAddress") or "").lower())
            self._own = frozenset(e for e in emails if e)
        return self._own

    def link_shared(self) -> list[dict]:
        """The folder's spreadsheets open to anyone or a domain: ONE files.list."""
        files, _ = self.list(link_shared_query(self.folder_id), "id,name")
        return files
