"""The fake Google's copies, made faster than copy.deepcopy: the same data, nothing shared.

Every request that changes a spreadsheet works on a copy (kept only if the whole batch
succeeds), and every cell format written is merged onto a copy of the cell's format; a copy
that shared a list or a dict with the original would let a refused batch leave changes behind.
"""

from __future__ import annotations

import copy

from hypothesis import given
from hypothesis import strategies as st

from toolkit.backends.google.fake import FakeGoogle
from toolkit.backends.google.fake.fields import json_copy
from toolkit.backends.google.fake.state import _copied

SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=5), inner, max_size=4), max_leaves=30)


def _containers(value) -> list:
    if isinstance(value, dict):
        return [value, *(c for item in value.values() for c in _containers(item))]
    if isinstance(value, list):
        return [value, *(c for item in value for c in _containers(item))]
    return []


@given(JSON)
def test_json_copy_is_deepcopy_sharing_no_dict_or_list(value):
    copied = json_copy(value)
    assert copied == copy.deepcopy(value)
    assert type(copied) is type(value)
    originals = {id(c) for c in _containers(value)}
    assert not originals & {id(c) for c in _containers(copied)}


def test_a_spreadsheet_copy_holds_the_same_cells_and_shares_none():
    with FakeGoogle() as fake:
        sid = fake.create_spreadsheet("Xã Kiên Mộc", tabs=("Báo cáo ngày",))
        fake.type(sid, "'Báo cáo ngày'!B5", 12, as_user="xa06040@example.gov.vn")
        fake.type(sid, "'Báo cáo ngày'!C5", "ghi chú", as_user="xa06040@example.gov.vn")
        original = fake.spreadsheets[sid]
        copied = _copied(original)
    assert copied is not original and copied.id == original.id
    for theirs, ours in zip(original.sheets, copied.sheets, strict=True):
        assert ours is not theirs and ours.props == theirs.props
        assert ours.props is not theirs.props
        assert {k: (c.value, c.fmt, c.entered) for k, c in ours.cells.items()} == \
            {k: (c.value, c.fmt, c.entered) for k, c in theirs.cells.items()}
        assert not {id(c) for c in ours.cells.values()} & {id(c) for c in theirs.cells.values()}
    copied.sheets[0].cell(4, 1).value = 99.0
    assert original.sheets[0].cell(4, 1).value == 12
