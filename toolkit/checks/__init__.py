"""Checks that look across many rows at once (outliers over time, rosters over people),
called from ``toolkit.validate``; and the one shape every finding takes."""

from __future__ import annotations


def issue(spec, code: str, commune: str, period: str, cell: str, value: str, check: str,
          level: str, message: str, fix: str) -> dict:
    """One finding, a row of ``validate.ISSUE_COLUMNS``: where (commune, tab, A1 cell), the
    value as the commune sees it, what is wrong and what to do."""
    return {"commune_code": code, "commune": commune, "report": spec.key, "period": period,
            "tab": spec.tab, "cell": cell, "value": value, "check": check, "level": level,
            "message": message, "fix": fix}
