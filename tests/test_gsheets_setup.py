"""Setting up Google: the [google] config section, `toolkit doctor` offline, and change stamps."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from toolkit.backends.google.http import Account
from toolkit.backends.google.store import GSheetsStore
from toolkit.config import GoogleConfig, load_config, render_config
from toolkit.doctor import auth_login, doctor
from toolkit.errors import ConfigError

SETTINGS = dict(province="Lạng Sơn", province_code=20, backend="gsheets",
                start=date(2026, 11, 1), end=date(2027, 1, 31))
FAKE_KEY = {"type": "service_account", "client_email": "tinh@ls.iam.gserviceaccount.com",
            "private_key": "-----BEGIN PRIVATE KEY-----\nSECRET\n-----END PRIVATE KEY-----",
            "private_key_id": "k1", "token_uri": "https://oauth2.googleapis.com/token"}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    monkeypatch.delenv("TOOLKIT_CONFIG", raising=False)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)


def config_with(folder: Path, google: str):
    text = render_config(**SETTINGS)
    start = text.index("[google]")
    end = text.index("[paths]")
    (folder / "toolkit.toml").write_text(text[:start] + google + "\n" + text[end:],
                                         encoding="utf-8")
    return load_config(folder)


def test_the_rendered_google_section_loads(tmp_path):
    (tmp_path / "toolkit.toml").write_text(render_config(**SETTINGS), encoding="utf-8")
    google = load_config(tmp_path).google
    assert google.credentials == (tmp_path / "google-key.json").resolve()
    assert (google.reads_per_minute, google.writes_per_minute) == (60, 60)
    assert google.folder_id is None and google.notify_editors is False
    assert google.settle_minutes == 10


def test_credentials_come_from_the_environment_when_not_in_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "sa.json"))
    google = config_with(tmp_path, '[google]\nfolder_id = "0AbC"\n').google
    assert google.credentials == tmp_path / "sa.json"
    assert google.credentials_source == "GOOGLE_APPLICATION_CREDENTIALS"
    assert google.folder_id == "0AbC"


def test_every_google_problem_is_listed_at_once(tmp_path):
    with pytest.raises(ConfigError) as caught:
        config_with(tmp_path, '[google]\nreads_per_minute = 0\nwrites_per_minute = "60"\n'
                              'accounts = [1]\nsettle_minutes = 999\nfolder = "x"\n')
    message = str(caught.value)
    assert "5 lỗi" in message
    for part in ("reads_per_minute = 0", "writes_per_minute = '60'", "accounts",
                 "settle_minutes = 999", "folder không phải một thiết lập đã biết"):
        assert part in message


def test_google_config_stays_frozen(tmp_path):
    config = config_with(tmp_path, "[google]\n")
    with pytest.raises(AttributeError):
        config.google.folder_id = "x"


# -- doctor, the offline part ---------------------------------------------------------------


def test_doctor_on_the_xlsx_backend_has_nothing_to_check(tmp_path):
    (tmp_path / "toolkit.toml").write_text(render_config(**{**SETTINGS, "backend": "xlsx"}),
                                           encoding="utf-8")
    report = doctor(load_config(tmp_path))
    assert report.ok and [c.name for c in report.checks] == ["backend"]


@pytest.mark.parametrize("content, expected", [
    (None, "không tồn tại: hãy tải khoá JSON của tài khoản dịch vụ"),
    ("not json", "không phải tệp khoá JSON đọc được"),
    (json.dumps({"installed": {"client_id": "x"}}), "không phải khoá tài khoản dịch vụ"),
])
def test_doctor_explains_a_bad_credentials_file(tmp_path, content, expected):
    if content is not None:
        (tmp_path / "google-key.json").write_text(content, encoding="utf-8")
    report = doctor(config_with(tmp_path, '[google]\ncredentials = "google-key.json"\n'))
    assert not report.ok
    (check,) = report.checks
    assert check.name == "credentials" and expected in check.message


def test_doctor_without_any_credentials_says_where_to_put_them(tmp_path):
    report = doctor(config_with(tmp_path, "[google]\n"))
    assert "GOOGLE_APPLICATION_CREDENTIALS" in report.checks[0].message


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_doctor_flags_a_key_others_can_read_and_never_prints_it(tmp_path):
    key = tmp_path / "google-key.json"
    key.write_text(json.dumps(FAKE_KEY), encoding="utf-8")
    key.chmod(0o644)
    report = doctor(config_with(tmp_path, '[google]\ncredentials = "google-key.json"\n'))
    (check,) = report.checks
    assert not check.ok and f"chmod 600 {key}" in check.message
    assert "tinh@ls.iam.gserviceaccount.com" in check.message
    assert "SECRET" not in repr(report)


def test_auth_login_explains_a_missing_client_secret(tmp_path):
    with pytest.raises(ConfigError, match="tạo OAuth client ID loại 'Desktop app'"):
        auth_login(tmp_path / "client_secret.json", tmp_path / "token.json")


# -- change stamps --------------------------------------------------------------------------


def store_at(now: datetime, settle: int = 10) -> GSheetsStore:
    return GSheetsStore([Account(http=None, email=None)],
                        replace(GoogleConfig(), settle_minutes=settle), now=lambda: now)


def test_a_settled_modified_time_is_the_stamp():
    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    store = store_at(now)
    assert store._stamp("id1", "2026-11-23T09:45:00.000Z", now) == "2026-11-23T09:45:00.000Z"


def test_a_recent_modified_time_never_matches_a_stored_stamp():
    """Drive may not yet show edits made in the last minutes: read such workbooks again."""
    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    store = store_at(now)
    first = store._stamp("id1", "2026-11-23T09:55:00.000Z", now)
    later = store._stamp("id1", "2026-11-23T09:55:00.000Z", now + timedelta(minutes=1))
    assert first != "2026-11-23T09:55:00.000Z" and first != later
    settled = store._stamp("id1", "2026-11-23T09:55:00.000Z", now + timedelta(minutes=6))
    assert settled == "2026-11-23T09:55:00.000Z"


def test_a_damaged_key_is_a_config_error_that_hides_the_key(tmp_path):
    from toolkit.backends.google.http import load_credentials

    key = tmp_path / "key.json"
    key.write_text(json.dumps(FAKE_KEY), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_credentials(key)
    assert "damaged" in str(caught.value) and "SECRET" not in str(caught.value)
