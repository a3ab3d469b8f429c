"""`toolkit audit`, and `provision` and `doctor` on sharing: the real CLI against the fake Google
(real gspread and requests on 127.0.0.1) and against a real folder of .xlsx files."""

from __future__ import annotations

import json
import os
import stat

import pytest
from openpyxl import load_workbook

from conftest import run, workbook_of
from desks import PROVINCE_ACCOUNT, GoogleDesk
from toolkit.registry import HEADERS

NOW = "2026-11-20 09:00"
BOSS = "truong-phong@so.gov.vn"          # a member of the Shared Drive: left alone everywhere
WRITES = ("drive.permissions.create", "drive.permissions.delete", "drive.permissions.update")


@pytest.fixture
def google(province):
    desk = GoogleDesk(province)
    desk.fake.set_drive_members(folder_of(desk), {PROVINCE_ACCOUNT: "organizer", BOSS: "reader"})
    result = desk.run("provision", now="2026-11-20 08:00")
    assert result.exit_code == 0, result.output
    yield desk
    desk.close()


def folder_of(desk) -> str:
    return desk.config.read_text(encoding="utf-8").split('folder_id = "')[1].split('"')[0]


def people(desk, code: str) -> dict[str, str]:
    """Who the workbook itself gives access to (e-mail, domain or anyone → role)."""
    return {p.get("emailAddress") or p.get("domain") or p["type"]: p["role"]
            for p in desk.fake.file(desk.spreadsheet_id(code)).permissions}


def findings(result) -> list[tuple]:
    data = json.loads(result.stdout)
    return [(f["code"], f["who"], f["role"], f["kind"], f["status"]) for f in data["findings"]]


def writes(desk) -> int:
    return sum(desk.fake.count(m) for m in WRITES)


def spoil(desk) -> None:
    """What happens to workbooks in a real province over a few months."""
    fake = desk.fake
    thatkhe, doanket = desk.spreadsheet_id("06040"), desk.spreadsheet_id("06001")
    fake.grant(thatkhe, "anyone", "writer")                        # "anyone with the link"
    fake.grant(thatkhe, "user", "writer", email="cu-can-bo@example.gov.vn")
    fake.grant(doanket, "domain", "reader", domain="langson.gov.vn", discoverable=True)
    fake.grant(desk.spreadsheet_id("06019"), "anyone", "reader", view="published")
    for perm in fake.file(desk.spreadsheet_id("06202")).permissions:
        perm["role"] = "reader"                                     # the editor can only look
    fake.file(doanket).permissions = [p for p in fake.file(doanket).permissions
                                      if p.get("emailAddress") != "xa06001@example.gov.vn"]


def test_audit_finds_every_kind_and_fix_makes_each_workbook_match_the_registry(google):
    spoil(google)
    fake = google.fake
    fake.reset_log()
    found = google.run("audit", "--format", "json", now=NOW)
    assert found.exit_code == 1, found.output
    assert sorted(findings(found)) == [
        ("06001", "miền langson.gov.vn", "reader", "domain", "found"),
        ("06001", "xa06001@example.gov.vn", "", "missing", "found"),
        ("06019", "bất kỳ ai", "reader", "link", "found"),
        ("06040", "bất kỳ ai", "writer", "link", "found"),
        ("06040", "cu-can-bo@example.gov.vn", "writer", "extra", "found"),
        ("06202", "xa06202@example.gov.vn", "reader", "weak", "found")]
    # one permissions.list per workbook (after one folder listing), nothing written
    assert fake.count("drive.permissions.list") == 4 and writes(google) == 0

    table = google.run("audit", now=NOW)
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["Xã", "Bảng", "tính", "Ai", "Quyền", "Vấn", "đề", "--fix", "sẽ"]
    row = next(line for line in lines if "cu-can-bo@example.gov.vn" in line)
    assert row.startswith("Xã Thất Khê") and google.spreadsheet_id("06040") in row
    assert "Người chỉnh sửa" in row and "không có trong cột editors của registry" in row
    assert row.rstrip().endswith("gỡ quyền truy cập")
    published = next(line for line in lines if "xuất bản" in line)
    assert "đã xuất bản lên web: ai cũng xem được bản xuất bản" in published
    assert lines[-1] == ("audit: 4 bảng tính đã kiểm tra, 6 vấn đề; chạy `toolkit audit --fix` "
                         "để sửa những gì sửa được")

    fake.reset_log()
    plan = google.run("audit", "--fix", "--dry-run", now=NOW)
    assert plan.exit_code == 1
    assert plan.stdout.splitlines()[-1] == ("audit: 4 bảng tính đã kiểm tra, 6 vấn đề; "
                                            "--dry-run: 6 thay đổi sẽ được thực hiện, chưa thay "
                                            "đổi gì")
    assert writes(google) == 0 and "anyone" in people(google, "06040")

    fake.reset_log()
    fixed = google.run("audit", "--fix", "--format", "json", now=NOW)
    assert fixed.exit_code == 0, fixed.output
    assert {status for *_, status in findings(fixed)} == {"fixed"}
    assert fake.count("drive.permissions.list") == 4 and writes(google) == 6  # one per change
    assert people(google, "06040") == {"xa06040@example.gov.vn": "writer"}
    assert people(google, "06001") == {"xa06001@example.gov.vn": "writer"}
    assert people(google, "06019") == {"xa06019@example.gov.vn": "writer"}
    assert people(google, "06202") == {"xa06202@example.gov.vn": "writer"}
    assert fake.drives[fake.file(google.spreadsheet_id("06040")).drive_id].members == {
        PROVINCE_ACCOUNT: "organizer", BOSS: "reader"}

    clean = google.run("audit", now=NOW)
    assert clean.exit_code == 0
    assert clean.stdout.splitlines() == [
        "audit: 4 bảng tính đã kiểm tra, 0 vấn đề: quyền truy cập khớp với registry"]


def test_sharing_inherited_from_the_folder_is_reported_not_removed_and_fix_exits_1(google):
    google.fake.grant(folder_of(google), "anyone", "reader")
    google.fake.grant(folder_of(google), "user", "reader", email="thanh-tra@so.gov.vn")
    google.fake.reset_log()
    result = google.run("audit", "--fix", "--format", "json", now=NOW)
    assert result.exit_code == 1
    assert sorted(findings(result)) == sorted(
        [(code, "bất kỳ ai", "reader", "link", "manual")
         for code in ("06001", "06019", "06040", "06202")]
        + [(code, "thanh-tra@so.gov.vn", "reader", "extra", "manual")
           for code in ("06001", "06019", "06040", "06202")])
    assert writes(google) == 0                        # Drive would refuse: nothing is tried
    table = google.run("audit", "--fix", now=NOW)
    row = next(line for line in table.stdout.splitlines() if "thanh-tra" in line)
    assert f"thừa hưởng từ thư mục {folder_of(google)}" in row
    assert "không gỡ được trên bảng tính: gỡ ở thư mục đó" in row and "cần sửa tay" in row
    assert table.stdout.splitlines()[-1] == ("audit: 4 bảng tính đã kiểm tra, 8 vấn đề; "
                                             "đã sửa 0, còn lại 8")


def test_a_change_google_refuses_is_named_and_exits_1(google):
    google.fake.grant(google.spreadsheet_id("06040"), "anyone", "writer")
    google.fake.fail_next(1, 403, match="permissions.delete")
    result = google.run("audit", "--fix", "--format", "json", now=NOW)
    assert result.exit_code == 1
    (finding,) = json.loads(result.stdout)["findings"]
    assert finding["status"] == "failed" and "Google" in finding["error"]
    assert "anyone" in people(google, "06040")


def test_audit_json_is_what_the_library_returns(google):
    from toolkit.audit import as_json, audit
    from toolkit.workspace import open_workspace

    spoil(google)
    printed = google.run("audit", "--format", "json", now=NOW)
    with open_workspace(google.config) as ws:
        result = audit(ws.registry, ws.store, ws.ledger, workbooks_dir=ws.config.workbooks_dir)
    assert json.loads(printed.stdout) == as_json(result)
    assert len(result.findings) == 6 and not result.ok


def set_editors(config, code: str, editors: str) -> None:
    path = config.parent / "registry.xlsx"
    book = load_workbook(path)
    sheet = book.worksheets[0]
    columns = {c.value: c.column for c in sheet[1]}
    for row in range(2, sheet.max_row + 1):
        if sheet.cell(row, columns[HEADERS["code"]]).value == code:
            sheet.cell(row, columns[HEADERS["editors"]]).value = editors
    book.save(path)


def test_provision_revokes_editors_removed_from_the_registry_and_links(google):
    set_editors(google.config, "06040", "moi@example.gov.vn")
    google.fake.grant(google.spreadsheet_id("06040"), "anyone", "writer")
    plan = google.run("provision", "--dry-run", now=NOW)
    assert plan.exit_code == 0
    assert ("Xã Thất Khê: sẽ chia sẻ quyền sửa cho moi@example.gov.vn; gỡ quyền của "
            "xa06040@example.gov.vn (không có trong registry); gỡ quyền của bất kỳ ai có đường "
            "liên kết (writer)") in plan.stdout
    assert "1 sổ sẽ thay đổi, 3 sổ đã đủ" in plan.stdout
    done = google.run("provision", now=NOW)
    assert done.exit_code == 0 and "1 sổ đã thay đổi" in done.stdout
    assert people(google, "06040") == {"moi@example.gov.vn": "writer"}
    again = google.run("provision", now=NOW)
    assert "0 sổ đã thay đổi, 4 sổ đã đủ" in again.stdout


def test_provision_never_revokes_the_toolkit_drive_members_or_inherited_access(google):
    sid = google.spreadsheet_id("06040")
    google.fake.grant(sid, "user", "writer", email=PROVINCE_ACCOUNT)
    google.fake.grant(folder_of(google), "user", "reader", email="thanh-tra@so.gov.vn")
    google.fake.reset_log()
    result = google.run("provision", now=NOW)
    assert result.exit_code == 0, result.output
    assert "0 sổ đã thay đổi, 4 sổ đã đủ" in result.stdout
    assert writes(google) == 0


def test_doctor_names_link_shared_communes_with_one_more_listing(google):
    fine = google.run("doctor", now=NOW)
    assert fine.exit_code == 0
    assert ("ổn   sharing: không bảng tính nào được chia sẻ bằng đường liên kết; ai khác có "
            "quyền vào từng xã: `toolkit audit`") in fine.stdout
    google.fake.grant(google.spreadsheet_id("06040"), "anyone", "writer")
    google.fake.grant(google.spreadsheet_id("06202"), "domain", "reader",
                      domain="langson.gov.vn")
    google.fake.reset_log()
    result = google.run("doctor", now=NOW)
    assert result.exit_code == 1
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("SỬA")]
    assert line == ("SỬA  sharing: bảng tính của 2 xã đang mở cho bất kỳ ai có đường liên kết "
                    "hoặc cho cả một miền: Xã Ba Sơn, Xã Thất Khê; chạy `toolkit audit --fix` "
                    "để gỡ (xem trước: `toolkit audit`)")
    # sign-in, the workbooks listing and the sharing listing, and a look at the folder's own
    # sharing: no per-workbook request
    assert google.fake.count("drive.files.list") == 3
    assert google.fake.count("drive.permissions.list") == 1


def test_doctor_says_when_the_link_sharing_comes_from_the_folder(google):
    folder = folder_of(google)
    google.fake.grant(folder, "anyone", "reader")
    result = google.run("doctor", now=NOW)
    assert result.exit_code == 1
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("SỬA")]
    assert line.startswith(f"SỬA  sharing: thư mục bảng tính ({folder}) đang mở cho bất kỳ ai "
                           "có đường liên kết, nên mọi bảng tính trong đó cũng vậy: gỡ ở thư "
                           "mục đó trong Google Drive")
    assert "bảng tính của 4 xã đang mở" in line


def test_dry_run_without_fix_is_a_usage_error(province):
    result = run("audit", "--dry-run", config=province, now=NOW)
    assert result.exit_code == 2 and "--dry-run đi cùng --fix" in result.output


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_audit_on_the_xlsx_folder_checks_modes_and_says_what_it_cannot(provisioned):
    folder = provisioned.parent / "workbooks"
    book = workbook_of(provisioned, "06040")
    folder.chmod(0o777)
    book.chmod(0o666)
    result = run("audit", config=provisioned, now=NOW)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    row = next(line for line in lines if book.name in line)
    assert row.startswith("Xã Thất Khê") and "mọi tài khoản trên máy này" in row
    assert "bảng tính cho mọi tài khoản trên máy này ghi, sửa và xoá (quyền 666)" in row
    (shared,) = [line for line in lines if line.startswith("mọi xã")]
    assert shared.split()[:2] == ["mọi", "xã"] and " workbooks " in shared
    assert "thư mục bảng tính cho mọi tài khoản trên máy này ghi, sửa và xoá (quyền 777)" in shared
    note = ("Lưu ý: Trên thư mục .xlsx, toolkit chỉ kiểm tra được quyền của tệp trên chính máy "
            "này. Ai mở được thư mục dùng chung qua mạng")
    assert any(line.startswith(note) for line in lines)
    assert lines[-1] == ("audit: 4 bảng tính đã kiểm tra, 2 vấn đề; chạy `toolkit audit --fix` "
                         "để sửa những gì sửa được")
    planned = run("audit", "--fix", "--dry-run", config=provisioned, now=NOW)
    assert planned.exit_code == 1 and stat.S_IMODE(book.stat().st_mode) == 0o666
    fixed = run("audit", "--fix", config=provisioned, now=NOW)
    assert fixed.exit_code == 0, fixed.output
    assert stat.S_IMODE(book.stat().st_mode) == 0o664
    assert stat.S_IMODE(folder.stat().st_mode) == 0o775
    clean = run("audit", config=provisioned, now=NOW)
    assert clean.exit_code == 0
    assert clean.stdout.splitlines()[-1] == ("audit: 4 bảng tính đã kiểm tra, 0 vấn đề: quyền "
                                             "truy cập khớp với registry")
    assert any(line.startswith(note) for line in clean.stdout.splitlines())


def test_on_my_drive_the_owner_is_left_alone_and_a_folder_share_is_said_so(province):
    """A person's account (OAuth) and a folder in their My Drive: no permissionDetails there,
    so removing is tried and Drive's refusal of inherited access is reported as such."""
    desk = GoogleDesk(province)
    try:
        person = desk.fake.authorized_user_info("can-bo@so-tt.gov.vn")
        del person["account"]                     # as saved by auth login: address unknown
        (province.parent / "authorized_user.json").write_text(json.dumps(person),
                                                             encoding="utf-8")
        (province.parent / "authorized_user.json").chmod(0o600)
        folder = desk.fake.add_folder("Báo cáo xã", owner="can-bo@so-tt.gov.vn")
        text = province.read_text(encoding="utf-8").replace(folder_of(desk), folder)
        province.write_text(text.replace('"google-key.json"', '"authorized_user.json"'),
                            encoding="utf-8")
        assert desk.run("provision", now="2026-11-20 08:00").exit_code == 0
        assert desk.fake.count("drive.about.get") == 1
        desk.fake.grant(folder, "user", "reader", email="thanh-tra@so.gov.vn")
        result = desk.run("audit", "--fix", "--format", "json", now=NOW)
        assert result.exit_code == 1
        found = json.loads(result.stdout)["findings"]
        assert {(f["who"], f["kind"], f["status"]) for f in found} == {
            ("thanh-tra@so.gov.vn", "extra", "failed")}
        assert all("có quyền qua một thư mục phía trên" in f["error"] for f in found)
        assert len(found) == 4 and all(f["role"] == "reader" for f in found)
    finally:
        desk.close()


def sharing_state(desk) -> dict:
    """Every permission of every file and folder, and the Shared Drives' members, as stored."""
    fake = desk.fake
    return json.loads(json.dumps({
        "files": {fid: f.permissions for fid, f in fake.files.items()},
        "members": {did: d.members for did, d in fake.drives.items()},
        "log": len(fake.sharing_log)}))


def test_dry_runs_change_nothing_in_drive(google):
    """`audit --fix --dry-run` and `provision --dry-run` read, plan and print, and leave
    every permission exactly as it was — read back from the fake's own state."""
    spoil(google)
    set_editors(google.config, "06019", "moi@example.gov.vn")
    google.fake.grant(folder_of(google), "user", "reader", email="thanh-tra@so.gov.vn")
    google.fake.reset_log()
    before = sharing_state(google)
    planned = google.run("audit", "--fix", "--dry-run", "--format", "json", now=NOW)
    assert planned.exit_code == 1
    statuses = {(code, who, status) for code, who, _, _, status in findings(planned)}
    assert ("06019", "xa06019@example.gov.vn", "planned") in statuses
    assert ("06019", "moi@example.gov.vn", "planned") in statuses
    assert ("06040", "thanh-tra@so.gov.vn", "manual") in statuses
    assert json.loads(planned.stdout)["dry_run"] is True
    plan = google.run("provision", "--dry-run", now=NOW)
    assert plan.exit_code == 0, plan.output
    assert ("Xã Thất Khê: sẽ gỡ quyền của bất kỳ ai có đường liên kết (writer); gỡ quyền của "
            "cu-can-bo@example.gov.vn (không có trong registry)") in plan.stdout
    assert writes(google) == 0
    assert sharing_state(google) == before
