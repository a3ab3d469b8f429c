"""`toolkit audit`: who can open each commune workbook, against the registry — and `--fix`.

A workbook someone shared "anyone with the link can edit" stays so until someone looks, and an
editor removed from the registry keeps access forever; `provision` only ever added people.
Here every workbook's sharing is compared with its commune's editors (sharing.py decides what
is wrong and what fixes it); `--fix` applies the same plan `provision` now applies.

Cost on Google: the folder listing that finds the workbooks (one per run), ONE
permissions.list per workbook and one request per change, all through the paced client.
On the xlsx folder, sharing is the file server's business: what can be checked here is
whether the folder or a workbook is writable by every account of this computer (POSIX mode
bits); the rest is said plainly in ``notes``.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from toolkit.backends.base import MakeEditor, Revoke, ShareWith
from toolkit.errors import WorkbookError
from toolkit.sharing import Problem, review

Progress = Callable[[str], None]

ROLE_NAMES = {"owner": "Chủ sở hữu", "organizer": "Người quản lý",
              "fileOrganizer": "Người quản lý nội dung", "writer": "Người chỉnh sửa",
              "commenter": "Người nhận xét", "reader": "Người xem", "write": "ghi"}
#: A finding's status: found (no --fix), planned (--fix --dry-run), fixed, failed (Google or
#: the file system refused), manual (cannot be fixed on the workbook).
STATUSES = ("found", "planned", "fixed", "failed", "manual")
NOT_CHECKABLE = ("Trên thư mục .xlsx, toolkit chỉ kiểm tra được quyền của tệp trên chính máy "
                 "này. Ai mở được thư mục dùng chung qua mạng (chia sẻ Windows/SMB, ổ mạng, "
                 "Google Drive cho máy tính…) là việc của máy chủ tệp: hãy kiểm tra danh sách "
                 "người được chia sẻ ở đó.")
NO_MODES = ("Máy này không dùng quyền tệp kiểu POSIX (Windows), nên toolkit không đọc được ai "
            "ghi được vào thư mục; hãy xem thẻ Security (Bảo mật) của thư mục.")


@dataclass(frozen=True)
class Finding:
    """One row of the audit: which workbook, who, with what role, what is wrong and what
    `--fix` does about it."""

    code: str
    commune: str
    workbook: str
    who: str
    role: str            # Drive's role (or "write" for a file mode)
    kind: str            # link, domain, extra, deleted, missing, weak, expires, world_writable
    problem: str
    fix: str
    fixable: bool
    status: str = "found"
    error: str = ""      # why a fix failed


@dataclass(frozen=True)
class AuditResult:
    backend: str
    where: str
    checked: int
    findings: tuple[Finding, ...]
    failures: tuple[tuple[str, str], ...]     # (commune, why it could not be checked)
    notes: tuple[str, ...]
    fix: bool
    dry_run: bool

    @property
    def remaining(self) -> list[Finding]:
        return [f for f in self.findings if f.status != "fixed"]

    @property
    def ok(self) -> bool:
        return not self.remaining and not self.failures


@dataclass(frozen=True)
class TightenMode:
    """Take write permission away from other accounts of this computer (chmod o-w)."""

    path: Path


def audit(registry, store, ledger, *, workbooks_dir: Path, fix: bool = False,
          dry_run: bool = False, progress: Progress | None = None) -> AuditResult:
    """Every commune workbook's sharing against the registry; with ``fix`` (and not
    ``dry_run``) the changes that make it match, one request per change."""
    if store.shares_with_editors:
        findings, failures, checked = _google(registry, store, ledger, fix and not dry_run,
                                              progress)
        notes: tuple[str, ...] = ()
    else:
        findings, failures, checked, notes = _folder(registry, store, ledger, workbooks_dir,
                                                     fix and not dry_run, progress)
    if fix and dry_run:
        findings = [replace(f, status="planned") if f.fixable else f for f in findings]
    return AuditResult(store.kind, store.where, checked, tuple(findings), tuple(failures),
                       notes, fix, dry_run)


# -- Google ---------------------------------------------------------------------------------


def _google(registry, store, ledger, apply: bool, progress):
    own = store.own_accounts()
    known = ledger.workbooks()
    aliases = ledger.email_aliases()
    findings: list[Finding] = []
    failures: list[tuple[str, str]] = []
    checked = 0
    for commune in registry.communes:
        name = commune.display_name
        record = known.get(commune.code)
        try:
            locator = store.find(commune.code, record.locator if record else None)
            problems = (review(commune.editors, store.grants(locator), own, aliases)
                        if locator else None)
        except WorkbookError as exc:
            failures.append((name, str(exc)))
            continue
        if progress:
            progress(name)
        if problems is None:
            failures.append((name, "chưa có bảng tính; chạy `toolkit provision` để tạo"))
            continue
        checked += 1
        for problem in problems:
            finding = _finding(commune, locator, problem)
            if apply and problem.action is not None:
                finding = _apply(finding, lambda w=locator, a=problem.action:
                                 store.change_sharing(w, a))
            findings.append(finding)
    return findings, failures, checked


def _apply(finding: Finding, change: Callable[[], None]) -> Finding:
    try:
        change()
    except (WorkbookError, OSError) as exc:
        return replace(finding, status="failed", error=str(exc))
    return replace(finding, status="fixed")


def _finding(commune, locator: str, problem: Problem) -> Finding:
    return Finding(commune.code, commune.display_name, locator, _who(problem), problem.role,
                   problem.kind, _problem_text(problem), _fix_text(problem),
                   problem.action is not None,
                   "found" if problem.action is not None else "manual")


def _who(problem: Problem) -> str:
    if problem.kind == "link":
        return "bất kỳ ai"
    if problem.kind == "domain":
        return f"miền {problem.who}"
    return problem.who


def _problem_text(problem: Problem) -> str:
    grant, role = problem.grant, ROLE_NAMES.get(problem.role, problem.role)
    kind = problem.kind
    if kind == "missing":
        text = "người nhập liệu trong registry chưa được chia sẻ"
    elif kind == "weak":
        text = f"người nhập liệu chỉ là {role}, không nhập được số liệu"
    elif kind == "expires":
        text = f"quyền chỉnh sửa của người nhập liệu hết hạn lúc {grant.expires}"
    elif kind == "extra":
        text = "không có trong cột editors của registry (đã bị xoá khỏi danh sách?)"
    elif kind == "deleted":
        text = "tài khoản đã bị xoá nhưng quyền vẫn còn"
    elif grant.published:
        text = "đã xuất bản lên web: ai cũng xem được bản xuất bản"
    elif kind == "link":
        text = ("công khai trên web: ai cũng tìm thấy và mở được" if grant.discoverable else
                "ai có đường liên kết cũng mở được, không cần đăng nhập")
    else:
        text = (f"mọi tài khoản thuộc miền {grant.domain} "
                + ("đều tìm thấy và mở được" if grant.discoverable
                   else "có đường liên kết đều mở được"))
    if problem.inherited:
        text += f" — thừa hưởng từ thư mục {grant.inherited_from or 'bên trên'}"
    return text


def _fix_text(problem: Problem) -> str:
    action = problem.action
    if action is None:
        return ("không gỡ được trên bảng tính: gỡ ở thư mục đó, hoặc thêm người cần xem "
                "mọi xã làm thành viên Bộ nhớ dùng chung")
    if isinstance(action, ShareWith):
        return "chia sẻ với quyền Người chỉnh sửa"
    if isinstance(action, MakeEditor):
        return "đổi thành Người chỉnh sửa, không thời hạn"
    if isinstance(action, Revoke) and problem.kind in ("link", "domain"):
        return "tắt chia sẻ bằng đường liên kết"
    return "gỡ quyền truy cập"


# -- the xlsx folder --------------------------------------------------------------------------


def _folder(registry, store, ledger, folder: Path, apply: bool, progress):
    notes = [NOT_CHECKABLE]
    if os.name != "posix":
        return [], [], 0, (*notes, NO_MODES)
    known = ledger.workbooks()
    findings: list[Finding] = []
    failures: list[tuple[str, str]] = []
    checked = 0
    if folder.is_dir() and _world_writable(folder):
        findings.append(_mode_finding("", "mọi xã", folder, "thư mục bảng tính", apply))
    for commune in registry.communes:
        record = known.get(commune.code)
        locator = store.find(commune.code, record.locator if record else None)
        if progress:
            progress(commune.display_name)
        if locator is None:
            failures.append((commune.display_name, "chưa có bảng tính; chạy `toolkit "
                                                   "provision` để tạo"))
            continue
        checked += 1
        path = folder / locator
        if _world_writable(path):
            findings.append(_mode_finding(commune.code, commune.display_name, path,
                                          "bảng tính", apply))
    return findings, failures, checked, tuple(notes)


def _world_writable(path: Path) -> bool:
    try:
        return bool(path.stat().st_mode & stat.S_IWOTH)
    except OSError:
        return False


def _mode_finding(code: str, name: str, path: Path, what: str, apply: bool) -> Finding:
    mode = stat.S_IMODE(path.stat().st_mode)
    finding = Finding(code, name, path.name, "mọi tài khoản trên máy này", "write",
                      "world_writable",
                      f"{what} cho mọi tài khoản trên máy này ghi, sửa và xoá "
                      f"(quyền {mode:o})", "bỏ quyền ghi của tài khoản khác (chmod o-w)", True)
    if not apply:
        return finding
    return _apply(finding, lambda: path.chmod(mode & ~stat.S_IWOTH))


# -- renderings -----------------------------------------------------------------------------

STATUS_NAMES = {"found": "", "planned": "sẽ sửa", "fixed": "đã sửa", "failed": "LỖI",
                "manual": "cần sửa tay"}


def as_json(result: AuditResult) -> dict:
    """The result as JSON: every field of every finding, as the library returned it."""
    return {"backend": result.backend, "where": result.where, "checked": result.checked,
            "fix": result.fix, "dry_run": result.dry_run, "ok": result.ok,
            "findings": [asdict(f) for f in result.findings],
            "failures": [{"commune": c, "message": m} for c, m in result.failures],
            "notes": list(result.notes)}


def table_lines(result: AuditResult) -> list[str]:
    """One row per finding, then what was done and what is left."""
    from toolkit.render import table

    lines = []
    if result.findings:
        headers = ["Xã", "Bảng tính", "Ai", "Quyền", "Vấn đề", "--fix sẽ"]
        if result.fix:
            headers.append("Kết quả")
        rows = []
        for f in result.findings:
            row = [f.commune, f.workbook, f.who, ROLE_NAMES.get(f.role, f.role), f.problem,
                   f.fix]
            if result.fix:
                row.append(STATUS_NAMES[f.status] + (f": {f.error}" if f.error else ""))
            rows.append(row)
        lines.append(table(headers, rows))
    lines += [f"Lưu ý: {note}" for note in result.notes]
    lines.append(summary_line(result))
    return lines


def summary_line(result: AuditResult) -> str:
    n = len(result.findings)
    head = f"audit: {result.checked} bảng tính đã kiểm tra, {n} vấn đề"
    if result.fix and result.dry_run:
        planned = sum(f.status == "planned" for f in result.findings)
        return (f"{head}; --dry-run: {planned} thay đổi sẽ được thực hiện, "
                "chưa thay đổi gì")
    if result.fix:
        fixed = sum(f.status == "fixed" for f in result.findings)
        return f"{head}; đã sửa {fixed}, còn lại {len(result.remaining)}"
    if n:
        return f"{head}; chạy `toolkit audit --fix` để sửa những gì sửa được"
    return f"{head}: quyền truy cập khớp với registry"
