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


# A version of some commune's period: which pair, minutes from that period's deadline, complete?,
# content, cleared?
pair_version = st.tuples(st.sampled_from([("06040", 0), ("06040", 1), ("06202", 0), ("06001", 1)]),
                         st.integers(-600, 600), st.booleans(), st.sampled_from("ab"),
                         st.booleans())


@settings(max_examples=300, deadline=None)
@given(st.lists(pair_version, max_size=14), st.integers(-700, 2200), st.sampled_from([0, 5]))
def test_many_pairs_at_once_each_follow_the_rules(raw, as_of_minutes, grace_minutes):
    """Versions of several communes and periods interleaved, as the ledger returns them: each
    pair is judged on its own versions only."""
    periods = [PERIOD, "2026-11-21"]
    deadlines = [DEADLINE, DEADLINE + timedelta(days=1)]
    grace = timedelta(minutes=grace_minutes)
    as_of = DEADLINE + timedelta(minutes=as_of_minutes)
    # The ledger appends versions as sweeps see them: in time order per pair.
    raw = sorted(raw, key=lambda v: (deadlines[v[0][1]] + timedelta(minutes=v[1])))
    frame = pd.DataFrame({
        "commune_code": [code for (code, _), *_ in raw],
        "period": [periods[p] for (_, p), *_ in raw],
        "proven_at": pd.to_datetime([deadlines[p] + timedelta(minutes=m)
                                     for (_, p), m, *_ in raw], utc=True)
        .tz_convert(VN_TZ).as_unit("us"),
        "complete": [c and not b for _, _, c, _, b in raw],
        "blank": [b for *_, b in raw],
        "content_hash": [h for *_, h, _ in raw],
    })
    table = timeliness_table(SPEC, frame, periods, as_of=as_of, grace=grace)
    found = {(r.commune_code, r.period): r for r in table.itertuples()}
    for (code, p) in {v[0] for v in raw}:
        mine = [v for v in raw if v[0] == (code, p)]
        proofs = [Proof(deadlines[p] + timedelta(minutes=m), c and not b, "" if b else h,
                        blank=b) for _, m, c, h, b in mine]
        expected, first = timeliness(proofs, deadlines[p], grace=grace, as_of=as_of)
        row = found.get((code, periods[p]))
        if row is None:
            assert all(v.proven_at > as_of for v in proofs)
            continue
        assert row.status == expected.value
        assert (None if pd.isna(row.first_complete_at) else row.first_complete_at) == first
        assert row.last_change_at == max(v.proven_at for v in proofs if v.proven_at <= as_of)
