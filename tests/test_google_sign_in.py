"""A person's Google sign-in against the fake's OAuth endpoints, through the real google-auth
refresh and google-auth-oauthlib's installed-app flow (a person in a browser clicks Allow).

Google's rules modelled (developers.google.com/identity/protocols/oauth2): while the consent
screen is in Testing a refresh token expires after 7 days and its refresh answers invalid_grant
"Token has been expired or revoked."; a repeat sign-in returns a refresh token only when the
flow asks for consent.
"""

from __future__ import annotations

import json
import threading
import urllib.request
import webbrowser
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest

from toolkit.backends.google.http import load_credentials
from toolkit.config import GoogleConfig
from toolkit.doctor import auth_login, doctor
from toolkit.errors import ConfigError

PERSON = "can-bo@so-tt.gov.vn"


def saved(tmp_path, info: dict, name: str = "authorized_user.json"):
    path = tmp_path / name
    path.write_text(json.dumps(info), encoding="utf-8")
    path.chmod(0o600)
    return path


def sign_in_check(fake, tmp_path, credentials):
    google = GoogleConfig(credentials=credentials, folder_id=None)
    config = SimpleNamespace(backend="gsheets", workbooks_dir=tmp_path, google=google)
    report = doctor(config, adapter=fake.adapter)
    return next(c for c in report.checks if c.name == "sign-in")


def test_a_sign_in_expired_after_7_days_of_testing_says_to_sign_in_again_and_publish(
        fake_google, tmp_path):
    fake = fake_google
    fake.keys.publishing_status = "Testing"
    user = saved(tmp_path, fake.authorized_user_info(PERSON))
    assert sign_in_check(fake, tmp_path, user).ok

    fake.clock.advance(timedelta(days=7, minutes=1))
    check = sign_in_check(fake, tmp_path, user)
    refusal = [r for r in fake.requests if r.method_id == "oauth2.token"][-1]
    assert refusal.status == 400
    assert not check.ok
    message = check.message
    assert "Token has been expired or revoked." in message
    assert "đăng nhập lại bằng `toolkit auth login`" in message
    assert "7 ngày" in message and '"Testing"' in message and "Test users" in message
    assert "APIs & Services → OAuth consent screen → Publish app" in message
    assert "tài khoản dịch vụ" in message
    assert "khoá đã bị xoá" not in message                  # not a service account's story


def test_a_published_consent_screen_keeps_the_sign_in(fake_google, tmp_path):
    fake = fake_google
    user = saved(tmp_path, fake.authorized_user_info(PERSON))
    fake.clock.advance(timedelta(days=30))
    assert sign_in_check(fake, tmp_path, user).ok


def test_a_revoked_sign_in_is_refused_the_same_way(fake_google, tmp_path):
    from toolkit.backends.google.fake import auth

    fake = fake_google
    info = fake.authorized_user_info(PERSON)
    auth.revoke(fake.keys, info["refresh_token"])
    check = sign_in_check(fake, tmp_path, saved(tmp_path, info))
    assert not check.ok and "`toolkit auth login`" in check.message


class Person:
    """A web browser the person uses: opens the sign-in address, clicks Allow, and follows
    Google's redirect back to the flow's loopback server. ``drop`` removes query parameters
    from the address first (an old bookmark of the sign-in page, say)."""

    def __init__(self, fake, email: str, drop: tuple[str, ...] = ()):
        self.fake, self.email, self.drop = fake, email, drop
        self.opened: list[str] = []

    def open(self, url, new=0, autoraise=True):
        self.opened.append(url)
        parts = urlsplit(url)
        query = {k: v for k, v in parse_qs(parts.query).items() if k not in self.drop}
        url = urlunsplit(parts._replace(query=urlencode(query, doseq=True)))
        back = self.fake.consent(url, self.email)
        threading.Thread(target=lambda: urllib.request.urlopen(back, timeout=10).read(),
                         daemon=True).start()
        return True


@pytest.fixture
def browser(monkeypatch):
    """Register a Person as this process's preferred web browser for the test."""
    monkeypatch.setattr(webbrowser, "_tryorder", list(webbrowser._tryorder or []))
    monkeypatch.setattr(webbrowser, "_browsers", dict(webbrowser._browsers))

    def use(person: Person) -> Person:
        webbrowser.register("fake-google-person", None, person, preferred=True)
        return person

    return use


def sign_in(fake, tmp_path, person: Person):
    secrets = tmp_path / "client_secret.json"
    if not secrets.exists():
        secrets.write_text(json.dumps(fake.oauth_client()), encoding="utf-8")
    with fake.patch_google_auth():
        return auth_login(secrets, tmp_path / "authorized_user.json")


def test_a_repeat_sign_in_asks_for_consent_and_saves_a_refresh_token(
        fake_google, tmp_path, browser):
    fake = fake_google
    person = browser(Person(fake, PERSON))
    first = sign_in(fake, tmp_path, person)
    first_token = json.loads(first.read_text(encoding="utf-8"))["refresh_token"]
    again = sign_in(fake, tmp_path, person)
    saved_info = json.loads(again.read_text(encoding="utf-8"))
    assert saved_info["refresh_token"] and saved_info["refresh_token"] != first_token
    query = parse_qs(urlsplit(person.opened[-1]).query)
    assert query["prompt"] == ["consent"] and query["access_type"] == ["offline"]
    google = GoogleConfig(credentials=again, folder_id=None)
    config = SimpleNamespace(backend="gsheets", workbooks_dir=tmp_path, google=google)
    checks = {c.name: c for c in doctor(config, adapter=fake.adapter).checks}
    assert "sign-in" in checks and checks["sign-in"].ok, checks


def test_a_sign_in_without_a_refresh_token_is_said_so_and_nothing_is_saved(
        fake_google, tmp_path, browser):
    fake = fake_google
    sign_in(fake, tmp_path, browser(Person(fake, PERSON)))
    token = tmp_path / "authorized_user.json"
    before = token.read_text(encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        sign_in(fake, tmp_path, browser(Person(fake, PERSON, drop=("prompt",))))
    message = str(caught.value)
    assert "không trả về refresh token" in message and "chưa ghi gì" in message
    assert "https://myaccount.google.com/permissions" in message
    assert token.read_text(encoding="utf-8") == before


def test_a_saved_sign_in_without_a_refresh_token_is_named_not_called_damaged(tmp_path):
    path = saved(tmp_path, {"type": "authorized_user", "client_id": "1-x.apps.googleusercontent"
                            ".com", "client_secret": "GOCSPX-x", "refresh_token": None})
    with pytest.raises(ConfigError) as caught:
        load_credentials(path)
    message = str(caught.value)
    assert "không có refresh token" in message and "`toolkit auth login`" in message
    assert "hỏng" not in message


def test_only_test_users_may_consent_while_testing(fake_google):
    fake = fake_google
    fake.keys.publishing_status = "Testing"
    client = fake.oauth_client()["installed"]
    url = ("https://accounts.google.com/o/oauth2/auth?" + urlencode({
        "client_id": client["client_id"], "redirect_uri": "http://localhost:5555/",
        "response_type": "code", "scope": "https://www.googleapis.com/auth/drive",
        "access_type": "offline"}))
    with pytest.raises(ValueError, match="access_denied"):
        fake.consent(url, PERSON)
    fake.keys.test_users.add(PERSON)
    assert "code=" in fake.consent(url, PERSON)
