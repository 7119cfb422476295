"""Device cookies (OWASP's defence against lockout abuse): a browser where a name logged in before gets a
signed cookie, and its later logins for that name are limited on their own, not by the name's or the
address's strikes. A flood of wrong tokens then locks out the flood, not the annotator's own browser."""

from __future__ import annotations

import hashlib
import hmac
import secrets

DEVICE_COOKIE = "polyvlm_review_device"
DEVICE_DAYS = 30


def _mac(key: bytes, name: str, nonce: str) -> str:
    return hmac.new(key, f"device:{name}:{nonce}".encode(), hashlib.sha256).hexdigest()


def new_device_cookie(key: bytes, name: str) -> str:
    """A fresh cookie value for a browser where `name` just logged in."""
    nonce = secrets.token_urlsafe(12)
    return f"{name}:{nonce}:{_mac(key, name, nonce)}"


def device_id(key: bytes, value: str | None, name: str) -> str | None:
    """The device's id when `value` is a cookie this project signed for `name`, else None."""
    parts = (value or "").split(":")
    if len(parts) != 3 or parts[0] != name:
        return None
    return parts[1] if hmac.compare_digest(parts[2], _mac(key, name, parts[1])) else None
