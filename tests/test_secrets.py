"""No key material or token in any output or log (DESIGN.md §7, issue P6 item 7).

A real service-account key and a real authorized_user.json, both minted by the fake Google,
go through `doctor`, `provision`, `audit`, failing runs under `-v` and `auth login`; stdout,
stderr and logs/toolkit.log must hold none of their secrets, nor any access token the fake
issued during the runs.
"""

from __future__ import annotations

import json
import logging

import pytest
import requests
from oauthlib.oauth2.rfc6749.errors import OAuth2Error

from desks import GoogleDesk
from toolkit.errors import WorkbookError
from toolkit.redact import HIDDEN, RedactingFormatter, redact, remember

NOW = "2026-11-20 09:00"


def secret_lines(*values: str) -> list[str]:
    """Every secret, and each line of a key: a part of a key is a leak too."""
    out = []
    for value in values:
        out.append(value)
        out += [line for line in value.splitlines() if len(line) >= 16 and "-----" not in line]
    return out


@pytest.fixture
def office(province):
    desk = GoogleDesk(province)
    key = json.loads((province.parent / "google-key.json").read_text(encoding="utf-8"))
    person = desk.fake.authorized_user_info("can-bo@so-tt.gov.vn")
    user = province.parent / "authorized_user.json"
    user.write_text(json.dumps(person), encoding="utf-8")
    user.chmod(0o600)
    text = province.read_text(encoding="utf-8").replace(
        "writes_per_minute = 6000", 'writes_per_minute = 6000\naccounts = ["authorized_user.json"]',
        1)
    province.write_text(text, encoding="utf-8")
    desk.secrets = secret_lines(key["private_key"], key["private_key_id"],
                                person["refresh_token"], person["client_secret"])
    yield desk
    desk.close()


def leaks(desk, *texts: str) -> list[str]:
    secrets = desk.secrets + list(desk.fake.keys.access)      # every token the fake issued
    assert len(desk.fake.keys.access) >= 2                    # both accounts signed in
    return [s[:12] + "…" for s in secrets for text in texts if s in text]


def log_text(desk) -> str:
    return (desk.config.parent / "logs" / "toolkit.log").read_text(encoding="utf-8")


def test_doctor_provision_and_audit_print_and_log_no_secret(office):
    outputs = []
    for args in (("doctor",), ("provision", "-v"), ("doctor",), ("audit", "-v"),
                 ("audit", "--fix", "--format", "json", "-v")):
        result = office.run(*args, now=NOW)
        assert result.exit_code == 0, result.output
        outputs += [result.stdout, result.stderr]
    assert "ổn   sign-in: đã đăng nhập Google Drive bằng can-bo@so-tt.gov.vn" in outputs[0]
    assert leaks(office, *outputs, log_text(office)) == []


def test_a_failing_run_under_verbose_hides_what_the_exception_carries(office, monkeypatch):
    from toolkit.backends.google.store import GSheetsStore

    assert office.run("provision", now=NOW).exit_code == 0
    token = next(iter(office.fake.keys.access))
    key = office.secrets[0]
    echo = (f"POST https://oauth2.googleapis.com/token?code=4/0AfJohXk-{token[-10:]} "
            f"headers={{'Authorization': 'Bearer {token}'}} "
            f"body={json.dumps({'private_key': key})}")

    def broken_read(self, locator, windows):          # a library bug that echoes a request
        raise RuntimeError(echo)

    monkeypatch.setattr(GSheetsStore, "read", broken_read)
    bug = office.run("collect", "-v", now=NOW)
    assert bug.exit_code == 1
    assert "RuntimeError" in bug.stderr and "Traceback" in bug.stderr   # shown under -v …
    assert "LỖI Xã Thất Khê: lỗi không lường trước khi đọc sổ (RuntimeError: POST " \
        f"https://oauth2.googleapis.com/token?code={HIDDEN} headers={{'Authorization': " \
        f"'Bearer {HIDDEN}'}} body={{\"private_key\": \"{HIDDEN}\"}})" in bug.stderr

    def refused(self, locators):                        # a user error caused by such a bug
        try:
            raise requests.HTTPError(echo)
        except requests.HTTPError as exc:
            raise WorkbookError(f"Google refused: {exc}") from exc

    monkeypatch.setattr(GSheetsStore, "modified_stamps", refused)
    error = office.run("collect", "-v", now=NOW)
    assert error.exit_code == 2
    assert "HTTPError" in error.stderr and "Lỗi: Google refused: POST" in error.stderr
    assert leaks(office, bug.stdout, bug.stderr, error.stdout, error.stderr,
                 log_text(office)) == []
    assert token[-10:] not in bug.stderr + error.stderr + log_text(office)


def test_auth_login_prints_no_token(office, monkeypatch, tmp_path):
    from google.oauth2.credentials import Credentials
    from google_auth_oauthlib.flow import InstalledAppFlow

    client = {"installed": {"client_id": "123-abc.apps.googleusercontent.com",
                            "client_secret": "GOCSPX-s3cr3tClientSecretValue1",
                            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
                            "token_uri": "https://oauth2.googleapis.com/token",
                            "redirect_uris": ["http://localhost"]}}
    secrets_file = tmp_path / "client_secret.json"
    secrets_file.write_text(json.dumps(client), encoding="utf-8")
    refresh = "1//0gLoginRefreshTokenFromGoogleAbcdefghijkl"
    monkeypatch.setattr(InstalledAppFlow, "run_local_server", lambda self, **kw: Credentials(
        token="ya29.a0LoginAccessTokenXyz", refresh_token=refresh,
        client_id="123-abc.apps.googleusercontent.com",
        client_secret="GOCSPX-s3cr3tClientSecretValue1",
        token_uri="https://oauth2.googleapis.com/token"))
    token = tmp_path / "authorized_user.json"
    done = office.run("auth", "login", "--client-secrets", str(secrets_file), "--token",
                      str(token), "--no-browser", now=NOW)
    assert done.exit_code == 0, done.output
    assert json.loads(token.read_text(encoding="utf-8"))["refresh_token"] == refresh
    assert oct(token.stat().st_mode & 0o777) == "0o600"

    def denied(self, **kw):
        raise OAuth2Error(description=f"redirect http://localhost:8080/?state=x&code=4/0Secret"
                                      f"AuthCode123 refresh {refresh}")

    monkeypatch.setattr(InstalledAppFlow, "run_local_server", denied)
    failed = office.run("auth", "login", "--client-secrets", str(secrets_file), "--token",
                        str(token), "--no-browser", "-v", now=NOW)
    assert failed.exit_code == 2 and "không hoàn tất việc đăng nhập" in failed.stderr
    printed = done.output + failed.stdout + failed.stderr
    for secret in ("ya29.a0LoginAccessTokenXyz", refresh, "GOCSPX-s3cr3tClientSecretValue1",
                   "0SecretAuthCode123"):
        assert secret not in printed


def test_an_uncaught_bug_is_printed_without_secrets(capsys):
    from toolkit.cli import _redacted_excepthook

    remember("AnExactSecretTheProcessLoaded42")
    try:
        raise KeyError("AnExactSecretTheProcessLoaded42 and Bearer ya29.a0Zzzzzzzzzzzz")
    except KeyError as exc:
        _redacted_excepthook(KeyError, exc, exc.__traceback__)
    err = capsys.readouterr().err
    assert "Traceback" in err and "KeyError" in err
    assert "AnExactSecret" not in err and "ya29.a0Zzz" not in err


@pytest.mark.parametrize("text, kept", [
    ('{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEv\\n'
     '-----END PRIVATE KEY-----\\n", "client_email": "a@b.iam.gserviceaccount.com"}',
     '{"type": "service_account", "private_key": "[đã ẩn]", '
     '"client_email": "a@b.iam.gserviceaccount.com"}'),
    ("{'refresh_token': '1//0abcdefghijklmnopqrstuvwxyz', 'expiry': None}",
     "{'refresh_token': '[đã ẩn]', 'expiry': None}"),
    ("Authorization: Bearer ya29.a0AfH6SMBx", "Authorization: Bearer [đã ẩn]"),
    ("GET /?state=xyz&code=4/0AX4XfWh&scope=drive", "GET /?state=xyz&code=[đã ẩn]&scope=drive"),
    ("client_secret=GOCSPX-abcdefghijkl&grant_type=refresh_token",
     "client_secret=[đã ẩn]&grant_type=refresh_token"),
    ("a key cut short: -----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA",
     "a key cut short: [đã ẩn]"),
    ("assertion eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJhQGIuY29tIn0.c2lnbmF0dXJl sent",
     "assertion [đã ẩn] sent"),
    ("GET /v3/files?alt=json&key=AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW",
     "GET /v3/files?alt=json&key=[đã ẩn]"),
    ("api key AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW in a message",
     "api key [đã ẩn] in a message"),
    ('Google answered 403: {"error": {"code": 403, "message": "denied"}}',
     'Google answered 403: {"error": {"code": 403, "message": "denied"}}'),
])
def test_redaction_hides_secrets_and_keeps_the_rest(text, kept):
    assert redact(text) == kept
    assert redact(kept) == kept              # redacting twice (library, then CLI) is harmless


def test_the_log_formatter_redacts_messages_and_tracebacks():
    formatter = RedactingFormatter("%(levelname)s %(message)s")
    try:
        raise ValueError("token=ya29.a0secretsecret")
    except ValueError:
        import sys

        record = logging.LogRecord("toolkit", logging.ERROR, __file__, 1, "failed %s",
                                   ("Bearer ya29.a0another",), sys.exc_info())
    text = formatter.format(record)
    assert "ya29" not in text and text.startswith("ERROR failed Bearer [đã ẩn]")
    assert "ValueError: token=[đã ẩn]" in text


def test_the_smtp_password_never_shows_even_when_the_server_quotes_it(province, monkeypatch):
    import smtplib

    from conftest import run

    password = "Mat-khau-SMTP-cua-So-2026"
    monkeypatch.setenv("TOOLKIT_SMTP_PASSWORD", password)
    text = province.read_text(encoding="utf-8")
    province.write_text(text + '\n[smtp]\nhost = "127.0.0.1"\nport = 1\nsender = '
                        '"so-khcn@example.gov.vn"\nusername = "so-khcn"\n', encoding="utf-8")

    def quoting(reminders, smtp, secret, title):       # a server that echoes the login
        raise smtplib.SMTPAuthenticationError(535, f"AUTH PLAIN so-khcn {secret} rejected")

    monkeypatch.setattr("toolkit.remind.send_reminders", quoting)
    assert run("provision", config=province, now=NOW).exit_code == 0
    result = run("remind", "--email", "-v", config=province, now=NOW)
    assert result.exit_code == 2 and "không gửi được qua 127.0.0.1:1" in result.stderr
    log = (province.parent / "logs" / "toolkit.log").read_text(encoding="utf-8")
    assert password not in result.stdout + result.stderr + log
    assert HIDDEN in result.stderr
