"""The fake's Drive behaves like Drive where a first real run depends on it (issue 13).

- files.list answers from a search index that trails the file: other clients report the
  previous modifiedTime for up to about ten minutes, while files.get is current (gspread's
  recorded files.get shows a rename's modifiedTime within three seconds).
- files.list's default corpus (``user``): "If a user has permissions on a Shared Drive, the
  files inside it won't be retrieved unless the user has created, opened, or shared the file"
  (Drive v3 reference, ``corpus``); ``corpora=drive`` with ``driveId`` lists the drive.
- files.generateIds hands out ids "which can be provided in create or copy requests"
  (discovery document).
- sharing refused by policy: 400 shareOutNotPermitted (GAM 7.07.11 "ERROR: 400:
  shareOutNotPermitted"); Shared Drives 403 teamDriveTeamMembersOnlyRestriction,
  teamDriveDomainUsersOnlyRestriction, cannotShareTeamDriveWithNonGoogleAccounts (GAM's list).
- a permission is stored under the account's primary address, whatever address it was made
  with.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from test_fake_google import DRIVE, session_for

BOT = "bot@tinh.iam.gserviceaccount.com"
ALL_DRIVES = {"supportsAllDrives": True, "includeItemsFromAllDrives": True}


def listing(s, folder: str, **extra) -> dict[str, dict]:
    answer = s.get(DRIVE, params={"q": f"'{folder}' in parents", "fields":
                                  "files(id,modifiedTime)", **ALL_DRIVES, **extra})
    assert answer.ok, answer.text
    return {f["id"]: f for f in answer.json()["files"]}


def test_the_listing_trails_an_edit_and_a_new_file_while_files_get_does_not(fake_google):
    fake_google.clock.freeze()
    folder = fake_google.add_shared_drive_folder()
    sid = fake_google.create_spreadsheet("06040 Xã Thất Khê", parent=folder, owner=BOT)
    fake_google.clock.advance(3600)
    before = fake_google.modified_time(sid)
    fake_google.list_lag = timedelta(minutes=10)
    fake_google.type(sid, "Sheet1!A1", "sửa")
    s = session_for(fake_google, BOT)
    got = s.get(f"{DRIVE}/{sid}", params={"supportsAllDrives": True,
                                          "fields": "modifiedTime"}).json()
    assert got["modifiedTime"].startswith(fake_google.modified_time(sid).strftime("%Y-%m-%dT%H"))
    assert got["modifiedTime"] != listing(s, folder)[sid]["modifiedTime"]
    assert listing(s, folder)[sid]["modifiedTime"].startswith(before.strftime("%Y-%m-%dT%H:%M"))
    new = s.post(DRIVE, params={"supportsAllDrives": True}, json={
        "name": "06001", "mimeType": "application/vnd.google-apps.spreadsheet",
        "parents": [folder]}).json()["id"]
    assert new not in listing(s, folder)
    assert s.get(f"{DRIVE}/{new}", params={"supportsAllDrives": True}).ok
    fake_google.clock.advance(601)
    assert new in listing(s, folder)
    assert listing(s, folder)[sid]["modifiedTime"] == got["modifiedTime"]


def test_the_default_corpus_leaves_out_shared_drive_files_another_account_made(fake_google):
    folder = fake_google.add_shared_drive_folder()
    drive_id = fake_google.file(folder).drive_id
    mine = fake_google.create_spreadsheet("06040", parent=folder, owner=BOT)
    theirs = session_for(fake_google, "bot-2@tinh.iam.gserviceaccount.com").post(
        DRIVE, params={"supportsAllDrives": True}, json={
            "name": "06001", "mimeType": "application/vnd.google-apps.spreadsheet",
            "parents": [folder]}).json()["id"]
    s = session_for(fake_google, BOT)
    assert set(listing(s, folder)) == {mine}
    assert set(listing(s, folder, corpora="drive", driveId=drive_id)) == {mine, theirs}
    fake_google.share(theirs, BOT)          # given on the file itself: in the user corpus
    assert set(listing(s, folder)) == {mine, theirs}
    bad = s.get(DRIVE, params={"corpora": "drive", **ALL_DRIVES})
    assert bad.status_code == 403
    assert bad.json()["error"]["errors"][0]["reason"] == "teamDrivesParameterRequired"


def test_a_file_is_created_and_copied_with_a_generated_id(fake_google):
    folder = fake_google.add_shared_drive_folder()
    s = session_for(fake_google, BOT)
    answer = s.get(f"{DRIVE}/generateIds", params={"count": 2}).json()
    assert answer["kind"] == "drive#generatedIds" and answer["space"] == "drive"
    first, second = answer["ids"]
    body = {"id": first, "name": "06040", "parents": [folder],
            "mimeType": "application/vnd.google-apps.spreadsheet"}
    made = s.post(DRIVE, params={"supportsAllDrives": True}, json=body)
    assert made.ok and made.json()["id"] == first
    again = s.post(DRIVE, params={"supportsAllDrives": True}, json=body)
    assert again.status_code == 409
    copied = s.post(f"{DRIVE}/{first}/copy", params={"supportsAllDrives": True},
                    json={"id": second, "name": "06001", "parents": [folder]})
    assert copied.ok and copied.json()["id"] == second
    assert second in fake_google.spreadsheets
    made_up = s.post(DRIVE, params={"supportsAllDrives": True}, json={**body, "id": "x" * 33})
    assert made_up.status_code == 400


def share(s, sid: str, email: str, notify: bool = False):
    return s.post(f"{DRIVE}/{sid}/permissions",
                  params={"supportsAllDrives": True, "sendNotificationEmail": notify,
                          "fields": "id,emailAddress"},
                  json={"type": "user", "role": "writer", "emailAddress": email})


def reason(answer) -> tuple[int, str]:
    error = answer.json()["error"]
    assert error["code"] == answer.status_code and error["message"]
    return answer.status_code, error["errors"][0]["reason"]


def test_a_domain_that_keeps_files_inside_refuses_sharing_out(fake_google):
    fake_google.internal_only.add("so-tt.gov.vn")
    mine = fake_google.create_spreadsheet("06040", owner="can-bo@so-tt.gov.vn")
    s = session_for(fake_google, "can-bo@so-tt.gov.vn")
    assert reason(share(s, mine, "xa06040@gmail.com")) == (400, "shareOutNotPermitted")
    assert share(s, mine, "van-thu@so-tt.gov.vn").ok


@pytest.mark.parametrize("setting, expected", [
    ("members_only", (403, "teamDriveTeamMembersOnlyRestriction")),
    ("domain_users_only", (403, "teamDriveDomainUsersOnlyRestriction")),
    ("no_visitors", (403, "cannotShareTeamDriveWithNonGoogleAccounts")),
])
def test_a_shared_drive_refuses_by_its_settings(fake_google, setting, expected):
    folder = fake_google.add_shared_drive_folder()
    fake_google.set_drive_members(folder, {BOT: "organizer"})
    shared = fake_google.drives[fake_google.file(folder).drive_id]
    shared.domain = "so-tt.gov.vn"
    if setting == "no_visitors":
        shared.visitors = False
        fake_google.no_google_account.add("xa@example.gov.vn")
    else:
        setattr(shared, setting, True)
    sid = fake_google.create_spreadsheet("06040", parent=folder, owner=BOT)
    s = session_for(fake_google, BOT)
    assert reason(share(s, sid, "xa@example.gov.vn", notify=True)) == expected


def test_a_permission_made_for_an_alias_is_stored_under_the_primary_address(fake_google):
    fake_google.aliases["thatkhe@langson.gov.vn"] = "ubnd.thatkhe@langson.gov.vn"
    folder = fake_google.add_shared_drive_folder()
    sid = fake_google.create_spreadsheet("06040", parent=folder, owner=BOT)
    s = session_for(fake_google, BOT)
    made = share(s, sid, "ThatKhe@langson.gov.vn")
    assert made.ok and made.json()["emailAddress"] == "ubnd.thatkhe@langson.gov.vn"
    listed = s.get(f"{DRIVE}/{sid}/permissions", params={
        "supportsAllDrives": True, "fields": "permissions(id,emailAddress)"}).json()
    assert "ubnd.thatkhe@langson.gov.vn" in {p.get("emailAddress")
                                             for p in listed["permissions"]}
