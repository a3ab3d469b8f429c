"""The fake Google ships in the package for `toolkit demo --backend gsheets`, which must run after
a plain `pip install .`: without google-api-python-client (the discovery documents, in the
[test] extra only), and with cryptography needed only for service-account keys (the demo signs
in as a person; google-auth brings cryptography today, but the fake does not count on it).

Without the documents the fake still routes every method it serves, from its own table; it just
does not validate requests. The tests run with the documents installed and must validate.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from toolkit.backends.google.fake import FakeGoogle, schema
from toolkit.backends.google.fake.fake import HANDLERS
from toolkit.backends.google.fake.server import Server


# A child Python in which the [test] extras cannot be imported, as after `pip install .`.
def blocked(*names: str) -> str:
    return f"import sys\nfor name in {names!r}:\n    sys.modules[name] = None\n"


BLOCKED = blocked("googleapiclient", "cryptography")

# The fake alone, its person's sign-in included: a plain requests session, no google-auth
# (which itself needs cryptography, so a plain install has it through google-auth).
FAKE_ALONE = BLOCKED + """
import json

import requests

from toolkit.backends.google.fake import FakeGoogle

with FakeGoogle() as fake:
    person = fake.authorized_user_info("can-bo@so-tt.gov.vn")
    session = fake.install(requests.Session())
    token = session.post("https://oauth2.googleapis.com/token", data={
        "grant_type": "refresh_token", "refresh_token": person["refresh_token"],
        "client_id": person["client_id"], "client_secret": person["client_secret"]}).json()
    session.headers["Authorization"] = "Bearer " + token["access_token"]
    made = session.post("https://sheets.googleapis.com/v4/spreadsheets",
                        json={"properties": {"title": "Thử"}}).json()
print(json.dumps({"validating": fake.validating, "title": made["properties"]["title"],
                  "owner": fake.file(made["spreadsheetId"]).owner}))
"""

# What the demo does: the real gspread and google-auth, without the discovery documents.
WITHOUT_DOCUMENTS = blocked("googleapiclient") + """
import json
from datetime import datetime, timezone

from toolkit.backends.google.fake import FakeClock, FakeGoogle

fake = FakeGoogle(clock=FakeClock(datetime(2026, 11, 20, tzinfo=timezone.utc), frozen=True))
with fake:
    gc = fake.gspread_client(fake.authorized_user_info("can-bo@so-tt.gov.vn"))
    sh = gc.create("Tổng hợp tỉnh")
    sh.sheet1.update([[1, "=1+1"]], "A1", raw=False)
    got = sh.sheet1.get("A1:B1", value_render_option="UNFORMATTED_VALUE")
    files = gc.list_spreadsheet_files()
print(json.dumps({"validating": fake.validating, "values": got,
                  "files": [f["name"] for f in files],
                  "methods": sorted({r.method_id for r in fake.requests})}))
"""


def child(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)


def test_the_fake_imports_and_signs_a_person_in_without_the_test_extras():
    done = child(FAKE_ALONE)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"validating": False, "title": "Thử",
                                       "owner": "can-bo@so-tt.gov.vn"}


def test_gspread_runs_against_the_fake_without_the_discovery_documents():
    done = child(WITHOUT_DOCUMENTS)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["validating"] is False
    assert out["values"] == [[1, 2]]
    assert out["files"] == ["Tổng hợp tỉnh"]
    assert out["methods"] == ["drive.files.create", "drive.files.list", "oauth2.token",
                              "sheets.spreadsheets.get", "sheets.spreadsheets.values.get",
                              "sheets.spreadsheets.values.update"]


def test_the_blocker_really_blocks():
    """The children above prove something only if their imports of the extras do fail."""
    done = child(BLOCKED + "import googleapiclient\n")
    assert done.returncode != 0 and "ModuleNotFoundError" in done.stderr
    done = child(BLOCKED + "from cryptography.hazmat.primitives.asymmetric import rsa\n")
    assert done.returncode != 0 and "ModuleNotFoundError" in done.stderr


def test_the_tests_validate_requests_against_the_discovery_documents(fake_google):
    assert fake_google.validating
    assert all(api.validating for api in fake_google.apis.values())


def test_the_fakes_own_routes_are_the_discovery_documents_routes():
    """The table used without the documents routes each method exactly as they do."""
    documents, own = schema.apis(), schema.own_apis()
    assert set(schema.ROUTES) == set(HANDLERS)
    for method_id in HANDLERS:
        name = method_id.split(".")[0]
        mine = sorted((r.http, r.pattern.pattern) for r in own[name].routes
                      if r.method_id == method_id)
        theirs = sorted((r.http, r.pattern.pattern) for r in documents[name].routes
                        if r.method_id == method_id)
        assert mine == theirs, method_id


def test_without_the_documents_a_request_is_answered_unchecked():
    fake = FakeGoogle(apis=schema.own_apis())
    assert not fake.validating
    with fake:
        gc = fake.gspread_client(fake.authorized_user_info("can-bo@so-tt.gov.vn"))
        sh = gc.create("Thử")
        # A misspelt field Google would refuse with 400 passes: nothing checks it.
        sh.batch_update({"requests": [{"addSheet": {"properties": {"title": "x", "titel": 1}}}]})
        assert [ws.title for ws in sh.worksheets()] == ["Sheet1", "x"]


def test_a_format_repeated_in_a_body_is_refused_at_every_cell_that_has_it_wrong():
    """A cell format found clean once in a body is not checked again (schema._REPEATED); a
    wrong one is still named at each cell, and a clean one does not hide a wrong one."""
    from toolkit.backends.google.fake.errors import ApiError

    good = {"textFormat": {"bold": True}, "backgroundColor": {"red": 0.5}}
    bad = {"textFormat": {"bold": "có"}, "backgroundColor": {"red": 0.5}}
    body = {"requests": [{"updateCells": {"fields": "*", "range": {"sheetId": 0}, "rows": [
        {"values": [{"userEnteredFormat": good}, {"userEnteredFormat": bad}]},
        {"values": [{"userEnteredFormat": bad}, {"userEnteredFormat": dict(good)}]}]}}]}
    api = schema.apis()["sheets"]
    try:
        api.check_body("sheets.spreadsheets.batchUpdate", body)
    except ApiError as refused:
        violations = refused.body["error"]["details"][0]["fieldViolations"]
    else:
        raise AssertionError("a wrong bold was accepted")
    where = "requests[0].update_cells.rows[{}].values[{}].user_entered_format.text_format.bold"
    assert [v["field"] for v in violations] == [where.format(0, 1), where.format(1, 0)]
    assert all(v["description"] == f"Invalid value at '{v['field']}' (TYPE_BOOL), \"có\""
               for v in violations)
    api.check_body("sheets.spreadsheets.batchUpdate", {"requests": [{"updateCells": {
        "fields": "*", "range": {"sheetId": 0},
        "rows": [{"values": [{"userEnteredFormat": good}] * 3}]}}]})


def test_a_stopped_fake_has_closed_its_port_and_stopping_again_is_harmless():
    """The server waits on its socket and a wake-up pair rather than polling: stop must end
    the serving thread, close the port, and be safe twice or before the server started."""
    never_started = Server(FakeGoogle())
    never_started.stop()
    never_started.stop()
    fake = FakeGoogle().start()
    server = fake._server
    port = fake.port
    socket.create_connection(("127.0.0.1", port), timeout=5).close()
    server.stop()
    assert not server.thread.is_alive()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    server.stop()
    fake.stop()
    fake.stop()
