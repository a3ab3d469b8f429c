"""Replay recorded Google exchanges (vcrpy JSON cassettes) against the fake and compare.

Each cassette is one sequence of requests that made its own spreadsheet; ids Google returned
are mapped to the ids the fake returned as the replay goes, so later requests address the
fake's objects. A response "matches" when the status is the same and the JSON has the same key
structure (dict keys, recursively; list items merged), ignoring ids and values.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .fake import HANDLERS

ID_KEYS = ("id", "spreadsheetId", "sheetId", "protectedRangeId", "namedRangeId", "chartId",
           "permissionId", "filterViewId", "bandedRangeId")
_URI_ID = re.compile(r"/(?:spreadsheets|files)/([A-Za-z0-9_-]{25,})")


@dataclass
class Result:
    cassette: str
    index: int
    method: str
    uri: str
    status: tuple[int, int] | None = None       # (recorded, fake); None: not replayed
    same_shape: bool = False
    same_values: bool | None = None             # for values reads: exact equality
    diff: str = ""


@dataclass
class Replayer:
    fake: object
    session: object
    user: str                                   # the account the session is signed in as
    owner_of_unknown: str = "nguoi-khac@example.com"
    ids: dict = field(default_factory=dict)
    seen: dict = field(default_factory=dict)    # ids Google listed that the fake never made
    blocked: bool = False

    def run(self, path: Path) -> list[Result]:
        """Replay one cassette; after a state-changing call the fake does not implement
        (CSV import, copyTo…), the rest of that cassette is not compared."""
        self.ids, self.seen, self.blocked = {}, {}, False
        data = json.loads(path.read_text(encoding="utf-8"))
        return [self._one(path.stem, n, item) for n, item in enumerate(data["interactions"])]

    def _one(self, name: str, n: int, item: dict) -> Result:
        req, res = item["request"], item["response"]
        result = Result(name, n, req["method"], req["uri"])
        parts = urlsplit(req["uri"])
        _, method_id, _ = self.fake._route(req["method"], parts.path)
        if method_id not in HANDLERS:
            self.blocked = self.blocked or req["method"] != "GET"
            return result
        if self.blocked:
            return result
        for real in _URI_ID.findall(req["uri"]):
            if real not in self.ids:                # a file the recording account had before
                owner = self.user if real in self.seen else self.owner_of_unknown
                self.ids[real] = self.fake.create_spreadsheet(self.seen.get(real, "private"),
                                                              owner=owner)
        uri = self._map_text(req["uri"])
        body = req.get("body")
        if body:
            body = json.dumps(self._map_json(json.loads(body)))
        response = self.session.request(req["method"], uri, data=body,
                                        headers={"Content-Type": "application/json"},
                                        timeout=10)
        recorded = _json(res["body"].get("string"))
        got = response.json() if response.content else None
        if method_id == "drive.files.list":        # other files than the recording's account
            for f in (recorded or {}).get("files", []) if isinstance(recorded, dict) else []:
                self.seen.setdefault(f.get("id"), f.get("name", "listed"))
        else:
            self._learn(recorded, got)
        result.status = (res["status"]["code"], response.status_code)
        diff = compare(shape(recorded), shape(got))
        result.same_shape = result.status[0] == result.status[1] and not diff
        result.diff = diff or ("" if result.same_shape else f"status {result.status}")
        if isinstance(recorded, dict) and ("values" in recorded or "valueRanges" in recorded):
            result.same_values = _strip(recorded) == _strip(got)
        return result

    def _map_text(self, text: str) -> str:
        for real, mine in self.ids.items():
            if isinstance(real, str) and real in text:
                text = text.replace(real, mine)
        return text

    def _map_json(self, value, key: str | None = None):
        if isinstance(value, dict):
            return {k: self._map_json(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self._map_json(v, key) for v in value]
        if isinstance(value, int) and not isinstance(value, bool) and key in ID_KEYS:
            return self.ids.get(("int", value), value)
        if isinstance(value, str):
            return self._map_text(value)
        return value

    def _learn(self, real, mine) -> None:
        if isinstance(real, dict) and isinstance(mine, dict):
            for key, value in real.items():
                if key in ID_KEYS and key in mine and mine[key] is not None:
                    if isinstance(value, int) and not isinstance(value, bool):
                        self.ids[("int", value)] = mine[key]
                    elif isinstance(value, str) and value != mine[key]:
                        self.ids[value] = mine[key]
                else:
                    self._learn(value, mine.get(key))
        elif isinstance(real, list) and isinstance(mine, list):
            for a, b in zip(real, mine, strict=False):
                self._learn(a, b)


def _json(text):
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _strip(body):
    if not isinstance(body, dict):
        return body
    if "valueRanges" in body:
        return [_strip(v) for v in body["valueRanges"]]
    return body.get("values")


def shape(value):
    """Key structure: dicts by key, lists as the merge of their items, scalars as '·'."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        merged = None
        for item in value:
            merged = _merge(merged, shape(item))
        return [merged]
    return "·"


def _merge(a, b):
    if a is None:
        return b
    if isinstance(a, dict) and isinstance(b, dict):
        return {k: _merge(a.get(k), b.get(k)) for k in {**a, **b}}
    if isinstance(a, list) and isinstance(b, list):
        return [_merge(a[0], b[0])]
    return a


def compare(a, b, path: str = "") -> str:
    """'' when the shapes agree, else the first difference (an empty list agrees with any)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return (f"{path or '.'}: only recorded {sorted(set(a) - set(b))}, "
                    f"only fake {sorted(set(b) - set(a))}")
        for key in a:
            diff = compare(a[key], b[key], f"{path}.{key}")
            if diff:
                return diff
        return ""
    if isinstance(a, list) and isinstance(b, list):
        if a[0] is None or b[0] is None:
            return ""
        return compare(a[0], b[0], path + "[]")
    if (a is None) != (b is None) or isinstance(a, dict | list) != isinstance(b, dict | list):
        return f"{path or '.'}: recorded {type(a).__name__}, fake {type(b).__name__}"
    return ""
