"""The vectorised timeliness used for many periods agrees with the state-by-state rules."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.config import PACKAGED_TEMPLATES
from toolkit.periods import VN_TZ, Proof, timeliness
from toolkit.status import timeliness_table
from toolkit.templates import load_template

SPEC = load_template(PACKAGED_TEMPLATES / "kts_daily.toml")
PERIOD = "2026-11-20"
DEADLINE = datetime(2026, 11, 20, 17, 0, tzinfo=VN_TZ)

# A version: minutes relative to the deadline, complete?, which content, cleared?
version = st.tuples(st.integers(-600, 600), st.booleans(), st.sampled_from("abc"), st.booleans())


@settings(max_examples=300, deadline=None)
@given(st.lists(version, max_size=6, unique_by=lambda v: v[0]), st.integers(-700, 700),
       st.sampled_from([0, 5]))
def test_vectorised_timeliness_matches_the_rules(raw, as_of_minutes, grace_minutes):
    raw = sorted(raw)
    grace = timedelta(minutes=grace_minutes)
    as_of = DEADLINE + timedelta(minutes=as_of_minutes)
    frame = pd.DataFrame({
        "commune_code": "06040", "period": PERIOD,
        "proven_at": [DEADLINE + timedelta(minutes=m) for m, *_ in raw],
        "complete": [c and not b for _, c, _, b in raw],
        "blank": [b for *_, b in raw],
        "content_hash": [h for _, _, h, _ in raw],
    })
    proofs = [Proof(DEADLINE + timedelta(minutes=m), c and not b, "" if b else h, blank=b)
              for m, c, h, b in raw]
    expected, first = timeliness(proofs, DEADLINE, grace=grace, as_of=as_of)
    table = timeliness_table(SPEC, frame, [PERIOD], as_of=as_of, grace=grace)
    if table.empty:
        assert expected.value in ("pending", "missing")
        return
    (row,) = table.itertuples()
    assert row.status == expected.value
    assert (None if pd.isna(row.first_complete_at) else row.first_complete_at) == first
