"""Small helpers shared by the batchUpdate modules."""

from __future__ import annotations

from . import fields
from .errors import invalid_request


def sheet_by_id(ss, sheet_id, i: int, kind: str):
    sheet = ss.by_id(sheet_id or 0)
    if sheet is None:
        raise invalid_request(i, kind, f"No grid with id: {sheet_id or 0}")
    return sheet


def mask(req: dict, i: int, kind: str) -> list[tuple]:
    given = req.get("fields")
    if not given:
        raise invalid_request(i, kind, "At least one field must be updated. Use '*' for all "
                                       "fields.")
    return fields.parse(given)
