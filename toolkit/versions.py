"""Row versions read back from SQLite as compact pandas columns.

A national year is over a million versions. Read as Python objects (a dict of values per row,
a string per code and timestamp) it took 3 GB; here the result is read in batches, each column
is kept in its compact form as it arrives (integers and booleans as numpy arrays, timestamps
as datetime64, repeated texts as one shared string object), and with a template's fields each
value is extracted by SQLite's json_extract into a column of its own: numbers as float64 beside
a flag saying whether the JSON held an integer, so ``frames.latest_rows`` can give each column
exactly the type the values themselves would have.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from types import MappingProxyType

import numpy as np
import pandas as pd

from toolkit.periods import VN_TZ

VALUE_PREFIX = "value:"        # value:<field>: the field's values
INTEGER_SUFFIX = ":integer"    # value:<field>:integer: True where a numeric field held an int
NO_PROBLEMS: Mapping = MappingProxyType({})   # shared by the many rows without problems
BATCH = 10_000
META = ["id", "commune_code", "period", "row_key", "sheet_row", "problems", "complete",
        "blank", "content_hash", "proven_at"]


class _NotNumbers(Exception):
    """A numeric field holds text in some stored version (the template changed type)."""

    def __init__(self, key: str):
        self.key = key


def read_versions(db, report: str, periods: Sequence[str] | None,
                  fields: Sequence[str] | None, numeric: Collection[str]) -> pd.DataFrame:
    numeric = {key for key in numeric if fields is not None and key in fields}
    while True:
        try:
            return _read(db, report, periods, fields, numeric)
        except _NotNumbers as exc:      # rare: read that field as plain values instead
            numeric.discard(exc.key)


def _read(db, report, periods, fields, numeric) -> pd.DataFrame:
    selects = ["id", "commune_code", "period", "row_key", "sheet_row",
               "CASE WHEN problems = '{}' THEN NULL ELSE problems END", "complete", "blank",
               "content_hash", "proven_at"]
    names = list(META)
    for key in (fields if fields is not None else []):
        path = "'$.\"" + key + "\"'"
        selects.append(f"json_extract(payload, {path})")
        names.append(VALUE_PREFIX + key)
        if key in numeric:
            selects.append(f"CASE IFNULL(json_type(payload, {path}), 'null') WHEN 'integer' "
                           "THEN 1 WHEN 'real' THEN 0 WHEN 'null' THEN 0 ELSE 2 END")
            names.append(VALUE_PREFIX + key + INTEGER_SUFFIX)
    if fields is None:
        selects.append("payload")
        names.append("values")
    # The whole report is read in id order straight off the table ("+report" keeps SQLite
    # from reading it through the (report, period) index and sorting a million rows).
    sql = f"SELECT {', '.join(selects)} FROM row_versions WHERE "
    params: list = [report]
    if periods is None:
        sql += "+report=?"
    else:
        sql += f"report=? AND period IN ({','.join('?' * len(periods))})"
        params += list(periods)
    parts: dict[str, list] = {name: [] for name in names}
    seen: dict = {}
    cursor = db.execute(sql + " ORDER BY id", params)
    while batch := cursor.fetchmany(BATCH):
        for name, values in zip(names, zip(*batch, strict=True), strict=True):
            parts[name].append(_compact(name, values, seen, numeric))
    if not parts["id"]:
        return _empty(names)
    frame = pd.DataFrame({name: _joined(name, parts.pop(name)) for name in META[:5]})
    for name in names[5:]:
        frame[name] = _joined(name, parts.pop(name))
    return frame


def _compact(name: str, values: tuple, seen: dict, numeric: Collection[str]):
    """One batch of one column in the form it is kept in."""
    if name in ("id", "sheet_row"):
        return np.array(values, dtype=np.int64)
    if name in ("complete", "blank"):
        return np.array(values, dtype=bool)
    if name.endswith(INTEGER_SUFFIX):            # 1 integer, 0 decimal or empty, 2 anything else
        kinds = np.array(values, dtype=np.int8)
        if (kinds == 2).any():
            raise _NotNumbers(name.removeprefix(VALUE_PREFIX).removesuffix(INTEGER_SUFFIX))
        return kinds == 1
    if name == "proven_at":
        return pd.to_datetime(values, format="ISO8601", utc=True).as_unit("us")
    if name == "problems":
        return [NO_PROBLEMS if p is None else json.loads(p) for p in values]
    if name == "values":
        return [json.loads(p) for p in values]
    if name == "content_hash":
        return list(values)
    key = name.removeprefix(VALUE_PREFIX)
    if name != key and key in numeric:
        try:
            return np.array(values, dtype=float)
        except (TypeError, ValueError):
            raise _NotNumbers(key) from None
    # Codes, periods and typed texts repeat: keep one string object per distinct text.
    return [seen.setdefault(v, v) if isinstance(v, str) else v for v in values]


def _joined(name: str, parts: list):
    if name == "proven_at":
        micros = np.concatenate([p.asi8 for p in parts]).view("M8[us]")
        return pd.DatetimeIndex(micros).tz_localize("UTC").tz_convert(VN_TZ)
    if isinstance(parts[0], np.ndarray):
        return np.concatenate(parts)
    joined = [v for part in parts for v in part]
    if name in ("commune_code", "period", "row_key", "content_hash"):
        return joined
    return pd.Series(joined, dtype=object)


def _empty(names: list[str]) -> pd.DataFrame:
    """No versions: the frame pandas' read_sql would have given, and no rows to infer from."""
    frame = pd.DataFrame({name: pd.Series([], dtype=object) for name in META[:5]})
    for name in names[5:]:
        frame[name] = [] if name in ("problems", "proven_at", "values") else \
            pd.Series([], dtype=bool if name in ("complete", "blank") else object)
    return frame
