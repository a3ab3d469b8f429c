"""What a national year holds in memory: shared values are held once, not once per row."""

from __future__ import annotations

import tracemalloc
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.config import PACKAGED_TEMPLATES
from toolkit.frames import spec_versions
from toolkit.ledger import Ledger
from toolkit.periods import VN_TZ, Status
from toolkit.registry import Commune, Registry
from toolkit.status import status_code, status_grid
from toolkit.templates import load_template
from toolkit.validate import find_issues
from toolkit.versions import CODE_PREFIX

START = date(2026, 1, 1)


def registry_of(n: int) -> Registry:
    return Registry(Path("registry.xlsx"), tuple(
        Commune(f"{i:05d}", f"Xã {i}", "Xã", "Tỉnh Thử", f"Huyện {i // 5}", households=2000,
                villages=(), editors=(), contact_name=None, contact_phone=None)
        for i in range(n)), ())


def test_missing_days_share_their_constant_texts(tmp_path):
    """200 communes × 60 days, nothing reported: 12,000 missing-day issues whose report, tab,
    check, level and fix are the same five texts, held once (each a copy was ~450 bytes an
    issue: 50 MB on a national year)."""
    spec = load_template(PACKAGED_TEMPLATES / "kts_daily.toml")
    last = START + timedelta(days=59)
    now = datetime.combine(last, time(22), VN_TZ)
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        versions = spec_versions(ledger, spec)
    tracemalloc.start()
    try:
        issues = find_issues(spec, registry_of(200), versions, last, now, (START, last))
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    missing = issues[issues["check"] == "missing"]
    assert len(missing) == 200 * 60
    assert held / len(issues) < 200          # 11 references an issue, and their frame
    assert missing["fix"].iloc[0].startswith("Nhập số liệu vào dòng của kỳ này")


def test_a_campaign_grid_is_grouped_without_hashing_every_version():
    """300 communes × 100 days, as the columnar cache gives them (keys as categoricals): the
    status grid peaks under 100 bytes a version (pd.factorize's hash table of every
    (commune, period) pair, and int64 positions, took it over 115)."""
    spec = load_template(PACKAGED_TEMPLATES / "kts_daily.toml")
    communes, days = 300, 100
    keys = [(START + timedelta(d)).isoformat() for d in range(days)]
    moments = [datetime.combine(START + timedelta(d), time(10), VN_TZ) for d in range(days)]
    versions = pd.DataFrame({
        "commune_code": np.tile([f"{i:05d}" for i in range(communes)], days),
        "period": np.repeat(keys, communes),
        "proven_at": pd.DatetimeIndex(np.repeat(np.array(moments, dtype=object), communes))
        .as_unit("us"),
        "complete": True, "blank": False, "content_hash": np.full(communes * days, b"h"),
    })
    for key in ("commune_code", "period"):
        versions[CODE_PREFIX + key] = pd.Categorical(versions[key])
    last = START + timedelta(days=days - 1)
    tracemalloc.start()
    try:
        grid = status_grid(spec, registry_of(communes), versions, keys,
                           as_of=moments[-1] + timedelta(hours=12), grace=timedelta(0),
                           campaign=(START, last))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (grid.status == status_code(Status.ON_TIME)).all()
    assert peak / len(versions) < 100


def test_numbers_are_held_in_float32_only_where_that_is_exact(tmp_path):
    """Counts and amounts under 16 million (2.5 too) are held in half the memory; a decimal
    like 0.1, or 16,777,217, keeps float64."""
    from test_versions_cache import FIELDS, NUMERIC, record

    def read(name: str, rows) -> pd.DataFrame:
        with Ledger(tmp_path / name) as ledger:
            record(ledger, 0, rows)
            return ledger.versions("kts_daily", fields=FIELDS, numeric=NUMERIC)

    small = read("small.sqlite", [("06001", 0, 12, 2.5, None, {}, True),
                                  ("06004", 1, None, 16_000_000, "ghi chú", {}, True)])
    assert small["value:shops"].dtype == small["value:kg"].dtype == np.float32
    assert small["sheet_row"].dtype == np.int32
    assert small["value:kg"].tolist() == [2.5, 16_000_000]
    large = read("large.sqlite", [("06001", 0, 2**24 + 1, 0.1, None, {}, True)])
    assert large["value:shops"].tolist() == [2**24 + 1]
    assert large["value:kg"].tolist() == [0.1]
