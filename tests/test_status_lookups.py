"""status's plain-Python lookups answer as the pandas calls they replace, on generated keys."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from toolkit.status import key_positions

CODES = st.text(alphabet="0123456789ađ-", max_size=5)


@given(among=st.lists(CODES, unique=True), keys=st.lists(CODES))
def test_key_positions_are_get_indexers(among, keys):
    expected = pd.Index(among, dtype=object).get_indexer(np.array(keys, dtype=object))
    found = key_positions(np.array(keys, dtype=object), among)
    assert found.dtype == expected.dtype
    assert found.tolist() == expected.tolist()

