"""OAuth for the fake: service-account keys it mints, the token endpoint google-auth talks to,
and the bearer tokens every API request must carry.

The token endpoint checks a service account's JWT assertion the way Google does — RS256
signature against the key's public half, ``aud`` the token URI, a short ``iat``..``exp`` window —
so ``google.oauth2.service_account.Credentials`` runs its real flow. ``authorized_user`` files
(refresh tokens) work at the same endpoint.

cryptography is imported only where a service account needs it: a person's ``authorized_user``
token needs no RSA, so `toolkit demo --backend gsheets` runs without the [test] extra.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs

TOKEN_URI = "https://oauth2.googleapis.com/token"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ALL_SCOPES = ("https://www.googleapis.com/auth/spreadsheets",
              "https://www.googleapis.com/auth/drive")


@dataclass(frozen=True)
class Principal:
    email: str
    service_account: bool
    scopes: frozenset[str] = frozenset(ALL_SCOPES)

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


@dataclass
class Keys:
    """Everything the fake has issued: keys, OAuth clients, refresh and access tokens."""

    public: dict[str, tuple[str, object]] = field(default_factory=dict)   # kid → (email, key)
    refresh: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # → email, id, secret
    access: dict[str, Token] = field(default_factory=dict)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_service_account(keys: Keys, email: str, project: str = "tinh-bao-cao") -> dict:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    kid = secrets.token_hex(20)
    keys.public[kid] = (email, key.public_key())
    return {"type": "service_account", "project_id": project, "private_key_id": kid,
            "private_key": pem, "client_email": email,
            "client_id": str(100000000000000000000 + secrets.randbelow(10 ** 20)),
            "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": TOKEN_URI,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/"
                                    + email.replace("@", "%40"),
            "universe_domain": "googleapis.com"}


def new_authorized_user(keys: Keys, email: str) -> dict:
    client_id = f"{secrets.randbelow(10 ** 12):012d}-fake.apps.googleusercontent.com"
    client_secret = "GOCSPX-" + secrets.token_urlsafe(21)
    refresh = "1//0" + secrets.token_urlsafe(60)
    keys.refresh[refresh] = (email, client_id, client_secret)
    return {"type": "authorized_user", "client_id": client_id, "client_secret": client_secret,
            "refresh_token": refresh, "account": email, "universe_domain": "googleapis.com"}


def issue(keys: Keys, principal: Principal, now: float, lifetime: int = 3599) -> str:
    token = "ya29.fake-" + secrets.token_urlsafe(32)
    keys.access[token] = Token(principal, now + lifetime)
    return token


def token_endpoint(keys: Keys, body: bytes, now: float) -> tuple[int, dict]:
    """POST /token: a JWT bearer grant or a refresh-token grant → an access token."""
    form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
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
        email, client_id, secret = found
        if form.get("client_id") != client_id or form.get("client_secret") != secret:
            return 401, {"error": "invalid_client", "error_description": "Unauthorized"}
        scopes = frozenset((form.get("scope") or " ".join(ALL_SCOPES)).split())
        token = issue(keys, Principal(email, False, scopes), now)
        return 200, {"access_token": token, "expires_in": 3599, "scope": " ".join(sorted(scopes)),
                     "token_type": "Bearer"}
    return 400, {"error": "unsupported_grant_type",
                 "error_description": f"Invalid grant_type: {grant or ''}"}


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

    email, public = found
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
    return Principal(claims.get("sub") or email, not claims.get("sub"), scopes)


def bearer(keys: Keys, header: str | None, now: float) -> tuple[Principal | None, bool]:
    """(principal, missing): the caller of an API request, None when not authenticated."""
    if not header or not header.lower().startswith("bearer "):
        return None, True
    token = keys.access.get(header[7:].strip())
    if token is None or token.expires <= now:
        return None, False
    return token.principal, False
