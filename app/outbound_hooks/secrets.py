"""Signing secrets: made, sealed at rest, and used to sign.

A signing secret must be readable by Omnivox to sign every delivery, so it cannot be stored as a
one-way hash. It is sealed with keys derived from SECRET_KEY (HMAC-SHA256 with a label for each
purpose), so that a copy of the database alone does not give the secrets away:
`v1.<nonce>.<ciphertext>.<tag>` (base64url), the ciphertext being the secret XOR an
HMAC-SHA256 keystream over a random 16-byte nonce and a block counter, the tag an HMAC-SHA256
over the nonce and ciphertext (encrypt-then-MAC, each key used for one purpose only). Changing
SECRET_KEY makes the sealed secrets unreadable: endpoints must then be created again.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets as random
import time

from flask import current_app

PREFIX = "whsec_"
SIGNATURE_HEADER = "Omnivox-Signature"


class SealBroken(Exception):
    """The sealed secret was altered, or SECRET_KEY changed since it was sealed."""


def new_secret() -> str:
    return PREFIX + random.token_urlsafe(32)


def _key(purpose: str) -> bytes:
    return hmac.new(current_app.config["SECRET_KEY"].encode(), f"omnivox webhooks {purpose}".encode(),
                    hashlib.sha256).digest()


def _keystream(nonce: bytes, length: int) -> bytes:
    key, out, counter = _key("secret-encryption"), b"", 0
    while len(out) < length:
        out += hmac.new(key, nonce + counter.to_bytes(4, "big"), hashlib.sha256).digest()
        counter += 1
    return out[:length]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def seal(secret: str) -> str:
    plain, nonce = secret.encode(), random.token_bytes(16)
    cipher = bytes(a ^ b for a, b in zip(plain, _keystream(nonce, len(plain))))
    tag = hmac.new(_key("secret-authentication"), nonce + cipher, hashlib.sha256).digest()
    return ".".join(("v1", _b64(nonce), _b64(cipher), _b64(tag)))


def unseal(sealed: str) -> str:
    try:
        version, nonce, cipher, tag = sealed.split(".")
        nonce, cipher, tag = _unb64(nonce), _unb64(cipher), _unb64(tag)
    except ValueError:
        raise SealBroken("not a sealed secret") from None
    expected = hmac.new(_key("secret-authentication"), nonce + cipher, hashlib.sha256).digest()
    if version != "v1" or not hmac.compare_digest(tag, expected):
        raise SealBroken("the sealed secret does not verify")
    return bytes(a ^ b for a, b in zip(cipher, _keystream(nonce, len(cipher)))).decode()


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
