"""Google's discovery documents as the contract: routes, query parameters and request bodies.

The documents ship inside google-api-python-client; every request the fake answers is checked
against them the way Google's front end checks it, so a body with a misspelt field fails here
with the same 400 INVALID_ARGUMENT it would get from Google.

That library is in the [test] extra only. Without it (a plain `pip install .` running
`toolkit demo --backend gsheets`) the fake routes the methods it serves from its own table,
``ROUTES``, and checks nothing: ``Api.validating`` says which it is.
"""

from __future__ import annotations

import functools
import json
import marshal
import re
from dataclasses import dataclass
from pathlib import Path

from . import fields
from .errors import drive_error, invalid_argument, sheets_error

LIST_VALUE = "type.googleapis.com/google.protobuf.ListValue"
SCALAR = {"string": "TYPE_STRING", "boolean": "TYPE_BOOL", "number": "TYPE_DOUBLE",
          "integer": "TYPE_INT32"}
#: Which request field the HTTP body binds to (Sheets' http rules); "*" is the whole request.
BODY_FIELD = {"sheets.spreadsheets.values.update": "data",
              "sheets.spreadsheets.values.append": "data",
              "sheets.spreadsheets.create": "spreadsheet"}
#: Fields Drive accepts although v3's documents no longer list them (gspread sends withLink).
DRIVE_TOLERATED = {"withLink"}
#: method id → (HTTP method, path, simple-upload path) of every method the fake serves, as the
#: discovery documents give them (``httpMethod``, ``flatPath``, ``mediaUpload``); routes when
#: the documents are not installed. tests/test_fake_google_extras.py checks both agree.
ROUTES: dict[str, tuple[str, str, str | None]] = {
    "sheets.spreadsheets.create": ("POST", "v4/spreadsheets", None),
    "sheets.spreadsheets.get": ("GET", "v4/spreadsheets/{spreadsheetId}", None),
    "sheets.spreadsheets.batchUpdate": ("POST", "v4/spreadsheets/{spreadsheetId}:batchUpdate",
                                        None),
    "sheets.spreadsheets.values.get": ("GET", "v4/spreadsheets/{spreadsheetId}/values/{range}",
                                       None),
    "sheets.spreadsheets.values.batchGet": (
        "GET", "v4/spreadsheets/{spreadsheetId}/values:batchGet", None),
    "sheets.spreadsheets.values.update": (
        "PUT", "v4/spreadsheets/{spreadsheetId}/values/{range}", None),
    "sheets.spreadsheets.values.batchUpdate": (
        "POST", "v4/spreadsheets/{spreadsheetId}/values:batchUpdate", None),
    "sheets.spreadsheets.values.clear": (
        "POST", "v4/spreadsheets/{spreadsheetId}/values/{range}:clear", None),
    "sheets.spreadsheets.values.batchClear": (
        "POST", "v4/spreadsheets/{spreadsheetId}/values:batchClear", None),
    "sheets.spreadsheets.values.append": (
        "POST", "v4/spreadsheets/{spreadsheetId}/values/{range}:append", None),
    "drive.files.create": ("POST", "files", "/upload/drive/v3/files"),
    "drive.files.copy": ("POST", "files/{fileId}/copy", None),
    "drive.files.get": ("GET", "files/{fileId}", None),
    "drive.files.list": ("GET", "files", None),
    "drive.files.update": ("PATCH", "files/{fileId}", "/upload/drive/v3/files/{fileId}"),
    "drive.files.delete": ("DELETE", "files/{fileId}", None),
    "drive.files.generateIds": ("GET", "files/generateIds", None),
    "drive.drives.get": ("GET", "drives/{driveId}", None),
    "drive.permissions.create": ("POST", "files/{fileId}/permissions", None),
    "drive.permissions.list": ("GET", "files/{fileId}/permissions", None),
    "drive.permissions.delete": ("DELETE", "files/{fileId}/permissions/{permissionId}", None),
    "drive.permissions.update": ("PATCH", "files/{fileId}/permissions/{permissionId}", None),
    "drive.about.get": ("GET", "about", None),
}
PREFIXES = {"sheets": "/", "drive": "/drive/v3/"}


@functools.cache          # the field names of the discovery documents: a few hundred
def snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


_FIELD, _INDEX = "field", "index"
#: Parts of a body that repeat from cell to cell: each different one is checked once a body.
_REPEATED = frozenset({"CellFormat", "DataValidationRule", "TextFormat", "Color", "ColorStyle",
                       "DimensionProperties"})


def _path_text(path) -> str:
    """A body path as Google names it: ``requests[0].update_cells.rows[2]``; ``path`` is the
    root's text or a link (parent, piece, how): ``how`` is a field (snake_cased, after a dot)
    or an index or map key (in brackets)."""
    pieces = []
    while not isinstance(path, str):
        path, piece, how = path
        pieces.append((piece, how))
    text = path
    for piece, how in reversed(pieces):
        if how == _FIELD:
            text = f"{text}.{snake(piece)}" if text else snake(piece)
        else:
            text = f"{text}[{piece}]"
    return text


@dataclass(frozen=True)
class Route:
    http: str
    pattern: re.Pattern
    method_id: str
    literal: int


class Api:
    def __init__(self, name: str, doc: dict, prefix: str, validating: bool = True):
        self.name, self.validating = name, validating
        self.schemas = doc["schemas"]
        self.globals = doc["parameters"]
        self.methods: dict[str, dict] = {}
        self.routes: list[Route] = []
        self._collect(doc.get("resources", {}), prefix)
        self.routes.sort(key=lambda r: -r.literal)
        self.all_params = {p for m in self.methods.values() for p in m.get("parameters", {})}

    def _collect(self, resources: dict, prefix: str) -> None:
        for res in resources.values():
            for method in res.get("methods", {}).values():
                self.methods[method["id"]] = method
                templates = [prefix + method.get("flatPath", method["path"])]
                upload = method.get("mediaUpload", {}).get("protocols", {}).get("simple", {})
                if upload.get("path"):
                    templates.append(upload["path"])
                for template in templates:
                    self.routes.append(_route(method["httpMethod"], template, method["id"]))
            self._collect(res.get("resources", {}), prefix)

    def match(self, http: str, path: str) -> tuple[str, dict] | None:
        for route in self.routes:
            if route.http != http:
                continue
            m = route.pattern.match(path)
            if m:
                return route.method_id, m.groupdict()
        return None

    # -- query parameters ---------------------------------------------------------------------

    def check_query(self, method_id: str, query: dict[str, list[str]]) -> None:
        if not self.validating:
            return
        params = {**self.globals, **self.methods[method_id].get("parameters", {})}
        violations = []
        for name, values in query.items():
            spec = params.get(name)
            if spec is None or spec.get("location") == "path":
                if self.name == "drive" and name in self.all_params:
                    continue        # Drive ignores another method's parameter (gspread relies)
                violations.append((name, self._unknown_param(name)))
                continue
            for value in values if spec.get("repeated") else values[-1:]:
                problem = _param_problem(spec, value)
                if problem:
                    violations.append((name, self._bad_param(name, spec, value)))
        if violations:
            if self.name == "drive":
                raise drive_error(400, violations[0][1], "invalidParameter",
                                  location=violations[0][0])
            raise invalid_argument([("", text) for _, text in violations])

    def _unknown_param(self, name: str) -> str:
        if self.name == "drive":
            return f"Invalid parameter: {name} (unknown to Drive v3)"
        return (f'Invalid JSON payload received. Unknown name "{name}": Cannot bind query '
                f"parameter. Field '{name}' could not be found in request message.")

    def _bad_param(self, name: str, spec: dict, value: str) -> str:
        if self.name == "drive":
            if spec.get("type") == "boolean":
                return (f"Invalid value '{value}'. Values must match the following regular "
                        "expression: '(?i)(true|false)'")
            return f"Invalid value '{value}' for parameter {name}."
        return f"Invalid value at '{snake(name)}' ({_param_type(name, spec)}), \"{value}\""

    # -- request bodies -----------------------------------------------------------------------

    def check_body(self, method_id: str, body) -> None:
        if not self.validating:
            return
        method = self.methods[method_id]
        ref = method.get("request", {}).get("$ref")
        if ref is None:
            return
        if body is None:
            body = {}
        root = BODY_FIELD.get(method_id, "")
        violations: list[tuple[str, str]] = []
        self._check({"$ref": ref}, body, root, violations, set())
        if violations:
            if self.name == "drive":
                raise drive_error(400, violations[0][1], "badRequest")
            raise invalid_argument(violations)

    def _resolve(self, schema: dict) -> tuple[dict, str | None]:
        ref = schema.get("$ref")
        return (self.schemas[ref], ref) if ref else (schema, None)

    def _type_name(self, schema: dict) -> str:
        schema, ref = self._resolve(schema)
        if ref:
            return f"type.googleapis.com/google.apps.sheets.v4.{ref}"
        if schema.get("type") == "array":
            return LIST_VALUE if schema.get("items", {}).get("type") in ("any", "array") \
                else self._type_name(schema["items"])
        if schema.get("format") == "int64":
            return "TYPE_INT64"
        if schema.get("type") == "number" and schema.get("format") == "float":
            return "TYPE_FLOAT"
        return SCALAR.get(schema.get("type"), "TYPE_STRING")

    def _check(self, schema: dict, value, path, out: list, seen: set) -> None:
        """Every violation under ``value`` into ``out`` as (path, Google's words).

        ``path`` is the root's text or a link (parent, piece, how) to it, made text only for a
        violation: a body of a few thousand formatted cells has tens of thousands of nodes, and
        spelling each one's path out was most of checking it. A cell format or validation rule
        found clean once in a body (``seen``) is not walked again: a tab's cells share a few.
        """
        if value is None:
            return
        ref = schema.get("$ref")        # self._resolve, inline: this runs for every node
        resolved = self.schemas[ref] if ref else schema
        kind = resolved.get("type")
        if kind == "string" and type(value) is str and "enum" not in resolved:
            return                      # the commonest leaf, settled without a call
        if ref in _REPEATED and isinstance(value, dict):
            key = (ref, marshal.dumps(value))
            if key in seen:
                return
            found = len(out)
            self._check_node(schema, resolved, ref, kind, value, path, out, seen)
            if len(out) == found:
                seen.add(key)
            return
        self._check_node(schema, resolved, ref, kind, value, path, out, seen)

    def _check_node(self, schema: dict, resolved: dict, ref: str | None, kind: str | None,
                    value, path, out: list, seen: set) -> None:
        if ref or kind == "object":
            if not isinstance(value, dict):
                text = _path_text(path)
                out.append((text, self._bad(schema, value, text)))
                return
            props = resolved.get("properties", {})
            extra = resolved.get("additionalProperties")
            for key, item in value.items():
                if key in props:
                    self._check(props[key], item, (path, key, _FIELD), out, seen)
                elif extra is not None:
                    self._check(extra, item, (path, key, _INDEX), out, seen)
                elif not (self.name == "drive" and key in DRIVE_TOLERATED):
                    text = _path_text(path)
                    where = f" at '{text}'" if text else ""
                    out.append((text, f'Invalid JSON payload received. Unknown name "{key}"'
                                      f"{where}: Cannot find field."))
        elif kind == "array":
            if not isinstance(value, list):
                text = _path_text(path)
                out.append((text, self._bad(schema, value, text)))
                return
            items = resolved.get("items", {})
            for n, item in enumerate(value):
                self._check(items, item, (path, n, _INDEX), out, seen)
        elif kind == "any":
            return
        elif _scalar_problem(resolved, value):
            text = _path_text(path)
            if resolved.get("enum"):
                name = ref or text.rpartition(".")[2].title().replace("_", "")
                out.append((text, f"Invalid value at '{text}' (type.googleapis.com/google.apps."
                                  f"sheets.v4.{name}), {json.dumps(value, ensure_ascii=False)}"))
            else:
                out.append((text, self._bad(schema, value, text)))

    def _bad(self, schema: dict, value, path: str) -> str:
        """Google's words for a value of the wrong type. Made only for a violation: encoding
        the value at every node of a body was a quarter of a Google demo's time."""
        return (f"Invalid value at '{path}' ({self._type_name(schema)}), "
                f"{json.dumps(value, ensure_ascii=False)}")

    # -- response field masks -----------------------------------------------------------------

    def check_fields(self, method_id: str, mask: str) -> list[fields.Path]:
        try:
            paths = fields.parse(mask)
        except ValueError:
            paths = [(mask,)]
        if not self.validating:
            return paths
        ref = self.methods[method_id].get("response", {}).get("$ref")
        for path in paths:
            if ref and "*" not in path and self._field_schema(ref, path) is None:
                shown = ".".join(path)
                if self.name == "drive":
                    raise drive_error(400, f"Invalid field selection {shown}", "invalidParameter",
                                      location="fields")
                raise sheets_error(400, "Request contains an invalid argument.", [
                    {"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [
                        {"field": "fields", "description": f"Invalid field selection {shown}"}]}])
        return paths

    def _field_schema(self, ref: str, path: tuple) -> dict | None:
        schema: dict | None = {"$ref": ref}
        for part in path:
            schema, _ = self._resolve(schema)
            while schema.get("type") == "array":
                schema, _ = self._resolve(schema.get("items", {}))
            if schema.get("additionalProperties") is not None:
                schema = schema["additionalProperties"]
                continue
            schema = schema.get("properties", {}).get(part)
            if schema is None:
                return None
        return schema


def _route(http: str, template: str, method_id: str) -> Route:
    out, literal = "^", 0
    for piece in re.split(r"(\{[+]?[A-Za-z_]+\})", template):
        if piece.startswith("{"):
            out += f"(?P<{piece.strip('{}+')}>[^/]+?)"
        else:
            out += re.escape(piece)
            literal += len(piece)
    return Route(http, re.compile(out + "$"), method_id, literal)


def _param_type(name: str, spec: dict) -> str:
    if spec.get("enum"):
        base = name[len("response"):] if name.startswith("response") else name
        base = "Dimension" if base == "majorDimension" else base[0].upper() + base[1:]
        return f"type.googleapis.com/google.apps.sheets.v4.{base}"
    return SCALAR.get(spec.get("type"), "TYPE_STRING")


def _param_problem(spec: dict, value: str) -> bool:
    kind = spec.get("type")
    if kind == "boolean":
        return value.lower() not in ("true", "false")
    if kind == "integer":
        try:
            number = int(value)
        except ValueError:
            return True
        low, high = spec.get("minimum"), spec.get("maximum")
        return (low is not None and number < int(low)) or (high is not None and
                                                            number > int(high))
    if spec.get("enum"):
        return value not in spec["enum"]
    return False


def _scalar_problem(schema: dict, value) -> bool:
    kind, fmt = schema.get("type"), schema.get("format")
    if kind == "boolean":
        return not isinstance(value, bool)
    if kind == "integer":
        if isinstance(value, bool):
            return True
        if isinstance(value, float):
            return not value.is_integer()
        return not (isinstance(value, int) or (isinstance(value, str) and
                                               re.fullmatch(r"-?\d+", value)))
    if kind == "number":
        if isinstance(value, str):
            return value not in ("NaN", "Infinity", "-Infinity") and not re.fullmatch(
                r"-?\d+(\.\d+)?([eE][-+]?\d+)?", value)
        return isinstance(value, bool) or not isinstance(value, int | float)
    if kind == "string":
        if fmt == "int64" and isinstance(value, int) and not isinstance(value, bool):
            return False
        if not isinstance(value, str):
            return True
        return bool(schema.get("enum")) and value not in schema["enum"]
    return False


@functools.cache
def apis() -> dict[str, Api]:
    """Sheets and Drive from Google's discovery documents, validating every request; where
    google-api-python-client is not installed, ``own_apis()``."""
    try:
        import googleapiclient
    except ImportError:
        return own_apis()
    folder = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents"
    sheets = json.loads((folder / "sheets.v4.json").read_text(encoding="utf-8"))
    drive = json.loads((folder / "drive.v3.json").read_text(encoding="utf-8"))
    return {"sheets": Api("sheets", sheets, PREFIXES["sheets"]),
            "drive": Api("drive", drive, PREFIXES["drive"])}


def own_apis() -> dict[str, Api]:
    """Sheets and Drive routed by ``ROUTES``, checking nothing."""
    methods: dict[str, dict] = {name: {} for name in PREFIXES}
    for method_id, (http, path, upload) in ROUTES.items():
        method = {"id": method_id, "httpMethod": http, "path": path}
        if upload:
            method["mediaUpload"] = {"protocols": {"simple": {"path": upload}}}
        methods[method_id.split(".")[0]][method_id] = method
    return {name: Api(name, {"schemas": {}, "parameters": {},
                             "resources": {"all": {"methods": methods[name]}}},
                      PREFIXES[name], validating=False) for name in PREFIXES}
