"""A report read again from the columnar cache keeps its key categoricals as a fresh read has
them: the ranks worked out at the first read are reused, never shared between frames."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from test_versions_cache import FIELDS, NUMERIC, record, row

from toolkit.ledger import Ledger
from toolkit.versions import read_versions


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(row, min_size=1, max_size=6), min_size=1, max_size=3))
def test_a_cached_report_read_again_has_the_keys_of_a_fresh_read(fetches):
    with tempfile.TemporaryDirectory() as tmp:
        with Ledger(Path(tmp) / "ledger.sqlite") as ledger:
            for number, rows in enumerate(fetches):
                record(ledger, number, rows)
                first = ledger.versions("kts_daily", fields=FIELDS, numeric=NUMERIC)
                again = ledger.versions("kts_daily", fields=FIELDS, numeric=NUMERIC)
                plain = read_versions(ledger.db, "kts_daily", None, FIELDS, NUMERIC)
                pd.testing.assert_frame_equal(again, plain)
                pd.testing.assert_frame_equal(first, plain)
                for name in ("code:commune_code", "code:period", "code:row_key"):
                    assert again[name].array.categories.equals(plain[name].array.categories)
                    assert not np.shares_memory(again[name].array.codes,
                                                first[name].array.codes)
