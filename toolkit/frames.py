"""The ledger read back as pandas tables: what each commune had reported as of a moment."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from toolkit.ledger import VALUE_PREFIX
from toolkit.templates import ReportSpec


def latest_rows(versions: pd.DataFrame, spec: ReportSpec, as_of: datetime) -> pd.DataFrame:
    """The latest version of every row known at ``as_of``, one column per field.

    Rows whose latest version is blank (a person cleared them) are dropped. ``versions`` is
    ``Ledger.versions`` with or without ``fields``; either way each field column's type is
    inferred from the rows kept, as it would be from their dicts.
    """
    known = versions[versions["proven_at"] <= as_of]
    latest = known.groupby(["commune_code", "row_key"], sort=False).tail(1)
    columns = ["commune_code", "period", "row_key", "sheet_row", "complete", "problems",
               "proven_at"]
    keys = [f.key for f in spec.fields]
    if "values" in latest:
        values = pd.DataFrame(list(latest["values"]), index=latest.index, columns=keys)
    else:
        values = pd.DataFrame({key: latest[VALUE_PREFIX + key].tolist() for key in keys},
                              index=latest.index, columns=keys)
    frame = pd.concat([latest[columns], values], axis=1)
    for field in spec.fields:
        if field.numeric:
            frame[field.key] = pd.to_numeric(frame[field.key], errors="coerce")
    has_content = values.notna().any(axis=1) | latest["problems"].map(bool)
    return frame[has_content].reset_index(drop=True)


def spec_versions(ledger, spec: ReportSpec, periods: list[str] | None = None) -> pd.DataFrame:
    """``ledger.versions`` of a template, its values decoded into one column per field.

    Timeliness of one period needs only ``periods=[that period]``: an indexed read of a few
    thousand rows instead of the whole history. A field absent from a stored payload (added
    to the template later) reads as None where the dicts would give NaN: empty either way.
    """
    return ledger.versions(spec.key, periods, fields=[f.key for f in spec.fields])
