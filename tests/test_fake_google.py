"""The fake Google itself: real gspread and google-auth against it, and against recordings.

The last test replays Google's own recorded answers (gspread's cassettes, in shared/) and checks
the fake gives the same status and JSON structure for every request it implements.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import gspread
import pytest
import requests
from google.auth.exceptions import RefreshError
from gspread.exceptions import APIError

from toolkit.backends.google.fake import CellRejected, FakeGoogle
from toolkit.backends.google.fake.replay import Replayer

SHEETS = "https://sheets.googleapis.com/v4/spreadsheets"
DRIVE = "https://www.googleapis.com/drive/v3/files"
CASSETTES = Path(__file__).resolve().parents[2] / "shared" / "google-cassettes"
TAB = "Báo cáo ngày"


def session_for(fake: FakeGoogle, email: str = "bot@tinh.iam.gserviceaccount.com"):
    """A plain requests session signed in to the fake (no OAuth dance)."""
    s = fake.install(requests.Session())
    s.headers["Authorization"] = "Bearer " + fake.token_for(email)
    return s


def vi_workbook(fake: FakeGoogle, gc) -> gspread.Spreadsheet:
    """A commune workbook in a Shared Drive folder, Vietnamese locale, a 'Báo cáo ngày' tab."""
    folder = fake.add_shared_drive_folder("Báo cáo xã")
    sh = gc.create("06040 Xã Hữu Kiên", folder_id=folder)
    sh.batch_update({"requests": [
        {"updateSpreadsheetProperties": {"properties": {"locale": "vi_VN",
                                                        "timeZone": "Asia/Ho_Chi_Minh"},
                                         "fields": "locale,timeZone"}},
        {"addSheet": {"properties": {"title": TAB, "gridProperties": {
            "rowCount": 63, "columnCount": 10, "frozenRowCount": 2}}}},
    ]})
    return sh


# -- auth -------------------------------------------------------------------------------------


def test_service_account_runs_the_real_jwt_flow(fake_google):
    info = fake_google.service_account_info()
    gc = gspread.service_account_from_dict(info)
    fake_google.install(gc.http_client.session)
    folder = fake_google.add_shared_drive_folder()
    sh = gc.create("Thử", folder_id=folder)
    assert [r.path for r in fake_google.requests[:2]] == ["/token", "/drive/v3/files"]
    assert fake_google.requests[1].account == info["client_email"]
    assert fake_google.file(sh.id).drive_id is not None


def test_a_key_the_fake_did_not_issue_is_refused(fake_google):
    info = dict(fake_google.service_account_info())
    info["private_key"] = fake_google.service_account_info()["private_key"]   # wrong key
    gc = gspread.service_account_from_dict(info)
    fake_google.install(gc.http_client.session)
    with pytest.raises(RefreshError, match="Invalid JWT Signature"):
        gc.list_spreadsheet_files()


def test_oauth_user_refresh_token_works_and_users_own_storage(fake_google):
    gc = fake_google.gspread_client(fake_google.authorized_user_info("can-bo@so.gov.vn"))
    sh = gc.create("Tổng hợp tỉnh")                     # a person may create in My Drive
    assert fake_google.file(sh.id).owner == "can-bo@so.gov.vn"


def test_requests_without_a_valid_token_get_401(fake_google):
    s = fake_google.install(requests.Session())
    answer = s.get(f"{SHEETS}/whatever")
    assert answer.status_code == 401
    assert answer.json()["error"]["status"] == "UNAUTHENTICATED"
    s.headers["Authorization"] = "Bearer ya29.not-a-token"
    assert s.get(f"{SHEETS}/whatever").status_code == 401


# -- Drive ------------------------------------------------------------------------------------


def test_service_account_outside_a_shared_drive_hits_storage_quota(fake_google):
    gc = fake_google.gspread_client()
    with pytest.raises(APIError) as caught:
        gc.create("Không có Shared Drive")
    assert caught.value.code == 403
    assert caught.value.error["errors"][0]["reason"] == "storageQuotaExceeded"


def test_thousand_spreadsheets_created_and_listed_page_by_page(fake_google):
    folder = fake_google.add_shared_drive_folder()
    s = session_for(fake_google)
    started = time.perf_counter()
    for n in range(1000):
        body = {"name": f"{n:05d} Xã", "mimeType": "application/vnd.google-apps.spreadsheet",
                "parents": [folder]}
        assert s.post(DRIVE, params={"supportsAllDrives": "true"}, json=body).ok
    query = {"q": f"'{folder}' in parents and trashed = false", "pageSize": 100,
             "fields": "nextPageToken,files(id,name,modifiedTime)",
             "supportsAllDrives": "true", "includeItemsFromAllDrives": "true"}
    names, pages = [], 0
    while pages < 20:
        page = s.get(DRIVE, params=query).json()
        pages += 1
        names += [f["name"] for f in page["files"]]
        if "nextPageToken" not in page:
            break
        query["pageToken"] = page["nextPageToken"]
    elapsed = time.perf_counter() - started
    assert (len(names), len(set(names)), pages) == (1000, 1000, 10)
    assert elapsed < 8, f"1,000 workbooks took {elapsed:.1f} s"
    hidden = s.get(DRIVE, params={"q": query["q"], "supportsAllDrives": "true"}).json()
    assert hidden["files"] == []        # Shared Drive items need includeItemsFromAllDrives


def test_files_list_filters_by_modified_time_on_the_fake_clock(fake_google):
    fake_google.clock.freeze()
    folder = fake_google.add_shared_drive_folder()
    old = fake_google.create_spreadsheet("01 cũ", parent=folder)
    fake_google.clock.advance(600)
    cutoff = fake_google.clock.now().isoformat().replace("+00:00", "Z")
    fake_google.clock.advance(60)
    new = fake_google.create_spreadsheet("02 mới", parent=folder)
    fake_google.type(old, "Sheet1!A1", "sửa")          # a person edits: modifiedTime moves
    s = session_for(fake_google)
    q = f"'{folder}' in parents and modifiedTime > '{cutoff}'"
    page = s.get(DRIVE, params={"q": q, "supportsAllDrives": True, "corpora": "drive",
                                "driveId": fake_google.file(folder).drive_id,
                                "includeItemsFromAllDrives": True}).json()
    assert sorted(f["id"] for f in page["files"]) == sorted([old, new])


def test_sharing_needs_notification_for_addresses_without_google_account(fake_google):
    folder = fake_google.add_shared_drive_folder()
    sid = fake_google.create_spreadsheet("Xã", parent=folder)
    fake_google.no_google_account.add("xa@example.gov.vn")
    s = session_for(fake_google)
    url = f"{DRIVE}/{sid}/permissions"
    body = {"type": "user", "role": "writer", "emailAddress": "xa@example.gov.vn"}
    quiet = s.post(url, params={"supportsAllDrives": True, "sendNotificationEmail": False},
                   json=body)
    assert quiet.status_code == 400
    assert quiet.json()["error"]["errors"][0]["reason"] == "invalidSharingRequest"
    assert s.post(url, params={"supportsAllDrives": True}, json=body).ok
    listed = s.get(url, params={"supportsAllDrives": True}).json()["permissions"]
    assert {"xa@example.gov.vn"} <= {p.get("emailAddress") for p in listed}


# -- Sheets values ----------------------------------------------------------------------------


def test_user_entered_values_read_back_in_the_vietnamese_locale(fake_google):
    gc = fake_google.gspread_client()
    sh = vi_workbook(fake_google, gc)
    rng = f"'{TAB}'!A3"
    sh.values_update(rng, params={"valueInputOption": "USER_ENTERED"},
                     body={"values": [["23/11/2026", "1.200", "2,5", "=B3*2", "0912345678", "",
                                       ""]]})
    raw = sh.values_get(f"'{TAB}'!A3:J63", params={"valueRenderOption": "UNFORMATTED_VALUE",
                                                   "dateTimeRenderOption": "SERIAL_NUMBER"})
    assert raw["range"] == f"'{TAB}'!A3:J63"
    assert raw["values"] == [[46349, 1200, 2.5, 2400, 912345678]]   # trailing "" omitted
    shown = sh.values_get(f"'{TAB}'!A3:E3")["values"]
    assert shown == [["23/11/2026", "1.200", "2,5", "2400", "912345678"]]
    formula = sh.values_get(f"'{TAB}'!D3", params={"valueRenderOption": "FORMULA"})
    assert formula["values"] == [["=B3*2"]]
    open_ended = sh.values_get(f"'{TAB}'!A3:J")
    assert open_ended["range"] == f"'{TAB}'!A3:J63"
    empty = sh.values_get(f"'{TAB}'!A10:J20")
    assert "values" not in empty and empty["range"] == f"'{TAB}'!A10:J20"
    cell = fake_google.cell(sh.id, f"'{TAB}'!B3")
    assert (cell.entered, cell.how, cell.value) == ("1.200", "USER_ENTERED", 1200.0)


def test_a_read_past_the_grid_is_cut_at_its_edge_unless_it_starts_beyond(fake_google):
    gc = fake_google.gspread_client()
    sh = vi_workbook(fake_google, gc)                       # 63 rows, 10 columns
    fake_google.type(sh.id, f"'{TAB}'!B63", "7")
    got = sh.values_batch_get([f"'{TAB}'!A1:AD1063"])
    assert got["valueRanges"][0]["range"] == f"'{TAB}'!A1:J63"
    assert got["valueRanges"][0]["values"][-1] == ["", "7"]
    with pytest.raises(APIError, match=re.escape(
            f"Range ('{TAB}'!A64:J1063) exceeds grid limits. Max rows: 63, max columns: 10")):
        sh.values_batch_get([f"'{TAB}'!A64:J1063"])


def test_raw_input_is_stored_as_text_and_batch_get_reads_many_tabs(fake_google):
    gc = fake_google.gspread_client()
    sh = vi_workbook(fake_google, gc)
    sh.values_update(f"'{TAB}'!A3", params={"valueInputOption": "RAW"},
                     body={"values": [["=1+1", "1.200"]]})
    got = sh.values_batch_get([f"'{TAB}'!A3:B3", "Sheet1"],
                              params={"valueRenderOption": "UNFORMATTED_VALUE"})
    assert [v.get("values") for v in got["valueRanges"]] == [[["=1+1", "1.200"]], None]
    assert got["valueRanges"][1]["range"] == "Sheet1!A1:Z1000"


def test_unknown_field_or_parameter_is_invalid_argument(fake_google):
    gc = fake_google.gspread_client()
    sh = vi_workbook(fake_google, gc)
    with pytest.raises(APIError) as caught:
        sh.batch_update({"requests": [{"addSheet": {"properties": {"titel": "x"}}}]})
    error = caught.value.error
    assert (caught.value.code, error["status"]) == (400, "INVALID_ARGUMENT")
    assert error["message"] == ('Invalid JSON payload received. Unknown name "titel" at '
                                "'requests[0].add_sheet.properties': Cannot find field.")
    with pytest.raises(APIError, match="Cannot bind query parameter"):
        sh.values_get("Sheet1", params={"valueRenderOptions": "FORMULA"})
    with pytest.raises(APIError, match="Unable to parse range: Không có!A1"):
        sh.values_get("Không có!A1")


def test_batch_update_is_atomic(fake_google):
    gc = fake_google.gspread_client()
    sh = vi_workbook(fake_google, gc)
    with pytest.raises(APIError, match=r"requests\[1\].deleteSheet: No grid with id: 999"):
        sh.batch_update({"requests": [{"addSheet": {"properties": {"title": "Mới"}}},
                                      {"deleteSheet": {"sheetId": 999}}]})
    assert [w.title for w in sh.worksheets()] == ["Sheet1", TAB]


# -- a person, quotas, faults -------------------------------------------------------------------


def test_person_typing_is_refused_by_validation_and_protection(fake_google):
    gc = fake_google.gspread_client()
    sh = vi_workbook(fake_google, gc)
    sheet_id = sh.worksheet(TAB).id
    sh.batch_update({"requests": [
        {"setDataValidation": {"range": {"sheetId": sheet_id, "startRowIndex": 2,
                                         "startColumnIndex": 1, "endColumnIndex": 2},
                               "rule": {"condition": {"type": "NUMBER_GREATER_THAN_EQ",
                                                      "values": [{"userEnteredValue": "0"}]},
                                        "strict": True}}},
        {"addProtectedRange": {"protectedRange": {"range": {"sheetId": sheet_id,
                                                            "endRowIndex": 2},
                                                  "description": "tiêu đề"}}},
    ]})
    before = fake_google.modified_time(sh.id)
    fake_google.type(sh.id, f"'{TAB}'!B3", "1.500")
    assert fake_google.values(sh.id, f"'{TAB}'!B3") == [[1500]]
    assert fake_google.modified_time(sh.id) > before
    with pytest.raises(CellRejected):
        fake_google.type(sh.id, f"'{TAB}'!B4", "mười")
    with pytest.raises(CellRejected, match="protected"):
        fake_google.type(sh.id, f"'{TAB}'!A1", "sửa tiêu đề", as_user="xa@example.gov.vn")


def test_a_formula_typed_is_judged_by_its_result_and_read_back_by_formula(fake_google):
    """Sheets validates what a formula computes; valueRenderOption FORMULA returns the formula
    text for formula cells and, for every other cell, what UNFORMATTED_VALUE returns (dates as
    serial numbers with dateTimeRenderOption SERIAL_NUMBER). Text typed with a leading
    apostrophe comes back as the text, so "'=abc" reads like the formula =abc."""
    gc = fake_google.gspread_client()
    sh = vi_workbook(fake_google, gc)
    sheet_id = sh.worksheet(TAB).id
    sh.batch_update({"requests": [{"setDataValidation": {
        "range": {"sheetId": sheet_id, "startRowIndex": 2, "startColumnIndex": 1,
                  "endColumnIndex": 3},
        "rule": {"condition": {"type": "NUMBER_GREATER_THAN_EQ",
                               "values": [{"userEnteredValue": "0"}]}, "strict": True}}}]})
    for where, typed in (("A3", "23/11/2026"), ("B3", "7"), ("C3", "=B3*2"), ("D3", "'=abc")):
        fake_google.type(sh.id, f"'{TAB}'!{where}", typed)
    with pytest.raises(CellRejected):
        fake_google.type(sh.id, f"'{TAB}'!C4", "=B3-100")
    params = {"valueRenderOption": "FORMULA", "dateTimeRenderOption": "SERIAL_NUMBER"}
    got = sh.values_batch_get([f"'{TAB}'!A1:D4"], params=params)
    assert got["valueRanges"][0]["values"][2:] == [[46349, 7, "=B3*2", "=abc"]]
    params["valueRenderOption"] = "UNFORMATTED_VALUE"
    got = sh.values_batch_get([f"'{TAB}'!A3:D3"], params=params)
    assert got["valueRanges"][0]["values"] == [[46349, 7, 14, "=abc"]]


def test_quota_answers_429_until_the_clock_passes_a_minute(fake_google):
    fake_google.clock.freeze()
    gc = fake_google.gspread_client()
    sh = vi_workbook(fake_google, gc)
    fake_google.quota(reads=3, writes=3)
    fake_google.reset_log()
    for _ in range(3):
        sh.values_get("Sheet1")
    with pytest.raises(APIError) as caught:
        sh.values_get("Sheet1")
    assert caught.value.code == 429
    assert caught.value.error["status"] == "RESOURCE_EXHAUSTED"
    fake_google.clock.advance(60)
    sh.values_get("Sheet1")
    assert fake_google.count("read") == 5
    assert [r.status for r in fake_google.requests] == [200, 200, 200, 429, 200]


def test_injected_faults_reach_a_plain_requests_session(fake_google):
    sid = fake_google.create_spreadsheet("Xã", parent=fake_google.add_shared_drive_folder())
    s = session_for(fake_google)
    url = f"{SHEETS}/{sid}/values/Sheet1"
    fake_google.fail_next(1, 500)
    fake_google.fail_next(1, 503, match="values.get")
    fake_google.fail_next(1, "reset", match=lambda r: r.method == "GET")
    assert s.get(url).json()["error"]["status"] == "INTERNAL"
    assert s.get(url).status_code == 503
    with pytest.raises(requests.ConnectionError):
        s.get(url)
    assert s.get(url).status_code == 200
    fake_google.fail_next(1, "timeout", delay=0.5)
    with pytest.raises(requests.Timeout):
        s.put(url, params={"valueInputOption": "RAW"}, json={"values": [["đã ghi"]]},
              timeout=0.1)
    time.sleep(0.6)
    assert fake_google.values(sid, "Sheet1") == [["đã ghi"]]   # slow, but carried out
    assert [r.status for r in fake_google.requests] == [500, 503, 0, 200, 200]
    assert fake_google.count(lambda r: r.fault is not None) == 4


def test_a_read_timeout_is_raised_as_requests_raises_it_after_the_work_is_done(fake_google):
    """Google may carry out a write whose answer never arrives: requests then raises
    ReadTimeout (burnash/gspread#940), instantly here instead of after the real timeout."""
    sid = fake_google.create_spreadsheet("Xã", parent=fake_google.add_shared_drive_folder())
    s = session_for(fake_google)
    url = f"{SHEETS}/{sid}/values/Sheet1"
    fake_google.fail_next(1, "read-timeout", match="values.update")
    started = time.monotonic()
    with pytest.raises(requests.ReadTimeout) as caught:
        s.put(url, params={"valueInputOption": "RAW"}, json={"values": [["đã ghi"]]},
              timeout=(10, 60))
    assert time.monotonic() - started < 5
    assert "HTTPSConnectionPool(host='sheets.googleapis.com', port=443): Read timed out. " \
           "(read timeout=60)" in str(caught.value)
    assert fake_google.values(sid, "Sheet1") == [["đã ghi"]]          # carried out
    assert s.get(url).status_code == 200                              # the session goes on
    assert [r.fault for r in fake_google.requests] == ["read-timeout", None]


def test_every_fault_kind_can_be_drawn_at_random(fake_google):
    from toolkit.backends.google.fake import ALL_FAULT_KINDS

    sid = fake_google.create_spreadsheet("Xã", parent=fake_google.add_shared_drive_folder())
    fake_google.fault_rate, fake_google.fault_kinds = 1.0, ALL_FAULT_KINDS
    s = session_for(fake_google)
    seen = {}
    for n in range(80):
        try:
            answer = s.put(f"{SHEETS}/{sid}/values/Sheet1", json={"values": [[n]]},
                           params={"valueInputOption": "RAW"}, timeout=(10, 60))
            seen[fake_google.requests[-1].fault] = (answer.status_code,
                                                    answer.headers.get("Retry-After"))
        except requests.ConnectionError:
            seen[fake_google.requests[-1].fault] = "ConnectionError"
        except requests.ReadTimeout:
            seen[fake_google.requests[-1].fault] = "ReadTimeout"
    fake_google.fault_rate = 0.0
    assert seen["429"] == (429, None) and seen["429+retry-after"] == (429, "7")
    assert seen["500"] == (500, None) and seen["503"] == (503, None)
    assert seen["read-timeout"] == "ReadTimeout"
    assert seen["reset"] == seen["reset-after"] == "ConnectionError"
    assert set(seen) == {str(k) for k in ALL_FAULT_KINDS}
    written = fake_google.values(sid, "Sheet1")[0][0]
    last_done = max(i for i, r in enumerate(fake_google.requests)
                    if r.fault in ("reset-after", "read-timeout"))
    assert written == last_done                       # a reset after the work: the work is done


def test_a_chart_id_that_exists_is_refused_and_nothing_of_the_batch_applies(fake_google):
    """AddChartRequest: "It is an error to specify the ID of an embedded object that already
    exists." — so a batch that adds a chart by id cannot add it twice."""
    sid = fake_google.create_spreadsheet("Xã", parent=fake_google.add_shared_drive_folder())
    sheet_id = fake_google.spreadsheet(sid).ordered()[0].sheet_id
    s = session_for(fake_google)
    chart = {"addChart": {"chart": {"chartId": 77, "spec": {"title": "Tiến độ"}, "position": {
        "overlayPosition": {"anchorCell": {"sheetId": sheet_id, "rowIndex": 0,
                                           "columnIndex": 0}}}}}}
    title = {"updateSpreadsheetProperties": {"properties": {"title": "Đổi tên"},
                                             "fields": "title"}}
    url = f"{SHEETS}/{sid}:batchUpdate"
    assert s.post(url, json={"requests": [chart]}).status_code == 200
    again = s.post(url, json={"requests": [title, chart]})
    assert again.status_code == 400
    assert again.json()["error"]["message"] == ("Invalid requests[1].addChart: An object with "
                                                 "ID 77 already exists.")
    assert fake_google.spreadsheet(sid).props["title"] == "Xã"
    assert len(fake_google.spreadsheet(sid).ordered()[0].extras["charts"]) == 1


def test_random_faults_are_seeded(tmp_path):
    def statuses(seed: int) -> list[int]:
        with FakeGoogle(seed=seed) as fake:
            sid = fake.create_spreadsheet("Xã", parent=fake.add_shared_drive_folder())
            fake.fault_rate, fake.fault_kinds = 0.3, (429, 500, 503)
            s = session_for(fake)
            return [s.get(f"{SHEETS}/{sid}/values/Sheet1").status_code for _ in range(30)]

    first = statuses(7)
    assert first == statuses(7)
    assert {429, 500, 503} & set(first) and 200 in first


# -- recorded Google --------------------------------------------------------------------------


@pytest.mark.skipif(not CASSETTES.is_dir(), reason="shared/google-cassettes is not present")
def test_fake_answers_recorded_google_requests_with_the_same_shapes(fake_google):
    user = "nguoi-ghi@example.com"
    s = fake_google.install(requests.Session())
    s.headers["Authorization"] = "Bearer " + fake_google.token_for(user, service_account=False)
    replayer = Replayer(fake_google, s, user)
    results = [r for path in sorted(CASSETTES.glob("*.json")) for r in replayer.run(path)]
    compared = [r for r in results if r.status]
    matched = [r for r in compared if r.same_shape]
    values = [r for r in compared if r.same_values is not None]
    print(f"cassettes: {len(results)} interactions, {len(compared)} compared, {len(matched)} "
          f"matched; values equal in {sum(r.same_values for r in values)}/{len(values)}")
    assert len(compared) > 2000
    assert [f"{r.cassette}#{r.index}: {r.diff}" for r in compared if not r.same_shape] == []
    assert all(r.same_values for r in values)
