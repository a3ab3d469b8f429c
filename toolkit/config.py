"""toolkit.toml → a frozen Config, checked completely before anything runs."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from importlib.resources import files
from pathlib import Path

from toolkit.errors import ConfigError, FileProblems
from toolkit.known import Lines, Unknown, check_names, describe, meant

CONFIG_NAME = "toolkit.toml"
BACKENDS = ("xlsx", "gsheets")
# The shipped report templates: sheet_templates/ at the repository's top level, installed as the
# package toolkit.sheet_templates (pyproject's package-dir). Found through the import system, so a
# wheel install and an editable one both resolve it; installs unpack to disk, hence a real Path.
PACKAGED_TEMPLATES = Path(files("toolkit.sheet_templates"))


@dataclass(frozen=True)
class GoogleConfig:
    """``[google]``: where credentials are, where workbooks live, and the quota to stay under.

    Only paths and ids are kept here, never key material: the files are read when the store
    opens, and nothing in them is ever printed.
    """

    credentials: Path | None = None          # service-account key or OAuth authorized_user.json
    folder_id: str | None = None             # Shared Drive folder holding commune workbooks
    rollup_spreadsheet_id: str | None = None
    template_spreadsheet_id: str | None = None
    reads_per_minute: int = 60
    writes_per_minute: int = 60
    accounts: tuple[Path, ...] = ()          # more credential files; workbooks spread over them
    notify_editors: bool = False             # Drive e-mails editors when a workbook is shared
    settle_minutes: int = 10                 # modifiedTime this recent is not trusted to skip
    credentials_source: str = ""             # "[google] credentials" or the environment variable


@dataclass(frozen=True)
class SmtpConfig:
    """``[smtp]``: where reminder e-mails go out. The password is read from an environment
    variable named here, never from the file, and never printed."""

    host: str = ""
    port: int = 587
    sender: str = ""
    username: str = ""
    password_env: str = "TOOLKIT_SMTP_PASSWORD"
    security: str = "starttls"     # starttls | ssl | none (none only for a local relay)

    @property
    def configured(self) -> bool:
        return bool(self.host and self.sender)


@dataclass(frozen=True)
class Config:
    path: Path
    province: str
    province_code: int
    backend: str
    registry_path: Path
    templates_dir: Path
    workbooks_dir: Path
    ledger_path: Path
    archive_dir: Path
    campaign_start: date
    campaign_end: date
    grace_minutes: int
    google: GoogleConfig = GoogleConfig()
    smtp: SmtpConfig = SmtpConfig()
    #: The province's table of communes merged in 2025 (old code → 2025 code), when its
    #: series began before the merger; None: every commune reported under its 2025 code.
    merged_path: Path | None = None

    @property
    def root(self) -> Path:
        return self.path.parent


def find_config(explicit: str | Path | None) -> Path:
    """``--config``, else $TOOLKIT_CONFIG, else ./toolkit.toml."""
    candidate = explicit or os.environ.get("TOOLKIT_CONFIG") or CONFIG_NAME
    path = Path(candidate)
    if path.is_dir():
        path = path / CONFIG_NAME
    if not path.is_file():
        raise ConfigError(
            f"không có tệp cấu hình tại {path}: hãy chạy `toolkit init DIR --province "
            "\"Lạng Sơn\"` trước, hoặc dùng --config DIR/toolkit.toml"
        )
    return path


PATH_KEYS = ("registry", "templates", "workbooks", "ledger", "archive", "merged")
# Every name toolkit.toml may hold; any other is reported with the name most likely meant.
# [google] and [smtp] follow their dataclasses, so a setting added there is known here too.
SCHEMA: dict[str, dict[str, None]] = {
    "province": {"name": None, "code": None},
    "backend": {"kind": None},
    "campaign": {"start": None, "end": None},
    "timeliness": {"grace_minutes": None},
    "paths": dict.fromkeys(PATH_KEYS),
    "google": dict.fromkeys(k for k in GoogleConfig.__dataclass_fields__
                            if k != "credentials_source"),
    "smtp": dict.fromkeys(SmtpConfig.__dataclass_fields__),
}


@dataclass(frozen=True)
class ConfigCheck:
    """toolkit.toml read and checked: the Config when it has no problem, and where the
    registry and templates are whenever the file says so clearly, so they can be checked in
    the same run even when another setting is wrong."""

    path: Path
    config: Config | None
    problems: FileProblems | None
    registry_path: Path | None     # None: cannot tell until toolkit.toml is fixed
    templates_dir: Path | None


def load_config(explicit: str | Path | None = None) -> Config:
    check = check_config(explicit)
    if check.problems is not None:
        raise ConfigError.of_files([check.problems])
    return check.config


def check_config(explicit: str | Path | None = None) -> ConfigCheck:
    """Read toolkit.toml and list every problem in it; raise only when there is no file."""
    path = find_config(explicit)
    try:
        text = path.read_text(encoding="utf-8-sig")    # Notepad may start it with a BOM
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        how = ("hãy lưu tệp ở dạng UTF-8" if isinstance(exc, UnicodeDecodeError)
               else "hãy sửa dòng được nêu")
        unreadable = FileProblems(path, (f"không phải TOML hợp lệ ({exc}); {how}",),
                                  unreadable=True)
        return ConfigCheck(path, None, unreadable, None, None)
    problems: list[str] = [_unknown_setting(u) for u in check_names(data, SCHEMA, Lines(text))]
    root = path.parent

    kinds = {**_KIND_WORDS, date: "ngày dạng 2026-11-01"}

    def get(section: str, key: str, kind: type, default=None):
        table = data.get(section, {})
        if not isinstance(table, dict):
            problems.append(f"[{section}] phải là một mục (có tiêu đề [{section}]), "
                            f"không phải {table!r}")
            data[section] = {}
            return default
        value = table.get(key, default)
        wrong = (not isinstance(value, kind) or isinstance(value, bool) and kind is not bool
                 or kind is date and isinstance(value, datetime))
        if value is None:
            problems.append(f"[{section}] thiếu {key}")
        elif wrong:
            problems.append(f"[{section}] {key} = {value!r} phải là "
                            f"{kinds.get(kind, kind.__name__)}")
            return default
        return value

    paths = data.get("paths", {})
    clear = {key: isinstance(paths, dict) and isinstance(paths.get(key, ""), str)
             for key in PATH_KEYS}

    def folder(key: str, default: str) -> Path:
        value = get("paths", key, str, default)
        return (root / (value or default)).resolve()

    province = get("province", "name", str)
    code = get("province", "code", int)
    backend = get("backend", "kind", str, "xlsx")
    if backend not in BACKENDS:
        problems.append(f"[backend] kind = {backend!r} phải là một trong {', '.join(BACKENDS)}"
                        + meant(backend, BACKENDS))
    start = get("campaign", "start", date)
    end = get("campaign", "end", date)
    if isinstance(start, date) and isinstance(end, date) and end < start:
        problems.append(f"[campaign] end {end} sớm hơn start {start}")
    grace = get("timeliness", "grace_minutes", int, 5)
    if isinstance(grace, int) and not 0 <= grace <= 120:
        problems.append(f"[timeliness] grace_minutes = {grace} phải trong khoảng 0 đến 120")
    google = _google_section(data.get("google", {}), root, problems)
    smtp = _smtp_section(get, data.get("smtp"), problems)
    templates = get("paths", "templates", str, "")
    config = dict(
        registry_path=folder("registry", "registry.xlsx"),
        templates_dir=(root / templates).resolve() if templates else PACKAGED_TEMPLATES,
        workbooks_dir=folder("workbooks", "workbooks"),
        ledger_path=folder("ledger", "ledger.sqlite"),
        archive_dir=folder("archive", "archive"),
    )
    merged = get("paths", "merged", str, "")
    config["merged_path"] = (root / merged).resolve() if merged else None
    registry_path = config["registry_path"] if clear["registry"] else None
    templates_dir = config["templates_dir"] if clear["templates"] else None
    if problems:
        return ConfigCheck(path, None, FileProblems(path, tuple(problems)), registry_path,
                           templates_dir)
    return ConfigCheck(path, Config(
        path=path.resolve(),
        province=province,
        province_code=code,
        backend=backend,
        campaign_start=start,
        campaign_end=end,
        grace_minutes=grace,
        google=google,
        smtp=smtp,
        **config,
    ), None, registry_path, templates_dir)


def _unknown_setting(unknown: Unknown) -> str:
    """What to say about a name toolkit.toml does not know, and how to put it right."""
    names = [name for name, _ in unknown.where]
    if unknown.table:
        name = f"[{'.'.join([*names, unknown.key])}]"
    else:
        name = f"[{'.'.join(names)}] {unknown.key}" if names else unknown.key
    return describe(unknown, SCHEMA, name, noun="mục")


def _smtp_section(get, section, problems: list[str]) -> SmtpConfig:
    if section is None:
        return SmtpConfig()
    default = SmtpConfig()
    values = {key: get("smtp", key, type(getattr(default, key)), getattr(default, key))
              for key in ("host", "port", "sender", "username", "password_env", "security")}
    if values["security"] not in ("starttls", "ssl", "none"):
        problems.append(f"[smtp] security = {values['security']!r} phải là starttls, ssl "
                        "hoặc none" + meant(values["security"], ("starttls", "ssl", "none")))
    if not values["host"] or "@" not in values["sender"]:
        problems.append("[smtp] cần host = \"smtp.example.gov.vn\" và sender = "
                        "\"so-khcn@example.gov.vn\"")
    return SmtpConfig(**values)


_KIND_WORDS = {str: "chữ đặt trong ngoặc kép", int: "số nguyên", bool: "true hoặc false",
               list: "một danh sách [\"…\"]"}


def _google_section(section: dict, root: Path, problems: list[str]) -> GoogleConfig:
    """Check ``[google]`` completely; whether the files exist is `toolkit doctor`'s job."""
    if not isinstance(section, dict):
        problems.append("[google] phải là một mục gồm các thiết lập")
        return GoogleConfig()
    def value(key: str, kind: type, default):
        found = section.get(key, default)
        if found is default:
            return default
        if not isinstance(found, kind) or (isinstance(found, bool) and kind is not bool):
            problems.append(f"[google] {key} = {found!r} phải là {_KIND_WORDS[kind]}")
            return default
        return found

    def path(text: str) -> Path:
        return (root / Path(text).expanduser()).resolve()

    source = "[google] credentials"
    credentials = value("credentials", str, None)
    if not credentials and os.environ.get("GOOGLE_APPLICATION_CREDENTIALS"):
        credentials, source = os.environ["GOOGLE_APPLICATION_CREDENTIALS"], \
            "GOOGLE_APPLICATION_CREDENTIALS"
    accounts = value("accounts", list, [])
    if not all(isinstance(a, str) for a in accounts):
        problems.append("[google] accounts phải là danh sách đường dẫn tệp khoá đăng nhập")
        accounts = []
    rates = {}
    for key in ("reads_per_minute", "writes_per_minute"):
        rates[key] = value(key, int, 60)
        if not 1 <= rates[key] <= 10_000:
            problems.append(f"[google] {key} = {rates[key]} phải trong khoảng 1 đến 10000 "
                            "(hạn mức mặc định của Google là 60)")
            rates[key] = 60
    settle = value("settle_minutes", int, 10)
    if not 0 <= settle <= 120:
        problems.append(f"[google] settle_minutes = {settle} phải trong khoảng 0 đến 120")
    ids = {k: value(k, str, None) or None
           for k in ("folder_id", "rollup_spreadsheet_id", "template_spreadsheet_id")}
    return GoogleConfig(
        credentials=path(credentials) if credentials else None,
        accounts=tuple(path(a) for a in accounts),
        notify_editors=value("notify_editors", bool, False),
        settle_minutes=settle,
        credentials_source=source if credentials else "",
        **rates, **ids,
    )


def render_config(*, province: str, province_code: int, backend: str, start: date,
                  end: date, merged: str | None = None) -> str:
    """The toolkit.toml that ``toolkit init`` writes, its notes in Vietnamese: the province
    office reads and edits it. The setting names stay English, as the toolkit reads them."""
    return f"""\
# Thiết lập của bộ công cụ báo cáo các xã, phường cho một tỉnh.
# Dòng bắt đầu bằng # là ghi chú, toolkit không đọc. Sửa xong, lưu tệp (UTF-8).
[province]
# Tên và mã tỉnh theo danh mục đơn vị hành chính từ 01/7/2025.
name = "{province}"
code = {province_code}

[backend]
# xlsx: một thư mục sổ Excel, mỗi xã một sổ. gsheets: Google Sheets.
kind = "{backend}"

[campaign]
# Ngày đầu và ngày cuối của đợt báo cáo, viết năm-tháng-ngày, tính cả hai ngày:
# trang báo cáo ngày có sẵn một dòng cho mỗi ngày trong khoảng này.
start = {start.isoformat()}
end = {end.isoformat()}

[timeliness]
# Số phút sau giờ hạn mà số liệu đọc được từ Google Sheets vẫn tính là đúng hạn. Chỉ dùng
# cho Google Sheets; sổ .xlsx ghi chính xác giờ lưu tệp nên không cần gia hạn.
grace_minutes = 5

{_GOOGLE_TEMPLATE if backend == "gsheets" else ""}[paths]
# Tệp và thư mục của tỉnh, tính từ thư mục chứa tệp toolkit.toml này.
registry = "registry.xlsx"
templates = "sheet_templates"
workbooks = "workbooks"
ledger = "ledger.sqlite"
archive = "archive"
{_MERGED_TEMPLATE.format(merged=merged) if merged else ""}"""


_MERGED_TEMPLATE = """\
# Bảng xã sáp nhập năm 2025 (Mã xã cũ, Tên xã cũ, Mã xã mới, Tên xã mới, Tỷ lệ (%)):
# số liệu các xã cũ đã báo cáo được cộng vào xã mới trong bảng tổng hợp.
merged = "{merged}"
"""


_GOOGLE_TEMPLATE = """\
[google]
# Tệp khoá của tài khoản dịch vụ (service account), hoặc tệp authorized_user.json do
# `toolkit auth login` tạo. Có thể bỏ dòng này và đặt biến môi trường
# GOOGLE_APPLICATION_CREDENTIALS. Đừng để tệp khoá trong thư mục dùng chung.
credentials = "google-key.json"
# Thư mục trong Bộ nhớ dùng chung (Shared Drive) chứa sổ của các xã: phần sau /folders/
# trong địa chỉ của thư mục. Tài khoản dịch vụ không sở hữu được tệp nào nên cần thư mục
# này; hãy thêm tài khoản vào Bộ nhớ dùng chung với vai trò Quản lý nội dung (Content manager).
folder_id = ""
# Bảng tính tổng hợp của tỉnh (phần giữa /d/ và /edit trong địa chỉ), cũng chia sẻ với
# tài khoản đó.
rollup_spreadsheet_id = ""
# Số yêu cầu mỗi phút cho mỗi tài khoản: hạn mức mặc định của Google. Chỉ tăng khi Google
# đã tăng hạn mức cho tài khoản của bạn.
reads_per_minute = 60
writes_per_minute = 60
# true: Google gửi email "đã chia sẻ với bạn" cho người nhập liệu của các xã.
notify_editors = false

"""
