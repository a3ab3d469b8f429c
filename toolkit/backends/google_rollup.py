"""The province rollup spreadsheet on Google Sheets: tables written as plain values."""

from __future__ import annotations

from datetime import date, datetime

from toolkit.backends.google_requests import (
    DATE_PATTERN,
    SheetInfo,
    add_sheet,
    cell,
    grid,
    row,
    sheet_id_for,
    update_cells,
)
from toolkit.periods import VN_TZ


def rollup_requests(tables: dict, existing: dict[str, SheetInfo]) -> list[dict]:
    """Each DataFrame becomes one tab, resized to fit and rewritten whole; header row frozen."""
    import pandas as pd

    out: list[dict] = []
    taken = {s.sheet_id for s in existing.values()}
    for position, (title, frame) in enumerate(tables.items()):
        height, width = max(len(frame) + 1, 2), max(len(frame.columns), 1)
        info = existing.get(title)
        if info is None:
            info = SheetInfo(sheet_id_for(title, taken), title, position, height, width)
            taken.add(info.sheet_id)
            out.append(add_sheet(info, frozen_rows=1))
        else:
            out.append({"updateSheetProperties": {
                "properties": {"sheetId": info.sheet_id, "gridProperties": {
                    "rowCount": height, "columnCount": width, "frozenRowCount": 1}},
                "fields": "gridProperties(rowCount,columnCount,frozenRowCount)"}})
        rows = [row([str(c) for c in frame.columns], {"textFormat": {"bold": True}})]
        rows += [{"values": [_rollup_cell(v, pd.isna) for v in record]}
                 for record in frame.itertuples(index=False, name=None)]
        out.append(update_cells(grid(info.sheet_id, 0, height, 0, width), rows,
                                "userEnteredValue,userEnteredFormat"))
    return out


def _rollup_cell(value, isna) -> dict:
    if not isinstance(value, list | tuple | dict) and bool(isna(value)):   # NaN, NaT, pd.NA
        return {}
    if hasattr(value, "to_pydatetime"):          # pandas Timestamp
        value = value.to_pydatetime()
    elif hasattr(value, "item") and not isinstance(value, str):   # numpy scalar
        value = value.item()
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(VN_TZ)
        value = value.replace(tzinfo=None)
        return cell(value, {"numberFormat": {"type": "DATE_TIME",
                                             "pattern": "dd/mm/yyyy hh:mm"}})
    if isinstance(value, date):
        return cell(value, {"numberFormat": {"type": "DATE", "pattern": DATE_PATTERN}})
    return cell(value)




def write_rollup_sheet(store, spreadsheet_id: str, tables: dict) -> int:
    """Write each DataFrame to its own tab of the rollup spreadsheet, as plain values.

    Two requests whatever the size: one spreadsheets.get for the tab ids, one batchUpdate that
    adds missing tabs and rewrites all of them. Returns the number of requests sent.
    """
    before = store.api.requests_sent
    existing = store.api.sheets(spreadsheet_id)
    store.api.batch_update(spreadsheet_id, rollup_requests(tables, existing))
    return store.api.requests_sent - before
