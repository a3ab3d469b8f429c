"""`toolkit doctor` and `toolkit auth login`: set up Google access and check it end to end.

Google set-up fails in a handful of ways — a key file in the wrong place, an API not enabled, a
service account asked to own files, a folder it cannot write to — and each shows up later as a
cryptic 403 in the middle of a province run. The doctor tries each step once, in order, and
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
    """Check credentials, sign-in, APIs, the Shared Drive folder, the rollup spreadsheet and
    the commune workbooks.

    ``communes`` are (code, display name) pairs from the registry and ``workbooks`` the
    ledger's commune code → spreadsheet id; with them, one Drive listing tells which workbooks
    went missing. ``adapter`` routes the checks to a fake Google in tests. Stops at the first
    check that makes the later ones meaningless (no credentials, no sign-in).
    """
    if config.backend != "gsheets":
        return DoctorReport((DoctorCheck(
            "backend", True, f"backend is {config.backend}: workbooks are files in "
            f"{config.workbooks_dir}; nothing to check with Google"),))
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
    for account in accounts:
        folder = _folder(account.http, google.folder_id, service)
        if len(accounts) > 1:
            folder = DoctorCheck(folder.name, folder.ok, f"{account.email}: {folder.message}")
        checks.append(folder)
    if google.template_spreadsheet_id:
        checks.append(_file(http, "template", google.template_spreadsheet_id))
    if google.rollup_spreadsheet_id:
        writer = GoogleApi(accounts).http_for(google.rollup_spreadsheet_id)
        checks.append(_file(writer, "rollup spreadsheet", google.rollup_spreadsheet_id))
    else:
        checks.append(DoctorCheck("rollup spreadsheet", False,
                                  "[google] rollup_spreadsheet_id is not set: create a "
                                  "spreadsheet in the Shared Drive folder and put its id there"))
    folder_ok = all(c.ok for c in checks if c.name == "folder")
    if communes and folder_ok:
        checks.append(_workbooks(accounts, google.folder_id, communes, workbooks or {}))
        if workbooks:
            checks.append(_link_sharing(accounts, google.folder_id, communes, workbooks))
    n = len(accounts)
    checks.append(DoctorCheck(
        "quota", True,
        f"{google.reads_per_minute} reads and {google.writes_per_minute} writes a minute per "
        f"account × {n} account(s): collecting 200 changed workbooks takes at least "
        f"{200 / (google.reads_per_minute * n):.1f} min"))
    return DoctorReport(tuple(checks))


def provisioned(config, registry) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """The registry's communes and the workbooks provisioning recorded, if there are any yet."""
    from toolkit.ledger import Ledger

    if config.backend != "gsheets":
        return [], {}
    communes = [(c.code, c.display_name) for c in registry.communes]
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
        return DoctorCheck(name, False, "no credentials: set [google] credentials to a "
                           "service-account key file, or set GOOGLE_APPLICATION_CREDENTIALS, "
                           "or run `toolkit auth login` for an OAuth user")
    if not path.is_file():
        return DoctorCheck(name, False, f"{path} (from {source}) does not exist: download the "
                           "service account's JSON key (Google Cloud console → IAM → Service "
                           "accounts → Keys → Add key) and save it there")
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return DoctorCheck(name, False, f"{path} is not a readable JSON key file "
                           f"({type(exc).__name__}); download it again")
    remember_file_secrets(info)
    kind = info.get("type") if isinstance(info, dict) else None
    if kind not in ("service_account", "authorized_user"):
        return DoctorCheck(name, False, f"{path} is neither a service-account key nor an "
                           "authorized_user.json (an OAuth client secret is the input of "
                           "`toolkit auth login`, not a credential)")
    who = info.get("client_email") or "an OAuth user"
    if os.name == "posix" and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        return DoctorCheck(name, False, f"{path} ({who}) can be read by other users of this "
                           f"computer: run `chmod 600 {path}`")
    return DoctorCheck(name, True, f"{path} ({kind.replace('_', ' ')}: {who})")


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
        return DoctorCheck("sign-in", False, f"cannot reach Google ({exc}); check the network "
                           "or proxy of this computer")
    who = account.email or "the OAuth user"
    return DoctorCheck("sign-in", True, f"signed in to Google Drive as {who}")


def _sheets_api(http) -> DoctorCheck:
    """A get of a spreadsheet that cannot exist: 404 means the API is enabled and answering."""
    from gspread.exceptions import APIError

    try:
        http.request("get", f"{SHEETS}/toolkit-doctor-probe", params={"fields": "spreadsheetId"})
    except APIError as exc:
        if exc.code in (400, 404):
            return DoctorCheck("Sheets API", True, "Google Sheets API is enabled")
        return DoctorCheck("Sheets API", False, _api_fix("Google Sheets API", exc))
    except ToolkitError as exc:
        return DoctorCheck("Sheets API", False, str(exc))
    return DoctorCheck("Sheets API", True, "Google Sheets API is enabled")


def _folder(http, folder_id: str | None, service_account: bool) -> DoctorCheck:
    if not folder_id:
        if service_account:
            return DoctorCheck("folder", False, "[google] folder_id is not set: a service account "
                               "cannot own files, so create a folder in a Shared Drive, add the "
                               "service account as Content manager, and put the folder's id "
                               "(after /folders/ in its address) there")
        return DoctorCheck("folder", True, "no [google] folder_id: workbooks are created in "
                           "your own My Drive")
    meta = _get(http, folder_id, "id,name,mimeType,driveId,capabilities(canAddChildren,canEdit)")
    if isinstance(meta, str):
        return DoctorCheck("folder", False, meta)
    if meta.get("mimeType") != FOLDER_MIME:
        return DoctorCheck("folder", False, f"[google] folder_id {folder_id} is not a folder")
    if service_account and not meta.get("driveId"):
        return DoctorCheck("folder", False, f"folder '{meta.get('name')}' is in someone's My "
                           "Drive: a service account cannot own files there (Drive answers "
                           "storageQuotaExceeded); use a folder in a Shared Drive")
    capabilities = meta.get("capabilities", {})
    if not capabilities.get("canAddChildren", capabilities.get("canEdit")):
        return DoctorCheck("folder", False, f"the account cannot add files to folder "
                           f"'{meta.get('name')}': make it a Content manager of the Shared Drive")
    return DoctorCheck("folder", True, f"folder '{meta.get('name')}' is writable")


def _workbooks(accounts, folder_id: str | None, communes, workbooks: dict[str, str]
               ) -> DoctorCheck:
    """One Drive listing against what provisioning recorded: which communes lost their
    workbook (deleted, moved, in the bin) and which never had one."""
    from toolkit.backends.google.api import GoogleApi
    from toolkit.backends.google.drive import Drive

    if not workbooks:
        return DoctorCheck("workbooks", True, f"none yet: `toolkit provision` creates one for "
                           f"each of the {len(communes)} communes in the registry")
    try:
        present = Drive(GoogleApi(accounts), folder_id).names()
    except ToolkitError as exc:
        return DoctorCheck("workbooks", False, f"could not list the folder: {exc}")
    lost = [f"{name} ({workbooks[code]})" for code, name in communes
            if code in workbooks and workbooks[code] not in present]
    never = [name for code, name in communes if code not in workbooks]
    problems = []
    if lost:
        problems.append(f"{len(lost)} workbook(s) are no longer in the folder (deleted, moved "
                        f"or in the bin): {_some(lost)}; restore them from the bin, or run "
                        "`toolkit provision` to make new ones")
    if never:
        problems.append(f"{len(never)} commune(s) have no workbook yet: {_some(never)}; run "
                        "`toolkit provision`")
    if problems:
        return DoctorCheck("workbooks", False, "; ".join(problems))
    return DoctorCheck("workbooks", True, f"all {len(communes)} commune workbooks are in the "
                       "folder")


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
    names = [name for code, name in communes if workbooks.get(code) in ids]
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


def _some(names: list[str], shown: int = 5, more: str = " and {n} more") -> str:
    more = more.format(n=len(names) - shown) if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _file(http, what: str, file_id: str) -> DoctorCheck:
    meta = _get(http, file_id, "id,name,mimeType,trashed")
    if isinstance(meta, str):
        return DoctorCheck(what, False, meta)
    if meta.get("mimeType") != SPREADSHEET_MIME or meta.get("trashed"):
        return DoctorCheck(what, False, f"{what} {file_id} is not a spreadsheet, or is in the bin")
    return DoctorCheck(what, True, f"{what} '{meta.get('name')}' is reachable")


def _get(http, file_id: str, fields: str) -> dict | str:
    """Drive files.get, or the message saying why it failed."""
    from gspread.exceptions import APIError

    try:
        return http.request("get", f"{DRIVE_FILES}/{file_id}",
                            params={"fields": fields, "supportsAllDrives": True}).json()
    except APIError as exc:
        if exc.code == 404:
            return (f"{file_id} not found: check the id, and share it (or its Shared Drive) "
                    "with the account")
        return _api_fix("Google Drive API", exc)
    except ToolkitError as exc:
        return str(exc)


def _api_fix(api: str, exc) -> str:
    message = str(exc.error.get("message", "")) or f"HTTP {exc.code}"
    if "has not been used" in message or "disabled" in message or "SERVICE_DISABLED" in str(
            exc.error):
        return (f"{api} is not enabled for the project of these credentials: enable it in the "
                f"Google Cloud console (APIs & Services → Library). Google says: {message}")
    return f"{api} answered {exc.code}: {message}"


def auth_login(client_secrets_path: str | Path, token_path: str | Path, *,
               open_browser: bool = True) -> Path:
    """Sign a person in with the OAuth installed-app flow and save authorized_user.json.

    For offices without a Shared Drive: workbooks are then owned by that person. The token is
    written readable by its owner only; point ``[google] credentials`` at it.
    """
    try:
        from google_auth_oauthlib.flow import InstalledAppFlow
    except ImportError:
        raise ConfigError("signing in needs google-auth-oauthlib: run "
                          "`pip install google-auth-oauthlib`, or use a service-account key "
                          "with a Shared Drive folder instead") from None
    from toolkit.backends.google.http import CONSENT_SCREEN_FIX, SCOPES

    secrets = Path(client_secrets_path)
    if not secrets.is_file():
        raise ConfigError(f"{secrets} not found: in the Google Cloud console create an OAuth "
                          "client ID of type 'Desktop app' and download its JSON there")
    from oauthlib.oauth2.rfc6749.errors import OAuth2Error

    try:
        client = json.loads(secrets.read_text(encoding="utf-8"))
        parts = client.values() if isinstance(client, dict) else ()
        remember(*(part.get("client_secret") for part in parts if isinstance(part, dict)))
        flow = InstalledAppFlow.from_client_secrets_file(str(secrets), scopes=list(SCOPES))
    except ValueError as exc:
        raise ConfigError(f"{secrets} is not an OAuth client secrets file "
                          f"({redact(exc)})") from None
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
