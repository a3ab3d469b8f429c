"""The moment's texts are found in an archive's parts as the regular expression of them
(longest first) finds them, without compiling one per sweep (archive_patch._Texts)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.archive_patch import _Texts

# Few letters, so texts overlap, nest in one another and repeat in the data.
LETTERS = st.text(alphabet="ab:0 ", min_size=1, max_size=5)


def by_expression(texts, data, replace):
    bar = b"|" if isinstance(data, bytes) else "|"
    pattern = re.compile(bar.join(re.escape(t) for t in sorted(texts, key=len, reverse=True)))
    return pattern.sub(lambda match: replace(match.group()), data)


@settings(max_examples=400)
@given(texts=st.lists(LETTERS, min_size=1, max_size=6),
       pieces=st.lists(st.one_of(LETTERS, st.sampled_from(["<c>", "x", "ab", "a:0"])),
                       max_size=12),
       as_bytes=st.booleans())
def test_found_and_replaced_as_the_expression_does(texts, pieces, as_bytes):
    data = "".join(pieces)
    if as_bytes:
        texts, data = [t.encode() for t in texts], data.encode()
    ours, theirs = [], []

    def replace_into(seen):
        def replace(text):
            seen.append(text)
            return text[:0].join([text[:0] + (b"[" if as_bytes else "["), text,
                                  text[:0] + (b"]" if as_bytes else "]")])
        return replace

    assert _Texts(texts).sub(replace_into(ours), data) == \
        by_expression(texts, data, replace_into(theirs))
    assert ours == theirs


def test_nothing_found_gives_the_data_back():
    assert _Texts(["10:05"]).sub(lambda t: "?", "lúc 10:00") == "lúc 10:00"
