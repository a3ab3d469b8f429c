"""The fake's Drive sharing behaves like Drive where an audit depends on it.

Each behaviour is Google's, from its documentation or from answers seen in the wild:
- permissions.list on a Shared Drive item lists its members and its folders' permissions as
  inherited parts of one entry per grantee (``permissionDetails``: permissionType member or
  file, inherited, inheritedFrom) — Drive v3 discovery document, Permission.permissionDetails;
  "Share files, folders, and drives" (How permissions propagate).
- an inherited permission cannot be removed on the item: 403 cannotModifyInheritedPermission,
  "Cannot update or delete an inherited permission on a shared drive item." (Google's "Resolve
  errors" page, under its former name cannotModifyInheritedTeamDrivePermission; GAM 7.10.05
  notes the rename; CSSS/csss-site#644 shows the message from a live call).
- "anyone with the link" is the permission id ``anyoneWithLink`` (CSSS/csss-site#644).
- files.list's ``q`` knows ``visibility = 'anyoneWithLink'`` and its siblings (Drive's search
  terms reference).
- a ``view=published`` permission is listed only with includePermissionsForView=published
  (discovery document, permissions.list).
- about.get needs ``fields`` (googleapis/google-api-python-client#1742 shows Google's 400).
"""

from __future__ import annotations

import requests
from test_fake_google import DRIVE, session_for

ABOUT = "https://www.googleapis.com/drive/v3/about"
BOT = "bot@tinh.iam.gserviceaccount.com"
ALL = "permissions(id,type,role,emailAddress,domain,allowFileDiscovery,view,permissionDetails)"


def listed(s: requests.Session, file_id: str, **extra) -> dict[str, dict]:
    answer = s.get(f"{DRIVE}/{file_id}/permissions",
                   params={"supportsAllDrives": True, "fields": ALL, **extra})
    assert answer.ok, answer.text
    return {p["id"]: p for p in answer.json()["permissions"]}


def shared_drive(fake):
    folder = fake.add_shared_drive_folder("Báo cáo xã")
    fake.set_drive_members(folder, {BOT: "organizer", "truong-phong@so.gov.vn": "reader"})
    return folder, fake.create_spreadsheet("06040 Xã Thất Khê", parent=folder)


def test_a_shared_drive_item_lists_members_folder_shares_and_its_own_as_parts(fake_google):
    folder, sid = shared_drive(fake_google)
    fake_google.grant(folder, "user", "reader", email="thanh-tra@so.gov.vn")
    fake_google.grant(sid, "user", "writer", email="truong-phong@so.gov.vn")
    fake_google.grant(sid, "anyone", "writer")
    perms = listed(session_for(fake_google, BOT), sid)
    boss = next(p for p in perms.values() if p.get("emailAddress") == "truong-phong@so.gov.vn")
    assert boss["role"] == "writer"
    drive_id = fake_google.file(sid).drive_id
    assert sorted(boss["permissionDetails"], key=lambda d: d["permissionType"]) == [
        {"permissionType": "file", "role": "writer", "inherited": False},
        {"permissionType": "member", "role": "reader", "inherited": True,
         "inheritedFrom": drive_id}]
    inspector = next(p for p in perms.values() if p.get("emailAddress") == "thanh-tra@so.gov.vn")
    assert inspector["permissionDetails"] == [{"permissionType": "file", "role": "reader",
                                               "inherited": True, "inheritedFrom": folder}]
    assert perms["anyoneWithLink"]["type"] == "anyone"
    assert perms["anyoneWithLink"]["allowFileDiscovery"] is False


def test_an_inherited_permission_cannot_be_removed_on_the_item(fake_google):
    folder, sid = shared_drive(fake_google)
    fake_google.grant(folder, "anyone", "reader")
    fake_google.grant(sid, "user", "writer", email="truong-phong@so.gov.vn")
    s = session_for(fake_google, BOT)
    refused = s.delete(f"{DRIVE}/{sid}/permissions/anyoneWithLink",
                       params={"supportsAllDrives": True})
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["errors"][0]["reason"] == "cannotModifyInheritedPermission"
    assert error["message"] == ("Cannot update or delete an inherited permission on a shared "
                                "drive item.")
    boss = next(p for p in listed(s, sid).values()
                if p.get("emailAddress") == "truong-phong@so.gov.vn")
    gone = s.delete(f"{DRIVE}/{sid}/permissions/{boss['id']}", params={"supportsAllDrives": True})
    assert gone.status_code == 204
    left = next(p for p in listed(s, sid).values() if p["id"] == boss["id"])
    assert left["role"] == "reader"           # the direct part went; membership stays
    assert [d["permissionType"] for d in left["permissionDetails"]] == ["member"]
    missing = s.delete(f"{DRIVE}/{sid}/permissions/anyone", params={"supportsAllDrives": True})
    assert missing.status_code == 404


def test_files_list_finds_link_shared_files_by_visibility(fake_google):
    folder, sid = shared_drive(fake_google)
    other = fake_google.create_spreadsheet("06001 Xã Đoàn Kết", parent=folder)
    third = fake_google.create_spreadsheet("06019 Xã Tân Tiến", parent=folder)
    fake_google.grant(sid, "anyone", "writer")
    fake_google.grant(other, "domain", "reader", domain="langson.gov.vn", discoverable=True)
    fake_google.grant(third, "anyone", "reader", view="published")   # not the file itself
    s = session_for(fake_google, BOT)

    def found(visibility: str) -> set[str]:
        page = s.get(DRIVE, params={"q": f"visibility = '{visibility}'",
                                    "supportsAllDrives": True, "corpora": "drive",
                                    "driveId": fake_google.file(folder).drive_id,
                                    "includeItemsFromAllDrives": True}).json()
        return {f["id"] for f in page["files"]}

    assert found("anyoneWithLink") == {sid}
    assert found("domainCanFind") == {other}
    assert third in found("limited") and folder in found("limited")
    bad = s.get(DRIVE, params={"q": "visibility = 'everyone'"})
    assert bad.status_code == 400


def test_the_published_view_is_listed_only_when_asked_for(fake_google):
    _, sid = shared_drive(fake_google)
    fake_google.grant(sid, "anyone", "reader", view="published")
    s = session_for(fake_google, BOT)
    assert all(p["type"] != "anyone" for p in listed(s, sid).values())
    published = [p for p in listed(s, sid, includePermissionsForView="published").values()
                 if p["type"] == "anyone"]
    assert [(p["role"], p["view"]) for p in published] == [("reader", "published")]
    stranger = session_for(fake_google, "ai-do@gmail.com")
    assert stranger.get(f"{DRIVE}/{sid}", params={"supportsAllDrives": True}).status_code == 404


def test_an_own_permission_is_raised_and_its_expiry_removed(fake_google):
    _, sid = shared_drive(fake_google)
    pid = fake_google.grant(sid, "user", "reader", email="xa06040@example.gov.vn",
                            expires="2026-12-31T00:00:00Z")
    s = session_for(fake_google, BOT)
    answer = s.patch(f"{DRIVE}/{sid}/permissions/{pid}", json={"role": "writer"},
                     params={"supportsAllDrives": True, "removeExpiration": True})
    assert answer.ok, answer.text
    (perm,) = [p for p in fake_google.file(sid).permissions if p["id"] == pid]
    assert perm["role"] == "writer" and "expirationTime" not in perm
    member = next(p for p in listed(s, sid).values()
                  if p.get("emailAddress") == "truong-phong@so.gov.vn")
    refused = s.patch(f"{DRIVE}/{sid}/permissions/{member['id']}", json={"role": "writer"},
                      params={"supportsAllDrives": True})
    assert refused.status_code == 403


def test_about_get_names_the_caller_and_needs_fields(fake_google):
    s = session_for(fake_google, "can-bo@so-tt.gov.vn")
    refused = s.get(ABOUT)
    assert refused.status_code == 400
    assert refused.json()["error"]["errors"][0] == {
        "message": "The 'fields' parameter is required for this method.", "domain": "global",
        "reason": "required", "location": "fields", "locationType": "parameter"}
    answer = s.get(ABOUT, params={"fields": "user(emailAddress)"}).json()
    assert answer == {"user": {"emailAddress": "can-bo@so-tt.gov.vn"}}


def test_a_my_drive_file_lists_its_owner_and_its_folder_shares_without_details(fake_google):
    folder = fake_google.add_folder("Báo cáo xã", owner="can-bo@so-tt.gov.vn")
    sid = fake_google.create_spreadsheet("06040 Xã Thất Khê", parent=folder,
                                         owner="can-bo@so-tt.gov.vn")
    fake_google.grant(folder, "user", "writer", email="cu@example.gov.vn")
    s = session_for(fake_google, "can-bo@so-tt.gov.vn")
    perms = listed(s, sid)
    assert sorted((p["role"], p.get("emailAddress")) for p in perms.values()) == [
        ("owner", "can-bo@so-tt.gov.vn"), ("writer", "cu@example.gov.vn")]
    assert all("permissionDetails" not in p for p in perms.values())
    old = next(p for p in perms.values() if p.get("emailAddress") == "cu@example.gov.vn")
    refused = s.delete(f"{DRIVE}/{sid}/permissions/{old['id']}")
    assert refused.status_code == 403
    owner = next(p for p in perms.values() if p["role"] == "owner")
    assert s.delete(f"{DRIVE}/{sid}/permissions/{owner['id']}").status_code == 403
