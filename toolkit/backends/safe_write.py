"""Writing into a workbook a person edits without ever losing their save (DESIGN.md §4).

The never-clobber protocol, step by step:

1. ``read``: refuse a workbook someone has open (a lock file beside it, or the OS says so);
   take its bytes between two equal modification stamps, and their hash.
2. ``replace``: write the new workbook to a temporary file in the same folder, stamped with
   the run's clock; move the original aside (an atomic rename to a hidden name in the same
   folder); check that what was moved aside is byte for byte what was read — a save that
   landed since is in it, so the original goes back and the write is deferred; then give the
   new file the workbook's name without replacing anything (a save that appeared meanwhile
   keeps the name, and the write is deferred).
3. The new file's stamp is returned — for the ledger to record as the toolkit's own — only if
   the file under the name is still, byte for byte, the one put there. A save that replaced
   or rewrote it afterwards has another stamp, so the next collect reads it.

A run killed between two steps leaves hidden files that ``tidy`` puts right on the next run:
a workbook moved aside and never replaced goes back under its name.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from toolkit.backends.lockfiles import holder
from toolkit.errors import WorkbookBusy, WorkbookError

#: Called as ``HOOK(step, path)`` between the protocol's steps ("read", "aside", "swap",
#: "placed"); None in production. Tests set it to make another process save at that moment.
HOOK: Callable[[str, Path], None] | None = None
#: The hidden names the protocol uses beside a workbook, and those of earlier versions'
#: temporary files (tempfile.mkstemp(prefix=".~", suffix=".xlsx")). Nothing else is ever
#: removed: a person's lock files (``~$…``, ``.~lock.…#``) do not match.
_OURS = re.compile(r"^\.~toolkit-(?P<kind>new|aside)-[0-9a-f]{8}-(?P<name>.+)$")
_LEGACY = re.compile(r"^\.~[a-z0-9_]{8}\.xlsx$")
#: A leftover younger than this may belong to a run still going (when the caller does not
#: hold the province's lock).
LEFTOVER_AGE = 10 * 60
#: errno values of a filesystem that has no hard links (FAT, exFAT, some SMB and FUSE mounts).
_NO_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.ENOSYS,
             errno.EMLINK, errno.EACCES}
log = logging.getLogger("toolkit")


@dataclass(frozen=True)
class Original:
    """A workbook as read just before a write: the bytes the new file is built from."""

    path: Path
    data: bytes
    digest: str
    stamp: int       # st_mtime_ns while it was read


def read(path: Path) -> Original:
    """The workbook's bytes, unless someone has it open (WorkbookBusy)."""
    _refuse_if_open(path)
    original = snapshot(path)
    _step("read", path)
    return original


def snapshot(path: Path) -> Original:
    """The workbook's bytes, taken between two equal modification stamps.

    Equal stamps do not prove a whole file: a save that rewrites the file where it is
    (LibreOffice, a sync client) can be caught halfway with the stamp of the save before.
    Such bytes do not open as a workbook; ``settled`` then tells a save in progress from a
    damaged file."""
    for _ in range(3):
        before = _mtime(path)
        try:
            data = path.read_bytes()
        except FileNotFoundError:       # renamed over or away this instant: look again
            continue
        if _mtime(path) == before:
            return Original(path, data, _digest(data), before)
    raise WorkbookBusy(f"{path.name}: sổ đang được lưu liên tục trong lúc đọc; sẽ đọc lại ở "
                       "lượt sau")


def settled(path: Path, data: bytes, pause: float = 0.2) -> bool:
    """True when ``path`` still holds exactly ``data`` a moment later: bytes that do not open
    as a workbook are then the file itself, not a save caught halfway."""
    time.sleep(pause)
    try:
        return _digest_of(path) == _digest(data)
    except OSError:
        return False


def replace(original: Original, save: Callable[[Path], None], mtime_ns: int) -> str | None:
    """Put the workbook ``save`` writes in place of ``original``; the new file's stamp, or
    None when a person's save landed meanwhile (it is kept, and the next collect reads it).

    Raises WorkbookBusy when someone opened the workbook meanwhile, WorkbookError when the
    folder refuses the write; the workbook is untouched then."""
    path = original.path
    new = _hidden(path, "new")
    try:
        mine = _write_new(path, new, save, mtime_ns)
        _refuse_if_open(path)
        _step("aside", path)
        aside = _move_aside(path)
        if aside is None or not _swap(original, aside, new):
            return None
        _step("placed", path)
        return _stamp_if_still(path, mine)
    except OSError as exc:          # a share that drops, a disk that fills: the name is kept
        raise WorkbookError(f"{path.name}: thư mục {path.parent} từ chối một bước ghi "
                            f"({exc.strerror or exc}); sổ của xã được giữ nguyên, lượt chạy "
                            "sau ghi lại") from exc
    finally:
        new.unlink(missing_ok=True)


def create(path: Path, save: Callable[[Path], None], mtime_ns: int) -> None:
    """A new workbook under ``path``, unless a file of that name appeared meanwhile."""
    path.parent.mkdir(parents=True, exist_ok=True)
    new = _hidden(path, "new")
    try:
        _write_new(path, new, save, mtime_ns)
        if not place(new, path):
            raise WorkbookBusy(f"{path.name}: một tệp cùng tên vừa xuất hiện trong lúc tạo sổ; "
                               "sổ đó được giữ nguyên")
    finally:
        new.unlink(missing_ok=True)


def place(source: Path, target: Path) -> bool:
    """Give ``source``'s file the name ``target`` unless something already has that name
    (False then): never replaces. ``source`` may keep its name too (a hard link)."""
    if os.name == "nt":
        try:                      # MoveFileEx without REPLACE_EXISTING fails on a taken name
            os.rename(source, target)
        except FileExistsError:
            return False
        return True
    try:
        os.link(source, target)
        return True
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in _NO_LINKS:
            raise
    try:
        return _rename_noreplace(source, target)
    except _NoAtomicNoReplace:
        return _copy_exclusive(source, target)


def tidy(folder: Path, *, everything: bool, now: float | None = None) -> list[str]:
    """Put right what interrupted writes left in ``folder``: a workbook moved aside whose name
    is free goes back; other leftovers of the toolkit's own are removed. Only those older than
    LEFTOVER_AGE unless ``everything`` (the caller holds the province's lock, so no other run
    is writing). Returns what was done, one line each."""
    now = time.time() if now is None else now
    done: list[str] = []
    for entry in _entries(folder):
        ours = _OURS.match(entry.name)
        if not ours and not _LEGACY.match(entry.name):
            continue
        try:
            if not everything and now - entry.stat().st_mtime < LEFTOVER_AGE:
                continue
            if ours and ours["kind"] == "aside":
                done.append(_restore(entry, folder / ours["name"]))
            entry.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("không dọn được tệp tạm %s: %s", entry, exc)
    return done


def _restore(aside: Path, path: Path) -> str:
    """A workbook left aside goes back under its name; if a newer file has the name, under a
    name of its own beside it: it may hold a save the ledger has not read, so it is never
    removed (collect then names both files and says what to do)."""
    if place(aside, path):
        return (f"{path.name}: đã đặt lại sổ về tên cũ (một lần ghi bị ngắt giữa chừng đã để "
                "sổ sang bên)")
    if _same_bytes(aside, path):
        return f"{path.name}: đã xoá một bản sao ẩn trùng với sổ (một lần ghi bị ngắt)"
    for n in range(1, 100):
        kept = path.with_name(f"{path.stem} (bản giữ lại {n}){path.suffix}")
        if place(aside, kept):
            return (f"{path.name}: sổ đã có bản lưu mới hơn; bản cũ được giữ lại tên "
                    f"'{kept.name}' — nếu trong đó có số liệu chưa có trong sổ, hãy chép sang "
                    f"'{path.name}' rồi xoá '{kept.name}'")
    raise OSError(errno.EEXIST, f"{path.name}: đã có 99 bản '(bản giữ lại N)' của sổ; hãy chép "
                  "số liệu cần giữ sang sổ rồi xoá các bản đó", os.fspath(aside))


def _same_bytes(a: Path, b: Path) -> bool:
    try:
        return _digest_of(a) == _digest_of(b)
    except OSError:
        return False


# -- the steps -------------------------------------------------------------------------------

def _write_new(path: Path, new: Path, save: Callable[[Path], None], mtime_ns: int) -> tuple:
    """Save the new workbook beside the original, stamped; what identifies it afterwards."""
    try:
        save(new)
        os.utime(new, ns=(mtime_ns, mtime_ns))
        return _identity(new)
    except OSError as exc:
        raise WorkbookError(f"{path.name}: không ghi được vào thư mục {path.parent} "
                            f"({exc.strerror or exc}); kiểm tra quyền ghi và chỗ trống trên ổ "
                            "đĩa — sổ của xã không bị đụng tới") from exc


def _move_aside(path: Path) -> Path | None:
    aside = _hidden(path, "aside")
    try:
        os.rename(path, aside)          # the aside name is new: nothing is replaced
    except FileNotFoundError:
        log.info("%s: sổ đã bị chuyển hoặc đổi tên trong lúc công cụ ghi; không ghi", path)
        return None
    except PermissionError as exc:      # Windows: another program holds the file
        raise WorkbookBusy(f"{path.name}: sổ đang mở trên một máy (hệ điều hành không cho "
                           "đổi tên); hãy nhắc xã lưu và đóng sổ") from exc
    return aside


def _swap(original: Original, aside: Path, new: Path) -> bool:
    """With the original aside: the new file takes the workbook's name if what was moved aside
    is what was read, else the original goes back. Whatever goes wrong, the name is never
    left empty."""
    path = original.path
    try:
        if _digest_of(aside) != original.digest:
            log.info("%s: có người lưu sổ trong lúc công cụ ghi; để nguyên bản của họ", path)
            _put_back(aside, path)
            return False
        _step("swap", path)
        placed = place(new, path)
    except BaseException:
        _put_back(aside, path)
        raise
    if not placed:
        log.info("%s: có người lưu sổ trong lúc công cụ ghi; giữ bản của họ", path)
    aside.unlink()          # what was read, and so is in the ledger already
    return placed


def _put_back(aside: Path, path: Path) -> None:
    if place(aside, path):
        aside.unlink(missing_ok=True)
    else:
        _drop_aside(aside, path)


def _drop_aside(aside: Path, path: Path) -> None:
    """A save landed in the file moved aside, and a newer one took the name meanwhile: the
    newer one is the person's latest. The older stays for ``tidy``, in case someone looks
    for it."""
    log.warning("%s: một bản lưu mới hơn đã mang tên sổ; bản cũ được giữ tạm là %s đến lần "
                "chạy sau", path, aside.name)


def _stamp_if_still(path: Path, mine: tuple) -> str | None:
    """The stamp of the file under ``path`` if it is still, byte for byte, the one put there
    (checked between two equal stats, so a save cannot slip in while it is hashed)."""
    try:
        before = _key(path.stat())
        same = _identity(path) == mine and _key(path.stat()) == before
    except FileNotFoundError:
        return None
    return str(before[2]) if same else None


def _step(name: str, path: Path) -> None:
    if HOOK is not None:
        HOOK(name, path)


# -- small helpers ---------------------------------------------------------------------------

def _refuse_if_open(path: Path) -> None:
    if not path.exists():
        raise WorkbookError(f"{path.name} không còn trong {path.parent}")
    reason = holder(path)
    if reason:
        raise WorkbookBusy(f"{path.name}: {reason}")


def _hidden(path: Path, kind: str) -> Path:
    return path.with_name(f".~toolkit-{kind}-{secrets.token_hex(4)}-{path.name}")


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError as exc:
        raise WorkbookError(f"{path.name} không còn trong {path.parent}") from exc


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _digest_of(path: Path) -> str:
    return _digest(path.read_bytes())


def _identity(path: Path) -> tuple:
    """Size, stamp and hash: what tells the toolkit's file from a save made over it."""
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns, _digest_of(path)


def _key(stat: os.stat_result) -> tuple:
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def _entries(folder: Path) -> list[Path]:
    try:
        return [folder / name for name in os.listdir(folder) if name.startswith(".~")]
    except FileNotFoundError:
        return []


# -- no-replace renames where there are no hard links -----------------------------------------

class _NoAtomicNoReplace(OSError):
    """This system or filesystem has no atomic rename that refuses a taken name."""


def _rename_noreplace(source: Path, target: Path) -> bool:
    """renameat2(RENAME_NOREPLACE) on Linux, renamex_np(RENAME_EXCL) on macOS: an atomic
    rename that fails on a taken name. _NoAtomicNoReplace where neither exists or the
    filesystem refuses the flag."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    src, dst = os.fsencode(source), os.fsencode(target)
    if sys.platform == "linux" and hasattr(libc, "renameat2"):
        result = libc.renameat2(-100, src, -100, dst, 1)   # AT_FDCWD, RENAME_NOREPLACE
    elif sys.platform == "darwin" and hasattr(libc, "renamex_np"):
        result = libc.renamex_np(src, dst, 4)               # RENAME_EXCL
    else:
        raise _NoAtomicNoReplace(sys.platform)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code == errno.EEXIST:
        return False
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        raise _NoAtomicNoReplace(code, os.strerror(code), os.fspath(target))
    raise OSError(code, os.strerror(code), os.fspath(target))


def _copy_exclusive(source: Path, target: Path) -> bool:
    """Last resort: create ``target`` exclusively (O_EXCL holds on every filesystem that
    shares files, SMB included) and copy into it, with ``source``'s stamp."""
    data = source.read_bytes()
    stamp = source.stat().st_mtime_ns
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0))
    except FileExistsError:
        return False
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.utime(target, ns=(stamp, stamp))
    except BaseException:
        os.unlink(target)           # never leave a half copy under a workbook's name
        raise
    return True
