"""The columnar cache beside the ledger gives exactly what SQLite holds, fetch after fetch."""

from __future__ import annotations

import json
import math
import sqlite3
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.frames import positions
from toolkit.ledger import Ledger, RowVersion
from toolkit.periods import VN_TZ
from toolkit.versions import INTEGER_SUFFIX, VALUE_PREFIX, read_versions

FIELDS = ["shops", "kg", "note"]
NUMERIC = ["shops", "kg"]
START = datetime(2026, 11, 20, 8, 0, tzinfo=VN_TZ)
# What a cell can hold once parsed: numbers of either kind, text (also where a number is
# expected, after a template changed a field's type), nothing.
cell = st.one_of(st.none(), st.integers(-5, 10**12), st.sampled_from([0.5, 2.0, 1e-3]),
                 st.sampled_from(["", "Nguyễn Văn An", "1", "đã sửa"]))
problem = st.sampled_from([{}, {"shops": ["2a", "Ô này cần một số nguyên"]},
                           {"_period": {"raw": "x", "message": "Sai ngày", "cell": "A3"}}])
row = st.tuples(st.sampled_from(["06001", "06004", "26734"]), st.integers(0, 3),
                cell, cell, cell, problem, st.booleans())


def record(ledger: Ledger, fetch: int, rows) -> None:
    at = START + timedelta(minutes=7 * fetch)
    by_commune: dict[str, list[RowVersion]] = {}
    for code, day, shops, kg, note, problems, complete in rows:
        period = f"2026-11-2{day}"
        by_commune.setdefault(code, []).append(RowVersion(
            "kts_daily", period, period, 3 + day, {"shops": shops, "kg": kg, "note": note},
            problems, complete))
    for code, versions in by_commune.items():
        latest = {v.row_key: v for v in versions}         # one version of a row per read
        ledger.record_fetch(code, fetched_at=at, modified_stamp=str(fetch), modified_at=at,
                            proven_at=at, rows=latest.values())


def straight(path: Path) -> list[dict]:
    """The stored versions as a person would read them: json.loads of every payload."""
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT id, commune_code, period, payload, problems, proven_at, "
                          "content_hash FROM row_versions WHERE report='kts_daily' ORDER BY id")
        return [{"id": i, "commune_code": c, "period": p, "values": json.loads(v),
                 "problems": json.loads(pr), "proven_at": at, "content_hash": h}
                for i, c, p, v, pr, at, h in rows]


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b and type(a) is type(b)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(row, min_size=1, max_size=6), min_size=1, max_size=5))
def test_cached_versions_equal_the_ledger_after_every_fetch(fetches):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.sqlite"
        with Ledger(path) as ledger:
            for number, rows in enumerate(fetches):
                record(ledger, number, rows)
                cached = ledger.versions("kts_daily", fields=FIELDS, numeric=NUMERIC)
                plain = read_versions(ledger.db, "kts_daily", None, FIELDS, NUMERIC)
                pd.testing.assert_frame_equal(cached, plain)
                expected = straight(path)
                assert cached["id"].tolist() == [r["id"] for r in expected]
                assert cached["commune_code"].tolist() == [r["commune_code"] for r in expected]
                assert cached["period"].tolist() == [r["period"] for r in expected]
                assert [h.decode() for h in cached["content_hash"]] == \
                    [r["content_hash"] for r in expected]
                assert [dict(p) for p in cached["problems"]] == [r["problems"] for r in expected]
                instants = [pd.Timestamp(t).tz_convert("UTC") for t in cached["proven_at"]]
                assert [t.isoformat() for t in instants] == \
                    [r["proven_at"].replace("Z", "+00:00") for r in expected]
                for key in FIELDS:
                    typed = [r["values"][key] for r in expected]
                    read = cached[VALUE_PREFIX + key].tolist()
                    if VALUE_PREFIX + key + INTEGER_SUFFIX in cached:     # read as numbers
                        whole = cached[VALUE_PREFIX + key + INTEGER_SUFFIX].tolist()
                        read = [None if math.isnan(x) else int(x) if w else x
                                for x, w in zip(read, whole, strict=True)]
                    assert all(same(a, b) for a, b in zip(read, typed, strict=True)), key
                for column in ("commune_code", "period", "row_key"):
                    assert_positions(cached, column)
            stored = ledger.db.execute("SELECT COUNT(*) FROM row_versions").fetchone()[0]
            assert (ledger.cache_folder / "kts_daily.npz").exists() == (stored > 0)


def assert_positions(versions: pd.DataFrame, column: str) -> None:
    """``frames.positions`` answers as np.unique does, for all rows and for some, with the
    key's categorical (as read) and without it (a frame built by hand)."""
    plain = versions.drop(columns=[c for c in versions if c.startswith("code:")])
    some = np.arange(len(versions))[::2]
    for rows in (None, some):
        values = versions[column].to_numpy(dtype=object)
        expected = np.unique(values if rows is None else values[rows], return_inverse=True)
        for frame in (versions, plain):
            uniques, of = positions(frame, column, rows)
            assert uniques.tolist() == expected[0].tolist()
            assert of.tolist() == expected[1].tolist()


def test_a_cache_made_for_another_ledger_is_not_used(tmp_path):
    path = tmp_path / "ledger.sqlite"
    with Ledger(path) as ledger:
        record(ledger, 0, [("06001", 0, 5, None, None, {}, True)])
        assert ledger.versions("kts_daily", fields=FIELDS, numeric=NUMERIC)[
            "value:shops"].tolist() == [5.0]
    cache = (tmp_path / "ledger.sqlite.columns" / "kts_daily.npz").read_bytes()
    path.unlink()
    with Ledger(path) as ledger:     # a new ledger at the same path: same ids, other rows
        record(ledger, 0, [("06001", 0, 7, None, None, {}, True)])
        (ledger.cache_folder / "kts_daily.npz").write_bytes(cache)
        assert ledger.versions("kts_daily", fields=FIELDS, numeric=NUMERIC)[
            "value:shops"].tolist() == [7.0]


def test_a_damaged_cache_is_read_again_from_the_ledger(tmp_path):
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        record(ledger, 0, [("06001", 0, 5, 1.5, "ghi chú", {}, True)])
        expected = ledger.versions("kts_daily", fields=FIELDS, numeric=NUMERIC)
        (ledger.cache_folder / "kts_daily.npz").write_bytes(b"not a cache")
        pd.testing.assert_frame_equal(
            ledger.versions("kts_daily", fields=FIELDS, numeric=NUMERIC), expected)
