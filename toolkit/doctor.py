"""`toolkit doctor` and `toolkit auth login`: set up Google access and check it end to end.

Google set-up fails in a handful of ways — a key file in the wrong place, an API not enabled, a
service account asked to own files, a folder it cannot write to or share from, a rollup
spreadsheet shared as Viewer, a Shared Drive closed to non-members — and each shows up later as
a cryptic 403 in the middle of a province run. The doctor tries each step once, in order, and
says for each what is wrong and what to click. It never prints key material: only paths, the
account's e-mail address and Google's own error text.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from toolkit.backends.google.api import SHEETS_URL as SHEETS
from toolkit.backends.google.drive import DRIVE_URL as DRIVE_FILES
from toolkit.backends.google.drive import FOLDER_MIME, SPREADSHEET_MIME
from toolkit.errors import ConfigError, ToolkitError
from toolkit.redact import redact, remember, remember_file_secrets

#: Drive's Shared Drives (drives.get); only the doctor reads a Shared Drive's settings.
DRIVES_URL = "https://www.googleapis.com/drive/v3/drives"


@dataclass(frozen=True)
class DoctorCheck:
    name: str
    ok: bool
    message: str       # what was found, and when not ok, how to fix it


@dataclass(frozen=True)
class DoctorReport:
    checks: tuple[DoctorCheck, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


def doctor(config, *, adapter=None, communes=(), workbooks=None) -> DoctorReport:
    """Check credentials, sign-in, APIs, the Shared Drive folder and its settings, the rollup
    spreadsheet and the commune workbooks.

    ``communes`` are (code, display name[, editors' e-mails]) from the registry and
    ``workbooks`` the ledger's commune code → spreadsheet id; with them, one Drive listing tells
    which workbooks went missing, and the editors tell whether the Shared Drive's settings let
    the workbooks be shared with them. ``adapter`` routes the checks to a fake Google in tests.
    Stops at the first check that makes the later ones meaningless (no credentials, no sign-in).
    """
    if config.backend != "gsheets":
        return DoctorReport((DoctorCheck(
            "backend", True, f"backend = \"{config.backend}\": sổ báo cáo là các tệp trong "
            f"{config.workbooks_dir}; không có gì cần kiểm tra với Google"),))
    google = config.google
    checks = [_credentials_file(google.credentials, google.credentials_source)]
    checks += [_credentials_file(p, "[google] accounts") for p in google.accounts]
    if not all(c.ok for c in checks):
        return DoctorReport(tuple(checks))
    from toolkit.backends.google.http import RetryPolicy, connect

    try:
        accounts = connect(google, adapter=adapter,
                           policy=RetryPolicy(max_attempts=2, max_total_sleep=5,
                                              read_timeout=30))
    except ConfigError as exc:
        return DoctorReport((*checks, DoctorCheck("credentials", False, str(exc))))
    service = accounts[0].email is not None
    for account in accounts:
        checks.append(_sign_in(account))
    if not all(c.ok for c in checks):
        return DoctorReport(tuple(checks))
    from toolkit.backends.google.api import GoogleApi

    http = accounts[0].http
    checks.append(_sheets_api(http))
    # Workbooks are spread over the accounts, so each must reach the folder; a file is
    # checked by the account that will use it.
    api = GoogleApi(accounts)
    drive_id = None
    for account in accounts:
        folder, found = _folder(account.http, google.folder_id, service, api.email_of(
            account.http))
        if len(accounts) > 1:
            folder = DoctorCheck(folder.name, folder.ok, f"{account.email}: {folder.message}")
        checks.append(folder)
        drive_id = drive_id or found
    if drive_id:
        editors = sorted({e for c in communes for e in (c[2] if len(c) > 2 else ())})
        checks.append(_shared_drive(http, drive_id, editors))
    if google.template_spreadsheet_id:
        checks.append(_file(http, "template", google.template_spreadsheet_id))
    if google.rollup_spreadsheet_id:
        writer = api.http_for(google.rollup_spreadsheet_id)
        checks.append(_file(writer, "rollup spreadsheet", google.rollup_spreadsheet_id,
                            editor=api.email_of(writer)))
    else:
        checks.append(DoctorCheck("rollup spreadsheet", False,
                                  "chưa đặt [google] rollup_spreadsheet_id: hãy tạo một bảng "
                                  "tính trong thư mục Shared Drive và ghi id của nó (phần sau "
                                  "/d/ trong địa chỉ) vào đó"))
    folder_ok = all(c.ok for c in checks if c.name == "folder")
    if communes and folder_ok:
        checks.append(_workbooks(accounts, google.folder_id, communes, workbooks or {}))
        if workbooks:
            checks.append(_link_sharing(accounts, google.folder_id, communes, workbooks))
    checks.append(_quota(google, accounts))
    return DoctorReport(tuple(checks))


def _quota(google, accounts) -> DoctorCheck:
    """How fast a run can read: per Cloud project min(reads per account × accounts, 300) —
    Sheets counts 60 a minute per user of a project and 300 for the whole project — paced at
    HEADROOM of it. A sixth account in one project adds nothing but 429s."""
    from collections import Counter

    from toolkit.backends.google.http import HEADROOM, PROJECT_PER_MINUTE

    per_project = Counter(a.project or f"?{i}" for i, a in enumerate(accounts))
    reads = sum(min(google.reads_per_minute * n, PROJECT_PER_MINUTE)
                for n in per_project.values())
    paced = reads * HEADROOM
    text = (f"{google.reads_per_minute} lượt đọc và {google.writes_per_minute} lượt ghi mỗi "
            f"phút cho mỗi tài khoản, nhưng cả một dự án Google Cloud chỉ được "
            f"{PROJECT_PER_MINUTE}; {len(accounts)} tài khoản ở {len(per_project)} dự án, "
            f"toolkit dùng {HEADROOM:.0%} hạn mức (khoảng {paced:.0f} lượt đọc mỗi phút): thu "
            f"200 sổ đã thay đổi mất ít nhất {200 / paced:.1f} phút")
    per_account = max(1, PROJECT_PER_MINUTE // google.reads_per_minute)
    crowded = {p: n for p, n in per_project.items() if n > per_account}
    if crowded:
        names = ", ".join(f"{n} tài khoản ở dự án {p}" for p, n in sorted(crowded.items()))
        return DoctorCheck("quota", False, f"{names}: cả dự án chỉ được {PROJECT_PER_MINUTE} "
                           f"lượt đọc mỗi phút, nên tài khoản thứ {per_account + 1} trở đi "
                           "không làm nhanh thêm mà chỉ thêm lỗi 429; hãy dùng một dự án "
                           f"Google Cloud cho mỗi {per_account} tài khoản (tạo tài khoản dịch "
                           "vụ và khoá trong dự án khác: Google Cloud console → IAM & Admin → "
                           f"Service accounts). {text}")
    return DoctorCheck("quota", True, text)


def provisioned(config, registry) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """The registry's communes (code, name, editors) and the workbooks provisioning recorded,
    if there are any yet."""
    from toolkit.ledger import Ledger

    if config.backend != "gsheets":
        return [], {}
    communes = [(c.code, c.display_name, c.editors) for c in registry.communes]
    if not config.ledger_path.is_file():
        return communes, {}
    ledger = Ledger(config.ledger_path)
    try:
        return communes, {code: r.locator for code, r in ledger.workbooks().items()}
    finally:
        ledger.close()


def _credentials_file(path: Path | None, source: str) -> DoctorCheck:
    name = "credentials"
    if path is None:
        return DoctorCheck(name, False, "chưa có khoá đăng nhập: ghi đường dẫn tệp khoá tài "
                           "khoản dịch vụ vào [google] credentials, hoặc đặt biến môi trường "
                           "GOOGLE_APPLICATION_CREDENTIALS, hoặc chạy `toolkit auth login` để "
                           "đăng nhập bằng tài khoản cá nhân")
    if not path.is_file():
        return DoctorCheck(name, False, f"{path} (từ {source}) không tồn tại: hãy tải khoá JSON "
                           "của tài khoản dịch vụ (Google Cloud console → IAM & Admin → Service "
                           "accounts → Keys → Add key) và lưu vào đó")
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return DoctorCheck(name, False, f"{path} không phải tệp khoá JSON đọc được "
                           f"({type(exc).__name__}): hãy tải lại")
    remember_file_secrets(info)
    kind = info.get("type") if isinstance(info, dict) else None
    if kind not in ("service_account", "authorized_user"):
        return DoctorCheck(name, False, f"{path} không phải khoá tài khoản dịch vụ, cũng không "
                           "phải authorized_user.json (tệp OAuth client secret là đầu vào của "
                           "`toolkit auth login`, không dùng để đăng nhập trực tiếp)")
    who = info.get("client_email") or "tài khoản cá nhân (OAuth)"
    if os.name == "posix" and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        return DoctorCheck(name, False, f"{path} ({who}) người dùng khác trên máy này cũng đọc "
                           f"được: hãy chạy `chmod 600 {path}`")
    what = "khoá tài khoản dịch vụ" if kind == "service_account" else "phiên đăng nhập đã lưu"
    return DoctorCheck(name, True, f"{path} ({what}: {who})")


def _sign_in(account) -> DoctorCheck:
    """One small Drive files.list: proves the key is valid, the clock right, Drive enabled."""
    from gspread.exceptions import APIError

    from toolkit.backends.google.http import SignInError

    try:
        account.http.request("get", DRIVE_FILES, params={
            "pageSize": 1, "fields": "files(id)", "q": "trashed = false"})
    except SignInError as exc:
        return DoctorCheck("sign-in", False, str(exc))
    except APIError as exc:
        return DoctorCheck("sign-in", False, _api_fix("Google Drive API", exc))
    except ToolkitError as exc:
        return DoctorCheck("sign-in", False, f"không kết nối được tới Google ({exc}): hãy kiểm "
                           "tra mạng hoặc proxy của máy tính này")
    who = account.email or "tài khoản cá nhân đã đăng nhập"
    return DoctorCheck("sign-in", True, f"đã đăng nhập Google Drive bằng {who}")


def _sheets_api(http) -> DoctorCheck:
    """A get of a spreadsheet that cannot exist: 404 means the API is enabled and answering."""
    from gspread.exceptions import APIError

    try:
        http.request("get", f"{SHEETS}/toolkit-doctor-probe", params={"fields": "spreadsheetId"})
    except APIError as exc:
        if exc.code in (400, 404):
            return DoctorCheck("Sheets API", True, "Google Sheets API đã được bật")
        return DoctorCheck("Sheets API", False, _api_fix("Google Sheets API", exc))
    except ToolkitError as exc:
        return DoctorCheck("Sheets API", False, str(exc))
    return DoctorCheck("Sheets API", True, "Google Sheets API đã được bật")


def _folder(http, folder_id: str | None, service_account: bool, account: str
            ) -> tuple[DoctorCheck, str | None]:
    """Whether ``account`` can add workbooks to the folder and share them; with the id of the
    Shared Drive that holds the folder, if any."""
    if not folder_id:
        if service_account:
            return DoctorCheck("folder", False, "chưa đặt [google] folder_id: tài khoản dịch vụ "
                               "không sở hữu được tệp, nên hãy tạo một thư mục trong Shared "
                               "Drive, thêm tài khoản dịch vụ làm Content manager (Quản lý nội "
                               "dung), rồi ghi id của thư mục (phần sau /folders/ trong địa chỉ) "
                               "vào đó"), None
        return DoctorCheck("folder", True, "chưa đặt [google] folder_id: sổ báo cáo được tạo "
                           "trong My Drive của chính bạn"), None
    meta = _get(http, folder_id, "id,name,mimeType,driveId,"
                                 "capabilities(canAddChildren,canEdit,canShare)")
    if isinstance(meta, str):
        return DoctorCheck("folder", False, meta), None
    name, drive_id = meta.get("name"), meta.get("driveId")
    if meta.get("mimeType") != FOLDER_MIME:
        return DoctorCheck("folder", False, f"[google] folder_id {folder_id} không phải một "
                           "thư mục: hãy ghi id của thư mục (phần sau /folders/ trong địa chỉ)"
                           ), None
    if service_account and not drive_id:
        return DoctorCheck("folder", False, f"thư mục '{name}' nằm trong My Drive của một "
                           "người: tài khoản dịch vụ không sở hữu được tệp ở đó (Drive trả lời "
                           "storageQuotaExceeded); hãy dùng một thư mục trong Shared Drive "
                           "(cần Google Workspace)"), None
    capabilities = meta.get("capabilities", {})
    role = "Content manager (Quản lý nội dung) của Shared Drive" if drive_id else \
        "Người chỉnh sửa (Editor) của thư mục"
    if not capabilities.get("canAddChildren", capabilities.get("canEdit")):
        return DoctorCheck("folder", False, f"{account} không thêm được tệp vào thư mục "
                           f"'{name}': hãy cho {account} làm {role}"), drive_id
    if not capabilities.get("canShare"):
        where = ("Google Drive → Shared drives → chuột phải vào Shared Drive → Manage members "
                 "(Quản lý thành viên)") if drive_id else "Google Drive → thư mục → Chia sẻ"
        return DoctorCheck("folder", False, f"{account} thêm được tệp vào thư mục '{name}' "
                           "nhưng không có quyền chia sẻ (capabilities.canShare), nên không "
                           f"giao được sổ cho cán bộ xã: trong {where}, đổi vai trò của "
                           f"{account} thành {role}"), drive_id
    return DoctorCheck("folder", True, f"thư mục '{name}': {account} tạo và chia sẻ được "
                       "sổ báo cáo"), drive_id


#: Consumer Google accounts: never inside a Workspace organisation's domain.
CONSUMER_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
SHARED_DRIVE_SETTINGS = ("Google Drive → Shared drives → chuột phải vào '{name}' → Shared drive "
                         "settings (Cài đặt bộ nhớ dùng chung)")


def _shared_drive(http, drive_id: str, editors: list[str]) -> DoctorCheck:
    """The Shared Drive's sharing settings (drives.get ``restrictions``): commune staff get
    their workbook shared with them one by one, so a drive closed to non-members refuses them
    all, and one closed to outsiders refuses every Gmail address."""
    from gspread.exceptions import APIError

    name = "Shared Drive"
    try:
        meta = http.request("get", f"{DRIVES_URL}/{drive_id}",
                            params={"fields": "id,name,restrictions"}).json()
    except APIError as exc:
        return DoctorCheck(name, False, _api_fix("Google Drive API", exc))
    except ToolkitError as exc:
        return DoctorCheck(name, False, str(exc))
    title, rules = meta.get("name", drive_id), meta.get("restrictions", {})
    where = SHARED_DRIVE_SETTINGS.format(name=title)
    admin = ("; nếu không đổi được ở đó (adminManagedRestrictions hoặc chính sách của tổ "
             "chức), nhờ quản trị Google Workspace đổi trong Admin console → Apps → Google "
             "Workspace → Drive and Docs → Sharing settings") if rules.get(
        "adminManagedRestrictions") else ""
    problems = []
    if rules.get("driveMembersOnly"):
        problems.append(f"Shared Drive '{title}' chỉ cho thành viên mở tệp (driveMembersOnly), "
                        "nên cán bộ xã không mở được sổ đã chia sẻ cho họ: trong " + where
                        + ", ở mục \"Access by non-members\" hãy cho phép người không phải "
                        "thành viên truy cập tệp" + admin)
    if rules.get("domainUsersOnly"):
        domains = sorted({e.rsplit("@", 1)[-1].lower() for e in editors})
        outside = [e for e in editors if e.rsplit("@", 1)[-1].lower() in CONSUMER_DOMAINS]
        if outside or len(domains) > 1:
            shown = _some(outside or [f"@{d}" for d in domains],
                          more=" và {n} địa chỉ khác")
            problems.append(f"Shared Drive '{title}' chỉ cho người trong tổ chức truy cập "
                            "(domainUsersOnly), nhưng registry có email cán bộ xã ở ngoài "
                            f"hoặc ở nhiều miền ({shown}): trong " + where + ", ở mục "
                            "\"Access by people outside the organization\" hãy cho phép, "
                            "hoặc cho cán bộ xã dùng tài khoản của tổ chức" + admin)
        elif not problems:
            return DoctorCheck(name, True, f"Shared Drive '{title}' chỉ cho người trong tổ "
                               "chức truy cập (domainUsersOnly): mọi email cán bộ xã trong "
                               f"registry đều ở {domains[0] if domains else 'một miền'}; nếu "
                               "đó không phải miền của tổ chức, hãy cho phép người ngoài tổ "
                               f"chức truy cập trong {where}")
    if problems:
        return DoctorCheck(name, False, "; ".join(problems))
    return DoctorCheck(name, True, f"Shared Drive '{title}' cho phép chia sẻ sổ với cán bộ xã "
                       "không phải thành viên")


def _workbooks(accounts, folder_id: str | None, communes, workbooks: dict[str, str]
               ) -> DoctorCheck:
    """One Drive listing against what provisioning recorded: which communes lost their
    workbook (deleted, moved, in the bin) and which never had one."""
    from toolkit.backends.google.api import GoogleApi
    from toolkit.backends.google.drive import Drive

    if not workbooks:
        return DoctorCheck("workbooks", True, f"chưa có sổ nào: `toolkit provision` tạo sổ cho "
                           f"từng xã trong {len(communes)} xã của registry")
    try:
        present = Drive(GoogleApi(accounts), folder_id).names()
    except ToolkitError as exc:
        return DoctorCheck("workbooks", False, f"không liệt kê được thư mục: {exc}")
    lost = [f"{c[1]} ({workbooks[c[0]]})" for c in communes
            if c[0] in workbooks and workbooks[c[0]] not in present]
    never = [c[1] for c in communes if c[0] not in workbooks]
    problems = []
    if lost:
        problems.append(f"{len(lost)} sổ không còn trong thư mục (đã xoá, chuyển đi hoặc nằm "
                        f"trong thùng rác): {_some(lost)}; hãy khôi phục từ thùng rác, hoặc "
                        "chạy `toolkit provision` để tạo sổ mới")
    if never:
        problems.append(f"{len(never)} xã chưa có sổ: {_some(never)}; hãy chạy "
                        "`toolkit provision`")
    if problems:
        return DoctorCheck("workbooks", False, "; ".join(problems))
    return DoctorCheck("workbooks", True, f"đủ sổ của cả {len(communes)} xã trong thư mục")


def _link_sharing(accounts, folder_id: str | None, communes, workbooks: dict[str, str]
                  ) -> DoctorCheck:
    """ONE files.list of the folder's spreadsheets open to anyone or to a whole domain
    (Drive's ``visibility``, inherited sharing included); who else has access, per workbook,
    is `toolkit audit`'s job. When some are, one permissions.list of the folder tells whether
    the link sharing is the folder's — then `audit --fix` cannot remove it, the folder must."""
    from toolkit.backends.google.api import GoogleApi
    from toolkit.backends.google.drive import Drive

    drive = Drive(GoogleApi(accounts), folder_id)
    try:
        shared = drive.link_shared()
        ids = {f["id"]: f.get("name", "") for f in shared}
        folder = [g for g in drive.permissions(folder_id) if g.type in ("anyone", "domain")
                  ] if ids and folder_id else []
    except ToolkitError as exc:
        return DoctorCheck("sharing", False, f"không liệt kê được thư mục: {exc}")
    names = [c[1] for c in communes if workbooks.get(c[0]) in ids]
    others = sorted(ids[i] for i in set(ids) - set(workbooks.values()))
    problems = []
    if folder:
        whom = " và ".join(dict.fromkeys(
            "bất kỳ ai" if g.type == "anyone" else f"cả miền {g.domain}" for g in folder))
        where = next((g.inherited_from for g in folder if g.inherited_from), "")
        problems.append(f"thư mục bảng tính ({folder_id}) đang mở cho {whom} có đường liên kết"
                        + (f", thừa hưởng từ thư mục {where}" if where else "")
                        + ", nên mọi bảng tính trong đó cũng vậy: gỡ ở thư mục đó trong "
                        "Google Drive (Chia sẻ → Quyền truy cập chung → Hạn chế); `toolkit "
                        "audit --fix` không gỡ được quyền thừa hưởng")
    if names:
        shown = _some(names, more=" và {n} xã khác")
        problems.append(f"bảng tính của {len(names)} xã đang mở cho bất kỳ ai có đường liên "
                        f"kết hoặc cho cả một miền: {shown}; chạy `toolkit audit --fix` để gỡ "
                        "(xem trước: `toolkit audit`)")
    if others:
        problems.append(f"bảng tính khác trong thư mục cũng đang chia sẻ bằng đường liên kết: "
                        f"{_some(others, more=' và {n} bảng tính khác')}; gỡ trong Google "
                        "Drive (Chia sẻ → Quyền truy cập chung → Hạn chế)")
    if problems:
        return DoctorCheck("sharing", False, "; ".join(problems))
    return DoctorCheck("sharing", True, "không bảng tính nào được chia sẻ bằng đường liên kết; "
                       "ai khác có quyền vào từng xã: `toolkit audit`")


def _some(names: list[str], shown: int = 5, more: str = " và {n} mục khác") -> str:
    more = more.format(n=len(names) - shown) if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


#: How the checks name the spreadsheets, and the setting that holds each one's id.
FILES = {"template": ("bảng tính mẫu", "template_spreadsheet_id"),
         "rollup spreadsheet": ("bảng tổng hợp", "rollup_spreadsheet_id")}


def _file(http, what: str, file_id: str, editor: str | None = None) -> DoctorCheck:
    """A spreadsheet the toolkit reads; with ``editor``, one it writes, which that account
    must be able to edit (Drive's ``capabilities.canEdit``): shared as Viewer or Commenter,
    it would pass a read and fail the first publication with 403."""
    title, setting = FILES[what]
    meta = _get(http, file_id, "id,name,mimeType,trashed,capabilities(canEdit)")
    if isinstance(meta, str):
        return DoctorCheck(what, False, f"{title} ([google] {setting}): {meta}")
    name = meta.get("name")
    if meta.get("mimeType") != SPREADSHEET_MIME or meta.get("trashed"):
        return DoctorCheck(what, False, f"[google] {setting} = {file_id} không phải một bảng "
                           "tính, hoặc đang nằm trong thùng rác: hãy khôi phục nó, hoặc ghi id "
                           "của một bảng tính khác")
    if editor and not meta.get("capabilities", {}).get("canEdit"):
        return DoctorCheck(what, False, f"{title} '{name}' ({file_id}) chỉ được chia sẻ cho "
                           f"{editor} quyền xem hoặc bình luận, nên lần công bố đầu tiên sẽ bị "
                           f"Google từ chối (403): mở '{name}' trong Google Sheets → Chia sẻ "
                           f"(Share) → đổi quyền của {editor} thành Người chỉnh sửa (Editor)")
    rights = f"; {editor} sửa được" if editor else ""
    return DoctorCheck(what, True, f"{title} '{name}' mở được{rights}")


def _get(http, file_id: str, fields: str) -> dict | str:
    """Drive files.get, or the message saying why it failed."""
    from gspread.exceptions import APIError

    try:
        return http.request("get", f"{DRIVE_FILES}/{file_id}",
                            params={"fields": fields, "supportsAllDrives": True}).json()
    except APIError as exc:
        if exc.code == 404:
            return (f"không tìm thấy {file_id}: hãy kiểm tra id, và chia sẻ nó (hoặc Shared "
                    "Drive chứa nó) với tài khoản của toolkit")
        return _api_fix("Google Drive API", exc)
    except ToolkitError as exc:
        return str(exc)


def _api_fix(api: str, exc) -> str:
    message = str(exc.error.get("message", "")) or f"HTTP {exc.code}"
    if "has not been used" in message or "disabled" in message or "SERVICE_DISABLED" in str(
            exc.error):
        return (f"{api} chưa được bật cho dự án của khoá này: hãy bật trong Google Cloud "
                f"console (APIs & Services → Library). Google nói: {message}")
    return f"{api} trả lời {exc.code}: {message}"


def auth_login(client_secrets_path: str | Path, token_path: str | Path, *,
               open_browser: bool = True) -> Path:
    """Sign a person in with the OAuth installed-app flow and save authorized_user.json.

    For offices without a Shared Drive: workbooks are then owned by that person. The token is
    written readable by its owner only; point ``[google] credentials`` at it.
    """
    try:
        from google_auth_oauthlib.flow import InstalledAppFlow
    except ImportError:
        raise ConfigError("đăng nhập cần gói google-auth-oauthlib: hãy chạy "
                          "`pip install google-auth-oauthlib`, hoặc dùng khoá tài khoản dịch "
                          "vụ với một thư mục trong Shared Drive") from None
    from toolkit.backends.google.http import CONSENT_SCREEN_FIX, SCOPES

    secrets = Path(client_secrets_path)
    if not secrets.is_file():
        raise ConfigError(f"không tìm thấy {secrets}: trong Google Cloud console (APIs & "
                          "Services → Credentials → Create credentials → OAuth client ID), tạo "
                          "OAuth client ID loại 'Desktop app' rồi tải tệp JSON của nó về đó")
    from oauthlib.oauth2.rfc6749.errors import OAuth2Error

    try:
        client = json.loads(secrets.read_text(encoding="utf-8"))
        parts = client.values() if isinstance(client, dict) else ()
        remember(*(part.get("client_secret") for part in parts if isinstance(part, dict)))
        flow = InstalledAppFlow.from_client_secrets_file(str(secrets), scopes=list(SCOPES))
    except ValueError as exc:
        raise ConfigError(f"{secrets} không phải tệp OAuth client secret ({redact(exc)}): "
                          "hãy tải lại tệp JSON của OAuth client ID loại 'Desktop app'"
                          ) from None
    try:
        # Without prompt="consent" Google gives a refresh token only on a person's first
        # sign-in with this client; a repeat sign-in would save a file that cannot renew.
        creds = flow.run_local_server(
            port=0, open_browser=open_browser, prompt="consent", access_type="offline",
            success_message="Đăng nhập thành công — có thể đóng cửa sổ này.")
    except OAuth2Error as exc:   # its text may quote the redirect address with the code
        denied = getattr(exc, "error", "") == "access_denied"
        raise ConfigError(f"Google không hoàn tất việc đăng nhập ({redact(exc)}). "
                          + (f"{CONSENT_SCREEN_FIX}. " if denied else "")
                          + "Hãy chạy lại `toolkit auth login`") from None
    remember(creds.token, creds.refresh_token, getattr(creds, "client_secret", None))
    if not creds.refresh_token:
        raise ConfigError(f"Google cho đăng nhập nhưng không trả về refresh token, nên toolkit "
                          "sẽ không tự gia hạn được phiên đăng nhập; chưa ghi gì vào "
                          f"{token_path}. Hãy gỡ quyền của ứng dụng ở "
                          "https://myaccount.google.com/permissions rồi chạy lại "
                          "`toolkit auth login`")
    token = Path(token_path)
    token.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(token, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        # to_json() leaves out "type", by which Google's libraries and ours tell a person's
        # saved sign-in from a service-account key.
        handle.write(json.dumps({"type": "authorized_user", **json.loads(creds.to_json())},
                                indent=2))
    return token
