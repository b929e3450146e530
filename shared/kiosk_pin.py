"""A kiosk PIN, hashed: scrypt with a random salt, compared in constant time. The gate's own PIN
(``[kiosk] pin_hash``) and the staff's personal PINs, set in the back office and synced to the
gates of their venues, are the same kind of hash (``scrypt$N$r$p$salt$hash``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
"""16 MiB and about 50 ms a try: negligible for a supervisor, costly for a guesser."""
SALT_BYTES = 16


class PinError(ValueError):
    """A PIN or a stored PIN hash that cannot be used; the message says why."""


def hash_pin(pin: str, *, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$salt$hash`` (base64): what ``[kiosk] pin_hash`` holds."""
    if not pin.isdigit() or not 4 <= len(pin) <= 12:
        raise PinError("a PIN is 4 to 12 digits")
    salt = salt if salt is not None else os.urandom(SALT_BYTES)
    digest = _scrypt(pin, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return "$".join(
        ["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest)]
    )


def pin_matches(pin: str, stored: str) -> bool:
    """True if ``pin`` hashes to ``stored``; the comparison takes the same time either way."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            raise ValueError(scheme)
        expected = base64.b64decode(digest, validate=True)
        actual = _scrypt(pin, base64.b64decode(salt, validate=True), int(n), int(r), int(p))
    except ValueError as exc:
        raise PinError(f"the stored PIN hash is not scrypt$N$r$p$salt$hash: {exc}") from exc
    return hmac.compare_digest(actual, expected)


def _scrypt(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 2**20, dklen=32)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
