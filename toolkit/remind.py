"""remind: who to chase, and ready-to-paste Vietnamese messages for Zalo or e-mail.

Communes that are missing, incomplete or have errors in the day's report, grouped by district,
with the registry's contact; one message per commune (headed by its Zalo group name in the
domain's ``KTS_TenXa_TenHuyen`` style) and one for the province group.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from toolkit import wording
from toolkit.checks import error_rows
from toolkit.layout import display_period, period_phrase
from toolkit.parse import strip_diacritics
from toolkit.periods import Status
from toolkit.status import StatusReport
from toolkit.templates import ReportSpec

CHASED = tuple(s.value for s in Status if s.chased)


@dataclass(frozen=True)
class Reminders:
    report: str
    period: str
    generated_at: datetime
    communes: pd.DataFrame   # one row per commune to chase, with its message
    province_message: str
    #: The table's headers: a postal enterprise's report heads its rows as enterprises.
    headers: tuple[str, ...] = ()

    def text(self) -> str:
        """Everything, ready to paste: grouped by district, the province message last."""
        lines = []
        for district, group in self.communes.groupby("district", sort=True):
            if district:
                lines.append(f"=== {district} ===")
            for row in group.itertuples():
                contact = ", ".join(x for x in (row.contact_name, row.contact_phone) if x)
                contact = contact or "chưa có liên hệ"
                # an enterprise has no Zalo group of its own in the guidance: its name heads it
                lines.append(f"--- {row.group} ({row.commune}; {contact})" if row.group
                             else f"--- {row.commune} ({contact})")
                lines.append(row.message)
                lines.append("")
        lines.append("=== Nhóm Zalo của tỉnh ===")
        lines.append(self.province_message)
        return "\n".join(lines) + "\n"

    def sheets(self) -> list[tuple[str, list[str], list[list]]]:
        """The reminders as tables for ``--output FILE.xlsx``: codes and phones stay text."""
        rows = [[r.code, r.commune, r.district or None, r.status_label, r.errors,
                 r.contact_name or None, r.contact_phone or None, r.editors or None, r.group,
                 r.message] for r in self.communes.itertuples()]
        return [("Nhắc báo cáo", list(self.headers or REMINDER_HEADERS), rows),
                ("Nhóm Zalo của tỉnh", ["Tin nhắn"], [[self.province_message]])]


REMINDER_HEADERS = ["Mã xã", "Xã, phường", "Huyện (cũ)", "Tình trạng", "Số lỗi",
                    "Người liên hệ", "Điện thoại", "Email người nhập liệu", "Nhóm Zalo",
                    "Tin nhắn"]


def remind(workspace, spec: ReportSpec, day, now: datetime) -> Reminders:
    """Reminders for one report and day, from the ledger as it stands now."""
    from toolkit.postal import reporters_of
    from toolkit.status import period_status
    from toolkit.validate import find_issues

    versions = workspace.report_versions(spec)
    reporters = reporters_of(workspace.registry, spec)     # communes, or postal enterprises
    status = period_status(spec, reporters, versions, day, as_of=now,
                           grace=workspace.grace, campaign=workspace.campaign)
    issues = find_issues(spec, reporters, versions, day, now, workspace.campaign)
    return build_reminders(spec, reporters, status, issues, now)


def write_reminders(reminders: Reminders, folder) -> Path:
    """Keep what was sent: reminders/<report>_<period>_<HHMM>.txt beside the ledger."""
    path = Path(folder) / f"{reminders.report}_{reminders.period}_{reminders.generated_at:%H%M}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(reminders.text(), encoding="utf-8")
    return path


@dataclass(frozen=True)
class Sent:
    sent: tuple[tuple[str, str], ...]      # (commune, recipients)
    skipped: tuple[tuple[str, str], ...]   # (commune, why)


def send_reminders(reminders: Reminders, smtp, password: str | None, *,
                   title: str) -> Sent:
    """One e-mail per commune to its editors, over one SMTP connection.

    A commune without editors, or whose address the server refuses, is skipped and named;
    the others still go out.
    """
    import smtplib
    import ssl
    from email.message import EmailMessage
    from email.utils import formatdate, make_msgid

    sent, skipped = [], []
    context = ssl.create_default_context()
    client = (smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=30, context=context)
              if smtp.security == "ssl" else smtplib.SMTP(smtp.host, smtp.port, timeout=30))
    with client:
        if smtp.security == "starttls":
            client.starttls(context=context)
        if smtp.username:
            client.login(smtp.username, password or "")
        for row in reminders.communes.itertuples():
            recipients = [e for e in row.editors.split("; ") if e]
            if not recipients:
                skipped.append((row.commune, f"{row.commune}: registry chưa có email người nhập "
                                             "liệu; điền cột email rồi gửi lại"))
                continue
            message = EmailMessage()
            message["From"] = smtp.sender
            message["To"] = ", ".join(recipients)
            message["Subject"] = f"Nhắc báo cáo: {title} kỳ {display_period(reminders.period)}" \
                f" — {row.commune}"
            message["Date"] = formatdate(localtime=True)
            message["Message-ID"] = make_msgid(domain=smtp.sender.split("@")[-1])
            message.set_content(f"{row.message}\n\n--\nThư nhắc tự động; vui lòng không "
                                "trả lời thư này.")
            try:
                client.send_message(message)
            except smtplib.SMTPRecipientsRefused as exc:
                skipped.append((row.commune, f"{row.commune}: máy chủ thư từ chối địa chỉ "
                                             f"{', '.join(exc.recipients)}"))
                continue
            sent.append((row.commune, ", ".join(recipients)))
    return Sent(tuple(sent), tuple(skipped))


def zalo_group(commune, enterprise=None) -> str:
    """``KTS_KienMoc_DinhLap_Viettel``: the group naming of Lạng Sơn's guidance 1966, ended by
    the postal enterprise serving the commune (``_Viettel`` or ``_Buudien``) when it has one."""
    def part(text: str) -> str:
        return "".join(w.capitalize() for w in re.split(r"\W+", strip_diacritics(text)) if w)

    parts = ["KTS", part(commune.name)] + ([part(commune.district)] if commune.district else [])
    return "_".join(parts + ([enterprise.zalo_suffix] if enterprise else []))


def build_reminders(spec: ReportSpec, registry, status: StatusReport, issues: pd.DataFrame,
                    now: datetime) -> Reminders:
    errors = _errors_of(issues, status.period)
    due = f"{status.deadline:%H:%M} ngày {status.deadline:%d/%m/%Y}"
    period = display_period(status.period)
    what = f"{spec.title.lower()} (báo cáo một lần)" if status.period == "once" else \
        f"{spec.title.lower()} kỳ {period}"
    records = []
    by_code = registry.by_code()
    # Column by column, in plain Python: a province is a handful of communes, where a
    # pandas filter and itertuples per commune were most of the reminders' cost.
    table = status.communes
    for code, state, label in zip(table["code"].tolist(), table["status"].tolist(),
                                  table["status_label"].tolist(), strict=True):
        found = errors.get(code, [])
        count = len(found)
        if state == Status.NOT_EXPECTED.value or (state not in CHASED and not count):
            continue
        commune = by_code[code]
        unit = wording.unit(commune)
        if state in (Status.MISSING.value, Status.PENDING.value):
            ask, act = f"Sở chưa nhận được {what} của {unit}", "nhập số liệu"
        elif state == Status.INCOMPLETE.value:
            ask = f"{what} của {unit} còn thiếu hoặc sai ở các ô bắt buộc"
            act = "nhập đủ và sửa số liệu"
        else:
            ask, act = f"{what} của {unit} còn {count} lỗi", "sửa số liệu"
        late = now > status.deadline
        when = "ngay hôm nay (đã quá hạn)" if late else f"trước {due}"
        cells = _cell_lines(spec, found)
        message = (
            f"Kính gửi {wording.addressee(commune)}: đến {now:%H:%M} ngày "
            f"{now:%d/%m/%Y}, {ask}. Đề nghị {unit} {act} trong sổ báo cáo của "
            f"{unit}, trang \"{spec.tab}\", {when}."
            + (f"\n{cells}\n" if cells else " ")
            + "Trang \"Kiểm tra\" trong sổ ghi rõ ô nào còn thiếu hoặc sai. Trân trọng cảm ơn!"
        )
        records.append({
            "code": code, "commune": commune.display_name,
            "district": commune.district or "", "status": state,
            "status_label": label, "errors": count,
            "contact_name": commune.contact_name or "",
            "contact_phone": commune.contact_phone or "",
            "editors": "; ".join(commune.editors),
            "group": "" if spec.keyed else zalo_group(commune, registry.enterprise_of(commune)),
            "message": message,
        })
    communes = pd.DataFrame.from_records(records, columns=[
        "code", "commune", "district", "status", "status_label", "errors", "contact_name",
        "contact_phone", "editors", "group", "message"])
    headers = REMINDER_HEADERS
    if spec.keyed:
        named = wording.reporter_headers(spec)
        headers = [named["code"], named["commune"], *REMINDER_HEADERS[2:]]
    return Reminders(spec.key, status.period, now, communes,
                     _province_message(spec, registry, status, records, now, due, period),
                     tuple(headers))


def _errors_of(issues: pd.DataFrame, period: str) -> dict[str, list[tuple]]:
    """Each commune's errors of ``period``, in the issues' order, as (tab, cell, period,
    message): the few a commune has are picked once, not filtered out of the table again
    for every commune (a nation's 3,321 of them)."""
    errors: dict[str, list[tuple]] = {}
    for code, *error in error_rows(issues, ("commune_code", "tab", "cell", "period",
                                            "message"), period):
        errors.setdefault(code, []).append(tuple(error))
    return errors


SHOWN_CELLS = 5


def bad_cells(spec: ReportSpec, errors: pd.DataFrame, shown: int = SHOWN_CELLS) -> str:
    """The cells validate found wrong, as a commune officer finds them: tab, the row's day (or
    row number), the column's header, the cell, and what is wrong. Empty when none is known."""
    return _cell_lines(spec, list(zip(*(errors[name].tolist() for name in (
        "tab", "cell", "period", "message")), strict=True)), shown)


def _cell_lines(spec: ReportSpec, errors: list[tuple], shown: int = SHOWN_CELLS) -> str:
    """``bad_cells`` of errors given as (tab, cell, period, message)."""
    located = [error for error in errors if str(error[1]) != ""]
    lines = [f"- {_where(spec, tab, cell, period)}: {message}"
             for tab, cell, period, message in located[:shown]]
    if len(located) > shown:
        lines.append(f"- … và {len(located) - shown} ô khác (xem trang \"Kiểm tra\").")
    return "\n".join(lines)


def _where(spec: ReportSpec, tab: str, cell: str, period: str) -> str:
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    try:
        letter, number = coordinate_from_string(cell)
    except ValueError:
        return f"trang \"{tab}\", ô {cell}"
    index = column_index_from_string(letter) - spec.first_field_column
    header = spec.fields[index].header if 0 <= index < len(spec.fields) else None
    line = f"dòng {number}" if period in ("once", "?") or spec.period == "once" else \
        f"dòng {period_phrase(spec.period, period)}"
    column = f", cột \"{header}\"" if header else ""
    return f"trang \"{tab}\", {line}{column} (ô {cell})"


def _province_message(spec, registry, status, records, now, due, period) -> str:
    states = status.communes["status"].tolist()
    total = sum(state != Status.NOT_EXPECTED.value for state in states)
    if not total:
        return (f"[{spec.title}] Kỳ {period} không phải kỳ báo cáo (ngày nghỉ, hoặc ngoài thời "
                "gian của đợt); các xã không phải báo cáo kỳ này.")
    units = wording.units_word(registry.communes)
    reported = sum(Status(state).reported for state in states)
    waiting = [r["commune"] for r in records if r["status"] in CHASED]
    wrong = [r["commune"] for r in records if r["status"] not in CHASED]
    which = "báo cáo một lần" if status.period == "once" else f"kỳ {period}"
    lines = [f"[{spec.title}] Đến {now:%H:%M} ngày {now:%d/%m/%Y}: {reported}/{total} {units} "
             f"đã báo cáo {which} (hạn {due})."]
    if waiting:
        lines.append(f"Chưa báo cáo hoặc chưa đủ ({len(waiting)}): {', '.join(waiting)}.")
    if wrong:
        lines.append(f"Còn lỗi cần sửa ({len(wrong)}): {', '.join(wrong)}.")
    if not waiting and not wrong:
        lines.append(f"Tất cả các {units} đã báo cáo đầy đủ. Trân trọng cảm ơn!")
    else:
        lines.append(f"Đề nghị các {units} có tên kiểm tra trang \"Kiểm tra\" trong sổ báo "
                     "cáo và hoàn thành sớm.")
    return "\n".join(lines)


def email_reminders(workspace, reminders: Reminders):
    """Send each commune's reminder through ``[smtp]``; a missing section or an unreachable
    server is a configuration problem that names what to fix."""
    import os
    import smtplib

    from toolkit.errors import ConfigError

    smtp = workspace.config.smtp
    if not smtp.configured:
        raise ConfigError(f"{workspace.config.path}: --email cần mục [smtp], ví dụ\n"
                          "[smtp]\nhost = \"smtp.example.gov.vn\"\nport = 587\n"
                          "sender = \"so-khcn@example.gov.vn\"\nusername = \"so-khcn\"\n"
                          f"và mật khẩu đặt trong biến môi trường {smtp.password_env}")
    from toolkit.redact import remember

    password = os.environ.get(smtp.password_env)
    remember(password)              # an SMTP server's error may quote what it was sent
    try:
        return send_reminders(reminders, smtp, password, title=workspace.specs[0].title)
    except (OSError, smtplib.SMTPException) as exc:
        raise ConfigError(f"không gửi được qua {smtp.host}:{smtp.port} ({exc}); hãy kiểm tra "
                          "[smtp] trong toolkit.toml và biến môi trường chứa mật khẩu") from exc
