"""`toolkit doctor` on what the accounts may do: edit the rollup spreadsheet, share from the
workbooks folder, and the Shared Drive's settings — against the fake's Drive ``capabilities``
(files.get) and ``restrictions`` (drives.get), as Drive v3 reports them."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import requests

from toolkit.config import GoogleConfig
from toolkit.doctor import doctor

ACCOUNT = "tinh@lang-son.iam.gserviceaccount.com"
FILES = "https://www.googleapis.com/drive/v3/files"
DRIVES = "https://www.googleapis.com/drive/v3/drives"


def key(fake, tmp_path, email: str = ACCOUNT):
    path = tmp_path / "google-key.json"
    path.write_text(json.dumps(fake.service_account_info(email)), encoding="utf-8")
    path.chmod(0o600)
    return path


def run_doctor(fake, tmp_path, folder, rollup=None, communes=()):
    google = GoogleConfig(credentials=key(fake, tmp_path), folder_id=folder,
                          rollup_spreadsheet_id=rollup)
    config = SimpleNamespace(backend="gsheets", workbooks_dir=tmp_path, google=google)
    return {c.name: c for c in doctor(config, adapter=fake.adapter, communes=communes).checks}


def session(fake, email: str = ACCOUNT) -> requests.Session:
    s = fake.install(requests.Session())
    s.headers["Authorization"] = "Bearer " + fake.token_for(email)
    return s


@pytest.mark.parametrize("role", ["reader", "commenter"])
def test_a_rollup_spreadsheet_shared_as_viewer_fails_naming_it_and_the_account(
        fake_google, tmp_path, role):
    fake = fake_google
    folder = fake.add_shared_drive_folder()
    rollup = fake.create_spreadsheet("Tổng hợp Lạng Sơn", owner="chanh-vp@so-tt.gov.vn")
    fake.share(rollup, ACCOUNT, role)
    check = run_doctor(fake, tmp_path, folder, rollup)["rollup spreadsheet"]
    assert not check.ok
    assert "'Tổng hợp Lạng Sơn'" in check.message and rollup in check.message
    assert f"đổi quyền của {ACCOUNT} thành Người chỉnh sửa (Editor)" in check.message
    fake.share(rollup, ACCOUNT, "writer")
    assert run_doctor(fake, tmp_path, folder, rollup)["rollup spreadsheet"].ok


def test_files_get_reports_capabilities_by_role(fake_google):
    fake = fake_google
    sid = fake.create_spreadsheet("Sổ", owner="chu@so-tt.gov.vn")
    seen = {}
    for role, email in (("reader", "a@x.vn"), ("commenter", "b@x.vn"), ("writer", "c@x.vn")):
        fake.share(sid, email, role)
        seen[role] = session(fake, email).get(f"{FILES}/{sid}", params={
            "fields": "capabilities(canEdit,canComment,canShare)"}).json()["capabilities"]
    assert seen == {
        "reader": {"canEdit": False, "canComment": False, "canShare": False},
        "commenter": {"canEdit": False, "canComment": True, "canShare": False},
        "writer": {"canEdit": True, "canComment": True, "canShare": True}}


def test_a_contributor_can_fill_the_folder_but_not_share_it(fake_google, tmp_path):
    fake = fake_google
    folder = fake.add_shared_drive_folder(members={ACCOUNT: "writer"})
    check = run_doctor(fake, tmp_path, folder)["folder"]
    assert not check.ok and "canShare" in check.message
    assert f"đổi vai trò của {ACCOUNT} thành Content manager" in check.message
    assert "Manage members" in check.message
    fake.drives[fake.files[folder].drive_id].members[ACCOUNT] = "fileOrganizer"
    assert run_doctor(fake, tmp_path, folder)["folder"].ok


def test_a_shared_drive_closed_to_non_members_fails_naming_the_setting(fake_google, tmp_path):
    fake = fake_google
    folder = fake.add_shared_drive_folder("Báo cáo xã")
    assert run_doctor(fake, tmp_path, folder)["Shared Drive"].ok
    fake.restrict(folder, driveMembersOnly=True)
    check = run_doctor(fake, tmp_path, folder)["Shared Drive"]
    assert not check.ok and "driveMembersOnly" in check.message
    assert "'Báo cáo xã' → Shared drive settings" in check.message
    assert "Access by non-members" in check.message
    fake.restrict(folder, adminManagedRestrictions=True)
    check = run_doctor(fake, tmp_path, folder)["Shared Drive"]
    assert "Admin console → Apps → Google Workspace → Drive and Docs" in check.message


def test_a_shared_drive_for_the_organisation_only_fails_for_gmail_editors(fake_google,
                                                                          tmp_path):
    fake = fake_google
    folder = fake.add_shared_drive_folder("Báo cáo xã")
    fake.restrict(folder, domainUsersOnly=True)
    inside = [("06040", "Xã Thất Khê", ("xa06040@langson.gov.vn",)),
              ("06001", "Xã Ba Sơn", ("xa06001@langson.gov.vn",))]
    fine = run_doctor(fake, tmp_path, folder, communes=inside)["Shared Drive"]
    assert fine.ok and "langson.gov.vn" in fine.message
    gmail = inside + [("06202", "Xã Bắc Sơn", ("canbo.bacson@gmail.com",))]
    check = run_doctor(fake, tmp_path, folder, communes=gmail)["Shared Drive"]
    assert not check.ok and "domainUsersOnly" in check.message
    assert "canbo.bacson@gmail.com" in check.message
    assert "Access by people outside the organization" in check.message


def test_drives_get_answers_members_only(fake_google):
    fake = fake_google
    folder = fake.add_shared_drive_folder("Báo cáo xã", members={ACCOUNT: "organizer"})
    drive_id = fake.files[folder].drive_id
    fake.restrict(drive_id, driveMembersOnly=True)
    mine = session(fake).get(f"{DRIVES}/{drive_id}", params={"fields": "id,name,restrictions"})
    assert mine.status_code == 200
    assert mine.json() == {"id": drive_id, "name": "Báo cáo xã", "restrictions": {
        "adminManagedRestrictions": False, "copyRequiresWriterPermission": False,
        "domainUsersOnly": False, "driveMembersOnly": True,
        "sharingFoldersRequiresOrganizerPermission": False}}
    other = session(fake, "nguoi-khac@x.vn").get(f"{DRIVES}/{drive_id}")
    assert other.status_code == 404
    assert other.json()["error"]["errors"][0]["reason"] == "notFound"
