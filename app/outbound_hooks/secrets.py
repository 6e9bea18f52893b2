"""Signing secrets: made, sealed at rest, and used to sign.

A signing secret must be readable by Omnivox to sign every delivery, so it cannot be stored as a
one-way hash. It is sealed with Fernet (AES-128-CBC with HMAC-SHA256, from the `cryptography`
package) under a key derived from SECRET_KEY for this purpose only, so that a copy of the
database alone does not give the secrets away. Changing SECRET_KEY makes the sealed secrets
unreadable: endpoints must then be created again.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets as random
import time

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app

PREFIX = "whsec_"
SIGNATURE_HEADER = "Omnivox-Signature"


class SealBroken(Exception):
    """The sealed secret was altered, or SECRET_KEY changed since it was sealed."""


def new_secret() -> str:
    return PREFIX + random.token_urlsafe(32)


def _fernet() -> Fernet:
    key = hmac.new(current_app.config["SECRET_KEY"].encode(), b"omnivox webhooks secret sealing",
                   hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def unseal(sealed: str) -> str:
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except (InvalidToken, ValueError):
        raise SealBroken("the sealed secret does not verify (altered, or SECRET_KEY changed)") from None


def signature(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The `Omnivox-Signature` header value: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, body: bytes, header: str, tolerance: int = 300, now: float | None = None) -> bool:
    """What a receiver does (and the tests do): the signature matches and is recent."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = signature(secret, body, timestamp).split(",", 1)[1].split("=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))
