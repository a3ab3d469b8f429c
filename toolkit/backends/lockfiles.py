"""Who has a commune's workbook open: the lock files Excel and LibreOffice leave beside it, and
the locks the operating system keeps.

A workbook open on someone's screen must not be rewritten under them: they would save over
the toolkit's write, or lose what they typed. These files belong to the person; the toolkit
reads them and never touches them.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Bytes read from a lock file: Excel's is 165, LibreOffice's one short line.
_LOCK_READ = 512


def lock_files(path: Path) -> list[Path]:
    """Lock files beside ``path``: Excel's owner file ``~$name`` and LibreOffice's
    ``.~lock.name#``."""
    names = (f"~${path.name}", f".~lock.{path.name}#")
    return [p for p in (path.with_name(n) for n in names) if p.is_file()]


def holder(path: Path) -> str | None:
    """Who has the workbook open, in words a province officer can pass on; None when nobody
    seems to."""
    for lock in lock_files(path):
        who = _owner(lock)
        place = f"trên máy của {who}" if who else "trên một máy"
        return (f"sổ đang mở {place}{_since(lock)} (tệp khoá {lock.name} nằm cạnh sổ); hãy "
                "nhắc xã lưu và đóng sổ — nếu không ai mở sổ, tệp khoá còn sót sau khi "
                f"Excel/LibreOffice bị tắt ngang: xoá tệp {lock.name}")
    if held_by_os(path):
        return ("sổ đang được một chương trình khác giữ (hệ điều hành báo đang dùng); hãy "
                "nhắc xã lưu và đóng sổ")
    return None


def _since(lock: Path) -> str:
    """When the lock file was made: a lock from yesterday is one a crash left behind."""
    from datetime import datetime

    from toolkit.periods import VN_TZ

    try:
        made = datetime.fromtimestamp(lock.stat().st_mtime, VN_TZ)
    except (OSError, ValueError):
        return ""
    return f" từ {made:%H:%M %d/%m/%Y}"


def _owner(lock: Path) -> str | None:
    try:
        data = lock.read_bytes()[:_LOCK_READ]
    except OSError:
        return None
    if lock.name.startswith("~$"):
        return excel_owner(data)
    return libreoffice_owner(data.decode("utf-8", "replace"))


def excel_owner(data: bytes) -> str | None:
    """The user name in an Office owner file: one length byte and the name in the Windows
    code page, padded to byte 54 or 55, then a two-byte length and the name in UTF-16-LE
    (the layout LibreOffice's msodocumentlockfile.cxx reads, tested on Office 2016)."""
    if not data or not 0 < data[0] <= 52:
        return None
    for at in (55, 54):              # Excel and PowerPoint; Word
        if len(data) < at + 2:
            continue
        size = data[at] | data[at + 1] << 8
        text = data[at + 2:at + 2 + 2 * size]
        if 0 < size <= 52 and len(text) == 2 * size:
            name = text.decode("utf-16-le", "replace").strip()
            if name and name.isprintable():
                return name
    name = data[1:1 + data[0]].decode("cp1252", "replace").strip()
    return name or None


def libreoffice_owner(text: str) -> str | None:
    """``name,system user,host,time,profile;`` — the name set in LibreOffice's options, else
    the system user, with the computer's name."""
    fields = [f.replace("\\,", ",").strip() for f in text.split(";")[0].split(",")]
    fields += [""] * 5
    who = fields[0] or fields[1]
    host = fields[2]
    if who and host:
        return f"{who} (máy {host})"
    return who or (f"máy {host}" if host else None)


def held_by_os(path: Path) -> bool:
    """True when the operating system says another program holds the file: a record lock
    (LibreOffice takes one on what it edits) on POSIX; a sharing violation on Windows, where
    Excel opens its files denying writes to others."""
    if os.name == "nt":
        try:
            fd = os.open(path, os.O_RDWR)
        except PermissionError:
            return True
        except OSError:
            return False
        os.close(fd)
        return False
    import fcntl

    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)        # closing releases the probe's own lock
    return False
