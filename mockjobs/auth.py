"""Token security as ArcGIS does it: generateToken, then a token on every request.

Tokens are signed, not stored: `<user>.<expires ms>.<signature>`, the signature an HMAC with a
secret kept in the shared store, so every worker of a server accepts every worker's tokens.
A token's life is counted on the mock clock (the token holds its mock-clock expiry), so a test
can expire it by advancing the clock; generateToken reports `expires` in real epoch ms (real
time of issue + expiration), because clients compare it with their own clock. A refused token
answers 498 "Invalid Token": Esri's Python client logs in again only on that text (it raises on
Portal's "Invalid token."), so it is taken as the stand-alone server's wording.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from .errors import ArcgisError, MockjobsError

DEFAULT_MINUTES = 60
MAX_MINUTES = 60 * 24 * 365
_REMEMBERED = 10_000  # signed tokens remembered per worker (forgotten all at once when full)
INVALID = "Invalid Token"  # the message of 498 (see the module docstring)


class TokenError(ArcgisError):
    """A refused token request: code 499 (missing), 498 (invalid or expired), 400 (bad login)."""


@dataclass(frozen=True)
class Credentials:
    """The one user the mock knows."""

    username: str
    password: str

    @classmethod
    def parse(cls, text: str) -> Credentials:
        """NAME:PASSWORD."""
        name, sep, password = text.partition(":")
        if not sep or not name or not password:
            raise MockjobsError(f"user must be NAME:PASSWORD, not {text!r}")
        return cls(name, password)


class Tokens:
    """Issues and checks tokens for one server."""

    def __init__(self, credentials: Credentials, secret: str) -> None:
        self.credentials = credentials
        self._key = secret.encode()
        self._signed: dict[str, int] = {}  # token -> its mock-clock expiry, once its signature passed

    @staticmethod
    def new_secret() -> str:
        """A fresh signing secret."""
        return secrets.token_hex(32)

    def _sign(self, payload: str) -> str:
        digest = hmac.new(self._key, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")

    def issue(self, username: str, password: str, minutes: float, now_ms: int, real_ms: int) -> tuple[str, int]:
        """(token, expires in real epoch ms) for the right credentials; TokenError 400 otherwise.

        The token expires minutes after now_ms on the mock clock; the expiry reported is minutes
        after real_ms, the real time of issue.
        """
        user_ok = hmac.compare_digest(username.encode(), self.credentials.username.encode())
        password_ok = hmac.compare_digest(password.encode(), self.credentials.password.encode())
        if not (user_ok and password_ok):
            raise TokenError(400, "Unable to generate token.", ["Invalid username or password."])
        minutes = min(max(minutes, 1), MAX_MINUTES)
        life = int(minutes * 60_000)
        payload = f"{base64.urlsafe_b64encode(username.encode()).decode().rstrip('=')}.{now_ms + life}"
        return f"{payload}.{self._sign(payload)}", real_ms + life

    def check(self, token: str | None, now_ms: int) -> None:
        """Raise TokenError 499 when token is missing, 498 when it is wrong or expired at now_ms (mock clock)."""
        if not token:
            raise TokenError(499, "Token Required", [])
        expires = self._signed.get(token)
        if expires is None:  # only a token whose signature passed is remembered; expiry is checked every time
            expires = self._verified_expiry(token)
            if len(self._signed) >= _REMEMBERED:
                self._signed.clear()
            self._signed[token] = expires
        if expires <= now_ms:
            raise TokenError(498, INVALID, ["Token has expired."])

    def _verified_expiry(self, token: str) -> int:
        """The mock-clock expiry of a token whose signature is right; TokenError 498 otherwise."""
        payload, _, signature = token.rpartition(".")
        if not payload or not hmac.compare_digest(signature.encode(), self._sign(payload).encode()):
            raise TokenError(498, INVALID, ["Invalid token."])
        try:
            return int(payload.rpartition(".")[2])
        except ValueError:
            raise TokenError(498, INVALID, ["Invalid token."]) from None


def token_from(values: dict[str, str], headers: dict[str, str]) -> str | None:
    """The token of a request: `token` parameter, X-Esri-Authorization or Authorization Bearer."""
    if values.get("token"):
        return values["token"]
    for header in ("X-Esri-Authorization", "Authorization"):
        scheme, _, value = (headers.get(header) or "").partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return None
