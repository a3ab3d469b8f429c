"""The ledger read back as pandas tables: what each commune had reported as of a moment."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from toolkit.templates import ReportSpec
from toolkit.versions import INTEGER_SUFFIX, VALUE_PREFIX


def latest_rows(versions: pd.DataFrame, spec: ReportSpec, as_of: datetime) -> pd.DataFrame:
    """The latest version of every row known at ``as_of``, one column per field.

    Rows whose latest version is blank (a person cleared them) are dropped. ``versions`` is
    ``Ledger.versions`` with or without ``fields``; either way each field column's type is
    inferred from the rows kept, as it would be from their dicts.
    """
    # The last version of each row, found on the two key columns before any row is copied.
    known = (versions["proven_at"] <= as_of).to_numpy()
    last = ~versions.loc[known, ["commune_code", "row_key"]].duplicated(keep="last").to_numpy()
    latest = versions.iloc[np.flatnonzero(known)[last]]
    columns = ["commune_code", "period", "row_key", "sheet_row", "complete", "problems",
               "proven_at"]
    keys = [f.key for f in spec.fields]
    if "values" in latest:
        values = pd.DataFrame(list(latest["values"]), index=latest.index, columns=keys)
    else:
        values = pd.DataFrame({key: _column(latest, key) for key in keys},
                              index=latest.index, columns=keys)
    frame = pd.concat([latest[columns], values], axis=1)
    for field in spec.fields:
        if field.numeric:
            frame[field.key] = pd.to_numeric(frame[field.key], errors="coerce")
    has_content = values.notna().any(axis=1) | latest["problems"].map(bool)
    return frame[has_content].reset_index(drop=True)


def _column(latest: pd.DataFrame, key: str):
    """A field's values for the rows kept, typed as pandas would type them as Python values.

    Numbers were read as float64 beside an is-integer flag: integers only make int64,
    anything else (a decimal, an empty cell) float64.
    """
    name = VALUE_PREFIX + key
    if name + INTEGER_SUFFIX not in latest:
        return latest[name].tolist()
    numbers = latest[name].to_numpy()
    whole = len(numbers) > 0 and bool(latest[name + INTEGER_SUFFIX].all())
    return numbers.astype("int64") if whole else numbers


def spec_versions(ledger, spec: ReportSpec, periods: list[str] | None = None) -> pd.DataFrame:
    """``ledger.versions`` of a template, its values decoded into one column per field.

    Timeliness of one period needs only ``periods=[that period]``: an indexed read of a few
    thousand rows instead of the whole history. A field absent from a stored payload (added
    to the template later) reads as None where the dicts would give NaN: empty either way.
    """
    return ledger.versions(spec.key, periods, fields=[f.key for f in spec.fields],
                           numeric=[f.key for f in spec.fields if f.numeric])
