"""FakeGoogle: the state of a Google account's Sheets and Drive, served over loopback HTTP."""

from __future__ import annotations

import contextlib
import json
import marshal
import random
import threading
from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import requests

from . import auth, drive, errors, person, rights, schema, sheets_api
from .clock import FakeClock
from .drive import DriveFile, SharedDrive
from .errors import ApiError
from .model import Spreadsheet
from .server import FakeGoogleAdapter, Outcome, Server
from .state import StateMixin
from .traffic import Fault, Quotas, RequestRecord, matches

HANDLERS = {
    "sheets.spreadsheets.create": sheets_api.spreadsheets_create,
    "sheets.spreadsheets.get": sheets_api.spreadsheets_get,
    "sheets.spreadsheets.batchUpdate": sheets_api.spreadsheets_batch_update,
    "sheets.spreadsheets.values.get": sheets_api.values_get,
    "sheets.spreadsheets.values.batchGet": sheets_api.values_batch_get,
    "sheets.spreadsheets.values.update": sheets_api.values_update,
    "sheets.spreadsheets.values.batchUpdate": sheets_api.values_batch_update,
    "sheets.spreadsheets.values.clear": sheets_api.values_clear,
    "sheets.spreadsheets.values.batchClear": sheets_api.values_batch_clear,
    "sheets.spreadsheets.values.append": sheets_api.values_append,
    "drive.files.create": drive.files_create, "drive.files.copy": drive.files_copy,
    "drive.files.get": drive.files_get, "drive.files.list": drive.files_list,
    "drive.files.generateIds": drive.generate_ids,
    "drive.files.update": drive.files_update, "drive.files.delete": drive.files_delete,
    "drive.permissions.create": drive.permissions_create,
    "drive.permissions.list": drive.permissions_list,
    "drive.permissions.delete": drive.permissions_delete,
    "drive.permissions.update": drive.permissions_update,
    "drive.about.get": drive.about_get, "drive.drives.get": rights.drives_get,
}


_COLOUR = frozenset({"red", "green", "blue", "alpha"})
#: Seconds a "429+retry-after" fault asks the client to wait.
RETRY_AFTER = 7
#: Every kind of failure ``fault_rate`` can draw (set ``fault_kinds`` to it).
ALL_FAULT_KINDS = (429, "429+retry-after", 500, 503, "reset", "reset-after", "read-timeout")


def handler_body(body, raw: bytes):
    """What a handler gets of a request's body: its own copy (a handler may keep parts of it
    in a spreadsheet, or change them; the request log keeps what was sent), nulls stripped.
    Where the bytes hold no null, marshal's copy is that copy at half the time of walking it
    in Python (a province's publication is a megabyte of cells)."""
    if body is None or b"null" in raw:
        return strip_nulls(body)
    return marshal.loads(marshal.dumps(body))


def strip_nulls(value):
    """JSON null means "not set" to Google (proto3), except as a cell in a values array."""
    if isinstance(value, dict):
        return {k: strip_nulls(v) if type(v) in _NESTED else v
                for k, v in value.items() if v is not None}
    if isinstance(value, list):       # a values array: thousands of cells, most of them plain
        return [strip_nulls(v) if type(v) in _NESTED else v for v in value]
    return value


_NESTED = (dict, list)


def proto_json(value):
    """Sheets' JSON leaves out what proto3 leaves out: empty lists, a GridRange's sheetId 0,
    a colour's zero components."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if isinstance(item, list) and not item:
                continue
            if key == "sheetId" and item == 0 and "title" not in value:
                continue
            if key in _COLOUR and item == 0 and set(value) <= _COLOUR:
                continue
            out[key] = proto_json(item)
        return out
    if isinstance(value, list):
        return [proto_json(v) for v in value]
    return value


class Call:
    """One authenticated API call, as handlers see it."""

    def __init__(self, fake, method_id, path, query, body, principal):
        self.fake, self.method_id, self.path = fake, method_id, path
        self.query, self.body, self.principal = query, body, principal

    def q(self, name: str, default=None):
        values = self.query.get(name)
        return values[-1] if values else default

    def flag(self, name: str) -> bool:
        return (self.q(name) or "").lower() == "true"


class FakeGoogle(StateMixin, person.PersonMixin):
    """Sheets v4 + Drive v3 for tests and benchmarks; see the package docstring for a tour."""

    def __init__(self, *, seed: int = 0, clock: FakeClock | None = None,
                 locale: str = "en_US", time_zone: str = "Etc/GMT", apis: dict | None = None):
        self.clock = clock or FakeClock()
        self.rng = random.Random(seed)
        self.fault_rng = random.Random(seed + 1)
        self.lock = threading.RLock()
        self.keys = auth.Keys()
        self.files: dict[str, DriveFile] = {}
        self.drives: dict[str, SharedDrive] = {}
        self.spreadsheets: dict[str, Spreadsheet] = {}
        self.requests: list[RequestRecord] = []
        self.faults: list[Fault] = []
        self.fault_rate = 0.0
        self.fault_kinds: tuple = (429, 500, 503, "reset")
        self.quotas = Quotas()
        self.default_locale, self.default_time_zone = locale, time_zone
        self.no_google_account: set[str] = set()
        #: How far files.list trails files.get (modified times, new files); see state.py.
        self.list_lag = timedelta(0)
        #: Time zone ids answered under another name, as Google answers CLDR's canonical one
        #: (set ``{"Asia/Ho_Chi_Minh": "Asia/Saigon"}`` to see what a client makes of it).
        self.time_zone_aliases: dict[str, str] = {}
        self.sharing_log: list[tuple] = []
        #: Ids files.generateIds handed out (files.create/copy accept only those).
        self.generated: set[str] = set()
        #: Workspace domains whose admin turned off sharing outside the organisation: a
        #: file of theirs shared with another domain's address is 400 shareOutNotPermitted.
        self.internal_only: set[str] = set()
        #: Alias → primary address: Drive stores (and lists) a permission under the account's
        #: primary address, whatever address it was created with.
        self.aliases: dict[str, str] = {}
        self.apis = apis or schema.apis()
        self._server: Server | None = None
        self._adapter: FakeGoogleAdapter | None = None

    @property
    def validating(self) -> bool:
        """Whether requests are checked against Google's discovery documents (they are where
        google-api-python-client is installed: always in the tests)."""
        return all(api.validating for api in self.apis.values())

    # -- life cycle and transport -------------------------------------------------------------

    def start(self) -> FakeGoogle:
        if self._server is None:
            self._server = Server(self)
            self._server.start()
            self._adapter = FakeGoogleAdapter(self._server.port)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._adapter.close()
            self._server = self._adapter = None

    def __enter__(self) -> FakeGoogle:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self.start()._server.port

    @property
    def adapter(self) -> FakeGoogleAdapter:
        """A requests transport for Google's hosts; mount it for "https://" on any session."""
        return self.start()._adapter

    def install(self, session: requests.Session) -> requests.Session:
        """Route a session (and, for an AuthorizedSession, its token refreshes) to the fake."""
        targets = [session]
        refresh = getattr(getattr(session, "_auth_request", None), "session", None)
        if refresh is not None:
            targets.append(refresh)
        for target in targets:
            target.mount("https://", self.adapter)
            target.mount("http://", self.adapter)
        return session

    @contextlib.contextmanager
    def patch_google_auth(self):
        """Every requests.Session made inside the block talks to the fake (token refreshes in
        code that builds its own sessions included)."""
        original = requests.Session.__init__
        adapter = self.adapter

        def init(session, *args, **kwargs):
            original(session, *args, **kwargs)
            session.mount("https://", adapter)
            session.mount("http://", adapter)

        requests.Session.__init__ = init
        try:
            yield self
        finally:
            requests.Session.__init__ = original

    # -- credentials --------------------------------------------------------------------------

    def service_account_info(self, email: str | None = None,
                             project: str = "tinh-bao-cao") -> dict:
        """A service-account key file's contents with an RSA key no other account of this
        fake has (``auth.new_service_account``); keys of one ``project`` share its
        per-project quota."""
        with self.lock:
            email = email or (f"bao-cao-{len(self.keys.public) + 1}"
                              "@tinh-bao-cao.iam.gserviceaccount.com")
            return auth.new_service_account(self.keys, email, project)

    def authorized_user_info(self, email: str = "can-bo@so-tt.gov.vn") -> dict:
        """An ``authorized_user.json`` (OAuth refresh token) for a person's account, issued
        now; while ``keys.publishing_status`` is "Testing" it expires after 7 days."""
        return auth.new_authorized_user(self.keys, email, self.clock.seconds())

    def oauth_client(self) -> dict:
        """A client_secret.json of a Desktop-app OAuth client, the input of `auth login`."""
        return auth.new_client(self.keys)

    def consent(self, url: str, email: str) -> str:
        """A person opens the sign-in ``url`` and clicks Allow: the address the browser is
        sent back to (the flow's loopback server), with the code."""
        with self.lock:
            return auth.consent(self.keys, url, email)

    def token_for(self, email: str, service_account: bool = True) -> str:
        """An access token, for plain requests sessions that skip the OAuth dance."""
        principal = auth.Principal(email, service_account)
        return auth.issue(self.keys, principal, self.clock.seconds())

    def gspread_client(self, info: dict | None = None):
        """A real gspread.Client whose HTTP (token refresh included) goes to the fake."""
        import gspread
        from google.oauth2 import credentials, service_account

        info = info or self.service_account_info()
        scopes = gspread.auth.DEFAULT_SCOPES
        if info.get("type") == "service_account":
            creds = service_account.Credentials.from_service_account_info(info, scopes=scopes)
        else:
            creds = credentials.Credentials.from_authorized_user_info(info, scopes)
        client = gspread.authorize(creds)
        self.install(client.http_client.session)
        return client

    def restrict(self, file_id: str, **settings: bool) -> None:
        """Change the Shared Drive settings (``domainUsersOnly``, ``driveMembersOnly``, …) of
        the Shared Drive that holds ``file_id`` (or whose id it is)."""
        with self.lock:
            f = self.files.get(file_id)
            shared = self.drives[f.drive_id if f is not None else file_id]
            unknown = set(settings) - set(rights.RESTRICTIONS)
            if unknown:
                raise ValueError(f"not a Shared Drive restriction: {sorted(unknown)}")
            shared.restrictions = {**shared.restrictions, **settings}

    # -- faults, quotas, the log ---------------------------------------------------------------

    def fail_next(self, n: int = 1, kind: int | str = 500, match=None, *, delay: float = 2.0,
                  applied: bool = False) -> None:
        """The next ``n`` matching calls fail: an HTTP status (429, 500, 503…),
        "429+retry-after", "reset" (the connection drops; ``applied`` = after the work was
        done, as "reset-after" does), "read-timeout" (the work done, the client's read
        timeout fires at once) or "timeout"/"slow" (the answer comes ``delay`` real seconds
        late, the work done)."""
        with self.lock:
            self.faults.append(Fault.of(kind, n, match, delay, applied))

    def quota(self, reads: int | None = None, writes: int | None = None,
              drive: int | None = None, *, project_reads: int | None = None,
              project_writes: int | None = None) -> None:
        """Per-minute limits (None: unlimited), counted per 60 s of the clock: per account,
        and ``project_*`` for all accounts of one Cloud project (a service-account key's
        ``project_id``, an OAuth client's project), as Sheets counts 60 a user and 300 a
        project."""
        self.quotas.limits = {k: v for k, v in (("read", reads), ("write", writes),
                                                ("drive", drive)) if v is not None}
        self.quotas.project_limits = {k: v for k, v in (("read", project_reads),
                                                        ("write", project_writes))
                                      if v is not None}

    def count(self, match=None) -> int:
        """How many logged requests match (same rules as ``fail_next``'s ``match``)."""
        with self.lock:
            return sum(1 for r in self.requests if matches(match, r))

    def reset_log(self) -> None:
        with self.lock:
            self.requests.clear()

    def _fault_for(self, record: RequestRecord) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.remaining > 0 and matches(fault.match, record):
                    fault.remaining -= 1
                    self.faults = [f for f in self.faults if f.remaining > 0]
                    return fault
            if self.fault_rate and record.api in ("sheets", "drive") and \
                    self.fault_rng.random() < self.fault_rate:
                return Fault.of(self.fault_rng.choice(self.fault_kinds))
        return None

    # -- the request pipeline -----------------------------------------------------------------

    def handle(self, method: str, target: str, headers, raw: bytes) -> Outcome:
        parts = urlsplit(target)
        query = parse_qs(parts.query, keep_blank_values=True)
        body, bad_json = None, False
        if raw and "json" in (headers.get("Content-Type") or "json"):
            try:
                body = json.loads(raw)
            except ValueError:
                bad_json = True
        record = RequestRecord(method, unquote(parts.path), query, body, at=self.clock.seconds())
        with self.lock:
            self.requests.append(record)
        outcome = self._answer(record, parts.path, headers, raw, body, bad_json)
        record.status = 0 if outcome.reset else outcome.status
        return outcome

    def _route(self, method: str, path: str):
        for api in self.apis.values():
            found = api.match(method, path)
            if found:
                return api, found[0], {k: unquote(v) for k, v in found[1].items()}
        return None, "", {}

    def _answer(self, record, path, headers, raw, body, bad_json) -> Outcome:
        if path in ("/token", "/o/oauth2/token"):
            record.api, record.method_id = "oauth2", "oauth2.token"
            fault = self._fault_for(record)
            if fault is not None:
                record.fault = str(fault.kind)
                if isinstance(fault.kind, int):
                    return Outcome(fault.kind, {"error": "internal_failure"})
                if fault.kind == "reset":
                    return Outcome(0, reset=True)
            with self.lock:
                status, answer = auth.token_endpoint(self.keys, raw, self.clock.seconds(),
                                                     headers.get("Authorization"))
            return Outcome(status, answer, {"Cache-Control": "no-cache, no-store"})
        api, method_id, params = self._route(record.method, path)
        if api is None:
            return Outcome(404, errors.sheets_error(
                404, f"fake Google does not serve {record.method} {record.path}").body)
        record.api, record.method_id = api.name, method_id
        fault = self._fault_for(record)
        if fault is not None:
            record.fault = fault.label
            if fault.kind == "reset" and not fault.applied:
                return Outcome(0, reset=True)
            if fault.kind == "429+retry-after":
                return Outcome(429, errors.server_fault(api.name, 429).body,
                               {"Retry-After": str(RETRY_AFTER)})
            if isinstance(fault.kind, int):
                return Outcome(fault.kind, errors.server_fault(api.name, fault.kind).body)
        try:
            outcome = self._call(api, method_id, record, params, headers, body, bad_json,
                                 raw)
        except ApiError as exc:
            outcome = Outcome(exc.code, exc.body, exc.headers)
        if fault is not None and fault.kind in ("timeout", "slow"):
            outcome.delay = fault.delay
        if fault is not None and fault.kind == "reset":
            outcome.reset = True
        if fault is not None and fault.kind == "read-timeout":
            outcome.read_timeout = True
        return outcome

    def _call(self, api, method_id, record, params, headers, body, bad_json,
              raw: bytes) -> Outcome:
        now = self.clock.seconds()
        principal, missing = auth.bearer(self.keys, headers.get("Authorization"), now)
        if principal is None:
            raise errors.unauthenticated(api.name, missing)
        record.account = principal.email
        write = record.method != "GET"
        if not principal.may(api.name, write):
            raise errors.insufficient_scopes(api.name)
        refused = self.quotas.take(principal.email, record.kind, now, principal.project)
        if refused is not None:
            raise errors.quota_exceeded(api.name, record.kind, *refused)
        if bad_json:
            raise errors.invalid_argument([("", "Invalid JSON payload received. Unexpected "
                                                "token.")])
        api.check_query(method_id, record.query)
        api.check_body(method_id, body)
        mask = record.query.get("fields", [""])[-1]
        paths = api.check_fields(method_id, mask) if mask else None
        handler = HANDLERS.get(method_id)
        if handler is None:
            raise errors.unimplemented(method_id)
        with self.lock:
            result = handler(Call(self, method_id, params, record.query,
                                  handler_body(body, raw), principal))
        status, answer = result if isinstance(result, tuple) else (200, result)
        if api.name == "sheets":
            answer = proto_json(answer)
        if paths and answer is not None:
            from . import fields

            answer = fields.select(answer, fields.tree(paths))
        return Outcome(status, answer)
