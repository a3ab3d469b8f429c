"""batchUpdate requests for objects on a sheet: protected and named ranges, conditional
formats, charts, the basic filter."""

from __future__ import annotations

import copy
import re

from . import fields
from .errors import invalid_request
from .util import mask, sheet_by_id

_NAME = re.compile(r"^[A-Za-z_\u00C0-\uFFFF][\w.\u00C0-\uFFFF]*$")
_CELLISH = re.compile(r"^[A-Za-z]{1,3}\d+$|^[Rr]\d*[Cc]\d*$")



def add_protected_range(ss, i, req, ctx):
    given = copy.deepcopy(req.get("protectedRange") or {})
    if "namedRangeId" in given:
        named = next((n for n in ss.named_ranges if n["namedRangeId"] == given["namedRangeId"]),
                     None)
        if named is None:
            raise invalid_request(i, "addProtectedRange", "No named range with id: "
                                                          f"{given['namedRangeId']}")
        rng = named["range"]
    else:
        rng = given.get("range") or {}
    sheet, *_ = ss.grid_range(rng, (i, "addProtectedRange"))
    given.setdefault("protectedRangeId", ctx.new_id())
    if given.get("warningOnly") and given.get("editors"):
        raise invalid_request(i, "addProtectedRange", "Cannot set editors on a warning-only "
                                                      "protected range.")
    given["editors"] = {k: v for k, v in (given.get("editors") or {}).items() if v}
    if not given.get("warningOnly"):
        given.pop("warningOnly", None)
    given["requestingUserCanEdit"] = True
    reply = copy.deepcopy(given)
    if ctx.email:                                      # the owner always stays an editor
        users = given["editors"].get("users", [])
        given["editors"]["users"] = list(dict.fromkeys([*users, ctx.email]))
    sheet.extras.setdefault("protectedRanges", []).append(given)
    return {"addProtectedRange": {"protectedRange": reply}}


def _protected(ss, pid, i, kind):
    for sheet in ss.sheets:
        for n, item in enumerate(sheet.extras.get("protectedRanges", [])):
            if item["protectedRangeId"] == pid:
                return sheet, n
    raise invalid_request(i, kind, f"No protected range with id: {pid}")


def update_protected_range(ss, i, req, ctx):
    given = req.get("protectedRange") or {}
    sheet, n = _protected(ss, given.get("protectedRangeId"), i, "updateProtectedRange")
    items = sheet.extras["protectedRanges"]
    items[n] = fields.merge(items[n], given, mask(req, i, "updateProtectedRange"))
    items[n]["protectedRangeId"] = given.get("protectedRangeId")
    return {}


def delete_protected_range(ss, i, req, ctx):
    sheet, n = _protected(ss, req.get("protectedRangeId"), i, "deleteProtectedRange")
    del sheet.extras["protectedRanges"][n]
    return {}


def add_named_range(ss, i, req, ctx):
    given = copy.deepcopy(req.get("namedRange") or {})
    name = given.get("name", "")
    if not _NAME.match(name) or _CELLISH.match(name) or name.upper() in ("TRUE", "FALSE"):
        raise invalid_request(i, "addNamedRange", f"The name {name!r} is not valid.")
    if any(n["name"].lower() == name.lower() for n in ss.named_ranges):
        raise invalid_request(i, "addNamedRange", f"A named range with the name '{name}' "
                                                  "already exists.")
    ss.grid_range(given.get("range") or {}, (i, "addNamedRange"))
    given.setdefault("namedRangeId", f"{ctx.new_id():x}")
    ss.named_ranges.append(given)
    return {"addNamedRange": {"namedRange": copy.deepcopy(given)}}


def update_named_range(ss, i, req, ctx):
    given = req.get("namedRange") or {}
    for n, item in enumerate(ss.named_ranges):
        if item["namedRangeId"] == given.get("namedRangeId"):
            ss.named_ranges[n] = fields.merge(item, given, mask(req, i, "updateNamedRange"))
            ss.named_ranges[n]["namedRangeId"] = item["namedRangeId"]
            return {}
    raise invalid_request(i, "updateNamedRange", f"No named range with id: "
                                                 f"{given.get('namedRangeId')}")


def delete_named_range(ss, i, req, ctx):
    before = len(ss.named_ranges)
    ss.named_ranges = [n for n in ss.named_ranges if n["namedRangeId"] !=
                       req.get("namedRangeId")]
    if len(ss.named_ranges) == before:
        raise invalid_request(i, "deleteNamedRange", f"No named range with id: "
                                                     f"{req.get('namedRangeId')}")
    return {}


def add_conditional_format_rule(ss, i, req, ctx):
    rule = copy.deepcopy(req.get("rule") or {})
    ranges = rule.get("ranges") or []
    if not ranges:
        raise invalid_request(i, "addConditionalFormatRule", "At least one range is required.")
    sheet, *_ = ss.grid_range(ranges[0], (i, "addConditionalFormatRule"))
    rules = sheet.extras.setdefault("conditionalFormats", [])
    rules.insert(min(req.get("index", 0), len(rules)), rule)
    return {}


def delete_conditional_format_rule(ss, i, req, ctx):
    sheet = sheet_by_id(ss, req.get("sheetId"), i, "deleteConditionalFormatRule")
    rules = sheet.extras.get("conditionalFormats", [])
    index = req.get("index", 0)
    if index >= len(rules):
        raise invalid_request(i, "deleteConditionalFormatRule", f"No conditional format on "
                                                                f"sheet at index {index}")
    return {"deleteConditionalFormatRule": {"rule": rules.pop(index)}}


def add_chart(ss, i, req, ctx):
    chart = copy.deepcopy(req.get("chart") or {})
    position = chart.get("position") or {}
    anchor = (position.get("overlayPosition") or {}).get("anchorCell") or {}
    sheet_id = position.get("sheetId", anchor.get("sheetId", ss.ordered()[0].sheet_id))
    sheet = sheet_by_id(ss, sheet_id, i, "addChart")
    # "It is an error to specify the ID of an embedded object that already exists."
    # (AddChartRequest.chart): a batch that adds a chart twice is refused as a whole.
    taken = {c["chartId"] for s in ss.sheets for c in s.extras.get("charts", [])}
    if chart.get("chartId") in taken:
        raise invalid_request(i, "addChart", f"An object with ID {chart['chartId']} already "
                                             "exists.")
    chart.setdefault("chartId", ctx.new_id())
    sheet.extras.setdefault("charts", []).append(chart)
    return {"addChart": {"chart": copy.deepcopy(chart)}}


def delete_embedded_object(ss, i, req, ctx):
    for sheet in ss.sheets:
        charts = sheet.extras.get("charts", [])
        for chart in charts:
            if chart["chartId"] == req.get("objectId"):
                charts.remove(chart)
                return {}
    raise invalid_request(i, "deleteEmbeddedObject", f"No object with id: {req.get('objectId')}")


def set_basic_filter(ss, i, req, ctx):
    flt = copy.deepcopy(req.get("filter") or {})
    sheet, r0, r1, c0, c1 = ss.grid_range(flt.get("range") or {}, (i, "setBasicFilter"))
    flt["range"] = {"sheetId": sheet.sheet_id, "startRowIndex": r0, "endRowIndex": r1,
                    "startColumnIndex": c0, "endColumnIndex": c1}
    sheet.basic_filter = flt
    return {}


def clear_basic_filter(ss, i, req, ctx):
    sheet_by_id(ss, req.get("sheetId"), i, "clearBasicFilter").basic_filter = None
    return {}


def update_borders(ss, i, req, ctx):
    ss.grid_range(req.get("range") or {}, (i, "updateBorders"))
    return {}


# -- developer metadata (on the spreadsheet itself) ------------------------------------------


def create_developer_metadata(ss, i, req, ctx):
    """Key/value data a client keeps in the spreadsheet, unseen by people; the id may be the
    client's own, and must be new."""
    given = copy.deepcopy(req.get("developerMetadata") or {})
    location = given.get("location") or {}
    if not location.get("spreadsheet"):
        from .errors import unimplemented

        raise unimplemented("developer metadata located elsewhere than on the spreadsheet")
    if not given.get("metadataKey"):
        raise invalid_request(i, "createDeveloperMetadata", "Metadata key must be set.")
    if not given.get("visibility"):
        raise invalid_request(i, "createDeveloperMetadata", "Metadata visibility must be "
                                                            "specified.")
    given.setdefault("metadataId", ctx.new_id())
    if any(m["metadataId"] == given["metadataId"] for m in ss.metadata):
        raise invalid_request(i, "createDeveloperMetadata", "Metadata with id "
                                                            f"{given['metadataId']} already "
                                                            "exists.")
    given["location"] = {"locationType": "SPREADSHEET", "spreadsheet": True}
    ss.metadata.append(given)
    return {"createDeveloperMetadata": {"developerMetadata": copy.deepcopy(given)}}


def update_developer_metadata(ss, i, req, ctx):
    """Rewrite the fields named in ``fields`` of every entry the lookups match (by id or key)."""
    paths = mask(req, i, "updateDeveloperMetadata")
    given = req.get("developerMetadata") or {}
    matched = []
    for data_filter in req.get("dataFilters") or []:
        lookup = data_filter.get("developerMetadataLookup") or {}
        matched += [m for m in ss.metadata if m not in matched and all(
            m.get(k) == lookup[k] for k in ("metadataId", "metadataKey") if k in lookup)]
    if not matched:
        raise invalid_request(i, "updateDeveloperMetadata", "No developer metadata matches "
                                                            "the data filters.")
    for m in matched:
        m.update({k: v for k, v in fields.merge(m, given, paths).items()
                  if k not in ("metadataId", "location")})
    return {"updateDeveloperMetadata": {"developerMetadata": copy.deepcopy(matched)}}
