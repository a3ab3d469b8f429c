"""Quota, faults, other accounts and `toolkit doctor`, against the loopback fake Google."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest
from test_gsheets_store import DAILY, SHEETS_READ, SHEETS_WRITE, key_file, office  # noqa: F401  (fixture)

from toolkit.backends.base import Window
from toolkit.backends.google.http import Pacer, RetryPolicy
from toolkit.backends.google.store import open_gsheets
from toolkit.config import GoogleConfig
from toolkit.doctor import doctor

WINDOW = {DAILY: Window(last_row=63, columns=8)}


def test_a_province_is_collected_at_the_quota_floor_without_a_single_429(
        fake_google, tmp_path):  # noqa: F811
    fake = fake_google
    fake.quota(reads=60, writes=60)
    folder = fake.add_shared_drive_folder()
    ids = [fake.create_spreadsheet(f"{6000 + i:05d} Xã {i}", parent=folder, tabs=(DAILY,))
           for i in range(150)]
    for sid in ids:
        fake.type(sid, f"'{DAILY}'!B3", "4")
    google = GoogleConfig(credentials=key_file(tmp_path, fake.service_account_info()),
                          folder_id=folder, settle_minutes=0)
    pacer = Pacer(60, 60, clock=fake.clock.seconds, sleep=fake.clock.advance)
    store = open_gsheets(google, adapter=fake.adapter, pacer_factory=lambda: pacer)
    fake.reset_log()
    start = fake.clock.seconds()
    stamps = store.modified_stamps(ids)
    snapshots = [store.read(sid, WINDOW) for sid in ids if stamps[sid]]
    elapsed = fake.clock.seconds() - start
    assert len(snapshots) == 150
    assert all(s.grids[DAILY][2][-1] == 4 and not s.missing_tabs for s in snapshots)
    assert fake.count(lambda r: r.status == 429) == 0
    assert fake.count(SHEETS_READ) == 150 and fake.count("drive.files.list") == 1
    floor = 150 / 60 * 60                                  # reads ÷ quota, in seconds
    assert floor * 0.9 <= elapsed <= floor * 1.1
    assert pacer.slept == pytest.approx(elapsed, abs=2.0)  # the waits are all accounted for


def test_quota_spread_over_two_accounts_halves_the_wait(fake_google, tmp_path):  # noqa: F811
    fake = fake_google
    fake.quota(reads=60, writes=60)
    folder = fake.add_shared_drive_folder()
    ids = [fake.create_spreadsheet(f"{7000 + i:05d} Xã {i}", parent=folder, tabs=(DAILY,))
           for i in range(120)]
    first = key_file(tmp_path, fake.service_account_info("a@p.iam.gserviceaccount.com"))
    second = tmp_path / "second.json"
    second.write_text(json.dumps(fake.service_account_info("b@p.iam.gserviceaccount.com")))
    second.chmod(0o600)
    google = GoogleConfig(credentials=first, accounts=(second,), folder_id=folder,
                          settle_minutes=0)
    store = open_gsheets(google, adapter=fake.adapter, pacer_factory=lambda: Pacer(
        60, 60, clock=fake.clock.seconds, sleep=fake.clock.advance))
    start = fake.clock.seconds()
    for sid in ids:
        store.read(sid, WINDOW)
    elapsed = fake.clock.seconds() - start
    assert fake.count(lambda r: r.status == 429) == 0
    assert {r.account for r in fake.requests if r.kind == "read"} == {
        "a@p.iam.gserviceaccount.com", "b@p.iam.gserviceaccount.com"}
    assert elapsed < 120 * 0.75                          # one account alone needs ~120 s


def test_with_a_fifth_of_all_calls_failing_the_result_is_the_fault_free_one(office):  # noqa: F811
    fake = office.fake
    fake.fault_rate = 0.2
    assert not office.provision().failures
    for code in ("06040", "06001"):
        fake.type(office.locator(code), f"'{DAILY}'!B3", "5", as_user=f"xa{code}@example.gov.vn")
    office.later()
    collected = office.collect(office.fresh_store())
    assert collected.count("read") == 4, [o.message for o in collected.outcomes]
    assert sum(1 for r in fake.requests if r.fault) >= 5
    fake.fault_rate = 0.0
    fake.reset_log()
    assert not office.provision(office.fresh_store()).changed
    assert len([f for f in fake.files.values() if f.mime.endswith("spreadsheet")]) == 4
    versions = office.ledger.versions("kts_daily")
    typed = versions[versions["values"].map(lambda v: v.get("new_shops") == 5)]
    assert sorted(typed["commune_code"]) == ["06001", "06040"]


def test_an_oauth_user_without_a_shared_drive_owns_the_workbooks(office, tmp_path):  # noqa: F811
    fake = office.fake
    user = tmp_path / "authorized_user.json"
    user.write_text(json.dumps(fake.authorized_user_info("can-bo@so-tt.gov.vn")))
    store = office.fresh_store(credentials=user, folder_id=None)
    assert not office.provision(store).failures
    owners = {f.owner for f in fake.files.values() if f.mime.endswith("spreadsheet")}
    assert owners == {"can-bo@so-tt.gov.vn"}
    fake.reset_log()
    again = office.provision(office.fresh_store(credentials=user, folder_id=None))
    assert not again.changed and fake.count(SHEETS_WRITE) == 0


def test_slow_answers_time_out_and_are_retried(office):  # noqa: F811
    office.provision()
    office.later()
    office.fake.fail_next(1, "timeout", match="sheets.spreadsheets.values.batchGet", delay=1.5)
    store = office.fresh_store()
    for account in store.api.accounts:
        account.http.timeout = (1.0, 0.3)
    assert office.collect(store).count("read") == 4


# -- doctor ---------------------------------------------------------------------------------


def doctor_config(office, **google):  # noqa: F811
    from dataclasses import replace

    return replace(office.config, google=replace(office.google, **google))


def test_doctor_passes_a_good_setup(office):  # noqa: F811
    rollup = office.fake.create_spreadsheet("Tổng hợp", parent=office.google.folder_id)
    report = doctor(doctor_config(office, rollup_spreadsheet_id=rollup),
                    adapter=office.fake.adapter)
    assert report.ok, [c for c in report.checks if not c.ok]
    names = [c.name for c in report.checks]
    assert names == ["credentials", "sign-in", "Sheets API", "folder", "Shared Drive",
                     "rollup spreadsheet", "quota"]
    assert "tinh@lang-son.iam.gserviceaccount.com" in report.checks[1].message


def test_doctor_explains_a_my_drive_folder_and_a_missing_rollup(office):  # noqa: F811
    folder = office.fake.add_folder("Báo cáo", owner="chu-so-huu@so-tt.gov.vn")
    office.fake.share(folder, "tinh@lang-son.iam.gserviceaccount.com", "writer")
    report = doctor(doctor_config(office, folder_id=folder), adapter=office.fake.adapter)
    failing = {c.name: c.message for c in report.checks if not c.ok}
    assert "storageQuotaExceeded" in failing["folder"] and "Shared Drive" in failing["folder"]
    assert "rollup_spreadsheet_id" in failing["rollup spreadsheet"]


def test_doctor_explains_a_revoked_key(office, tmp_path):  # noqa: F811
    info = office.fake.service_account_info()
    info["private_key_id"] = "revoked"
    key = tmp_path / "revoked.json"
    key.write_text(json.dumps(info))
    key.chmod(0o600)
    report = doctor(doctor_config(office, credentials=key), adapter=office.fake.adapter)
    (failing,) = [c for c in report.checks if not c.ok]
    assert failing.name == "sign-in" and "từ chối khoá tài khoản dịch vụ" in failing.message
    assert "PRIVATE KEY" not in repr(report)


def test_pacer_virtual_waits_do_not_touch_the_real_clock(fake_google):  # noqa: F811
    """Sanity for the harness: pacing 200 requests costs no real time."""
    import time

    pacer = Pacer(60, 60, clock=fake_google.clock.seconds, sleep=fake_google.clock.advance)
    real, virtual = time.monotonic(), fake_google.clock.seconds()
    for _ in range(200):
        pacer.acquire("read")
    assert time.monotonic() - real < 1.0
    assert fake_google.clock.seconds() - virtual == pytest.approx(199, abs=1)
    assert timedelta(seconds=pacer.slept) > timedelta(minutes=3)
    assert isinstance(RetryPolicy().backoff(3, random.Random(1)), float)


def test_with_two_accounts_the_doctor_and_errors_name_the_one_that_lacks_access(
        fake_google, tmp_path):  # noqa: F811
    """Workbooks are spread over the accounts: one left out of the Shared Drive fails about
    half the communes, so the doctor checks each, and errors name the account to add."""
    from dataclasses import replace
    from types import SimpleNamespace

    from toolkit.errors import WorkbookError

    fake = fake_google
    first, second = "a@p.iam.gserviceaccount.com", "b@p.iam.gserviceaccount.com"
    folder = fake.add_shared_drive_folder(members={first: "organizer"})
    key_a = key_file(tmp_path, fake.service_account_info(first))
    key_b = tmp_path / "second.json"
    key_b.write_text(json.dumps(fake.service_account_info(second)))
    key_b.chmod(0o600)
    google = GoogleConfig(credentials=key_a, accounts=(key_b,), folder_id=folder)
    rollup = fake.create_spreadsheet("Tổng hợp", parent=folder)
    config = SimpleNamespace(backend="gsheets", workbooks_dir=tmp_path,
                             google=replace(google, rollup_spreadsheet_id=rollup))
    report = doctor(config, adapter=fake.adapter)
    folders = [c for c in report.checks if c.name == "folder"]
    assert [c.ok for c in folders] == [True, False]
    assert folders[1].message.startswith(f"{second}: ")

    store = open_gsheets(google, adapter=fake.adapter)
    ids = [fake.create_spreadsheet(f"{7000 + i:05d} Xã {i}", parent=folder, tabs=(DAILY,))
           for i in range(8)]
    refused = []
    for sid in ids:
        try:
            store.read(sid, WINDOW)
        except WorkbookError as exc:
            refused.append(str(exc))
    assert refused and all(second in message and first not in message for message in refused)


# -- the project's quota --------------------------------------------------------------------


def keys_of(fake, tmp_path, count: int, project: str = "tinh-bao-cao") -> list:
    paths = []
    for i in range(count):
        path = tmp_path / f"{project}-{i}.json"
        path.write_text(json.dumps(fake.service_account_info(
            f"bao-cao-{i}@{project}.iam.gserviceaccount.com", project=project)))
        path.chmod(0o600)
        paths.append(path)
    return paths


def test_the_fake_counts_a_project_s_accounts_together(fake_google):  # noqa: F811
    fake = fake_google
    fake.quota(reads=60, project_reads=3)
    sid = fake.create_spreadsheet("Xã", parent=fake.add_shared_drive_folder())
    url = f"https://sheets.googleapis.com/v4/spreadsheets/{sid}/values/Sheet1"

    def reader(email: str, project: str):
        info = fake.service_account_info(email, project=project)
        client = fake.gspread_client(info)
        return lambda: client.http_client.session.get(url)

    fake.clock.freeze()
    a, b = reader("a@p.iam.gserviceaccount.com", "p"), reader("b@p.iam.gserviceaccount.com", "p")
    other = reader("c@q.iam.gserviceaccount.com", "q")
    assert [a().status_code, b().status_code, a().status_code] == [200, 200, 200]
    refused = b()
    assert refused.status_code == 429 and other().status_code == 200
    error = refused.json()["error"]
    assert "limit 'Read requests per minute' of service" in error["message"]
    assert error["details"][0]["metadata"]["quota_limit"] == "ReadRequestsPerMinutePerProject"
    assert error["details"][0]["metadata"]["quota_unit"] == "1/min/{project}"
    fake.clock.advance(60)
    assert b().status_code == 200


def test_doctor_counts_at_most_300_a_minute_per_project_and_flags_a_sixth_account(
        fake_google, tmp_path):  # noqa: F811
    from types import SimpleNamespace

    fake = fake_google
    folder = fake.add_shared_drive_folder()
    rollup = fake.create_spreadsheet("Tổng hợp", parent=folder)

    def quota(paths):
        google = GoogleConfig(credentials=paths[0], accounts=tuple(paths[1:]), folder_id=folder,
                              rollup_spreadsheet_id=rollup)
        config = SimpleNamespace(backend="gsheets", workbooks_dir=tmp_path, google=google)
        return next(c for c in doctor(config, adapter=fake.adapter).checks if c.name == "quota")

    five = quota(keys_of(fake, tmp_path, 5))
    assert five.ok and "khoảng 270 lượt đọc mỗi phút" in five.message
    six = quota(keys_of(fake, tmp_path, 6))
    assert not six.ok
    assert "6 tài khoản ở dự án tinh-bao-cao" in six.message
    assert "một dự án Google Cloud cho mỗi 5 tài khoản" in six.message
    assert "khoảng 270 lượt đọc mỗi phút" in six.message        # not 6 × 60 × 0.9 = 324
    spread = quota(keys_of(fake, tmp_path, 3) + keys_of(fake, tmp_path, 3, "tinh-bao-cao-2"))
    assert spread.ok and "6 tài khoản ở 2 dự án" in spread.message
    assert "khoảng 324 lượt đọc mỗi phút" in spread.message


@pytest.fixture
def virtual_pacing(fake_google, monkeypatch):  # noqa: F811
    """The toolkit's own pacing defaults, on the fake's clock: sleeping moves it on."""
    import functools

    from toolkit.backends.google import http as google_http

    fake_google.clock.freeze()
    fake_google.clock.advance(60 - fake_google.clock.seconds() % 60)   # a window's start
    monkeypatch.setattr(google_http, "Pacer", functools.partial(
        google_http.Pacer, clock=fake_google.clock.seconds, sleep=fake_google.clock.advance))
    return fake_google


def test_twenty_accounts_of_one_project_are_paced_under_the_project_s_quota(
        virtual_pacing, tmp_path):
    """Twenty keys of one project, each paced at 54 a minute, send well over the 300 a minute
    the project allows. A project's accounts share its bucket, so not one 429 comes back."""
    fake = virtual_pacing
    fake.quota(reads=60, writes=60, project_reads=300, project_writes=300)
    folder = fake.add_shared_drive_folder()
    ids = [fake.create_spreadsheet(f"{8000 + i:05d} Xã {i}", parent=folder, tabs=(DAILY,))
           for i in range(450)]
    paths = keys_of(fake, tmp_path, 20)
    google = GoogleConfig(credentials=paths[0], accounts=tuple(paths[1:]), folder_id=folder,
                          settle_minutes=0)
    store = open_gsheets(google, adapter=fake.adapter)
    start = fake.clock.seconds()
    for sid in ids:
        store.read(sid, WINDOW)
    elapsed = fake.clock.seconds() - start
    assert fake.count(lambda r: r.status == 429) == 0
    assert elapsed >= 450 / 270 * 60 * 0.95                 # the project's pace, not 20 × 54


def test_a_concurrent_status_run_fits_in_the_headroom(virtual_pacing, tmp_path):
    """The daily run paces at 90% of the account's quota; a `status` run alongside, on the same
    key, with its own pacer, reads now and then: together they stay under Google's 60."""
    fake = virtual_pacing
    fake.quota(reads=60, writes=60)
    folder = fake.add_shared_drive_folder()
    ids = [fake.create_spreadsheet(f"{9000 + i:05d} Xã {i}", parent=folder, tabs=(DAILY,))
           for i in range(180)]
    (path,) = keys_of(fake, tmp_path, 1)
    google = GoogleConfig(credentials=path, folder_id=folder, settle_minutes=0)
    daily, status = (open_gsheets(google, adapter=fake.adapter) for _ in range(2))
    for n, sid in enumerate(ids):
        daily.read(sid, WINDOW)
        if n % 20 == 0:
            status.read(ids[0], WINDOW)
    assert fake.count(lambda r: r.status == 429) == 0


@pytest.mark.parametrize("seed", range(12))
def test_retries_after_a_429_without_retry_after_reach_past_the_minute(
        fake_google, tmp_path, seed):  # noqa: F811
    """Another run spent the minute's quota; Google answers 429 with no Retry-After until the
    window turns. The retries spread (full jitter) until past it, and succeed."""
    fake = fake_google
    fake.clock.freeze()
    fake.clock.advance(60 - fake.clock.seconds() % 60 + 1)   # one second into a window
    fake.quota(reads=5)
    folder = fake.add_shared_drive_folder()
    sid = fake.create_spreadsheet("Xã", parent=folder, tabs=(DAILY,))
    (path,) = keys_of(fake, tmp_path, 1)
    google = GoogleConfig(credentials=path, folder_id=folder, settle_minutes=0)
    other = open_gsheets(google, adapter=fake.adapter, pacer_factory=lambda: Pacer(
        6000, 6000, clock=fake.clock.seconds, sleep=fake.clock.advance))
    for _ in range(5):
        other.read(sid, WINDOW)
    store = open_gsheets(google, adapter=fake.adapter, rng=random.Random(seed),
                         pacer_factory=lambda: Pacer(60, 60, clock=fake.clock.seconds,
                                                     sleep=fake.clock.advance))
    start = fake.clock.seconds()
    assert store.read(sid, WINDOW).grids[DAILY] is not None
    assert fake.clock.seconds() - start >= 59
    refused = fake.count(lambda r: r.status == 429)
    assert 1 <= refused <= 11
