"""OAuth for the fake: service-account keys it mints, the token endpoint google-auth talks to,
and the bearer tokens every API request must carry.

The token endpoint checks a service account's JWT assertion the way Google does — RS256
signature against the key's public half, ``aud`` the token URI, a short ``iat``..``exp`` window —
so ``google.oauth2.service_account.Credentials`` runs its real flow. ``authorized_user`` files
(refresh tokens) work at the same endpoint.

A person's sign-in (the installed-app flow of ``toolkit auth login``) runs as with Google: the
person consents (:func:`consent`, what the browser does), the code is exchanged at the token
endpoint, and a refresh token comes back only on the first consent of that person to that
client, or when the flow asks ``prompt=consent`` — a repeat sign-in without it gets none.
While the consent screen's publishing status is "Testing", only listed test users may consent
and every refresh token issued expires after 7 days: the refresh then answers ``invalid_grant``
"Token has been expired or revoked." (developers.google.com/identity/protocols/oauth2
#expiration).

cryptography is imported only where a service account needs it: a person's ``authorized_user``
token needs no RSA, so `toolkit demo --backend gsheets` runs without the [test] extra.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote_plus, urlencode, urlsplit

TOKEN_URI = "https://oauth2.googleapis.com/token"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ALL_SCOPES = ("https://www.googleapis.com/auth/spreadsheets",
              "https://www.googleapis.com/auth/drive")
#: How long a refresh token issued while the consent screen is in Testing lives.
TESTING_REFRESH_LIFETIME = 7 * 24 * 3600
EXPIRED = "Token has been expired or revoked."


@dataclass(frozen=True)
class Principal:
    email: str
    service_account: bool
    scopes: frozenset[str] = frozenset(ALL_SCOPES)
    project: str = "tinh-bao-cao"       # the Cloud project whose quota the calls use

    def may(self, api: str, write: bool) -> bool:
        """Whether the token's scopes cover a call (Sheets accepts Drive scopes too)."""
        base = "https://www.googleapis.com/auth/"
        ok = {base + "drive", base + "drive.file"}
        if api == "sheets":
            ok.add(base + "spreadsheets")
        if not write:
            ok |= {s + ".readonly" for s in ok}
        return bool(ok & self.scopes)


@dataclass
class Token:
    principal: Principal
    expires: float          # on the fake's clock, seconds since the epoch


@dataclass(frozen=True)
class Grant:
    """A refresh token: whose, for which OAuth client, until when (None: until revoked)."""

    email: str
    client_id: str
    secret: str
    expires: float | None = None


@dataclass(frozen=True)
class Code:
    """An authorization code a person's consent produced, exchanged once for tokens."""

    email: str
    client_id: str
    redirect_uri: str
    scopes: frozenset[str]
    refresh: bool                 # whether the exchange hands out a refresh token
    challenge: str | None         # PKCE S256 code_challenge


@dataclass
class Keys:
    """Everything the fake has issued: keys, OAuth clients, refresh and access tokens, and the
    consent screen's settings (``publishing_status`` "In production" or "Testing")."""

    public: dict[str, tuple[str, object, str]] = field(default_factory=dict)  # kid → email,
    refresh: dict[str, Grant] = field(default_factory=dict)                  # key, project
    access: dict[str, Token] = field(default_factory=dict)
    clients: dict[str, str] = field(default_factory=dict)          # OAuth client id → secret
    consented: set[tuple[str, str]] = field(default_factory=set)   # (client id, e-mail)
    codes: dict[str, Code] = field(default_factory=dict)
    publishing_status: str = "In production"
    test_users: set[str] = field(default_factory=set)
    keys_issued: int = 0                       # service-account keys: the next from the pool

    def grant(self, email: str, client_id: str, now: float) -> str:
        """A new refresh token; in Testing it expires after 7 days."""
        token = "1//0" + secrets.token_urlsafe(60)
        expires = now + TESTING_REFRESH_LIFETIME if self.publishing_status == "Testing" else None
        self.refresh[token] = Grant(email, client_id, self.clients[client_id], expires)
        return token


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


#: RSA key pairs made in this process (key, its PKCS#8 PEM), handed out in order by every
#: fake: making one takes 50-200 ms, and a test suite starts hundreds of fakes. Within one
#: fake every account gets a key of its own, so an assertion signed with another account's
#: key is refused there as Google refuses it.
_POOL: list[tuple[object, str]] = []
_POOL_LOCK = threading.Lock()


def _pooled_key(n: int) -> tuple[object, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    with _POOL_LOCK:
        while len(_POOL) <= n:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            _POOL.append((key, key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption()).decode()))
        return _POOL[n]


def new_service_account(keys: Keys, email: str, project: str = "tinh-bao-cao") -> dict:
    """A key file's contents. Its key id and client id follow from the pooled key, the
    account and the project: the same account made again by another fake gets the same
    file, which a process then loads once (``http.load_credentials``)."""
    n = keys.keys_issued
    key, pem = _pooled_key(n)
    keys.keys_issued += 1
    kid = hashlib.sha1(f"{n}|{email}|{project}".encode()).hexdigest()
    keys.public[kid] = (email, key.public_key(), project)
    return {"type": "service_account", "project_id": project, "private_key_id": kid,
            "private_key": pem, "client_email": email,
            "client_id": str(100000000000000000000 + int(kid[:16], 16) % 10 ** 20),
            "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": TOKEN_URI,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/"
                                    + email.replace("@", "%40"),
            "universe_domain": "googleapis.com"}


def new_client(keys: Keys, project_number: str = "100000000001") -> dict:
    """An OAuth client of type Desktop app, as the console's download (client_secret.json).
    Its id starts with the project's number, as Google's do."""
    client_id = f"{project_number}-{secrets.token_hex(16)}.apps.googleusercontent.com"
    client_secret = "GOCSPX-" + secrets.token_urlsafe(21)
    keys.clients[client_id] = client_secret
    return {"installed": {"client_id": client_id, "project_id": "tinh-bao-cao",
                          "auth_uri": "https://accounts.google.com/o/oauth2/auth",
                          "token_uri": TOKEN_URI, "client_secret": client_secret,
                          "auth_provider_x509_cert_url":
                              "https://www.googleapis.com/oauth2/v1/certs",
                          "redirect_uris": ["http://localhost"]}}


def new_authorized_user(keys: Keys, email: str, now: float,
                        project_number: str = "100000000001") -> dict:
    client = new_client(keys, project_number)["installed"]
    keys.consented.add((client["client_id"], email))
    refresh = keys.grant(email, client["client_id"], now)
    return {"type": "authorized_user", "client_id": client["client_id"],
            "client_secret": client["client_secret"], "refresh_token": refresh,
            "account": email, "universe_domain": "googleapis.com"}


def project_of_client(client_id: str) -> str:
    """An OAuth client id begins with its project's number: "123456789012-abc…"."""
    return client_id.split("-", 1)[0]


def consent(keys: Keys, url: str, email: str) -> str:
    """A person opens the sign-in address and clicks Allow: the redirect address with a code.

    Raises ValueError with the page Google shows instead of redirecting: an unknown client, a
    redirect address that is not on loopback, a person who is not a test user while Testing.
    """
    query = {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}
    client_id, redirect = query.get("client_id", ""), query.get("redirect_uri", "")
    if client_id not in keys.clients:
        raise ValueError("Error 401: invalid_client — The OAuth client was not found.")
    if urlsplit(redirect).hostname not in ("localhost", "127.0.0.1"):
        raise ValueError("Error 400: redirect_uri_mismatch")
    if keys.publishing_status == "Testing" and email.lower() not in keys.test_users:
        raise ValueError("Error 403: access_denied — the app is being tested and can only be "
                         "accessed by developer-approved testers.")
    first = (client_id, email) not in keys.consented
    keys.consented.add((client_id, email))
    code = "4/0" + secrets.token_urlsafe(40)
    offline = query.get("access_type") == "offline"
    keys.codes[code] = Code(email, client_id, redirect, frozenset(query.get("scope", "").split()),
                            offline and (first or "consent" in query.get("prompt", "").split()),
                            query.get("code_challenge"))
    answer = {"state": query.get("state", ""), "code": code, "scope": query.get("scope", "")}
    return f"{redirect}?{urlencode(answer)}"


def issue(keys: Keys, principal: Principal, now: float, lifetime: int = 3599) -> str:
    token = "ya29.fake-" + secrets.token_urlsafe(32)
    keys.access[token] = Token(principal, now + lifetime)
    return token


def token_endpoint(keys: Keys, body: bytes, now: float, authorization: str | None = None
                   ) -> tuple[int, dict]:
    """POST /token: a JWT bearer, refresh-token or authorization-code grant → tokens. The
    client may authenticate in the form or with HTTP Basic (requests-oauthlib does)."""
    form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    if authorization and authorization.lower().startswith("basic "):
        try:
            user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
        except ValueError:
            user = password = ""
        form.setdefault("client_id", unquote_plus(user))
        form.setdefault("client_secret", unquote_plus(password))
    grant = form.get("grant_type")
    if grant == JWT_GRANT:
        try:
            principal = _verify_assertion(keys, form.get("assertion", ""))
        except ValueError as exc:
            return 400, {"error": "invalid_grant", "error_description": str(exc)}
        token = issue(keys, principal, now)
        return 200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}
    if grant == "refresh_token":
        found = keys.refresh.get(form.get("refresh_token", ""))
        if found is None:
            return 400, {"error": "invalid_grant", "error_description": "Bad Request"}
        if form.get("client_id") != found.client_id or form.get("client_secret") != found.secret:
            return 401, {"error": "invalid_client", "error_description": "Unauthorized"}
        if found.expires is not None and now >= found.expires:
            return 400, {"error": "invalid_grant", "error_description": EXPIRED}
        scopes = frozenset((form.get("scope") or " ".join(ALL_SCOPES)).split())
        principal = Principal(found.email, False, scopes, project_of_client(found.client_id))
        token = issue(keys, principal, now)
        return 200, {"access_token": token, "expires_in": 3599, "scope": " ".join(sorted(scopes)),
                     "token_type": "Bearer"}
    if grant == "authorization_code":
        return _exchange(keys, form, now)
    return 400, {"error": "unsupported_grant_type",
                 "error_description": f"Invalid grant_type: {grant or ''}"}


def revoke(keys: Keys, refresh_token: str) -> None:
    """The person removed the app's access (myaccount.google.com → Security → third-party
    access): the token's refresh now answers "expired or revoked"."""
    found = keys.refresh[refresh_token]
    keys.refresh[refresh_token] = Grant(found.email, found.client_id, found.secret, 0.0)


def _exchange(keys: Keys, form: dict, now: float) -> tuple[int, dict]:
    """The authorization-code grant: tokens for a code, once; a refresh token only if the
    consent produced one."""
    code = keys.codes.pop(form.get("code", ""), None)
    if code is None:
        return 400, {"error": "invalid_grant", "error_description": "Malformed auth code."}
    if form.get("client_id") != code.client_id or \
            form.get("client_secret") != keys.clients.get(code.client_id):
        return 401, {"error": "invalid_client", "error_description": "Unauthorized"}
    if form.get("redirect_uri") != code.redirect_uri:
        return 400, {"error": "redirect_uri_mismatch", "error_description": "Bad Request"}
    if code.challenge is not None:
        verifier = form.get("code_verifier", "").encode()
        if _b64(hashlib.sha256(verifier).digest()) != code.challenge:
            return 400, {"error": "invalid_grant", "error_description": "Invalid code verifier."}
    principal = Principal(code.email, False, code.scopes, project_of_client(code.client_id))
    answer = {"access_token": issue(keys, principal, now), "expires_in": 3599,
              "scope": " ".join(sorted(code.scopes)), "token_type": "Bearer"}
    if code.refresh:
        answer["refresh_token"] = keys.grant(code.email, code.client_id, now)
    return 200, answer


def _verify_assertion(keys: Keys, assertion: str) -> Principal:
    try:
        head64, claims64, sig64 = assertion.split(".")
        header = json.loads(_unb64(head64))
        claims = json.loads(_unb64(claims64))
        signature = _unb64(sig64)
    except ValueError:
        raise ValueError("Invalid JWT: could not decode the assertion.") from None
    if header.get("alg") != "RS256":
        raise ValueError("Invalid JWT: the signing algorithm must be RS256.")
    found = keys.public.get(header.get("kid", ""))
    if found is None:
        raise ValueError("Invalid JWT Signature.")
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    email, public, project = found
    try:
        public.verify(signature, f"{head64}.{claims64}".encode(), padding.PKCS1v15(),
                      hashes.SHA256())
    except InvalidSignature:
        raise ValueError("Invalid JWT Signature.") from None
    if claims.get("iss") != email:
        raise ValueError("Invalid JWT: the issuer is not the key's service account.")
    if claims.get("aud") != TOKEN_URI:
        raise ValueError(f"Invalid JWT: audience must be {TOKEN_URI}.")
    now = time.time()       # a JWT is judged on Google's wall clock, not the test's
    iat, exp = claims.get("iat", 0), claims.get("exp", 0)
    if not (iat - 300 <= now <= exp + 300) or exp - iat > 3600:
        raise ValueError("Invalid JWT: Token must be a short-lived token (60 minutes) and in a "
                         "reasonable timeframe. Check your iat and exp values in the JWT claim.")
    scopes = frozenset((claims.get("scope") or "").split())
    if not scopes:
        raise ValueError("Invalid OAuth scope or ID token audience provided.")
    return Principal(claims.get("sub") or email, not claims.get("sub"), scopes, project)


def bearer(keys: Keys, header: str | None, now: float) -> tuple[Principal | None, bool]:
    """(principal, missing): the caller of an API request, None when not authenticated."""
    if not header or not header.lower().startswith("bearer "):
        return None, True
    token = keys.access.get(header[7:].strip())
    if token is None or token.expires <= now:
        return None, False
    return token.principal, False
