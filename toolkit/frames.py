"""The ledger read back as pandas tables: what each commune had reported as of a moment."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import numpy as np
import pandas as pd

from toolkit.templates import ReportSpec
from toolkit.versions import CODE_PREFIX, INTEGER_SUFFIX, KEYS, NO_PROBLEMS, VALUE_PREFIX


def latest_rows(versions: pd.DataFrame, spec: ReportSpec, as_of: datetime) -> pd.DataFrame:
    """The latest version of every row known at ``as_of``, one column per field.

    Rows whose latest version is blank (a person cleared them) are dropped. ``versions`` is
    ``Ledger.versions`` with or without ``fields``; either way each field column's type is
    inferred from the latest versions, as it would be from their dicts. The key columns'
    categoricals (see ``positions``) come along when ``versions`` has them.
    """
    known = np.flatnonzero((versions["proven_at"] <= as_of).to_numpy())
    if not len(versions):
        return _without_rows(versions, spec, known)
    return _latest(versions, spec, known)


#: ``latest_rows`` of versions without rows, by all its answer then depends on: the columns,
#: their dtypes and the template's fields. Most reports of a small province have no versions
#: on most sweeps, and making their empty frame column by column cost ~1.3 ms each.
_WITHOUT_ROWS: dict[tuple, pd.DataFrame] = {}


def _without_rows(versions: pd.DataFrame, spec: ReportSpec, known: np.ndarray) -> pd.DataFrame:
    """``_latest`` of an empty ``versions``, made once per shape; callers get a copy."""
    key = (tuple(versions.columns.tolist()),
           tuple(_dtype_key(dtype) for dtype in versions.dtypes.tolist()),
           tuple((f.key, f.numeric) for f in spec.fields))
    frame = _WITHOUT_ROWS.get(key)
    if frame is None:
        frame = _WITHOUT_ROWS[key] = _latest(versions, spec, known)
        if len(_WITHOUT_ROWS) > 64:
            _WITHOUT_ROWS.pop(next(iter(_WITHOUT_ROWS)))
    return frame.copy()


def _dtype_key(dtype) -> tuple:
    """A dtype as a key that tells apart all a take of it keeps: a categorical's categories in
    their order (its own equality ignores the order), a string dtype's storage (its repr)."""
    if isinstance(dtype, pd.CategoricalDtype):
        return (type(dtype), tuple(dtype.categories.tolist()), repr(dtype.categories.dtype),
                dtype.ordered)
    return type(dtype), repr(dtype)


def _latest(versions: pd.DataFrame, spec: ReportSpec, known: np.ndarray) -> pd.DataFrame:
    """``latest_rows`` of the versions at ``known`` (positions, those proven by then)."""
    last = known[_last_of_each_row(versions, known)]
    keys = [f.key for f in spec.fields]
    if "values" in versions:
        typed = pd.DataFrame(list(versions["values"].iloc[last]), columns=keys)
        filled = typed.notna().any(axis=1).to_numpy()
        values = {f.key: pd.to_numeric(typed[f.key], errors="coerce") if f.numeric
                  else typed[f.key] for f in spec.fields}
    else:
        values, filled = _field_columns(versions, spec, last)
    has_content = filled | has_problems(versions["problems"].to_numpy()[last])
    everything = bool(has_content.all())
    kept = last if everything else last[has_content]
    columns = ["commune_code", "period", "row_key", "sheet_row", "complete", "problems",
               "proven_at"]
    frame = {name: versions[name].array.take(kept) for name in columns}
    taken = None if everything else np.flatnonzero(has_content)
    frame.update({key: values[key] if everything else _take(values[key], taken)
                  for key in keys})
    frame.update({CODE_PREFIX + key: versions[CODE_PREFIX + key].array.take(kept)
                  for key in KEYS if CODE_PREFIX + key in versions})
    return pd.DataFrame(frame, copy=False)


def plain_numbers(values: pd.Series) -> bool:
    """Whether ``values`` are numpy integers or floats: compared, summed or tested for 0 on
    their array as pandas would, NaN (a float's missing value) never equal nor above
    anything. Any other dtype (objects, text, nullable extension types) is left to pandas."""
    return isinstance(values.dtype, np.dtype) and values.dtype.kind in "iuf"


def has_problems(problems: np.ndarray) -> np.ndarray:
    """``bool(p)`` for each row's problems (a mapping), as one comparison with the empty one."""
    return np.asarray(problems != NO_PROBLEMS, dtype=bool)


def _last_of_each_row(versions: pd.DataFrame, known: np.ndarray) -> np.ndarray:
    """Of the versions at ``known`` (positions, oldest first), which are each row's last."""
    if CODE_PREFIX + "row_key" in versions:
        commune = versions[CODE_PREFIX + "commune_code"].array.codes[known].astype(np.int64)
        row = versions[CODE_PREFIX + "row_key"].array
        pair = commune * len(row.categories) + row.codes[known]
        return np.flatnonzero(~pd.Series(pair).duplicated(keep="last").to_numpy())
    pairs = versions[["commune_code", "row_key"]].iloc[known]
    return np.flatnonzero(~pairs.duplicated(keep="last").to_numpy())


def _field_columns(versions: pd.DataFrame, spec: ReportSpec,
                   last: np.ndarray) -> tuple[dict, np.ndarray]:
    """Each field's values at ``last``, typed as pandas would type them as Python values, and
    which rows have any value typed at all (before numbers are coerced).

    Numbers were read as float64 (float32 where exact) beside an is-integer flag: integers
    only make int64, anything else (a decimal, an empty cell) float64. Other values go
    through the same constructor a frame of dicts would.
    """
    numbers, others = {}, {}
    for key in (f.key for f in spec.fields):
        name = VALUE_PREFIX + key
        stored = versions[name].to_numpy()[last]
        if name + INTEGER_SUFFIX in versions:
            whole = len(last) > 0 and bool(versions[name + INTEGER_SUFFIX].to_numpy()[last].all())
            numbers[key] = stored.astype(np.int64 if whole else np.float64, copy=False)
        else:
            others[key] = stored.tolist()
    others = pd.DataFrame(others, index=pd.RangeIndex(len(last)))
    values, filled = {}, np.zeros(len(last), dtype=bool)
    for field in spec.fields:
        if field.key in numbers:
            values[field.key] = numbers[field.key]
            filled |= pd.notna(numbers[field.key])
        else:
            column = others[field.key]
            filled |= pd.notna(column.array)      # Series.notna's own Series cost 10x
            values[field.key] = pd.to_numeric(column, errors="coerce") if field.numeric \
                else column
    return values, filled


def _take(values, rows: np.ndarray):
    return values.array.take(rows) if isinstance(values, pd.Series) else values[rows]


def spec_versions(ledger, spec: ReportSpec, periods: list[str] | None = None) -> pd.DataFrame:
    """``ledger.versions`` of a template, its values decoded into one column per field.

    Timeliness of one period needs only ``periods=[that period]``: an indexed read of a few
    thousand rows instead of the whole history. A field absent from a stored payload (added
    to the template later) reads as None where the dicts would give NaN: empty either way.
    """
    return ledger.versions(spec.key, periods, fields=[f.key for f in spec.fields],
                           numeric=[f.key for f in spec.fields if f.numeric])


def positions(frame: pd.DataFrame, column: str,
              rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of a key column (commune_code, period, row_key) in sorted order,
    and each row's position among them: ``np.unique(..., return_inverse=True)``'s answer,
    for the rows where ``rows`` holds (all rows without it). The positions may be the
    frame's own array: read them, never write to them.

    This is how the checks and the rollup group, order and match a national year's million
    rows. Frames read through ``toolkit.versions`` (and ``latest_rows`` of them) carry each
    key as a categorical in sorted order, so this is integer work only; any other frame (one
    built by hand) has its text hashed once and only the few distinct values sorted.
    """
    ranked = frame.get(CODE_PREFIX + column)
    if ranked is None:
        values = frame[column] if rows is None else frame[column].iloc[rows]
        codes, uniques = pd.factorize(values)
        uniques = np.asarray(uniques, dtype=object)
        order = np.argsort(uniques, kind="stable")
        rank = np.empty(len(order), dtype=np.intp)
        rank[order] = np.arange(len(order))
        return uniques[order], rank[codes]
    # The categorical's own small integers (int16 for a national year's communes and days):
    # a national year holds several such columns at once.
    ranks = ranked.array.codes if rows is None else ranked.array.codes[rows]
    present = np.bincount(ranks, minlength=len(ranked.array.categories)) > 0
    uniques = np.asarray(ranked.array.categories, dtype=object)[present]
    if present.all():
        return uniques, ranks
    return uniques, (np.cumsum(present) - 1).astype(ranks.dtype)[ranks]


def sums_by(frame: pd.DataFrame, columns: list[str], name: str, names: np.ndarray,
            of: np.ndarray, rows: np.ndarray | None = None,
            counted: Collection[str] = ()) -> pd.DataFrame:
    """``frame[columns].groupby(name).sum()`` (``.count()`` for the columns in ``counted``) of
    the rows where ``rows`` holds, for a key column given as ``positions(frame, name)``.

    Grouping by the integer positions makes the same groups in the same (sorted) order and
    adds each group's rows in the same order, so the sums are the same to the last bit; only
    the hashing of a million texts is saved. Where every value of a column is a whole number,
    as the figures almost always are, each group's total is exact whatever the order of the
    additions, so one ``np.bincount`` stands for pandas' groupby: a province's rollup makes a
    dozen of these on a handful of rows, where groupby's own cost was most of the rollup.
    Only the columns holding fractions (kilograms, say) go through groupby, so one such
    column does not send a national year's other figures there too.
    """
    if rows is not None and rows.all():
        rows = None
    if not columns:
        return _grouped_sums(frame[columns], name, names, of, rows, counted)
    kept = _kept(of, rows)
    totals, fractions = {}, []
    for column in columns:
        values = frame[column]
        if column in counted:
            totals[column] = np.bincount(kept, _kept(values.notna().to_numpy(), rows),
                                         len(names)).astype(np.int64)
        elif (total := _whole_totals(values.to_numpy(), kept, rows, len(names))) is not None:
            totals[column] = total
        else:
            fractions.append(column)
    groups = np.flatnonzero(np.bincount(kept, minlength=len(names)))
    sums = {column: total[groups] for column, total in totals.items()}
    if fractions:
        added = _grouped_sums(frame[fractions], name, names, of, rows, ())
        sums |= {column: added[column].array for column in fractions}
    return pd.DataFrame(sums, index=pd.Index(names[groups], name=name), columns=columns)


#: Totals of whole numbers below this are exact in float64, whatever the order of additions.
_EXACT = 2.0 ** 52


def _whole_totals(values: np.ndarray, of: np.ndarray, rows: np.ndarray | None,
                  groups: int) -> np.ndarray | None:
    """Each group's total of ``values`` (NaN counted as 0), in their dtype, where every value
    is a whole number and every total exact; None where not (pandas adds those)."""
    dtype = values.dtype
    if dtype not in (np.int64, np.float64):
        return None
    values = _kept(values, rows).astype(np.float64, copy=False)
    if dtype == np.float64:          # an int64 column holds neither NaN nor fractions
        known = ~np.isnan(values)
        if not known.all():
            values, of = values[known], of[known]
        if not (values == np.round(values)).all():
            return None
    if not np.abs(values).sum() < _EXACT:
        return None
    return np.bincount(of, values, groups).astype(dtype, copy=False)


def _kept(values: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
    return values if rows is None else values[rows]


def _grouped_sums(values: pd.DataFrame, name: str, names: np.ndarray, of: np.ndarray,
                  rows: np.ndarray | None, counted: Collection[str]) -> pd.DataFrame:
    """``sums_by`` by pandas' groupby: its own (compensated) additions, for fractions."""
    if rows is not None:
        values, of = values[rows], of[rows]
    # A categorical key is grouped by its codes as they are: nothing is hashed.
    grouped = values.groupby(pd.Categorical.from_codes(of, categories=np.arange(len(names))),
                             observed=True)
    sums = pd.DataFrame({c: grouped[c].count() if c in counted else grouped[c].sum()
                         for c in values}, columns=values.columns)
    sums.index = pd.Index(names[sums.index.to_numpy().astype(np.intp)], name=name)
    return sums
