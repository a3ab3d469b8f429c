"""toolkit/zipped.py: a package with some members replaced is, read back by zipfile (CRCs
checked), exactly the expected members in the expected order, and the members left alone keep
their stored bytes — whether the writer put data descriptors after them or bytes before the
package; one holding a compression it does not copy (bzip2) is rewritten the zipfile way."""

from __future__ import annotations

import io
import zipfile

from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit import zipped

NAMES = st.text(st.sampled_from("abcxyzđươ/._-[]"), min_size=1, max_size=12).filter(
    lambda n: not n.startswith("/") and not n.endswith("/"))
CONTENT = st.one_of(st.binary(max_size=300), st.text(max_size=400).map(str.encode),
                    st.integers(0, 5000).map(lambda n: b"<row/>" * n))


class _Stream:
    """A stream zipfile cannot seek: it then writes a data descriptor after each member."""

    def __init__(self):
        self.buffer = io.BytesIO()

    def write(self, data):
        return self.buffer.write(data)

    def flush(self):
        pass


def _package(members: dict[str, bytes], methods: dict[str, int], streamed: bool) -> bytes:
    target = _Stream() if streamed else io.BytesIO()
    with zipfile.ZipFile(target, "w") as out:
        for name, content in members.items():
            # Level 1, so a member compressed again (at zipfile's 6) would show.
            out.writestr(name, content, methods.get(name, zipfile.ZIP_DEFLATED),
                         compresslevel=1)
    return (target.buffer if streamed else target).getvalue()


def _members(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        assert package.testzip() is None
        return [(info.filename, package.read(info)) for info in package.infolist()]


def _raw(data: bytes) -> dict[str, bytes]:
    """Each member's stored (compressed) bytes."""
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        out = {}
        for info in package.infolist():
            header = data[info.header_offset:info.header_offset + 30]
            start = info.header_offset + 30 + int.from_bytes(header[26:28], "little") \
                + int.from_bytes(header[28:30], "little")
            out[info.filename] = data[start:start + info.compress_size]
        return out


@settings(max_examples=150, deadline=None)
@given(members=st.dictionaries(NAMES, CONTENT, min_size=1, max_size=6),
       choices=st.data(), streamed=st.booleans(), prefix=st.sampled_from([b"", b"MZ-junk"]))
def test_members_replaced_dropped_and_added_the_rest_copied(members, choices, streamed,
                                                            prefix):
    names = list(members)
    methods = choices.draw(st.dictionaries(st.sampled_from(names), st.sampled_from(
        [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2])))
    source = prefix + _package(members, methods, streamed)
    changed = choices.draw(st.dictionaries(st.one_of(st.sampled_from(names), NAMES),
                                           st.one_of(st.none(), CONTENT), max_size=4))
    level = choices.draw(st.sampled_from([1, 6, 9]))

    result = zipped.replaced(source, changed, level=level)

    expected = [(n, changed.get(n, c)) for n, c in members.items()
                if not (n in changed and changed[n] is None)]
    expected += [(n, c) for n, c in changed.items() if n not in members and c is not None]
    assert _members(result) == expected
    if zipfile.ZIP_BZIP2 in methods.values():
        return                  # not copied as stored: rewritten the zipfile way
    before, after = _raw(source), _raw(result)
    for name in members:
        if name not in changed:
            assert after[name] == before[name], name


def test_an_xlsx_written_by_openpyxl_keeps_its_parts_and_opens():
    from openpyxl import Workbook, load_workbook

    book = Workbook()
    book.active["A1"] = "Báo cáo ngày"
    saved = io.BytesIO()
    book.save(saved)
    data = saved.getvalue()
    sheet = "xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        xml = package.read(sheet).replace(b"B\xc3\xa1o c\xc3\xa1o ng\xc3\xa0y",
                                          "Đã sửa".encode())

    result = zipped.replaced(data, {sheet: xml, "customXml/item1.xml": b"<x/>"})

    assert load_workbook(io.BytesIO(result)).active["A1"].value == "Đã sửa"
    before, after = _raw(data), _raw(result)
    assert {n for n in before if before[n] == after.get(n)} == set(before) - {sheet}
