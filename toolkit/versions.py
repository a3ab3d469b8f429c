"""Row versions read back from SQLite as compact pandas columns, through a columnar cache.

A national year is over a million versions. Read out of SQLite row by row it took half a
minute: SQLite decodes every payload, Python builds some thirty objects per row and takes
them apart again. So each column is kept in a compact stored form as it arrives — integers,
booleans, numbers and instants as numpy arrays, content hashes as fixed-width bytes, and
every repeated text (codes, periods, typed texts, problems) as integer codes into its
distinct values — and with a template's fields each value is extracted by SQLite's
json_extract into a column of its own: numbers as float64 (float32 in the frame where that
is exact) beside a flag saying whether the JSON held an integer, so ``frames.latest_rows``
can give each column exactly the type the values themselves would have.

That stored form is also what the cache beside the ledger holds (``<ledger>.columns/
<report>.npz``, plain numpy arrays, no pickles). The ledger is append-only, so the cache is
keyed on the last row version it holds (its id and content hash): a read loads the cache,
appends the versions added since from SQLite, and rewrites the cache only when there were
any. SQLite stays the ledger of record: a cache that is missing, unreadable, made for other
fields or for another ledger is rebuilt from it, and one that cannot be written is skipped.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd

from toolkit.periods import VN_TZ

VALUE_PREFIX = "value:"        # value:<field>: the field's values
CODE_PREFIX = "code:"          # code:<key column>: the key as a categorical, in sorted order
KEYS = ("commune_code", "period", "row_key")
INTEGER_SUFFIX = ":integer"    # value:<field>:integer: True where a numeric field held an int
NO_PROBLEMS: Mapping = MappingProxyType({})   # shared by the many rows without problems
BATCH = 10_000
META = ["id", "commune_code", "period", "row_key", "sheet_row", "problems", "complete",
        "blank", "content_hash", "proven_at"]
CACHE_FORMAT = 1
log = logging.getLogger("toolkit")


class _NotNumbers(Exception):
    """A numeric field holds text in some stored version (the template changed type)."""

    def __init__(self, key: str):
        self.key = key


@dataclass
class _Coded:
    """A column of repeated values: ``uniques[codes]``, code -1 standing for None."""

    codes: np.ndarray
    uniques: list
    #: ``_ranks``' rank of each distinct value and the categorical dtype of the sorted ones,
    #: worked out on first use: a small cached report is read several times a sweep, and
    #: making the dtype again was most of its key columns' cost.
    ranked: tuple | None = field(default=None, repr=False, compare=False)


def read_versions(db, report: str, periods: Sequence[str] | None,
                  fields: Sequence[str] | None, numeric: Collection[str],
                  cache: Path | None = None) -> pd.DataFrame:
    """Every stored version of ``report`` (of ``periods``), oldest first.

    ``cache`` (a folder) is used for whole reports read by field; a read of a few periods
    is an indexed query of a few thousand rows, cheaper than loading any cache.
    """
    wanted = sorted(key for key in numeric if fields is not None and key in fields)
    if cache is not None and periods is None and fields is not None:
        columns = _cached(db, report, list(fields), wanted, cache)
    else:
        columns, _ = _read_all(db, report, periods, fields, wanted)
    return _frame(columns)


def _read_all(db, report, periods, fields, numeric, after: int = 0):
    """Stored columns from SQLite, and the numeric fields they hold as numbers."""
    numeric = set(numeric)
    while True:
        try:
            return _read(db, report, periods, fields, numeric, after), sorted(numeric)
        except _NotNumbers as exc:      # rare: read that field as plain values instead
            numeric.discard(exc.key)


def _names(fields, numeric) -> list[str]:
    names = list(META)
    for key in (fields if fields is not None else []):
        names.append(VALUE_PREFIX + key)
        if key in numeric:
            names.append(VALUE_PREFIX + key + INTEGER_SUFFIX)
    if fields is None:
        names.append("values")
    return names


def _read(db, report, periods, fields, numeric, after: int) -> dict[str, object]:
    selects = ["id", "commune_code", "period", "row_key", "sheet_row",
               "CASE WHEN problems = '{}' THEN NULL ELSE problems END", "complete", "blank",
               "content_hash", "proven_at"]
    for key in (fields if fields is not None else []):
        path = "'$.\"" + key + "\"'"
        selects.append(f"json_extract(payload, {path})")
        if key in numeric:
            selects.append(f"CASE IFNULL(json_type(payload, {path}), 'null') WHEN 'integer' "
                           "THEN 1 WHEN 'real' THEN 0 WHEN 'null' THEN 0 ELSE 2 END")
    if fields is None:
        selects.append("payload")
    names = _names(fields, numeric)
    # The whole report is read in id order straight off the table ("+report" keeps SQLite
    # from reading it through the (report, period) index and sorting a million rows).
    sql = f"SELECT {', '.join(selects)} FROM row_versions WHERE "
    params: list = [report]
    if periods is None:
        sql += "+report=? AND id > ?"
        params.append(after)
    else:
        sql += f"report=? AND period IN ({','.join('?' * len(periods))})"
        params += list(periods)
    parts: dict[str, list] = {name: [] for name in names}
    seen: dict[str, dict] = {name: {} for name in names}
    cursor = db.execute(sql + " ORDER BY id", params)
    while batch := cursor.fetchmany(BATCH):
        for name, values in zip(names, zip(*batch, strict=True), strict=True):
            parts[name].append(_compact(name, values, seen[name], numeric))
    return {name: _joined(parts[name], seen[name]) for name in names}


def _compact(name: str, values: tuple, seen: dict, numeric: Collection[str]):
    """One batch of one column in its stored form (codes into ``seen`` for repeated values)."""
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
        return pd.to_datetime(values, format="ISO8601", utc=True).as_unit("us").asi8
    if name == "content_hash":
        return np.array(values, dtype="S")
    key = name.removeprefix(VALUE_PREFIX)
    if name != key and key in numeric:
        try:
            return np.array(values, dtype=float)
        except (TypeError, ValueError):
            raise _NotNumbers(key) from None
    # 1, 1.0 and True are one dict key in Python, and three values in a cell.
    return np.array([-1 if v is None else seen.setdefault((type(v), v), len(seen))
                     for v in values], dtype=np.int32)


def _joined(parts: list, seen: dict):
    if parts and parts[0].dtype.kind == "S":
        return np.concatenate(parts) if len(parts) > 1 else parts[0]
    if not parts or parts[0].dtype != np.int32:
        return np.concatenate(parts) if parts else np.zeros(0, np.int64)
    return _Coded(np.concatenate(parts), [value for _, value in seen])


def _frame(columns: dict[str, object]) -> pd.DataFrame:
    """The versions frame of stored columns: the one shape every reader of it knows."""
    names = list(columns)
    if not len(columns["id"]):
        return _empty(tuple(names)).copy()
    # At once: a column inserted at a time was most of a small province's read. Each column
    # is the frame's own (as insertion made it), never the stored arrays the cache holds.
    frame = {name: _owned(_column(name, columns[name]), columns[name]) for name in names}
    frame.update({CODE_PREFIX + name: _ranks(columns[name]) for name in KEYS})
    return pd.DataFrame(frame, copy=False)


def _owned(column, stored):
    """``column``, copied when it may share memory with ``stored``."""
    if isinstance(column, pd.DatetimeIndex):
        return pd.Series(column, copy=True)
    if isinstance(column, np.ndarray) and isinstance(stored, np.ndarray) \
            and np.may_share_memory(column, stored):
        return column.copy()
    return column


def _ranks(stored: _Coded) -> pd.Categorical:
    """The column as a categorical over its distinct values in sorted order: each row's code
    is its value's rank.

    Grouping, ordering and matching a million rows by commune, period or row then costs
    integer arithmetic instead of hashing and comparing text (see ``frames.positions``).
    Only the few distinct values are sorted; key columns are never empty (NOT NULL).
    """
    if stored.ranked is None:
        uniques = np.array(stored.uniques, dtype=object)
        order = np.argsort(uniques, kind="stable")
        rank = np.empty(len(order), dtype=np.int32)
        rank[order] = np.arange(len(order), dtype=np.int32)
        stored.ranked = rank, pd.CategoricalDtype(uniques[order])
    rank, dtype = stored.ranked
    return pd.Categorical.from_codes(rank[stored.codes], dtype=dtype)


def _column(name: str, stored):
    if name == "proven_at":
        return pd.DatetimeIndex(stored.view("M8[us]")).tz_localize("UTC").tz_convert(VN_TZ)
    if name == "sheet_row":
        return stored.astype(np.int32)           # a sheet has at most 1,048,576 rows
    if isinstance(stored, np.ndarray) and stored.dtype == np.float64:
        return _narrowed(stored)
    if isinstance(stored, np.ndarray):
        return stored
    uniques = stored.uniques
    if name in ("problems", "values"):       # one decoded dict per distinct JSON text
        uniques = [json.loads(text) for text in uniques]
    empty = NO_PROBLEMS if name == "problems" else None
    # Code -1 (None) takes the last element: the empty value appended here.
    values = np.fromiter([*uniques, empty], dtype=object, count=len(uniques) + 1)
    taken = values[stored.codes]
    if name in ("commune_code", "period", "row_key"):
        return taken
    return pd.Series(taken, dtype=object)


def _narrowed(numbers: np.ndarray) -> np.ndarray:
    """float32 when it holds every value exactly (counts, amounts under 16 million; empty
    as NaN), else float64 as stored: a national year's field is then 4.5 MB instead of 9.
    ``frames.latest_rows`` widens the few rows it keeps, so sums are added in float64."""
    narrow = numbers.astype(np.float32)
    return narrow if np.array_equal(narrow, numbers, equal_nan=True) else numbers


@functools.lru_cache(maxsize=64)
def _empty(names: tuple[str, ...]) -> pd.DataFrame:
    """No versions: the frame pandas' read_sql would have given, and no rows to infer from.

    Built once per set of columns (3 ms: small provinces and new reports read nothing many
    times a sweep); callers get a copy, so none can change another's."""
    columns = {name: pd.Series([], dtype=object) for name in META[:5]}
    for name in names[5:]:
        columns[name] = pd.Series([], dtype=float if name in ("problems", "proven_at", "values")
                                  else bool if name in ("complete", "blank") else object)
    for name in KEYS:
        columns[CODE_PREFIX + name] = pd.Categorical([])
    return pd.DataFrame(columns)     # at once: a column inserted at a time cost 13 ms a report


# the cache ---------------------------------------------------------------------------------

def _cached(db, report: str, fields: list[str], numeric: list[str], folder: Path) -> dict:
    """The stored columns of a whole report: the cache, the versions added since, saved back."""
    path = folder / f"{report}.npz"
    asked = {"format": CACHE_FORMAT, "report": report, "fields": fields, "numeric": numeric}
    columns, meta = _load(path, asked, db)
    if columns is None:
        columns, held = _read_all(db, report, None, fields, numeric)
    else:
        held = meta["held"]
        try:
            tail = _read(db, report, None, fields, set(held), meta["last_id"])
        except _NotNumbers:            # a field's type changed since: start again
            columns, held = _read_all(db, report, None, fields, numeric)
        else:
            if not len(tail["id"]):
                return columns
            columns = {name: _appended(columns[name], tail[name]) for name in columns}
    if len(columns["id"]):
        _save(path, columns, asked | {"held": held, "last_id": int(columns["id"][-1]),
                                      "last_hash": columns["content_hash"][-1].decode()})
    return columns


def _appended(stored, tail):
    if isinstance(stored, np.ndarray):
        return np.concatenate([stored, tail])
    code_of = {(type(v), v): i for i, v in enumerate(stored.uniques)}
    uniques = list(stored.uniques)
    for value in tail.uniques:
        code_of.setdefault((type(value), value), len(uniques))
        if len(uniques) < len(code_of):
            uniques.append(value)
    remap = np.array([code_of[(type(v), v)] for v in tail.uniques] + [-1], dtype=np.int32)
    return _Coded(np.concatenate([stored.codes, remap[tail.codes]]), uniques)


#: A small cache file's columns as last loaded or saved by this process, by path, with the
#: file's identity then: a sweep reads each report's versions several times (validate, the
#: rollup, status, reminders) and parsing the .npz again cost more than the rest of the read.
_RECENT: dict[str, tuple[tuple, dict, dict]] = {}
_RECENT_BYTES = 8 << 20          # a national year's columns are read once: never kept
_RECENT_FILES = 32


def _identity(path: Path) -> tuple | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


def _remember(path: Path, identity: tuple | None, meta: dict, columns: dict) -> None:
    """Keep ``columns`` (made read-only: they are shared with later readers) when small."""
    _RECENT.pop(str(path), None)
    arrays = [c.codes if isinstance(c, _Coded) else c for c in columns.values()]
    if identity is None or sum(a.nbytes for a in arrays) > _RECENT_BYTES:
        return
    for array in arrays:
        array.flags.writeable = False
    if len(_RECENT) >= _RECENT_FILES:
        _RECENT.pop(next(iter(_RECENT)))
    _RECENT[str(path)] = (identity, meta, columns)


def _load(path: Path, asked: dict, db) -> tuple[dict | None, dict | None]:
    """The cached columns and their description, or (None, None) when they cannot serve."""
    identity = _identity(path)
    recent = _RECENT.get(str(path))
    try:
        if recent is not None and identity is not None and recent[0] == identity:
            _, meta, held = recent
        else:
            with np.load(path, allow_pickle=False) as stored:
                meta = json.loads(str(stored["meta"]))
                if any(meta.get(k) != v for k, v in asked.items()):
                    return None, None
                held = {}
                for name in _names(meta["fields"], set(meta["held"])):
                    if name + "#codes" in stored.files:
                        held[name] = _Coded(stored[name + "#codes"],
                                            json.loads(str(stored[name + "#uniques"])))
                    else:
                        held[name] = stored[name]
            _remember(path, identity, meta, held)
        if any(meta.get(k) != v for k, v in asked.items()):
            return None, None
        found = db.execute("SELECT content_hash FROM row_versions WHERE id=? AND report=?",
                           (meta["last_id"], asked["report"])).fetchone()
        if found is None or found[0] != meta["last_hash"]:
            return None, None                 # another ledger, or one rebuilt
        return dict(held), meta
    except (OSError, ValueError, KeyError) as exc:
        if not isinstance(exc, FileNotFoundError):
            log.warning("bộ đệm %s không đọc được (%s); đọc lại từ sổ cái", path, exc)
        return None, None


def _save(path: Path, columns: dict, meta: dict) -> None:
    """Write the cache whole, then move it into place: readers see the old one or the new."""
    arrays = {"meta": np.array(json.dumps(meta, ensure_ascii=False))}
    for name, stored in columns.items():
        if isinstance(stored, _Coded):
            arrays[name + "#codes"] = stored.codes
            arrays[name + "#uniques"] = np.array(json.dumps(stored.uniques, ensure_ascii=False))
        else:
            arrays[name] = stored
    temporary = path.with_name(f".{path.stem}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(exist_ok=True)
        with open(temporary, "wb") as out:
            np.savez(out, **arrays)
        os.replace(temporary, path)
        _remember(path, _identity(path), meta, columns)
    except OSError as exc:              # read-only folder, full disk, a reader on Windows
        log.warning("không ghi được bộ đệm %s (%s); lần sau đọc lại từ sổ cái", path, exc)
        temporary.unlink(missing_ok=True)
