"""The Google Sheets store against the loopback fake: requests counted where they arrive.

The pacer runs on the fake's clock (sleeping moves it on), so quota windows, Drive's
modifiedTime and the settle margin all see the same time, and minutes of pacing take
milliseconds. Communes, templates and the ledger are the real ones from the `province` folder.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from toolkit.backends.google.http import Pacer, RetryPolicy
from toolkit.backends.google.store import GSheetsStore, open_gsheets
from toolkit.collect import collect
from toolkit.config import GoogleConfig, load_config
from toolkit.layout import Banner
from toolkit.ledger import Ledger
from toolkit.periods import VN_TZ
from toolkit.provision import provision
from toolkit.registry import load_registry
from toolkit.templates import load_templates

DAILY = "Báo cáo ngày"


def SHEETS_READ(record) -> bool:  # noqa: N802  (a request-log filter, used like a constant)
    return record.kind == "read"


def SHEETS_WRITE(record) -> bool:  # noqa: N802
    return record.kind == "write"


@dataclass
class Province:
    """A province office on fake Google: its config, registry, templates, ledger and store."""

    fake: object
    config: object
    registry: object
    specs: list
    ledger: Ledger
    google: GoogleConfig
    store: GSheetsStore
    policy: RetryPolicy

    def now(self) -> datetime:
        return self.fake.clock.now().astimezone(VN_TZ)

    def fresh_store(self, **changes) -> GSheetsStore:
        """A new run: nothing cached from the previous one."""
        google = replace(self.google, **changes)
        return open_gsheets(google, adapter=self.fake.adapter, policy=self.policy,
                            rng=random.Random(5), pacer_factory=lambda: Pacer(
                                google.reads_per_minute, google.writes_per_minute,
                                clock=self.fake.clock.seconds, sleep=self.fake.clock.advance))

    def provision(self, store=None):
        return provision(self.config, self.registry, self.specs, store or self.store,
                         self.ledger, now=self.now())

    def collect(self, store=None):
        return collect(self.registry, self.specs, store or self.store, self.ledger,
                       now=self.now(),
                       campaign=(self.config.campaign_start, self.config.campaign_end))

    def locator(self, code: str) -> str:
        return self.ledger.workbooks()[code].locator

    def later(self, minutes: float = 11) -> None:
        self.fake.clock.advance(timedelta(minutes=minutes))


def key_file(folder: Path, info: dict) -> Path:
    path = folder / "google-key.json"
    path.write_text(json.dumps(info), encoding="utf-8")
    path.chmod(0o600)
    return path


@pytest.fixture
def office(fake_google, province, tmp_path) -> Province:  # noqa: F811
    fake = fake_google
    folder = fake.add_shared_drive_folder("Báo cáo xã Lạng Sơn")
    key = key_file(tmp_path, fake.service_account_info("tinh@lang-son.iam.gserviceaccount.com"))
    config = load_config(province)
    google = GoogleConfig(credentials=key, folder_id=folder)
    # Long enough that a loaded machine never turns a slow answer into a retry the test would
    # count; read timeouts are simulated by the fake without waiting.
    policy = RetryPolicy(read_timeout=20.0)
    ledger = Ledger(config.ledger_path)
    office = Province(fake, replace(config, backend="gsheets", google=google),
                      load_registry(config.registry_path), load_templates(config.templates_dir),
                      ledger, google, None, policy)
    office.store = office.fresh_store()
    yield office
    ledger.close()


def test_provisioning_costs_three_requests_per_commune_and_one_per_editor(office):
    fake = office.fake
    result = office.provision()
    assert not result.failures
    communes = len(office.registry.communes)
    editors = sum(len(c.editors) for c in office.registry.communes)
    assert fake.count("drive.files.list") == 1                      # one listing per run
    # per run: which Shared Drive the folder is in (files.get), ids for the new workbooks
    assert fake.count("drive.files.get") == 1 and fake.count("drive.files.generateIds") == 1
    assert fake.count() - 3 == 3 * communes + editors
    assert fake.count("drive.files.create") == communes
    assert fake.count("sheets.spreadsheets.batchUpdate") == communes   # ONE batch each
    assert fake.count("drive.permissions.create") == editors
    for code in (c.code for c in office.registry.communes):
        spreadsheet = fake.spreadsheet(office.locator(code))
        assert spreadsheet.props["locale"] == "vi_VN"
        assert spreadsheet.props["timeZone"] == "Asia/Ho_Chi_Minh"
        assert [s.title for s in spreadsheet.ordered()][-3:] == ["Kiểm tra", "Hướng dẫn",
                                                                "Danh mục"]


def test_sharing_is_writer_for_named_people_only_without_e_mails(office):
    office.provision()
    log = office.fake.sharing_log
    assert log and all(kind == "user" and role == "writer" for _, kind, role, _, _ in log)
    assert {notify for *_, notify in log} == {"false"}
    assert {email for _, _, _, email, _ in log} == {
        e for c in office.registry.communes for e in c.editors}


def test_provisioning_twice_changes_nothing_and_writes_nothing(office):
    office.provision()
    fake = office.fake
    fake.reset_log()
    again = office.provision(office.fresh_store())
    assert not again.failures and not again.changed
    assert fake.count(SHEETS_WRITE) == 0
    assert fake.count(lambda r: r.api == "drive" and r.method != "GET") == 0
    # reads: the folder's drive and listing, then spreadsheets.get + values.batchGet +
    # permissions.list
    assert fake.count() == 2 + 3 * len(office.registry.communes)


def test_staff_see_dates_drop_downs_and_protected_headers(office):
    from toolkit.backends.google.fake import CellRejected

    office.provision()
    sid = office.locator("06040")
    fake = office.fake
    assert fake.values(sid, f"'{DAILY}'!A3")[0][0] == 46346            # 20/11/2026, a real date
    assert fake.cell(sid, f"'{DAILY}'!A3").fmt["numberFormat"]["pattern"] == "dd/mm/yyyy"
    fake.type(sid, f"'{DAILY}'!B3", "12", as_user="xa06040@example.gov.vn")
    with pytest.raises(CellRejected):
        fake.type(sid, f"'{DAILY}'!A3", "hôm nay", as_user="xa06040@example.gov.vn")
    with pytest.raises(CellRejected):
        fake.type(sid, f"'{DAILY}'!B2", "x", as_user="xa06040@example.gov.vn")
    with pytest.raises(CellRejected):
        fake.type(sid, f"'{DAILY}'!G3", "-5", as_user="xa06040@example.gov.vn")
    roster = next(s.tab for s in office.specs if s.period == "once"
                  and any(f.choices_from_villages for f in s.fields))
    fake.type(sid, f"'{roster}'!A3", "Thôn Nà Lầu", as_user="xa06040@example.gov.vn")
    with pytest.raises(CellRejected):
        fake.type(sid, f"'{roster}'!A3", "Thôn Không Có", as_user="xa06040@example.gov.vn")


def test_collect_reads_changed_workbooks_once_and_unchanged_ones_never(office):
    fake = office.fake
    office.provision()
    office.later()
    first = office.collect()
    assert first.count("read") == 4
    office.later()
    fake.reset_log()
    quiet = office.collect(office.fresh_store())
    assert quiet.count("unchanged") == 4
    assert fake.count() == 2 and fake.count("drive.files.list") == 1    # + the folder's drive
    sid = office.locator("06040")
    fake.type(sid, f"'{DAILY}'!B3", "7", as_user="xa06040@example.gov.vn")
    office.later()
    fake.reset_log()
    one = office.collect(office.fresh_store())
    assert one.count("read") == 1 and one.new_versions == 1
    assert fake.count("sheets.spreadsheets.values.batchGet") == 1
    assert fake.count("drive.files.list") == 1 and fake.count() == 3


def test_a_workbook_edited_within_the_settle_margin_is_read_until_drive_settles(office):
    """Drive's modifiedTime lags: a recent one may not cover the latest edit, so read again."""
    fake = office.fake
    office.provision()
    office.later()
    office.collect()
    office.later()
    sid = office.locator("06001")
    fake.type(sid, f"'{DAILY}'!B3", "3", as_user="xa06001@example.gov.vn")
    reads = []
    for minutes in (1, 1, 11, 1):
        office.later(minutes)
        fake.reset_log()
        office.collect(office.fresh_store())
        reads.append(fake.count("sheets.spreadsheets.values.batchGet"))
    # twice while hot, once more when settled (its stamp changed), then skipped
    assert reads == [1, 1, 1, 0]


def test_a_renamed_tab_fails_that_commune_only_and_provision_repairs_it(office):
    fake = office.fake
    office.provision()
    sid = office.locator("06202")
    spreadsheet = fake.spreadsheet(sid)
    spreadsheet.by_title(DAILY).props["title"] = "Báo cáo ngày (cũ)"
    fake.touch_file(fake.file(sid))
    result = office.collect()
    name = office.registry.by_code()["06202"].display_name
    failed = [o for o in result.outcomes if o.state == "failed"]
    assert [(o.code, o.message) for o in failed] == [
        ("06202", f"{name}: không thấy trang '{DAILY}'; chạy `toolkit provision` để tạo lại — "
                  f"nhưng nếu trang bị đổi tên (sổ còn có trang '{DAILY} (cũ)'), hãy đổi lại "
                  "tên cũ trước, để số liệu đã nhập ở đó được đọc")]
    assert result.count("read") == 3
    repaired = office.provision(office.fresh_store())
    assert [p.code for p in repaired.changed] == ["06202"]
    assert fake.spreadsheet(sid).by_title(DAILY) is not None
    assert fake.spreadsheet(sid).by_title("Báo cáo ngày (cũ)") is not None   # nothing lost
    assert office.collect(office.fresh_store()).count("failed") == 0


@pytest.mark.parametrize("fault", [429, 500, 503, "reset"])
def test_transient_faults_are_retried_and_change_nothing(office, fault):
    fake = office.fake
    fake.fail_next(2, fault)
    result = office.provision()
    assert not result.failures
    fake.fail_next(2, fault, match="sheets.spreadsheets.values.batchGet")
    collected = office.collect()
    assert collected.count("read") == 4
    assert len(fake.files) == 1 + 4                      # the folder and one workbook each
    assert sum(1 for r in fake.requests if r.fault) == 4


def test_a_reset_after_files_create_did_its_work_does_not_create_twice(office):
    fake = office.fake
    fake.fail_next(1, "reset", match="drive.files.create", applied=True)
    fake.fail_next(1, "reset", match="sheets.spreadsheets.batchUpdate", applied=True)
    result = office.provision()
    assert not result.failures
    names = sorted(f.name for f in fake.files.values() if f.mime.endswith("spreadsheet"))
    assert len(names) == len(set(names)) == 4
    office.fake.reset_log()
    assert not office.provision(office.fresh_store()).changed


def test_a_workbook_google_keeps_failing_is_named_and_the_others_go_on(office):
    fake = office.fake
    office.provision()
    office.later()
    sid = office.locator("06019")
    fake.fail_next(50, 503, match=lambda r: sid in r.path)
    result = office.collect()
    failed = [o for o in result.outcomes if o.state == "failed"]
    assert [o.code for o in failed] == ["06019"]
    assert f"bảng tính {sid}" in failed[0].message and "6 lần thử" in failed[0].message
    assert result.count("read") == 3


def test_a_service_account_without_a_shared_drive_is_told_how_to_fix_it(office):
    store = office.fresh_store(folder_id=None)
    result = office.provision(store)
    assert len(result.failures) == 4
    assert "thư mục trong Shared Drive" in result.failures[0][1]


def test_feedback_and_banners_are_one_raw_write(office):
    fake = office.fake
    office.provision()
    sid = office.locator("06040")
    fake.reset_log()
    rows = [["23/11/2026", DAILY, "C3", "=IMPORTXML(\"http://x\",\"//a\")", "Sai", "Sửa", "Lỗi"]]
    stamp = office.store.write_feedback(sid, rows, "Kiểm tra lúc 17:05: 1 lỗi", "stamp-1",
                                        office.now(),
                                        banners={DAILY: Banner("⚠ Chưa báo cáo", "missing")})
    assert stamp == "stamp-1"
    assert fake.count() == 1 and fake.count("sheets.spreadsheets.batchUpdate") == 1
    assert fake.values(sid, "'Kiểm tra'!A3:G3") == [rows[0]]
    assert fake.formula(sid, "'Kiểm tra'!D3") is None
    assert fake.values(sid, f"'{DAILY}'!A1") == [["⚠ Chưa báo cáo"]]
    office.store.write_feedback(sid, [], "Kiểm tra lúc 18:00: không có lỗi", "stamp-1",
                                office.now())
    assert fake.values(sid, "'Kiểm tra'!A1:G5") == [
        ["Kiểm tra lúc 18:00: không có lỗi"],
        ["Kỳ báo cáo", "Trang", "Ô", "Giá trị", "Vấn đề", "Cách sửa", "Mức độ"]]


def test_a_template_spreadsheet_is_copied_and_completed(office):
    fake = office.fake
    template = fake.create_spreadsheet("Mẫu sổ báo cáo", parent=office.google.folder_id,
                                       tabs=("Giới thiệu", DAILY))
    fake.type(template, "'Giới thiệu'!A1", "Sở Thông tin và Truyền thông Lạng Sơn")
    store = office.fresh_store(template_spreadsheet_id=template)
    fake.reset_log()
    assert not office.provision(store).failures
    assert fake.count("drive.files.copy") == 4 and fake.count("drive.files.create") == 0
    sid = office.locator("06040")
    tabs = [s.title for s in fake.spreadsheet(sid).ordered()]
    assert tabs[:2] == ["Giới thiệu", DAILY] and tabs[-3:] == ["Kiểm tra", "Hướng dẫn",
                                                              "Danh mục"]
    assert fake.values(sid, "'Giới thiệu'!A1") == [["Sở Thông tin và Truyền thông Lạng Sơn"]]
    assert fake.values(sid, f"'{DAILY}'!A3")[0][0] == 46346
    assert not office.provision(office.fresh_store(template_spreadsheet_id=template)).changed


def test_the_command_line_runs_on_google_sheets(office, province):
    """`toolkit provision` and `toolkit collect` with [backend] kind = "gsheets"."""
    from conftest import run

    text = province.read_text(encoding="utf-8").replace('kind = "xlsx"', 'kind = "gsheets"')
    text += (f'\n[google]\ncredentials = "{office.google.credentials}"\n'
             f'folder_id = "{office.google.folder_id}"\n'
             "reads_per_minute = 6000\nwrites_per_minute = 6000\n")
    province.write_text(text, encoding="utf-8")
    with office.fake.patch_google_auth():
        done = run("provision", config=province, now="2026-11-20 08:00")
        assert done.exit_code == 0, done.output
        assert "4 sổ đã thay đổi" in done.output
        again = run("provision", config=province, now="2026-11-20 08:05")
        assert "0 sổ đã thay đổi, 4 sổ đã đủ" in again.output
        collected = run("collect", config=province, now="2026-11-20 09:00")
        assert collected.exit_code == 0, collected.output
    assert office.fake.count("drive.files.create") == 4


def test_a_run_killed_after_creating_a_workbook_is_completed_by_the_next(office):
    """files.create succeeded, the batchUpdate never came: the rerun finds and finishes it."""
    fake = office.fake
    name = office.registry.by_code()["06040"].display_name
    half = fake.create_spreadsheet(f"06040 {name}", parent=office.google.folder_id)
    assert not office.provision().failures
    assert office.locator("06040") == half
    assert fake.count("drive.files.create") == 3                 # the other three communes
    spreadsheet = fake.spreadsheet(half)
    assert spreadsheet.props["locale"] == "vi_VN"
    assert spreadsheet.by_title("Sheet1") is None and spreadsheet.by_title(DAILY) is not None
    assert not office.provision(office.fresh_store()).changed


def test_rows_added_when_the_answer_was_lost_are_not_added_twice(office):
    """appendDimension applied, answer lost: no blind resend; the next run finds it done."""
    fake = office.fake
    office.provision()
    sid = office.locator("06040")
    rows_before = fake.spreadsheet(sid).by_title(DAILY).rows
    longer = replace(office.config, campaign_end=office.config.campaign_end + timedelta(days=10))
    office.config = longer
    fake.fail_next(1, "reset", match=lambda r: sid in r.path and "batchUpdate" in r.path,
                   applied=True)
    first = office.provision(office.fresh_store())
    assert [name for name, _ in first.failures] == [office.registry.by_code()["06040"]
                                                    .display_name]
    assert "hãy chạy lại `toolkit provision`" in first.failures[0][1]
    again = office.provision(office.fresh_store())
    assert not again.failures
    assert "06040" not in {p.code for p in again.changed}     # already done by the lost call
    assert fake.spreadsheet(sid).by_title(DAILY).rows == rows_before + 10


def test_a_role_in_the_commune_s_own_words_is_accepted_and_stored_as_the_choice(office):
    from toolkit.frames import spec_versions

    office.provision()
    sid = office.locator("06040")
    committee = next(s for s in office.specs if s.key == "committee_roster")
    staff = "xa06040@example.gov.vn"
    office.fake.type(sid, f"'{committee.tab}'!A3", "Hoàng Văn Thụ", as_user=staff)
    office.fake.type(sid, f"'{committee.tab}'!B3", "Phó ban", as_user=staff)   # an alias
    rule = office.fake.spreadsheet(sid).by_title(committee.tab).rule_at(2, 1)
    assert rule["strict"] is False and rule["showCustomUi"]      # warns, offers the list
    office.later()
    office.collect()
    stored = spec_versions(office.ledger, committee)
    assert stored["value:committee_role"].tolist() == ["Phó Trưởng ban"]
