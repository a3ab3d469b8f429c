"""A zip package with some members replaced, the others copied as they are stored.

An .xlsx is a zip of a dozen XML parts, and the toolkit's writes into one (Kiểm tra, a typed
row, a provisioned commune's texts, an archive's sheet data) change one to three of them.
zipfile can only write a member by compressing it, so copying the others meant decompressing
and compressing every part again: about 80% of a Kiểm tra write's time. Here an unchanged
member's compressed bytes are copied straight from the source with a fresh local header
(sizes and CRC from the central directory, so a writer's trailing data descriptors need no
reading), and only the changed members are compressed.

Only plain packages are copied so (no encryption, no zip64, stored or deflated members);
anything else goes through zipfile as before, which reads and writes any package it can open.

A package is saved with :func:`write_atomically`, so a reader never sees half of one.
"""

from __future__ import annotations

import io
import os
import struct
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

_LOCAL = struct.Struct("<4s2B4HL2L2H")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_END = struct.Struct("<4s4H2LH")
_LOCAL_SIGNATURE = b"PK\x03\x04"
_UTF8 = 0x800                # the member's name is UTF-8
_KEPT_FLAGS = 0x806          # UTF-8 name, deflate's speed option bits
_LIMIT = 0xFFFF_FFFF - 1


def replaced(data: bytes, changed: Mapping[str, bytes | None], *, level: int = 6,
             package: zipfile.ZipFile | None = None) -> bytes:
    """The zip ``data`` with each member named in ``changed`` holding its bytes there (None:
    left out), in the same order, new names added at the end; every other member's stored
    bytes copied untouched. ``level``: the changed members' compression; ``package``: ``data``
    already opened, to save parsing its directory again."""
    package = package or zipfile.ZipFile(io.BytesIO(data))
    infos = package.infolist()
    if not _plain(data, infos):
        return _rewritten(package, changed, level)
    out = io.BytesIO()
    central = []
    for info in infos:
        if info.filename in changed:
            if changed[info.filename] is None:
                continue
            entry = _compressed(info.filename, changed[info.filename], level, info)
        else:
            start = info.header_offset
            fixed = _LOCAL.unpack_from(data, start)
            begin = start + _LOCAL.size + fixed[10] + fixed[11]
            entry = (info, info.compress_type, info.CRC, info.compress_size, info.file_size,
                     data[begin:begin + info.compress_size])
        central.append(_write(out, *entry))
    for name, content in changed.items():
        if content is not None and name not in package.NameToInfo:
            central.append(_write(out, *_compressed(name, content, level, _new(name))))
    return _ended(out, central)


def packed(members: Iterable[tuple[str, bytes, int]]) -> bytes:
    """A new package of ``members`` — name, bytes, compression level — in their order, each
    stamped now: what zipfile writes for them, the way :func:`replaced` adds a member. No
    zip64: a package of 65,535 members or of 4 GB is refused (ValueError)."""
    out = io.BytesIO()
    central = [_write(out, *_compressed(name, content, level, _new(name)))
               for name, content, level in members]
    if len(central) >= 0xFFFF or out.tell() > _LIMIT:
        raise ValueError("packed writes no zip64 package")
    return _ended(out, central)


def _new(name: str) -> zipfile.ZipInfo:
    """A member's info as ``ZipFile.writestr`` makes it from a name."""
    info = zipfile.ZipInfo(name, time.localtime()[:6])
    info.external_attr = 0o600 << 16
    return info


def _ended(out: io.BytesIO, central: list[bytes]) -> bytes:
    """The package in ``out``, its central directory records ``central`` and end record
    written after its members."""
    offset = out.tell()
    for record in central:
        out.write(record)
    out.write(_END.pack(b"PK\x05\x06", 0, 0, len(central), len(central), out.tell() - offset,
                        offset, 0))
    return out.getvalue()


def _plain(data: bytes, infos: list[zipfile.ZipInfo]) -> bool:
    """Whether every member can be copied from its stored bytes."""
    if len(infos) >= 0xFFFF or len(data) > _LIMIT:
        return False
    for info in infos:
        if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED,
                                                             zipfile.ZIP_DEFLATED) \
                or max(info.compress_size, info.file_size, info.header_offset) > _LIMIT:
            return False
        if data[info.header_offset:info.header_offset + 4] != _LOCAL_SIGNATURE:
            return False
    return True


def _compressed(name: str, content: bytes, level: int, like: zipfile.ZipInfo) -> tuple:
    squeeze = zlib.compressobj(level, zlib.DEFLATED, -15)
    body = squeeze.compress(content) + squeeze.flush()
    return (like, zipfile.ZIP_DEFLATED, zlib.crc32(content), len(body), len(content), body)


def _write(out: io.BytesIO, info: zipfile.ZipInfo, method: int, crc: int, size: int,
           full_size: int, body: bytes) -> bytes:
    """One member's local header and bytes into ``out``; its central directory record."""
    name = info.filename.encode("utf-8")
    flags = (info.flag_bits & _KEPT_FLAGS) | (_UTF8 if not name.isascii() else 0)
    if method == zipfile.ZIP_STORED:
        flags &= _UTF8
    year, month, day, hour, minute, second = info.date_time
    dos_date = (max(year, 1980) - 1980) << 9 | month << 5 | day
    dos_time = hour << 11 | minute << 5 | second // 2
    offset = out.tell()
    out.write(_LOCAL.pack(_LOCAL_SIGNATURE, 20, 0, flags, method, dos_time, dos_date, crc,
                          size, full_size, len(name), 0))
    out.write(name)
    out.write(body)
    return _CENTRAL.pack(b"PK\x01\x02", 20, info.create_system, 20, 0, flags, method,
                         dos_time, dos_date, crc, size, full_size, len(name), 0, 0, 0,
                         info.internal_attr, info.external_attr, offset) + name


def _rewritten(package: zipfile.ZipFile, changed: Mapping[str, bytes | None],
               level: int) -> bytes:
    """zipfile's way: every member read and written again (any package it opens)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as new:
        for info in package.infolist():
            content = changed[info.filename] if info.filename in changed \
                else package.read(info)
            if content is None:
                continue
            copy = zipfile.ZipInfo(info.filename, info.date_time)
            copy.compress_type, copy.external_attr = info.compress_type, info.external_attr
            new.writestr(copy, content, compresslevel=level if info.filename in changed
                         else None)
        for name, content in changed.items():
            if content is not None and name not in package.NameToInfo:
                new.writestr(zipfile.ZipInfo(name, time.localtime()[:6]), content,
                             zipfile.ZIP_DEFLATED, compresslevel=level)
    return out.getvalue()


def write_atomically(path: Path, write: Callable[[str], None]) -> None:
    """``write(tmp)`` fills a file beside ``path`` that then replaces it in one rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".~", suffix=".xlsx", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
