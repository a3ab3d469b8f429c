"""Checks that look across many rows at once (outliers over time, rosters over people),
called from ``toolkit.validate``; and the one shape every finding takes."""

from __future__ import annotations

import numpy as np


def issue(spec, code: str, commune: str, period: str, cell: str, value: str, check: str,
          level: str, message: str, fix: str) -> dict:
    """One finding, a row of ``validate.ISSUE_COLUMNS``: where (commune, tab, A1 cell), the
    value as the commune sees it, what is wrong and what to do."""
    return {"commune_code": code, "commune": commune, "report": spec.key, "period": period,
            "tab": spec.tab, "cell": cell, "value": value, "check": check, "level": level,
            "message": message, "fix": fix}


def error_rows(issues, columns: tuple[str, ...], period: str | None = None) -> list[tuple]:
    """The errors among ``issues`` (of ``period``, if given), each as a tuple of its
    ``columns``, in the issues' order: picked out of the table once, on its arrays, where a
    pandas filter for every commune cost most of a small province's banners and reminders."""
    chosen = np.asarray(issues["level"].to_numpy(), dtype=object) == "error"
    if period is not None:
        chosen &= np.asarray(issues["period"].to_numpy(), dtype=object) == period
    at = np.flatnonzero(chosen)
    return list(zip(*(issues[name].to_numpy()[at].tolist() for name in columns), strict=True))
