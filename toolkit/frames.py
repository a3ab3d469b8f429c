"""The ledger read back as pandas tables: what each commune had reported as of a moment."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from toolkit.templates import ReportSpec


def latest_rows(versions: pd.DataFrame, spec: ReportSpec, as_of: datetime) -> pd.DataFrame:
    """The latest version of every row known at ``as_of``, one column per field.

    Rows whose latest version is blank (a person cleared them) are dropped.
    """
    known = versions[versions["proven_at"] <= as_of]
    latest = known.groupby(["commune_code", "row_key"], sort=False).tail(1)
    columns = ["commune_code", "period", "row_key", "sheet_row", "complete", "problems",
               "proven_at"]
    values = pd.DataFrame(list(latest["values"]), index=latest.index,
                          columns=[f.key for f in spec.fields])
    frame = pd.concat([latest[columns], values], axis=1)
    for field in spec.fields:
        if field.numeric:
            frame[field.key] = pd.to_numeric(frame[field.key], errors="coerce")
    has_content = values.notna().any(axis=1) | latest["problems"].map(bool)
    return frame[has_content].reset_index(drop=True)

