"""A quiet sweep's archive: the workbook on disk with its moment brought up to date, not made
again (issue P10, goal 1).

The as-of-now archive says the sweep's time — in the title blocks, in every tab's printed
footer, in Thông tin's «Số liệu tính đến» and «Lập lúc» — and how many workbooks it read
(Thông tin's «Lần quét gần nhất»), so every sweep writes it: an hour-old time would read as a
run that stopped. When nothing else changed — a quiet sweep, or one that read the workbooks
of other reports only — making the workbook again with openpyxl was most of the work;
instead those texts are replaced inside the saved package, and the file replaced in one
rename.

"Nothing else changed" is known from the archive's stamp, a custom document property: a
digest of everything the workbook is made of — each sheet's cells, title, header, colours,
charts, the printed page header and footer, and the writer's own source — with every text
that says the moment (:func:`toolkit.moment.moment_texts`) replaced by a placeholder, and
the moment itself, with how often the workbook writes each of those texts. A sweep that makes
the same digest therefore differs from the workbook on disk in those texts only, each where
the tables put it; the patch replaces each old text by the new one and checks that it found
each as often as the tables hold it. Any doubt — no
stamp, another digest, an archive as of the deadline, a file that does not open, a text not
found as often as expected — and the archive is written in full.

A sweep that knows from its inputs alone that nothing changed (``toolkit.quiet``) restamps the
archives on disk with its moment without making their tables at all (:func:`restamp`): the
stamp holds everything the patch needs.

No openpyxl nor pandas here: a quiet sweep imports neither for the archive.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from toolkit import __version__, zipped
from toolkit.moment import FACTS_SHEET, Moment, moment_texts, sentence

#: The custom document property (File › Properties › Custom) holding the archive's stamp.
STAMP_PROPERTY = "toolkit: dấu số liệu"
#: 2: the stamp holds the sweep's count of workbooks read too; 3: and how often each text of the
#: moment is written (an archive of an older stamp is written in full once, then stamped anew);
#: 4: and what its rollup was made of (:func:`restamp`).
STAMP_VERSION = "4"
#: Modules whose code decides how a table looks in the workbook: a change to one of them is a
#: change to every archive, so their source is part of the digest.
WRITERS = ("archive.py", "archive_xlsx.py", "archive_package.py", "archive_patch.py", "excel.py",
           "layout.py")
#: A text that says the moment must be written as it is in the sheet XML to be found there.
_UNSAFE = re.compile(r"[&<>\"'\x00-\x1f]")
_STAMP = re.compile(rb'<property name="' + re.escape(STAMP_PROPERTY.encode())
                    + rb'"[^>]*><vt:lpwstr>([^<]*)</vt:lpwstr></property>')
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")
#: What reading a damaged or foreign archive raises (zipfile raises NotImplementedError for a
#: compression it does not know): the archive is then written in full.
_UNREADABLE = (OSError, EOFError, KeyError, ValueError, NotImplementedError,
               zipfile.BadZipFile, zlib.error)


@dataclass(frozen=True)
class Stamp:
    """What an as-of-now archive is made of, but for its sweep's moment; and that sweep: when
    its figures are as of, when it was made, how many workbooks it read."""

    digest: str
    as_of: datetime
    generated_at: datetime
    workbooks_read: int
    #: How often each of the moment's texts (in :func:`moment_texts` order) is written in the
    #: workbook, worked out with the digest.
    counts: tuple[int, ...] = ()
    #: ``archive.made_of`` of the rollup the tables were made from ("" where none was taken).
    made_of: str = ""

    @property
    def text(self) -> str:
        return (f"{STAMP_VERSION} {self.digest} {self.as_of.isoformat()} "
                f"{self.generated_at.isoformat()} {self.workbooks_read} "
                f"{','.join(map(str, self.counts))} {self.made_of or '-'}")

    @classmethod
    def parse(cls, text: str) -> Stamp | None:
        words = text.split(" ")
        if len(words) != 7 or words[0] != STAMP_VERSION or not words[4].isdigit():
            return None
        counts = words[5].split(",")
        if not all(c.isdigit() for c in counts):
            return None
        try:
            return cls(words[1], datetime.fromisoformat(words[2]),
                       datetime.fromisoformat(words[3]), int(words[4]), tuple(map(int, counts)),
                       "" if words[6] == "-" else words[6])
        except ValueError:
            return None

    @classmethod
    def in_custom(cls, custom: bytes) -> Stamp | None:
        """The stamp of an archive's custom.xml: one, of this version, written as it reads."""
        found = _STAMP.findall(custom)
        stamp = cls.parse(found[0].decode("utf-8", "replace")) if len(found) == 1 else None
        return stamp if stamp is not None and stamp.text.encode() == found[0] else None


def archive_stamp(rollup, tables, page: tuple[str, str], workbooks_read: int,
                  made_of: str = "") -> Stamp | None:
    """The stamp of the archive of ``tables`` with ``page`` (report, as-of words) printed on
    every tab; None where the archive is never patched (as of the deadline, or a text of the
    moment somewhere the patch would not find it as the tables hold it). ``made_of``: what
    the rollup the tables are made of was made of, when the tables are that rollup's alone."""
    if rollup.as_of_mode != "now":
        return None
    texts = moment_texts(rollup.moment, workbooks_read)
    if any(not text or _UNSAFE.search(text) for text in texts):
        return None
    digest = _Digest(texts)
    for table in tables:
        written = digest.strings([table.name], written=False)
        written &= digest.strings(table.title)
        columns = list(table.frame.columns)
        written &= digest.values(columns, written=table.header)
        # A moment's words in any other sheet's cells are data (a commune typed them): the
        # patch could not tell them from the moment's, so such an archive is written in full.
        for values in table.values:
            written &= digest.values(values, written=table.name == FACTS_SHEET)
        for chart in table.all_charts:
            written &= digest.strings([chart.title, *chart.series])
            written &= digest.strings([chart.categories], written=False)
            digest.add(repr((chart.kind, chart.rows, chart.percent_max, chart.start)))
        digest.add(repr((sorted(table.percent), table.status, table.fills,
                         table.frozen_columns, table.header, table.totals, sorted(table.shade),
                         table.blank_fills, table.text_width)))
        if not written:
            return None
    report, as_of = page         # the header and footer of every tab, as _print_setup has them
    if not digest.strings([report, sentence(as_of)], times=len(tables)):
        return None
    writers = _writers()
    if writers is None:
        return None
    digest.add(writers)
    return Stamp(digest.hexdigest(), rollup.as_of, rollup.generated_at, workbooks_read,
                 tuple(digest.counts), made_of)


def patch_archive(path: Path, moment: Moment, stamp: Stamp) -> bool:
    """Bring the archive at ``path`` to ``moment`` in place, if it is the same archive as
    ``stamp``'s but for its moment; whether it was."""
    return _patch(path, moment, lambda old: stamp if old.digest == stamp.digest else None)


def restamp(path: Path, moment: Moment, workbooks_read: int, made_of: str | None = None) -> bool:
    """Bring the archive at ``path`` to ``moment`` and ``workbooks_read`` in place, its tables
    known to be the same as when it was written: from the inputs (``toolkit.quiet``), or, with
    ``made_of``, because its stamp says they were made from a rollup made of the same
    (``archive.made_of``); whether it could be."""
    if made_of == "":
        return False
    return _patch(path, moment, lambda old: replace(
        old, as_of=moment.as_of, generated_at=moment.generated_at,
        workbooks_read=workbooks_read) if made_of in (None, old.made_of) else None)


def _patch(path: Path, moment: Moment, stamp_for: Callable[[Stamp], Stamp | None]) -> bool:
    """The moment's texts replaced in the saved archive, its new stamp made from the one on
    disk by ``stamp_for`` (None: not this archive)."""
    try:
        saved = path.read_bytes()
        book = zipfile.ZipFile(io.BytesIO(saved))
        # The stamp first: most archives of a sweep that changed anything are not the one
        # asked for, and need not have every part inflated to say so.
        old = Stamp.in_custom(book.read("docProps/custom.xml"))    # none: KeyError
        stamp = stamp_for(old) if old is not None else None
        if stamp is None or stamp.counts != old.counts:
            return False
        parts = [(info, book.read(info)) for info in book.infolist()]
    except _UNREADABLE:
        return False
    before = moment_texts(replace(moment, as_of=old.as_of, generated_at=old.generated_at),
                          old.workbooks_read)
    after = moment_texts(moment, stamp.workbooks_read)
    if any(_UNSAFE.search(text) for text in (*before, *after)) or any(
            (a == b) != (c == d) for a, c in zip(before, after, strict=True)
            for b, d in zip(before, after, strict=True)):
        return False         # two forms the same at one moment and not at the other
    # A new text already in the workbook was written there as data: the patch would count it
    # as the moment's next time, so the archive is written in full instead.
    fresh = [b.encode() for a, b in zip(before, after, strict=True) if a != b]
    if any(text in data for _, data in parts for text in fresh):
        return False
    # Each old text → its new one, and how often the tables put it in the workbook (counted
    # at its first form); the stamp itself once.
    changes = {old.text.encode(): (stamp.text.encode(), 1)}
    for a, b, n in reversed(list(zip(before, after, stamp.counts, strict=True))):
        changes[a.encode()] = (b.encode(), n)
    if len(changes) != len(set(before)) + 1:
        return False
    texts = _Texts(changes)
    seen = dict.fromkeys(changes, 0)

    def new(text: bytes) -> bytes:
        seen[text] += 1
        return changes[text][0]

    changed = {}
    for info, data in parts:
        new_data = texts.sub(new, data)
        if info.filename == "docProps/core.xml":
            new_data = _MODIFIED.sub(rb"\g<1>" + f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}"
                                     .encode() + rb"\g<2>", new_data, count=1)
        if new_data != data:
            changed[info.filename] = new_data
    if any(seen[text] != count for text, (_, count) in changes.items()):
        return False
    # The parts that do not say the moment (styles, charts, theme) keep their stored bytes.
    patched = zipped.replaced(saved, changed, level=1, package=book)
    zipped.write_atomically(path, lambda tmp: Path(tmp).write_bytes(patched))
    return True


class _Texts:
    """The moment's texts, found in a workbook's parts (or a table's strings) as the regular
    expression of them, longest first, finds them: left to right, and where several start at
    one place the longest. Without the expression: each sweep's moment is new, and compiling
    one for it cost more than all the searching."""

    def __init__(self, texts):
        # Equal lengths keep their order: two texts of one length that start at one place are
        # the same text. An empty text is never a moment's (archive_stamp refuses one).
        self.texts = sorted((t for t in texts if t), key=len, reverse=True)

    def sub(self, replace: Callable, data):
        """``data`` (bytes or str) with each text found replaced by ``replace(text)``."""
        texts = self.texts
        found = [data.find(text) for text in texts]
        out, at = [], 0
        while True:
            best = -1
            for i, where in enumerate(found):
                if where >= 0 and (best < 0 or where < found[best]):
                    best = i
            if best < 0:
                break
            start = found[best]
            out += (data[at:start], replace(texts[best]))
            at = start + len(texts[best])
            for i, where in enumerate(found):
                if 0 <= where < at:
                    found[i] = data.find(texts[i], at)
        if not out:
            return data
        out.append(data[at:])
        return data[:0].join(out)


class _Digest:
    """SHA-256 of a workbook's content with the moment's ``texts`` replaced by placeholders,
    counting where each is written."""

    def __init__(self, texts: tuple[str, ...]):
        self.index = {text: i for i, text in reversed(list(enumerate(texts)))}   # the first
        self.texts = _Texts(texts)
        self.counts = [0] * len(texts)
        self.hash = hashlib.sha256()

    def add(self, text: str) -> None:
        data = text.encode("utf-8", "surrogatepass")
        self.hash.update(b"%d:" % len(data) + data)

    def strings(self, strings, times: int = 1, written: bool = True) -> bool:
        """Take ``strings``, written ``times`` each in the workbook (or not as text where
        the patch would look: ``written`` False); False where one holds a text of the moment
        that the patch could not count, or a character the placeholders use."""
        strings = list(strings)
        joined = "\x00".join(strings)
        if joined.count("\x00") != max(len(strings) - 1, 0) or "\x01" in joined:
            return False
        found = [0]

        def placeholder(text: str) -> str:
            i = self.index[text]
            self.counts[i] += times
            found[0] += 1
            return f"\x01{i}\x01"

        self.add(f"{len(strings)} " + self.texts.sub(placeholder, joined))
        return written or not found[0]

    def values(self, values: list, written: bool = True) -> bool:
        """A column's values (texts and the others apart) or the header's."""
        strings = [v for v in values if type(v) is str]
        if not strings:
            self.add(repr(values))
        elif len(strings) < len(values):
            self.add(repr([... if type(v) is str else v for v in values]))
        else:
            self.add(f"{len(values)} texts")
        return self.strings(strings, written=written)

    def hexdigest(self) -> str:
        return self.hash.hexdigest()


@lru_cache(maxsize=1)
def _writers() -> str | None:
    """The writer's versions and source, as part of every digest; None where they cannot be
    read (a frozen build): the archive is then never patched."""
    here = Path(__file__).parent
    source = hashlib.sha256()
    try:
        for name in WRITERS:
            source.update((here / name).read_bytes())
        return f"{__version__} openpyxl {version('openpyxl')} {source.hexdigest()}"
    except (OSError, PackageNotFoundError):
        return None
