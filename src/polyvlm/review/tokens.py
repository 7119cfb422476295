"""Annotator and admin tokens: random, shown once, stored only as salted scrypt hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets

# scrypt (stdlib, RFC 7914) with the interactive-login cost OWASP lists; tokens are random so the cost only
# guards a stolen database, and one login pays it once per session, not per request
_N, _R, _P = 2**14, 8, 1


def new_token() -> str:
    """A fresh 256-bit token, URL-safe."""
    return secrets.token_urlsafe(32)


def hash_token(token: str, salt: bytes | None = None) -> str:
    """`scrypt$<salt hex>$<hash hex>` of a token."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(token.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${salt.hex()}${digest.hex()}"


def token_matches(token: str, stored: str) -> bool:
    """Whether `token` hashes to `stored` (constant-time comparison)."""
    try:
        scheme, salt, _ = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    return hmac.compare_digest(hash_token(token, bytes.fromhex(salt)), stored)
